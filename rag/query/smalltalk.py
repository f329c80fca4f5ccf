"""Messages that are not questions about the documents: greetings, thanks, other languages.

`small_talk(text, doc_names)` returns a short reply (an `Answer` of kind "smalltalk" or
"language") for such a message, or None for a question the pipeline should answer.

- Greetings and thanks ("hello", "hi there", "thanks!", "thank you very much") get a friendly
  reply that says what can be asked, instead of "The documents do not say".
- A question in another language gets a clear request for English: the retrieval model and the
  reader only understand English, and an answer to a misunderstood question would mislead.

Language detection (`looks_foreign`) is careful with short English questions, which are full of
names ("Who is Igor Losik?") that detectors read as Polish or Swedish:
1. Text mostly in a non-Latin script (Cyrillic, CJK, Arabic, ...) is not English.
2. A question with an English-only function word ("who", "the", "which", "did") is English.
3. Capitalised words (names, or the first word) and the documents' names typed in lower case
   ("zapad", "belavia") are set aside; fewer than two words left, or only English words (typos
   included: "wat is zapad 2025"), English (when unsure, answer: refusing an English question costs
   more than missing a foreign one).
4. Otherwise lingua (a detector built for short text; its models ship inside the wheel, nothing
   is downloaded) scores the words among common Latin-script languages; English below 5%: foreign.
Measured by benchmarks/language_detection.py: no English question of SQuAD 2.0's dev set or the
evaluation set is taken for foreign; 34 of 38 short foreign questions are caught.

>>> small_talk("Thanks!", ["notes.txt"]).kind
'smalltalk'
>>> small_talk("Who is the US envoy?", ["notes.txt"]) is None
True
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Sequence
from functools import lru_cache
from typing import Any

from rag.query.spelling import is_english
from rag.types import Answer

# 2. words that mark English and are not common words of the other languages checked
_ENGLISH_MARKERS = frozenset(
    {"who", "what", "when", "where", "why", "how", "which", "whom", "whose", "the", "did", "does"}
    | {"are", "were", "has", "have", "of", "and", "many", "much", "with", "this", "that"}
    | {"it", "you", "your", "about", "tell", "please"}
)
_FOREIGN_BELOW = 0.05  # English confidence under which a question is taken for foreign
_WORD = re.compile(r"[^\W\d_]+")

_GREETING = re.compile(
    r"(?:hello|hi|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening|day)|yo)"
    r"(?: there| again| all| everyone| bot)?",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"(?:thanks|thank you|thank u|thx|ty|cheers|great|perfect|nice|cool|ok(?:ay)?|got it)"
    r"(?: (?:so|very) much| a lot| again| for (?:the|your) (?:help|answer))?",
    re.IGNORECASE,
)
_BYE = re.compile(r"(?:bye|goodbye|see you|good night)", re.IGNORECASE)
_FILLER = re.compile(r"[\s!.,:;)(*~-]+|[\U0001F300-\U0001FAFF\u2600-\u27BF]+")


def small_talk(text: str, doc_names: Sequence[str], names: Container[str] = ()) -> Answer | None:
    """A reply to a greeting, thanks or a question not in English; None for anything else. `names`:
    the documents' names, lower case (rag.query.spelling.Vocabulary.names)."""
    what = _about(doc_names)
    kind = _social_kind(text)
    if kind == "greeting":
        reply = f"Hello! Ask me a question about {what} and I will answer with quotes from it, word for word."
    elif kind == "thanks":
        reply = f"You are welcome. Ask another question about {what} whenever you like."
    elif kind == "bye":
        reply = "Goodbye!"
    elif looks_foreign(text, names):
        reply = (
            "Please ask in English: I can only read questions in English. "
            f"(The documents are searched and quoted in their own words; ask about {what}.)"
        )
        return Answer(question=text, answer=reply, abstained=True, kind="language")
    else:
        return None
    return Answer(question=text, answer=reply, abstained=True, kind="smalltalk")


def _social_kind(text: str) -> str:
    """'greeting', 'thanks' or 'bye' when the whole message is one of those (fillers aside), else ''."""
    bare = _FILLER.sub(" ", text).strip()
    for kind, pattern in (("greeting", _GREETING), ("thanks", _THANKS), ("bye", _BYE)):
        if pattern.fullmatch(bare):
            return kind
    return ""


def looks_foreign(text: str, names: Container[str] = ()) -> bool:
    """Is `text` written in a language other than English? (False when unsure.) `names`: the
    documents' names, lower case, which are no language's words."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return False
    latin = sum("LATIN" in unicodedata.name(ch, "") for ch in letters)
    if latin < len(letters) / 2:  # 1. another script
        return True
    words = _WORD.findall(text)
    if any(w.lower() in _ENGLISH_MARKERS for w in words):  # 2.
        return False
    # 3. names (and "s" of "'s") aside
    content = [w for w in words if w[:1].islower() and len(w) > 1 and w.lower() not in names]
    if len(content) < 2 or all(is_english(w.lower()) for w in content):
        return False
    return _english_confidence(" ".join(content)) < _FOREIGN_BELOW  # 4.


def _english_confidence(text: str) -> float:
    from lingua import Language

    for value in _detector().compute_language_confidence_values(text):
        if value.language == Language.ENGLISH:
            return float(value.value)
    return 0.0


@lru_cache(maxsize=1)
def _detector() -> Any:
    """lingua over English and common Latin-script languages, low-accuracy mode (trigram models:
    about 50 MB and well under a second to load; the high-accuracy models take 10 s and 350 MB)."""
    from lingua import Language, LanguageDetectorBuilder

    languages = [
        Language.ENGLISH, Language.GERMAN, Language.SPANISH, Language.FRENCH, Language.ITALIAN,
        Language.PORTUGUESE, Language.DUTCH, Language.POLISH, Language.SWEDISH, Language.DANISH,
        Language.TURKISH, Language.CZECH,
    ]  # fmt: skip
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


def _about(doc_names: Sequence[str]) -> str:
    names = list(doc_names)
    if len(names) == 1:
        return names[0]
    if not names:
        return "the documents"
    return f"the {len(names)} documents ({', '.join(names[:3])}{', …' if len(names) > 3 else ''})"

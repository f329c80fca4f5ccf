"""Follow-up questions: rewrite a question that points at the earlier turn into one that stands alone.

1. A pronoun with nothing before it in the question to point at ("he", "it", "his") is replaced by
   the best antecedent from the earlier turn that fits it, in this order: the earlier short answer,
   the names in the earlier question, then (for "he"/"she") the names in the earlier answer's
   quotes, full names before single words. A candidate already named in the question is skipped:
   in "What did he give Lukashenko?" "he" is not Lukashenko. When the earlier question asked for
   its subject ("Which country closed its borders with Belarus?") and got no short answer, the
   pronoun stands for what was asked about, described: "the country that closed its borders with
   Belarus"; the names in that question are its objects, not what "it" points to.
2. A bare question word ("Why?", "And when?") takes the earlier question's clause: "When was
   Mikalai Khilo arrested?" then "Why?" becomes "Why was Mikalai Khilo arrested?", with the earlier
   short answer in the gap of a "which"/"what" question, or without one the thing it asked about
   ("Why did the US ease sanctions on the airline?").
3. Otherwise the question is left as it was asked: nothing is glued on. The pipeline keeps the
   rewritten question in `Answer.resolved_question`, so the user sees how it was understood.

>>> resolve("What did he bring?", [("Who is the US envoy?", "John Coale [1]. “…” [1]")])
'What did John Coale bring?'
>>> prev = ("Who led the talks?", "Lukashenko [1]. “A meeting between Lukashenko and envoy John Coale.” [1]")
>>> resolve("What did he give Lukashenko?", [prev])
'What did John Coale give Lukashenko?'
>>> resolve("Why?", [("When was Mikalai Khilo arrested?", "April 2024 [1]. “…” [1]")])
'Why was Mikalai Khilo arrested?'
>>> resolve("Why did it close them?", [("Which country closed its borders?", "The article says: “…” [1]")])
'Why did the country that closed its borders close them?'
>>> resolve("How many prisoners were freed?", [("Who is the US envoy?", "John Coale [1].")])
'How many prisoners were freed?'
>>> resolve("Which country closed its borders?", [("Who is the US envoy?", "John Coale [1].")])
'Which country closed its borders?'
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from rag.text import MONTHS, terms
from rag.types import Answer

# earlier turns, oldest first: (question, its Answer) or (question, the answer's text as shown)
History = Sequence[tuple[str, "str | Answer"]]

_PRONOUNS = r"he|she|him|her|hers|they|them|theirs|it|this|that|these|those"
_POSSESSIVES = r"his|their|its"
_POINTERS = re.compile(
    rf"\b({_PRONOUNS}|{_POSSESSIVES}|there|then|"
    r"the (deal|agreement|man|woman|group|country|city|event|release|move|same))\b",
    re.IGNORECASE,
)
_REPLACEABLE = re.compile(rf"\b(?:(?P<pronoun>{_PRONOUNS})|(?P<possessive>{_POSSESSIVES}))\b", re.IGNORECASE)
_MAX_SUBJECT_WORDS = 6
_MARKER = re.compile(r"\s*\[\d+\]")
_MAX_CONTEXT_CHARS = 300

_AUXILIARY = r"(?:did|does|do|is|was|were|are|has|had|have|will|would|can|could|should)\b"
_NOUN_ANTECEDENT = re.compile(rf"\b(?i:which|what)\s+(?!{_AUXILIARY})[a-z]+")
_NAME_ANTECEDENT = re.compile(r"(?<=\w )[A-Z][a-z]+")
_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|today|yesterday|tomorrow"
_MAX_CHAIN = 3  # earlier turns looked through to understand the previous question
_BE_HAVE = {"is", "was", "were", "are", "has", "had", "have"}
# words after "that"/"her" that show it is not a determiner or possessive
_FUNCTION_WORDS = frozenset(
    {
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "from",
        "about",
        "by",
        "after",
        "before",
        "when",
        "and",
        "or",
    }
    | {"but", "so", "the", "a", "an", "is", "was", "are", "were", "be", "been", "do", "did", "does", "has"}
    | {"have", "had", "say", "said", "says", "mean", "means", "happen", "happened", "matter", "again", "too"}
)
_PERSONAL = {"he", "she", "him", "her", "hers", "his"}
_NAME_LINKS = {"of", "the", "de", "von", "van", "al", "bin"}

# a run of capitalised words ("John Coale", "Siarhei Tsikhanouski"), linked by "of"/"de"/...
_NAME = re.compile(r"[A-Z][\w’'-]*(?:\s+(?:(?:of|de|von|van|al|bin)\s+)?[A-Z][\w’'-]*)*")
_QUOTE = re.compile(r"“(.+?)”(?=\s*(?:\[\d+\]|$))", re.DOTALL)
_NOT_NAMES = re.compile(
    rf"^(?:who|what|which|when|where|why|how|the|a|an|at|in|on|and|but|it|this|that|he|she|they|"
    rf"i|we|you|there|after|before|perhaps|however|according|yes|no|{_AUXILIARY}|{MONTHS})$",
    re.IGNORECASE,
)

# 2. a question that is only a question word, and the clause of the earlier question
_BARE_QUESTION = re.compile(
    r"^(?:and|but|so)?\s*,?\s*(?P<wh>why|when|where|how|how (?:many|much|long|often)|who|what)\s*[?.!]*$",
    re.IGNORECASE,
)
_CLAUSE = re.compile(
    rf"^(?P<wh>who|whom|what|which|when|where|why|how(?:\s+(?:many|much|long|often|old))?)"
    rf"(?:\s+(?!{_AUXILIARY})(?P<noun>[a-z]+))?\s+(?P<aux>{_AUXILIARY})\s+(?P<rest>.+?)\s*\??$",
    re.IGNORECASE,
)
# a question asking for its subject: "Which country closed its borders?"
_SUBJECT_QUESTION = re.compile(
    rf"^(?:which|what)\s+(?P<noun>[a-z]+)\s+(?!{_AUXILIARY})(?P<rest>[a-z].+?)\s*\??$", re.IGNORECASE
)
_TRAILING_PREPOSITION = re.compile(r"\b(?:on|to|for|with|from|about|by|at|in|of)$", re.IGNORECASE)


def _open(question: str, pattern: re.Pattern[str]) -> list[re.Match[str]]:
    """Matches of `pattern` with nothing before them in the question that they could refer to.

    In "Which country closed its borders?" "its" is the country, in "What did Lukashenko say he
    wants?" "he" is Lukashenko; in "Which agency did he speak to?" "he" points back to an earlier turn.
    """
    name = _NAME_ANTECEDENT.search(question)
    noun = _NOUN_ANTECEDENT.search(question)
    found = []
    for m in pattern.finditer(question):
        binder = (
            name
            if m.group().lower() in _PERSONAL
            else min((b for b in (name, noun) if b), key=lambda b: b.start(), default=None)
        )
        if binder is None or m.start() < binder.start():
            found.append(m)
    return found


def needs_context(question: str) -> bool:
    """Does the question point at something said before, or say too little to stand alone?"""
    return bool(_open(question, _POINTERS)) or len(terms(question)) <= 1


@dataclass(frozen=True)
class Earlier:
    """What a follow-up may point back to in an earlier turn."""

    question: str
    short: str  # the short answer it gave ('' for none, or one too long to stand for a pronoun)
    lead: str  # the answer's own words before its first quote or marker
    quotes: tuple[str, ...]  # the quoted sentences

    @classmethod
    def of(cls, question: str, answer: str | Answer) -> Earlier:
        """From the Answer itself, or, for a history of shown text only, read back from that text."""
        if isinstance(answer, Answer):
            short = "" if answer.abstained else _short(answer.direct_answer)
            quotes = tuple(c.quote for c in answer.citations) or tuple(_QUOTE.findall(answer.answer))
            return cls(question, short, _lead(answer.answer), quotes)
        return cls(question, _gist(answer), _lead(answer), tuple(_QUOTE.findall(answer)))


def resolve(question: str, history: History) -> str:
    """The question as it is understood after the earlier turn (or as asked, when it stands alone).

    The earlier question is first understood in its own turn's context, so a chain of follow-ups
    ("Who is the EU's foreign policy chief?", "What did she say about Putin?", "Which outlet did she
    say that to?") keeps pointing at the same person."""
    if not history or not needs_context(question):
        return question
    prev_question, prev_answer = history[-1]
    prev_question = resolve(prev_question, history[-_MAX_CHAIN:-1]) if len(history) > 1 else prev_question
    earlier = Earlier.of(prev_question, prev_answer)
    match = next((m for m in _open(question, _REPLACEABLE) if not _determiner(question, m)), None)
    if match:
        pronoun = match.group().lower()
        possessive = match.group("possessive") or (pronoun == "her" and _before_noun(question, match))
        for candidate in _antecedents(earlier, personal=pronoun in _PERSONAL):
            described = candidate == _asked_about(prev_question)  # long, but says what "it" is
            if (described or _fits(pronoun, candidate)) and candidate.lower() not in question.lower():
                replacement = f"{candidate}’s" if possessive else candidate
                return f"{question[: match.start()]}{replacement}{question[match.end() :]}"
        return question
    return _complete_bare_question(question, prev_question, earlier.short) or question


def _determiner(question: str, match: re.Match[str]) -> bool:
    """Is "this/that/these/those" a determiner here ("those sanctions", "that move")? Then it is
    the noun after it that points back, and no single name can stand in for the two words."""
    return match.group().lower() in ("this", "that", "these", "those") and _before_noun(question, match)


def _before_noun(question: str, match: re.Match[str]) -> bool:
    """Does a word that can be a noun follow the match ("her husband", not "her the letter" or "her?")?"""
    following = re.match(r"\s+([a-z]+)\b", question[match.end() :])
    return bool(following) and following.group(1) not in _FUNCTION_WORDS  # type: ignore[union-attr]


def _antecedents(earlier: Earlier, *, personal: bool) -> Iterator[str]:
    """What a pronoun may point back to, most likely first (see the module's step 1).

    "it"/"they": the short answer, the earlier question's subject ("the US embassy in Minsk" of
    "When was the US embassy in Minsk closed?"), the names it asked about. "he"/"she": the short
    answer, then names from the earlier question, the answer's own words and the quotes, a full
    name ("John Coale") before a single word (which may be a place: "Minsk")."""
    if earlier.short:
        yield earlier.short
    elif not personal:
        asked = _asked_about(earlier.question)
        if asked:
            yield asked
            return  # the earlier question's names are what the subject acted on, not the subject
    if not personal:
        subject = _subject(earlier.question)
        if subject:
            yield subject
        yield from _names(earlier.question)
        return
    names = _names(earlier.question) + _names(earlier.lead) + [n for q in earlier.quotes for n in _names(q)]
    yield from sorted(dict.fromkeys(names), key=lambda n: -min(len(n.split()), 2))


def _asked_about(question: str) -> str:
    """What a which/what subject question asked about, described: "Which country closed its
    borders?" -> "the country that closed its borders"; '' for any other question."""
    m = _SUBJECT_QUESTION.match(question.strip())
    return f"the {m.group('noun').lower()} that {m.group('rest')}" if m else ""


def _subject(question: str) -> str:
    """The subject of a be/have question: "When was the US embassy in Minsk closed?" -> "the US
    embassy in Minsk" (everything between the auxiliary and the final verb); '' otherwise."""
    clause = _CLAUSE.match(question.strip())
    if not clause or clause.group("noun") or clause.group("aux").lower() not in _BE_HAVE:
        return ""
    words = clause.group("rest").split()
    return " ".join(words[:-1]) if 2 <= len(words) <= _MAX_SUBJECT_WORDS + 1 else ""


def _names(text: str) -> list[str]:
    """Capitalised runs in `text` that can be names: not question words, pronouns or months."""
    found = []
    for m in _NAME.finditer(text):
        words = m.group().split()
        while words and _NOT_NAMES.match(words[0]):
            words = words[1:]
        name = re.sub(r"(?:’s|'s|’|')$", "", " ".join(words))
        if name and not name.isupper():  # "US", "EU": organisations, not people or places
            found.append(name)
    return list(dict.fromkeys(found))


def _complete_bare_question(question: str, prev_question: str, answer: str) -> str:
    """'Why?' after 'When was X arrested?' -> 'Why was X arrested?'; '' when it cannot be done."""
    bare = _BARE_QUESTION.match(question.strip())
    clause = _CLAUSE.match(prev_question.strip())
    if not bare or not clause:
        return ""
    rest = clause.group("rest")
    if clause.group("wh").lower() in ("what", "which", "who", "whom"):
        noun = clause.group("noun")
        if answer and not _fits("it", answer):
            return ""
        if not (answer or noun):
            return ""  # "What did he say?" then "Why?": what he said is not known
        if noun and not _TRAILING_PREPOSITION.search(rest):
            return ""  # where the answer goes in "Which airline did the US sanction?" is not clear
        rest = f"{rest} {answer or 'the ' + noun.lower()}"
    wh = bare.group("wh")
    return f"{wh[:1].upper()}{wh[1:].lower()} {clause.group('aux').lower()} {rest}?"


def _fits(pronoun: str, subject: str) -> bool:
    """Can `subject` stand for `pronoun`? 'he' wants a name; 'it' anything but a date, day or number."""
    words = subject.split()
    if not words or len(words) > _MAX_SUBJECT_WORDS:
        return False
    if pronoun in _PERSONAL:
        return all(w[:1].isupper() or w in _NAME_LINKS for w in words)
    return not re.search(rf"\d|\b(?:{MONTHS}|{_WEEKDAYS})\b", subject)


def _lead(answer: str) -> str:
    """An answer's own words: what stands before its first quote or marker."""
    return re.split(r"“|\[\d+\]", answer, maxsplit=1)[0]


def _short(answer: str) -> str:
    """A short answer that a pronoun can stand for: a few words, not a sentence."""
    return "" if len(answer.split()) > _MAX_SUBJECT_WORDS else answer[:_MAX_CONTEXT_CHARS]


def _gist(answer: str) -> str:
    """The short answer of an earlier reply known only as shown text: what stands before its
    first quote or marker."""
    head = _MARKER.sub("", _lead(answer)).strip(" .")
    if head.lower().startswith(
        ("the article does not say", "the article says", "the documents", "no answer was found")
    ):
        return ""
    if head.endswith((" says:", " say:")):  # "notes.txt says:", "The documents say:": quotes follow
        return ""
    if len(head.split()) > _MAX_SUBJECT_WORDS:  # a sentence, not a short answer
        return ""
    return head[:_MAX_CONTEXT_CHARS]

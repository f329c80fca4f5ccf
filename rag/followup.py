"""Follow-up questions: bring the earlier turn's subject into a question that only points at it.

The earlier answer's short form replaces the first pronoun: "What did he bring?" after
"Who is the US envoy?" / "John Coale [1]. …" becomes "What did John Coale bring?". When the
earlier answer had no short form, the earlier question is added in brackets for context. A
question that stands on its own is left as it is.

>>> resolve("What did he bring?", [("Who is the US envoy?", "John Coale [1]. “…” [1]")])
'What did John Coale bring?'
>>> resolve("Why did they do it?", [("Who freed the prisoners?", "The article says: “…” [1]")])
'Why did they do it? (Who freed the prisoners?)'
>>> resolve("How many prisoners were freed?", [("Who is the US envoy?", "John Coale [1].")])
'How many prisoners were freed?'
>>> resolve("Which country closed its borders?", [("Who is the US envoy?", "John Coale [1].")])
'Which country closed its borders?'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.extract import MONTHS
from rag.retrieve import terms

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
_PERSONAL = {"he", "she", "him", "her", "hers", "his"}


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


def resolve(question: str, history: Sequence[tuple[str, str]]) -> str:
    if not history or not needs_context(question):
        return question
    prev_question, prev_answer = history[-1]
    subject = _gist(prev_answer)
    match = next(iter(_open(question, _REPLACEABLE)), None)
    if match and _fits(match.group().lower(), subject):
        replacement = subject if match.group("pronoun") else f"{subject}’s"
        return f"{question[: match.start()]}{replacement}{question[match.end() :]}"
    return f"{question} ({prev_question.strip()[:_MAX_CONTEXT_CHARS]})"


def _fits(pronoun: str, subject: str) -> bool:
    """Can `subject` stand for `pronoun`? 'he' wants a name; 'it' anything but a date or number."""
    words = subject.split()
    if not words or len(words) > _MAX_SUBJECT_WORDS:
        return False
    if pronoun in _PERSONAL:
        return all(w[:1].isupper() or w in {"of", "the", "de", "von", "van"} for w in words)
    return not re.search(rf"\d|\b(?:{MONTHS})\b", subject)


def _gist(answer: str) -> str:
    """The short answer of an earlier reply: what stands before its first quote or marker."""
    head = re.split(r"“|\[\d+\]", answer, maxsplit=1)[0]
    head = _MARKER.sub("", head).strip(" .")
    if head.lower().startswith(("the article does not say", "the article says", "no answer was found")):
        return ""
    if head.endswith((" says:", " say:")):  # "notes.txt says:", "The documents say:": quotes follow
        return ""
    return head[:_MAX_CONTEXT_CHARS]

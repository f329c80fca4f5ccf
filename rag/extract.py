"""The direct answer: a number, a date, a name or a place taken verbatim from the best sentence.

The question's wording says what kind of answer it wants; candidates of that kind are found in
the sentence with patterns, those already in the question are dropped, and the one nearest to
the words the sentence shares with the question wins.

>>> direct_answer("How many prisoners were freed?", "Belarus freed 52 political prisoners on Monday.")
'52 political prisoners'
>>> direct_answer("Who met the envoy?", "The envoy met Alexander Lukashenko in Minsk.")
'Alexander Lukashenko'
>>> direct_answer("Why did it happen?", "Because it rained.")
''
"""

from __future__ import annotations

import re
from typing import Literal

from rag.retrieve import terms

Kind = Literal["number", "date", "person", "place", "entity", "none"]

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    "hundred|hundreds|thousand|thousands|dozen|dozens|million|millions"
)
_DATE = re.compile(
    rf"\b(?:(?:{_MONTHS})(?:\s+\d{{1,2}})?(?:,?\s+\d{{4}})?|\d{{1,2}}\s+(?:{_MONTHS})(?:\s+\d{{4}})?|"
    rf"(?:19|20)\d\d)\b"
)
_NUMBER = re.compile(
    rf"\b(?:(?:more|fewer|less) than\s+|about\s+|nearly\s+|over\s+|some\s+)?"
    rf"(?:\d[\d,.]*|(?:{_NUMBER_WORDS})\b)(?:[-\s](?:year|years|month|months|day|days)(?:-old)?)?"
    rf"(?:\s+(?!(?:on|in|at|of|to|for|from|and|or|the|a|an|by|with|since|as|who|that|which)\b)"
    rf"[a-z][\w-]*){{0,2}}",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(
    r"\b[A-Z][\w’'-]*(?:\s+(?:of|the|de|von|van|al)?\s*[A-Z][\w’'-]*)*"
)
_LEADING_WORDS = {"The", "A", "An", "In", "On", "At", "For", "Yet", "But", "And", "According", "Still", "As",
                  "Perhaps", "However", "While", "Among", "Many", "Several", "It", "This", "That", "He", "She",
                  "They", "We", "Every", "No", "Some"}


_FOCUS_WINDOW = 6  # words from the number on that may name what it counts
_AUXILIARIES = {"did", "do", "does", "were", "was", "are", "is", "had", "has", "have", "will", "would", "can"}


def question_kind(question: str) -> Kind:
    """What the question asks for, from its wording."""
    q = question.lower()
    if re.search(r"\bhow (many|much|old|long)\b|\bwhat (number|percentage|age)\b|\bhow many\b", q):
        return "number"
    if re.search(r"\bwhen\b|\bwhat (year|date|month|day)\b|\bwhich (year|date|month|day)\b|\bsince when\b", q):
        return "date"
    if re.search(r"^\s*who (is|was|are|were) [A-Z]", question):
        return "none"  # "Who is John Coale?" asks for a description, not a name
    if re.search(r"\bwho(m|se)?\b", q):
        return "person"
    if re.search(r"\bwhere\b|\bwhich (country|city|capital|town|border|region)\b|\bwhat (country|city|capital)\b", q):
        return "place"
    if re.search(r"^\s*(which|what)\s+\w+", q) and not re.search(r"^\s*what (is|was|were|are|did|does|do)\b", q):
        return "entity"
    return "none"


def direct_answer(question: str, sentence: str) -> str:
    """The short answer found in `sentence`, verbatim, or '' when none fits the question."""
    kind = question_kind(question)
    if kind == "none":
        return ""
    candidates = _candidates(kind, sentence)
    q_words = {w.lower() for w in re.findall(r"\w+", question)}
    fresh = [(s, e) for s, e in candidates if not _all_in(sentence[s:e], q_words)]
    focus = number_focus(question) if kind == "number" else set()
    if focus:  # "how many women": the number must count women, not something else
        fresh = [(s, e) for s, e in fresh if focus & set(terms(" ".join(sentence[s:].split()[:_FOCUS_WINDOW])))]
    if not fresh:
        return ""
    q_terms = set(terms(question))
    anchors = [m.start() for m in re.finditer(r"\w+", sentence) if terms(m.group()) and terms(m.group())[0] in q_terms]
    start, end = min(fresh, key=lambda span: _distance(span, anchors))
    return sentence[start:end].strip(" ,;:")


def number_focus(question: str) -> set[str]:
    """What a number question counts: 'How many British citizens …' -> {'british', 'citizen'}.

    >>> sorted(number_focus("How old is the philosopher?"))
    ['age', 'old', 'year']
    """
    q = question.lower()
    if re.search(r"\bhow old\b", q):
        return {"year", "old", "age"}
    m = re.search(r"\bhow (?:many|much)\s+((?:[\w-]+\s+){0,2}[\w-]+)", q)
    if not m:
        return set()
    words = []
    for word in m.group(1).split():
        if word in _AUXILIARIES:
            break
        words.append(word)
    return set(terms(" ".join(words)))


def _candidates(kind: Kind, sentence: str) -> list[tuple[int, int]]:
    if kind == "number":
        spans = [m.span() for m in _NUMBER.finditer(sentence)]
        dates = [m.span() for m in _DATE.finditer(sentence)]
        return [s for s in spans if not any(d[0] <= s[0] < d[1] for d in dates)]
    if kind == "date":
        return [m.span() for m in _DATE.finditer(sentence)]
    spans = []
    for m in _CAPITALISED.finditer(sentence):
        start, end = m.span()
        words = sentence[start:end].split()
        while words and words[0] in _LEADING_WORDS and len(words) > 1:
            start += len(words[0]) + 1
            words = words[1:]
        if words and not (len(words) == 1 and words[0] in _LEADING_WORDS) and not _DATE.fullmatch(" ".join(words)):
            spans.append((start, end))
    return spans


def _all_in(text: str, q_words: set[str]) -> bool:
    words = [w.lower().removesuffix("’s").removesuffix("'s") for w in re.findall(r"[\w’']+", text)]
    return bool(words) and all(w in q_words for w in words)


def _distance(span: tuple[int, int], anchors: list[int]) -> float:
    if not anchors:
        return span[0]
    return min(min(abs(a - span[0]), abs(a - span[1])) for a in anchors)

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

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    "hundred|hundreds|thousand|thousands|dozen|dozens|million|millions"
)
_DATE = re.compile(
    rf"\b(?:(?:{MONTHS})(?:\s+\d{{1,2}})?(?:,?\s+\d{{4}})?|\d{{1,2}}\s+(?:{MONTHS})(?:\s+\d{{4}})?|"
    rf"(?:19|20)\d\d)\b"
)
_NUMBER = re.compile(
    rf"\b(?:(?:more|fewer|less) than\s+|about\s+|nearly\s+|over\s+|some\s+)?"
    rf"(?:\d[\d,.]*|(?:{_NUMBER_WORDS})\b)(?:[-\s](?:years|year|months|month|weeks|week|days|day)(?:-old)?)?"
    rf"(?:\s+(?!(?:on|in|at|of|to|for|from|and|or|the|a|an|by|with|since|as|who|that|which)\b)"
    rf"[a-z][\w-]*){{0,2}}",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"\b[A-Z][\w’'-]*(?:\s+(?:of|the|de|von|van|al)?\s*[A-Z][\w’'-]*)*")
_LEADING_WORDS = {
    "The",
    "A",
    "An",
    "In",
    "On",
    "At",
    "For",
    "Yet",
    "But",
    "And",
    "According",
    "Still",
    "As",
    "Perhaps",
    "However",
    "While",
    "Among",
    "Many",
    "Several",
    "It",
    "This",
    "That",
    "He",
    "She",
    "They",
    "We",
    "Every",
    "No",
    "Some",
}


# where one clause ends and another, about something else, begins
_CLAUSE_BREAK = re.compile(r"[;:]|,\s+(?:while|whereas|but|although|though|yet)\b|\s—\s")
_FOCUS_WINDOW = 6  # words from the number on that may name what it counts
_AUXILIARIES = {"did", "do", "does", "were", "was", "are", "is", "had", "has", "have", "will", "would", "can"}


_WH = re.compile(
    r"\b(how (?:many|much|old|long)|how|why|when|whom|whose|who|where|which|what)\b", re.IGNORECASE
)
# nouns after "what" that ask for a proper name ("what airline", "what news agency")
_ENTITY_NOUNS = (
    r"(?:airline|company|companies|firm|organi[sz]ations?|group|agency|agencies|newspaper|outlet|network|"
    r"party|parties|ministry|institution|university|team|brand|band|publication|channel|website|platform)"
)


def question_kind(question: str) -> Kind:
    """What the question asks for, read from its first question word and what follows it.

    >>> [question_kind(q) for q in ["How many were freed?", "What are the names of those who left?",
    ...                             "Which airline was it?", "Who is John Coale?", "Where did he sit?"]]
    ['number', 'none', 'entity', 'none', 'place']
    """
    m = _WH.search(question)
    if not m:
        return "none"
    wh = m.group(1).lower()
    rest = question[m.end() :].lower()
    if wh in ("how", "why"):
        return "none"  # a manner or a reason: a sentence, not a span
    if wh.startswith("how") or (
        re.match(r"\s+(number|percentage|age|share)\b", rest) and wh in ("what", "which")
    ):
        return "number"
    if wh == "when" or (wh in ("what", "which") and re.match(r"\s+(exact\s+)?(year|date|month|day)\b", rest)):
        return "date"
    if wh in ("who", "whom", "whose"):
        # "Who is John Coale?" asks for a description, not a name
        return "none" if re.match(r"\s+(is|was|are|were)\s+[A-Z]", question[m.end() :]) else "person"
    if wh == "where" or re.match(r"\s+(country|city|capital|town|border|region|place)\b", rest):
        return "place"
    if wh == "which" or (wh == "what" and re.match(rf"\s+(?:[\w-]+\s+)?{_ENTITY_NOUNS}\b", rest)):
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
        fresh = [
            (s, e) for s, e in fresh if focus & set(terms(" ".join(sentence[s:].split()[:_FOCUS_WINDOW])))
        ]
    if not fresh:
        return ""
    q_terms = set(terms(question))
    anchors = [m.start() for m in re.finditer(r"\w+", sentence) if q_terms.intersection(terms(m.group()))]
    clauses = [m.end() for m in _CLAUSE_BREAK.finditer(sentence)]

    def rank(span: tuple[int, int]) -> tuple[int, float]:
        clause = _clause_of(span[0], clauses)
        same_clause = sum(1 for a in anchors if _clause_of(a, clauses) == clause)
        return -same_clause, _distance(span, anchors)

    start, end = min(fresh, key=rank)
    return sentence[start:end].strip(" ,;:")


def number_focus(question: str) -> set[str]:
    """What a number question counts: 'How many British citizens …' -> {'british', 'citizen'}.

    >>> sorted(number_focus("How old is the philosopher?"))
    ['age', 'old', 'year']
    >>> sorted(number_focus("How many of the freed prisoners were Latvian citizens?"))
    ['citizen', 'freed', 'latvian', 'prison']
    """
    q = question.lower()
    if re.search(r"\bhow old\b", q):
        return {"year", "old", "age"}
    if re.search(r"\bhow long\b", q):
        return {"year", "month", "week", "day", "hour", "minut", "decad"}
    m = re.search(r"\bhow (?:many|much)\s+(of\s+)?([\w\s-]*)", q)
    if not m:
        return set()
    words: list[str] = []
    rest = m.group(2).split()
    for i, word in enumerate(rest[:4] if m.group(1) else rest[:3]):
        if word in _AUXILIARIES:
            if m.group(1):  # "how many of the prisoners were Latvians": the count is of Latvians
                words += rest[i + 1 : i + 4]
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
        if (
            words
            and not (len(words) == 1 and words[0] in _LEADING_WORDS)
            and not _DATE.fullmatch(" ".join(words))
        ):
            spans.append((start, end))
    return spans


def _clause_of(position: int, breaks: list[int]) -> int:
    return sum(1 for b in breaks if b <= position)


def _all_in(text: str, q_words: set[str]) -> bool:
    words = [w.lower().removesuffix("’s").removesuffix("'s") for w in re.findall(r"[\w’']+", text)]
    return bool(words) and all(w in q_words for w in words)


def _distance(span: tuple[int, int], anchors: list[int]) -> float:
    if not anchors:
        return span[0]
    return min(min(abs(a - span[0]), abs(a - span[1])) for a in anchors)

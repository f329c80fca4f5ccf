"""Candidate short answers: verbatim spans of a sentence that could answer a question.

1. Dates: month-day forms, years in context (any length after "in"/"since"/..., four digits
   anywhere), "the 1050s", "the 16th century", ranges "1914–1918".
2. Numbers: digits with separators, decimals, percentages, money, ranges, number words; each once
   bare and once with the words it counts ("52" and "52 political prisoners").
3. Ordinals: "4th", "fourth".
4. Names: runs of capitalised words (accented and hyphenated ones too), joined by "of", "de", ...
5. Phrases: a light chunker's noun-phrase-like runs of content words between function words and
   punctuation, so that "what" and "which" questions have candidates.

Which candidate answers which question is decided by the fitted model (rag/readers/extractive/model.py).

>>> [(s.text, s.type) for s in candidates("Ögedei Khan died in 1241, in the 13th century.")][:4]
[('1241', 'date'), ('the 13th century', 'date'), ('13th', 'ordinal'), ('Ögedei Khan', 'name')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Literal

from rag.text import LARGE_NUMBERS, MONTHS, SMALL_NUMBERS, SMALL_ORDINALS, stopwords

__all__ = ["MONTHS", "SPAN_TYPES", "Span", "SpanType", "candidates", "clause_breaks", "tokens"]

SpanType = Literal["number", "date", "ordinal", "name", "phrase"]
SPAN_TYPES: tuple[SpanType, ...] = ("number", "date", "ordinal", "name", "phrase")

_ORDINAL_WORDS = "|".join([*SMALL_ORDINALS[1:], "twenty-first"])
_NUMBER_WORDS = "|".join(SMALL_NUMBERS[1:] + LARGE_NUMBERS)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_ERA = r"(?:\s?(?:BC|BCE|AD|CE|B\.C\.|A\.D\.))"
_DATES = [
    # September 11, 2025 / September 2025 / 11 September 2025 / September 11
    rf"\b(?:{MONTHS})(?:\s+{_DAY})?(?:,?\s+\d{{3,4}})?\b",
    rf"\b{_DAY}\s+(?:{MONTHS})(?:,?\s+\d{{3,4}})?\b",
    # the 16th century, the early 1900s, the 1050s, the '90s
    rf"\b(?:the\s+)?(?:(?:early|mid|late|mid-)\s*)?(?:\d{{1,2}}(?:st|nd|rd|th)|{_ORDINAL_WORDS})[\s-]centur(?:y|ies){_ERA}?",
    r"\b(?:the\s+)?(?:(?:early|mid|late)[\s-])?\d{2,3}0s\b",
    # ranges and years: 1914–1918, 1066, 911 AD; a short year only after a word that introduces one
    r"\b\d{3,4}\s?(?:–|-|to)\s?\d{2,4}\b",
    rf"\b(?:1\d|20)\d\d{_ERA}?\b(?![,.]?\d)",
    rf"\b\d{{1,4}}{_ERA}\b",
]
_DATE = re.compile("|".join(f"(?:{d})" for d in _DATES))
_SHORT_YEAR = re.compile(
    rf"\b(?:in|of|since|by|until|from|year|around|circa|before|after|during)\s+(\d{{1,4}}{_ERA}?)\b(?![,.]?\d)",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    rf"(?:[$£€¥]\s?)?\b(?:\d[\d,]*(?:\.\d+)?|(?:{_NUMBER_WORDS})(?:[\s-](?:{_NUMBER_WORDS}))*)\b"
    rf"(?:\s?(?:–|-|to)\s?\d[\d,]*(?:\.\d+)?)?"
    rf"(?:\s?(?:%|percent\b|per cent\b))?(?:\s(?:million|billion|thousand|hundred|trillion)\b)?",
    re.IGNORECASE,
)
_NUMBER_LEAD = re.compile(
    r"(?:about|around|nearly|almost|over|some|more than|fewer than|less than|up to|at least)\s$", re.I
)
_ORDINAL = re.compile(rf"\b(?:\d+(?:st|nd|rd|th)|{_ORDINAL_WORDS})\b", re.IGNORECASE)
_TOKEN = re.compile(r"[^\W_][\w’'.-]*[^\W_]|[^\W_]")
_CONNECTORS = frozenset(
    {"of", "de", "del", "der", "von", "van", "al", "la", "le", "du", "da", "di", "y", "bin"}
)
_CLAUSE_BREAK = re.compile(r"[;:()]|,\s+(?:while|whereas|but|although|though|yet|which|who)\b|\s[—–-]\s|—")
_COUNTED_WORDS = 2  # words after a number that may say what it counts


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str  # invariant: sentence[start:end] == text
    type: SpanType


def tokens(sentence: str) -> list[tuple[int, int]]:
    """(start, end) of every word: letters and digits, with inner apostrophes, hyphens and dots."""
    return [m.span() for m in _TOKEN.finditer(sentence)]


def clause_breaks(sentence: str) -> list[int]:
    """Where one clause ends and another, about something else, may begin."""
    return [m.end() for m in _CLAUSE_BREAK.finditer(sentence)]


@lru_cache(maxsize=8192)
def candidates(sentence: str) -> tuple[Span, ...]:
    """Every candidate short answer in `sentence`: dates, numbers, ordinals, names, phrases."""
    out: list[Span] = []
    seen: set[tuple[int, int]] = set()

    def add(start: int, end: int, kind: SpanType) -> None:
        while end > start and sentence[end - 1] in " ,;:.":
            end -= 1
        if end > start and (start, end) not in seen:
            seen.add((start, end))
            out.append(Span(start, end, sentence[start:end], kind))

    dates = [m.span() for m in _DATE.finditer(sentence)]
    dates += [
        m.span(1) for m in _SHORT_YEAR.finditer(sentence) if not any(a <= m.start(1) < b for a, b in dates)
    ]
    dates.sort()
    for s, e in dates:
        add(s, e, "date")
    for m in _ORDINAL.finditer(sentence):
        add(*m.span(), "ordinal")
    words = tokens(sentence)
    for start, end, counted in _numbers(sentence, words, dates):
        add(start, end, "number")
        if counted > end:
            add(start, counted, "number")
    for s, e in _names(sentence, words):
        if not any(ds <= s and e <= de for ds, de in dates):
            add(s, e, "name")
    for s, e in _phrases(sentence, words):
        add(s, e, "phrase")
    return tuple(out)


def _numbers(
    sentence: str, words: list[tuple[int, int]], dates: list[tuple[int, int]]
) -> list[tuple[int, int, int]]:
    """(start, end, end with the counted words) of each number that is not part of a date."""
    stop = stopwords()
    out = []
    for m in _NUMBER.finditer(sentence):
        s, e = m.span()
        if any(ds <= s < de for ds, de in dates) or _ORDINAL.fullmatch(m.group()):
            continue
        lead = _NUMBER_LEAD.search(sentence[max(0, s - 14) : s])
        start = s - len(lead.group()) if lead else s
        counted = e
        for ws, we in [w for w in words if w[0] >= e][:_COUNTED_WORDS]:
            if sentence[ws:we].lower() in stop or sentence[counted:ws].strip(" -"):
                break
            counted = we
        out.append((start, e, counted))
    return out


def _is_capitalised(word: str) -> bool:
    return word[0].isupper() and (len(word) == 1 or not word[1:].isdigit())


def _names(sentence: str, words: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Runs of capitalised words, joined by connectors ('University of Notre Dame'); a
    sentence-initial function word ('The', 'However') is not part of a name."""
    stop = stopwords()
    runs: list[tuple[int, int]] = []
    run: list[tuple[int, int]] = []
    pending: list[tuple[int, int]] = []
    for i, (s, e) in enumerate(words):
        w = sentence[s:e]
        gap = sentence[run[-1][1] if run else s : s] if not pending else sentence[pending[-1][1] : s]
        broken = bool(run) and bool(re.search(r"[^\s]", gap))
        if broken:
            runs.append((run[0][0], run[-1][1]))
            run, pending = [], []
        if _is_capitalised(w) and not (i == 0 and w.lower() in stop) and not w.isdigit():
            run += [*pending, (s, e)]
            pending = []
        elif run and w.lower() in _CONNECTORS and not pending:
            pending = [(s, e)]
        else:
            if run:
                runs.append((run[0][0], run[-1][1]))
            run, pending = [], []
    if run:
        runs.append((run[0][0], run[-1][1]))
    return runs


def _phrases(sentence: str, words: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Runs of content words not broken by punctuation or function words, and such runs joined by
    'of' ('the king of France'): a chunker without a part-of-speech model."""
    stop = stopwords()
    runs: list[list[tuple[int, int]]] = []
    run: list[tuple[int, int]] = []
    for s, e in words:
        w = sentence[s:e].lower()
        gap = sentence[run[-1][1] : s] if run else ""
        if run and (gap.strip() or w in stop):
            runs.append(run)
            run = []
        if w not in stop:
            run.append((s, e))
    if run:
        runs.append(run)
    spans = [(r[0][0], r[-1][1]) for r in runs if len(r) <= 6]
    spans = [(s, e) for s, e in spans if not any(ch.isdigit() for ch in sentence[s:e])]
    joined = [
        (a[0], b[1])
        for a, b in pairwise(spans)
        if sentence[a[1] : b[0]].strip().lower() in ("of", "of the", "of a", "and")
    ]
    return spans + joined

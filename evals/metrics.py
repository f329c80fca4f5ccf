"""Evaluation metrics as pure functions: answers as text, evidence and citations as character spans.

No judge model: answers are compared to gold answers after SQuAD normalisation, and quotes and
retrieved passages are compared to the gold evidence sentences by character overlap (standing in
for ALCE's NLI judge of whether a citation supports a statement).

>>> normalize("The Guardian’s report!")
'guardians report'
>>> round(token_f1("52 political prisoners", "52"), 3)
0.5
>>> contains_answer("Belarus freed 52 political prisoners.", "fifty-two")
False
>>> covers([Span("a", 0, 100)], Span("a", 40, 120))  # 60 of the 80 gold characters: at least half
True
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from evals.squad.metrics import exact_score, f1_score, normalize_answer

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_DASHES = re.compile(r"[-\u2010-\u2015]")
COVER_SHARE = 0.5  # a span counts as covered when at least half of its characters are


# --- answers as text -------------------------------------------------------------------------------


def normalize(text: str) -> str:
    """SQuAD normalisation with Unicode punctuation dropped too (evals.squad.metrics, the one copy).

    >>> normalize("  An  EU-mission, in “Minsk”. ")
    'eumission in minsk'
    """
    return normalize_answer(text, unicode_punctuation=True)


def exact_match(prediction: str, gold: str) -> float:
    return float(exact_score(prediction, gold, unicode_punctuation=True))


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD token F1 after `normalize`."""
    return f1_score(prediction, gold, unicode_punctuation=True)


def contains_answer(text: str, gold: str) -> bool:
    """Is the normalised `gold` inside the normalised `text`, on whole words?

    Checked as written and again with hyphens and dashes read as spaces, so that "69" is found
    in "a 69-year-old philosopher" and "no man's land" in "no man’s land" (both lose the apostrophe).

    >>> contains_answer("a 69-year-old philosopher", "69")
    True
    >>> contains_answer("1994", "94")
    False
    """
    for dashes_as_spaces in (False, True):
        t, g = (_DASHES.sub(" ", x) for x in (text, gold)) if dashes_as_spaces else (text, gold)
        needle = normalize(g)
        if needle and f" {needle} " in f" {normalize(t)} ":
            return True
    return False


@dataclass(frozen=True)
class AnswerScore:
    exact_match: float
    f1: float
    hit: bool  # the answer contains a gold answer (for a list: every part)
    hit_share: float  # share of gold answers (list parts) the answer contains
    short_hit: bool  # the same as `hit`, on the short answer alone


def score_answer(short: str, full: str, answers: Sequence[str], *, all_parts: bool) -> AnswerScore:
    """Score one answer. `short` is the direct answer (EM and F1 are taken on it), `full` the text shown.

    When `all_parts` (a list question), `answers` are the parts of one full answer: EM and F1 are
    taken against the parts joined, and the answer hits only when it contains every part.
    Otherwise `answers` are alternatives and the best one counts.

    >>> score_answer("BBC", "BBC and UPI", ["BBC", "The Guardian", "UPI"], all_parts=True).hit_share
    0.6666666666666666
    >>> score_answer("52", "52 prisoners", ["52", "fifty-two"], all_parts=False).hit
    True
    """
    if not answers:
        raise ValueError("score_answer needs at least one gold answer")
    present = [contains_answer(full, a) for a in answers]
    in_short = [contains_answer(short, a) for a in answers]
    if all_parts:
        joined = " ".join(answers)
        return AnswerScore(
            exact_match(short, joined), token_f1(short, joined), all(present), mean_of(present), all(in_short)
        )
    return AnswerScore(
        max(exact_match(short, a) for a in answers),
        max(token_f1(short, a) for a in answers),
        any(present),
        float(any(present)),
        any(in_short),
    )


# --- evidence and citations as spans ---------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """Characters [start, end) of one document."""

    doc_id: str
    start: int
    end: int

    @property
    def length(self) -> int:
        return max(self.end - self.start, 0)


# One gold evidence string, as every place it occurs in the documents (usually exactly one).
Gold = Sequence[Span]


def overlap(a: Span, b: Span) -> int:
    if a.doc_id != b.doc_id:
        return 0
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def covered_chars(spans: Iterable[Span], target: Span) -> int:
    """How many characters of `target` the union of `spans` covers."""
    pieces = sorted((max(s.start, target.start), min(s.end, target.end)) for s in spans if overlap(s, target))
    total, reach = 0, target.start
    for start, end in pieces:
        start = max(start, reach)
        if end > start:
            total += end - start
            reach = end
    return total


def covers(spans: Iterable[Span], target: Span) -> bool:
    """Do `spans` together cover at least half of `target`'s characters?"""
    return target.length > 0 and covered_chars(spans, target) >= COVER_SHARE * target.length


def first_covering_rank(passages: Sequence[Span], gold: Gold) -> int | None:
    """1-based rank of the first passage that alone covers at least half of the gold evidence."""
    for rank, passage in enumerate(passages, 1):
        if any(covers([passage], g) for g in gold):
            return rank
    return None


def recall_at_k(ranks: Sequence[int | None], k: int) -> float:
    """Share of gold evidence strings retrieved in the first k passages (ranks: first_covering_rank)."""
    if not ranks:
        raise ValueError("recall needs at least one gold evidence string")
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def reciprocal_rank(ranks: Sequence[int | None]) -> float:
    """1 / the rank of the first passage that covers any gold evidence; 0 when none does."""
    found = [r for r in ranks if r is not None]
    return 1.0 / min(found) if found else 0.0


def relevant_passages(passages: Sequence[Span], gold: Sequence[Gold]) -> list[bool]:
    """For each passage: does it cover at least half of some gold evidence string?"""
    return [any(covers([p], g) for ev in gold for g in ev) for p in passages]


def context_precision_at_k(relevant: Sequence[bool], k: int) -> float:
    """Share of the first k retrieved passages that are relevant (fewer passages: share of those)."""
    top = list(relevant[:k])
    return sum(top) / len(top) if top else 0.0


def matches(citation: Span, gold: Span) -> bool:
    """A citation matches gold evidence when they share at least half of the shorter of the two."""
    shorter = min(citation.length, gold.length)
    return shorter > 0 and overlap(citation, gold) >= COVER_SHARE * shorter


def citation_precision(citations: Sequence[Span], gold: Sequence[Gold]) -> float:
    """Share of citations that match some gold evidence (ALCE citation precision, by span overlap)."""
    if not citations:
        return 0.0
    return sum(1 for c in citations if any(matches(c, g) for ev in gold for g in ev)) / len(citations)


def citation_recall(citations: Sequence[Span], gold: Sequence[Gold]) -> float:
    """Share of gold evidence strings the citations together cover at least half of (ALCE recall)."""
    if not gold:
        raise ValueError("citation recall needs at least one gold evidence string")
    return sum(1 for ev in gold if any(covers(citations, g) for g in ev)) / len(gold)


def citation_supported(citations: Sequence[Span], gold: Sequence[Gold]) -> bool:
    """Does at least one citation match gold evidence (the answer is backed by the right text)?"""
    return any(matches(c, g) for c in citations for ev in gold for g in ev)


# --- aggregates ------------------------------------------------------------------------------------


def mean_of(values: Iterable[float | bool | None]) -> float:
    """Mean of the values that are not None; NaN when there are none."""
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks (numpy's default).

    >>> percentile([10, 20, 30, 40], 50)
    25.0
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass(frozen=True)
class RiskPoint:
    threshold: float  # answer when confidence >= threshold
    coverage: float  # share of all questions answered
    accuracy: float  # share of the answered questions answered correctly
    answered: int


def risk_coverage(points: Sequence[tuple[float, bool, bool]]) -> list[RiskPoint]:
    """Selective accuracy as the abstention threshold falls.

    `points` holds, for each question, (confidence, answerable_at_all, correct_if_answered):
    whether the bot would give an answer once the threshold is low enough, and whether that answer
    is right. Each distinct confidence, highest first, is tried as the threshold.

    >>> curve = risk_coverage([(0.9, True, True), (0.5, True, False), (0.1, False, False)])
    >>> [(p.coverage, p.accuracy) for p in curve]
    [(0.3333333333333333, 1.0), (0.6666666666666666, 0.5)]
    """
    total = len(points)
    candidates = sorted(((c, ok) for c, can, ok in points if can), key=lambda p: -p[0])
    out: list[RiskPoint] = []
    correct = 0
    for i, (confidence, ok) in enumerate(candidates):
        correct += ok
        if i + 1 < len(candidates) and candidates[i + 1][0] == confidence:
            continue  # ties enter together
        out.append(RiskPoint(confidence, (i + 1) / total, correct / (i + 1), i + 1))
    return out


def area_under_risk_coverage(curve: Sequence[RiskPoint]) -> float:
    """Mean risk (1 - accuracy) over coverage, each point weighted by the coverage it adds (lower: better)."""
    if not curve:
        return math.nan
    area, previous = 0.0, 0.0
    for p in curve:
        area += (1 - p.accuracy) * (p.coverage - previous)
        previous = p.coverage
    return area / previous if previous else math.nan


def auroc(scores: Sequence[float], labels: Sequence[bool | int]) -> float:
    """The chance that a positive example scores above a negative one (ties count half); nan
    without both.

    >>> auroc([0.9, 0.4, 0.4, 0.1], [1, 1, 0, 0])
    0.875
    """
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not pos or not neg:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))

"""The official SQuAD 2.0 metrics, written from the definitions of the official evaluation script
(evaluate-v2.0.py, Rajpurkar et al. 2018), plus the selective-answering figures this project reports.

1. Normalise answers: lowercase, drop ASCII punctuation, drop the articles a/an/the, fold white space.
2. Score each question against every gold answer and keep the best: exact match (0/1) and token F1.
   An unanswerable question has the single gold answer "", so only an empty prediction scores 1.
3. Average over all questions, the answerable ones (HasAns_) and the unanswerable ones (NoAns_), as
   percentages.
4. Sweep the "no answer" probability: a question whose na_prob is above a threshold is treated as
   abstained; best_exact / best_f1 are the best scores any threshold gives, with that threshold.

>>> normalize_answer("The  Norman-French  conquest!")
'normanfrench conquest'
>>> f1_score("", "")  # abstaining on an unanswerable question is right
1
>>> round(f1_score("the 10th century", "10th and 11th centuries"), 3)  # 1 shared token: P 1/2, R 1/4
0.333
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
SHORT_ANSWER_F1 = 0.5  # a shown short answer counts as right at this F1 against the best gold answer


def normalize_answer(text: str, *, unicode_punctuation: bool = False) -> str:
    """Lowercase, no ASCII punctuation, no articles, single spaces (the official normalisation).

    With `unicode_punctuation`, curly quotes, dashes and other Unicode punctuation go too: the
    evaluation set's article is typeset with them, SQuAD's official script keeps them.

    >>> normalize_answer("  An  EU-mission, in “Minsk”. ")
    'eumission in “minsk”'
    >>> normalize_answer("  An  EU-mission, in “Minsk”. ", unicode_punctuation=True)
    'eumission in minsk'
    """
    text = "".join(
        ch
        for ch in text.lower()
        if ch not in _PUNCTUATION and not (unicode_punctuation and unicodedata.category(ch).startswith("P"))
    )
    return " ".join(_ARTICLES.sub(" ", text).split())


def _tokens(text: str, unicode_punctuation: bool) -> list[str]:
    return normalize_answer(text, unicode_punctuation=unicode_punctuation).split() if text else []


def exact_score(prediction: str, gold: str, *, unicode_punctuation: bool = False) -> int:
    same = normalize_answer(prediction, unicode_punctuation=unicode_punctuation)
    return int(same == normalize_answer(gold, unicode_punctuation=unicode_punctuation))


def f1_score(prediction: str, gold: str, *, unicode_punctuation: bool = False) -> float:
    """Token F1; when either side has no tokens, 1 if both have none, else 0."""
    pred, ref = _tokens(prediction, unicode_punctuation), _tokens(gold, unicode_punctuation)
    if not pred or not ref:
        return int(pred == ref)
    same = sum((Counter(pred) & Counter(ref)).values())
    if not same:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def gold_answers(answers: Sequence[str]) -> list[str]:
    """The answers that are not empty after normalisation, or [""] for an unanswerable question."""
    kept = [a for a in answers if normalize_answer(a)]
    return kept or [""]


@dataclass(frozen=True)
class Scored:
    """One question: its best exact and F1 over the gold answers, and what the sweep needs."""

    qid: str
    has_answer: bool
    prediction: str
    na_prob: float
    exact: float
    f1: float


def score_question(qid: str, answers: Sequence[str], prediction: str, na_prob: float) -> Scored:
    golds = gold_answers(answers)
    return Scored(
        qid=qid,
        has_answer=golds != [""],
        prediction=prediction,
        na_prob=na_prob,
        exact=max(exact_score(prediction, g) for g in golds),
        f1=max(f1_score(prediction, g) for g in golds),
    )


def best_threshold(scored: Sequence[Scored], value: str) -> tuple[float, float]:
    """(best score in %, its na_prob threshold), swept as the official script does.

    Start from abstaining on everything (each unanswerable question right), then admit questions
    in increasing na_prob: an answerable one adds its score, an unanswerable one with a non-empty
    prediction costs 1. The threshold is the na_prob of the last question admitted at the best
    score (0.0 if abstaining on everything is best). Ties of na_prob are admitted one by one, in
    input order, exactly like the official script.

    >>> qs = [Scored("a", True, "x", 0.2, 1, 1), Scored("b", False, "y", 0.4, 0, 0)]
    >>> best_threshold(qs, "f1")
    (100.0, 0.2)
    """
    if not scored:
        return math.nan, math.nan
    current = best = float(sum(1 for s in scored if not s.has_answer))
    threshold = 0.0
    for s in sorted(scored, key=lambda s: s.na_prob):
        if s.has_answer:
            current += getattr(s, value)
        elif s.prediction:
            current -= 1
        if current > best:
            best, threshold = current, s.na_prob
    return 100.0 * best / len(scored), threshold


def squad_metrics(scored: Sequence[Scored]) -> dict[str, float]:
    """exact, f1, total, HasAns_*, NoAns_*, best_exact(_thresh), best_f1(_thresh), in the official's keys.

    As in the official script run with na_probs, `exact` and `f1` take the predictions as given
    (its na_prob_thresh of 1.0 overrides none of them); the sweep finds the best threshold.
    """
    out: dict[str, float] = {}
    for prefix, group in (
        ("", list(scored)),
        ("HasAns_", [s for s in scored if s.has_answer]),
        ("NoAns_", [s for s in scored if not s.has_answer]),
    ):
        if group or not prefix:
            out[f"{prefix}exact"] = _percent(s.exact for s in group)
            out[f"{prefix}f1"] = _percent(s.f1 for s in group)
            out[f"{prefix}total"] = len(group)
    for value in ("exact", "f1"):
        out[f"best_{value}"], out[f"best_{value}_thresh"] = best_threshold(scored, value)
    return out


def selective_metrics(scored: Sequence[Scored]) -> dict[str, float]:
    """short_answer_precision: of the questions given a short answer, the share with F1 >= 0.5 against
    the gold (any short answer to an unanswerable question is wrong); coverage: the share given one."""
    shown = [s for s in scored if s.prediction]
    right = sum(1 for s in shown if s.f1 >= SHORT_ANSWER_F1)
    return {
        "short_answer_precision": right / len(shown) if shown else math.nan,
        "coverage": len(shown) / len(scored) if scored else math.nan,
        "short_answers": len(shown),
    }


@dataclass(frozen=True)
class CoveragePoint:
    threshold: float  # answer when na_prob <= threshold
    coverage: float  # share of all questions given a short answer
    precision: float  # share of those short answers with F1 >= 0.5


def precision_coverage(scored: Sequence[Scored]) -> list[CoveragePoint]:
    """Short-answer precision against coverage as the na_prob threshold rises (ties enter together).

    >>> qs = [Scored("a", True, "x", 0.1, 1, 1), Scored("b", False, "y", 0.5, 0, 0)]
    >>> qs.append(Scored("c", True, "", 0.9, 0, 0))  # no short answer: not shown, never on the curve
    >>> [(p.threshold, round(p.coverage, 3), p.precision) for p in precision_coverage(qs)]
    [(0.1, 0.333, 1.0), (0.5, 0.667, 0.5)]
    """
    shown = sorted((s for s in scored if s.prediction), key=lambda s: s.na_prob)
    points, right = [], 0
    for i, s in enumerate(shown):
        right += s.f1 >= SHORT_ANSWER_F1
        if i + 1 < len(shown) and shown[i + 1].na_prob == s.na_prob:
            continue
        points.append(CoveragePoint(s.na_prob, (i + 1) / len(scored), right / (i + 1)))
    return points


def always_abstain(scored: Sequence[Scored]) -> list[Scored]:
    """The same questions with every prediction empty and na_prob 1: the floor a reader must beat."""
    return [
        Scored(s.qid, s.has_answer, "", 1.0, float(not s.has_answer), float(not s.has_answer)) for s in scored
    ]


def _percent(values: Iterable[float]) -> float:
    kept = list(values)
    return 100.0 * sum(kept) / len(kept) if kept else math.nan

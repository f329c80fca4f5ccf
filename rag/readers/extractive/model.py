"""The fitted reader model: which candidate is the short answer, how likely it is right, and how likely
the documents answer the question at all. Logistic models read from reader.json beside this module
(written by evals/fit/reader.py) and scored with numpy, so the runtime needs no machine-learning
library.

1. Each candidate span is scored by the span model: sigmoid(w · x + b), how likely it matches a
   gold answer (SQuAD F1 >= 0.5); the best one is the candidate short answer.
2. The short model turns the best span's score, its margin over the runner-up and the question's
   features into p_short, the calibrated probability that the short answer is right.
3. The answerable model scores the question's features plus p_short: p_answerable.
4. The answer abstains when p_answerable is below the fitted threshold, and shows the short answer
   only when p_short clears the threshold chosen for short-answer precision on held-out articles.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import RagError
from rag.readers.extractive.features import Features, Reading
from rag.readers.extractive.scoring import FITTING_TYPES

MODEL_PATH = Path(__file__).resolve().with_name("reader.json")
FORMAT_VERSION = 2
_CALENDAR = frozenset({"year", "date", "month", "decad", "centuri"})  # stems of calendar units


class ReaderModelError(RagError):
    """The reader model file is missing or does not hold what the reader needs."""


@dataclass(frozen=True)
class Logistic:
    names: tuple[str, ...]
    coef: np.ndarray
    intercept: float
    index: dict[str, int]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Logistic:
        names = tuple(data["features"])
        coef = np.asarray(data["coef"], dtype=np.float64)
        if coef.shape != (len(names),):
            raise ReaderModelError(f"{len(names)} feature names but {coef.shape} coefficients")
        return cls(names, coef, float(data["intercept"]), {n: i for i, n in enumerate(names)})

    def matrix(self, rows: list[Features]) -> np.ndarray:
        x = np.zeros((len(rows), len(self.names)), dtype=np.float64)
        for r, row in enumerate(rows):
            for name, value in row.items():
                i = self.index.get(name)
                if i is not None:
                    x[r, i] = value
        return x

    def predict(self, rows: list[Features]) -> np.ndarray:
        if not rows:
            return np.zeros(0)
        z = self.matrix(rows) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class ReaderModel:
    span: Logistic
    short: Logistic
    answerable: Logistic
    answerable_threshold: float
    short_threshold: float
    meta: dict[str, Any]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReaderModel:
        if data.get("format_version") != FORMAT_VERSION:
            raise ReaderModelError(
                f"reader model format {data.get('format_version')!r}, this code reads {FORMAT_VERSION}; "
                "refit it with `python -m evals.fit.reader`"
            )
        thresholds = data["thresholds"]
        return cls(
            Logistic.from_json(data["span"]),
            Logistic.from_json(data["short"]),
            Logistic.from_json(data["answerable"]),
            float(thresholds["answerable"]),
            float(thresholds["short"]),
            {k: v for k, v in data.items() if k not in ("span", "short", "answerable")},
        )


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_PATH) -> ReaderModel:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReaderModelError(
            f"no reader model at {path}; fit one with `python -m evals.fit.reader`"
        ) from None
    except (OSError, ValueError) as exc:
        raise ReaderModelError(f"cannot read the reader model {path}: {exc}") from exc
    try:
        return ReaderModel.from_json(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ReaderModelError(f"the reader model {path} lacks or garbles {exc}; refit it") from exc


@dataclass(frozen=True)
class Decision:
    p_answerable: float
    p_short: float  # of the best candidate span (0 when there is none)
    best: int  # index into reading.spans of the best candidate, -1 when there is none
    abstain: bool
    show_short: bool


def decide(reading: Reading, model: ReaderModel, answerable_threshold: float | None = None) -> Decision:
    """Score the reading's candidates and question; decide to abstain and whether to show a short answer."""
    p_spans = model.span.predict([c.features for c in reading.spans])
    best = int(np.argmax(p_spans)) if len(p_spans) else -1
    p_short = float(model.short.predict([short_features(reading, p_spans)])[0]) if best >= 0 else 0.0
    p_answerable = float(model.answerable.predict([answerable_features(reading, p_short)])[0])
    threshold = model.answerable_threshold if answerable_threshold is None else answerable_threshold
    ruled = not reading.sentences or bool(reading.premise) or unanswered(reading)
    abstain = ruled or p_answerable < threshold
    show = not abstain and best >= 0 and p_short >= model.short_threshold
    return Decision(p_answerable, p_short, best, abstain, show)


def unanswered(reading: Reading) -> bool:
    """Does the evidence lack what any answer would have to hold?

    - no word of the question is in the documents;
    - a number, or a year, date, month, decade or century, is asked and none of the best sentences
      holds one (a "when" alone may be answered by "nine in the morning");
    - a count is asked ("how many aircraft", "what is the population of ...") and the best sentence
      (with the one before it) never names what is counted, nor does any number of the best
      sentences stand next to it: a count is stated beside the noun it counts.

    Not fitted, so every figure is held out (2026-11-25): on SQuAD they fire on 1.7% of answerable
    and 2.1% of unanswerable questions (little better than chance there, as SQuAD's unanswerable
    questions reuse the article's words); on our set on none of the 96 answerable questions and on
    9 of the 31 unanswerable ones.
    """
    f = reading.features
    kind = reading.question.kind
    if f.get("unknown_share", 0.0) >= 1.0:
        return True
    calendar = kind == "date" and bool(reading.question.focus & _CALENDAR)
    if (kind == "number" or calendar) and f.get("untyped", 0.0) >= 1.0:
        return True  # (not every date: "nine in the morning" or "after the vote" answer a "when" too)
    if kind != "number" or not reading.question.focus or f.get("focus_missing_near", 0.0) < 1.0:
        return False
    return not _focus_by_answer(reading)


def _focus_by_answer(reading: Reading) -> bool:
    """Does a candidate of the type asked for stand next to the question's focus noun?"""
    fitting = FITTING_TYPES.get(reading.question.kind, frozenset())
    return any(
        c.span.type in fitting and any(c.features.get(f"focus_{at}") for at in ("in", "after", "before"))
        for c in reading.spans
    )


def short_features(reading: Reading, p_spans: np.ndarray) -> Features:
    """The question's features, the best span's score (a logit) and its margin over the runner-up."""
    top = np.sort(p_spans)[::-1]
    best = _logit(float(top[0]))
    second = _logit(float(top[1])) if len(top) > 1 else -14.0
    return reading.features | {
        "logit_best": best,
        "margin": best - second,
        f"kind:{reading.question.kind}|logit_best": best,
        "n_candidates": math.log1p(len(p_spans)),
    }


def _logit(p: float) -> float:
    clipped = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(clipped / (1 - clipped))


def answerable_features(reading: Reading, p_short: float) -> Features:
    """The question's features, the best candidate's probability (as a logit, and as is), and whether
    any candidate of the type asked for stands next to the question's focus noun ("52 political
    prisoners" for "how many political prisoners"): a count of aircraft asked where no number
    counts aircraft is a question the evidence does not answer."""
    q = reading.question
    fitting = FITTING_TYPES.get(q.kind)
    if not fitting or not q.focus:
        return reading.features | {"p_short": p_short, "logit_short": _logit(p_short)}
    by_focus = float(_focus_by_answer(reading))
    return reading.features | {
        "p_short": p_short,
        "logit_short": _logit(p_short),
        "focus_by_answer": by_focus,
        f"k:{q.kind}|focus_by_answer": by_focus,
        "focus_not_by_answer": 1.0 - by_focus,
    }

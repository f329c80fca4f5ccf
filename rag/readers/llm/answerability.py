"""Is the question answerable from the passages? The model's yes/no probability, retrieval signals and
whether its short answer checked out, combined by a logistic model fitted on data held out by article
and question family (evals/fit/answerability.py; the fitted weights are the versioned file
answerability.json next to this module, with their held-out figures and risk-coverage curve).

p(answerable) = sigmoid(w . (logit(P(yes)), best dense similarity, best word coverage, short found) + b);
the reader answers when p >= threshold, and otherwise says the article does not say. The reply is not
written at all when P(yes) is below `gate` (fitted: almost no answerable question falls below it).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CALIBRATION = Path(__file__).with_name("answerability.json")
FEATURES = ("yes_logit", "dense", "words", "short_found")
FORMAT = 2


@dataclass(frozen=True)
class Signals:
    p_yes: float  # the model's P(yes) / (P(yes) + P(no)) that the passages answer the question
    dense: float  # cosine similarity of the question to the closest numbered sentence
    words: float  # IDF-weighted share of the question's content words in the sentence holding most
    short_found: float = 0.0  # 1 when the model's short answer is verbatim in a sentence it cites

    def vector(self) -> tuple[float, ...]:
        p = min(max(self.p_yes, 1e-4), 1 - 1e-4)
        return (math.log(p / (1 - p)), self.dense, self.words, self.short_found)


@dataclass(frozen=True)
class Calibration:
    weights: tuple[float, ...]
    bias: float
    threshold: float
    gate: float = 0.0  # below this P(yes) the reply is not written (the answer would be an abstention)

    def probability(self, signals: Signals) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, signals.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-z))


@lru_cache(maxsize=4)
def load_calibration(path: Path = CALIBRATION) -> Calibration:
    """The fitted weights; P(yes) alone at 0.5 when the file is missing (not fitted yet)."""
    if not path.is_file():
        return Calibration((1.0, 0.0, 0.0, 0.0), 0.0, 0.5)
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT or tuple(data.get("features", ())) != FEATURES:
        raise ValueError(
            f"{path} has format {data.get('format')} with features {data.get('features')}; expected format "
            f"{FORMAT} with {list(FEATURES)}: refit with evals/fit/answerability.py"
        )
    weights = tuple(float(w) for w in data["weights"])
    return Calibration(weights, float(data["bias"]), float(data["threshold"]), float(data.get("gate", 0.0)))

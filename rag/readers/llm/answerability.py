"""Is the question answerable from the quotes? The model's yes/no probability and retrieval signals,
combined by a logistic model fitted on data (evals/fit/answerability.py; the fitted weights
are the versioned file answerability.json next to this module, with their held-out figures).

p(answerable) = sigmoid(w1 * logit(P(yes)) + w2 * best dense similarity + w3 * best word coverage + b);
the reader answers when p >= threshold, and otherwise says the article does not say.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CALIBRATION = Path(__file__).with_name("answerability.json")
FEATURES = ("yes_logit", "dense", "words")
FORMAT = 1


@dataclass(frozen=True)
class Signals:
    p_yes: float  # the model's P(yes) / (P(yes) + P(no))
    dense: float  # cosine similarity of the question to the best quote
    words: float  # IDF-weighted share of the question's content words in the best quote

    def vector(self) -> tuple[float, float, float]:
        p = min(max(self.p_yes, 1e-4), 1 - 1e-4)
        return (math.log(p / (1 - p)), self.dense, self.words)


@dataclass(frozen=True)
class Calibration:
    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probability(self, signals: Signals) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, signals.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-z))


@lru_cache(maxsize=4)
def load_calibration(path: Path = CALIBRATION) -> Calibration:
    """The fitted weights; P(yes) alone at 0.5 when the file is missing (not fitted yet)."""
    if not path.is_file():
        return Calibration((1.0, 0.0, 0.0), 0.0, 0.5)
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT or tuple(data.get("features", ())) != FEATURES:
        raise ValueError(
            f"{path} has format {data.get('format')} with features {data.get('features')}; expected format "
            f"{FORMAT} with {list(FEATURES)}: refit with evals/fit/answerability.py"
        )
    weights = tuple(float(w) for w in data["weights"])
    return Calibration(weights, float(data["bias"]), float(data["threshold"]))

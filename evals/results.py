"""What a run produces and what it is held to: the shared types of the runner and the report.

`runner` makes these values and `report` reads them; neither imports the other, so each can be
read (and tested) alone.

>>> check_targets({"answer_hit": 0.80}, {"answer_hit": (">=", 0.85)})[0].shortfall
0.05
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.datasets import EvalItem
from evals.metrics import AnswerScore, RiskPoint
from rag.types import Answer

# name: (comparison, target) from the issue; the summary and the report show each against its target
TARGETS: dict[str, tuple[str, float]] = {
    "evidence_recall@5": (">=", 0.97),
    "answer_hit": (">=", 0.90),  # issue 9
    "citation_support": (">=", 0.90),
    "quote_verbatim": (">=", 1.0),
    "correct_abstention": (">=", 0.85),
    "false_abstention": ("<=", 0.05),
}


# the answer keys a run's predictions.jsonl keeps for each question
PREDICTION_KEYS = (
    "id",
    "answer",
    "abstained",
    "direct_answer",
    "citations",
    "passages",
    "dropped",
    "latency_ms",
)


@dataclass(frozen=True)
class Prediction:
    item: EvalItem
    answer: Answer
    latency_ms: float

    def to_json(self) -> dict[str, Any]:
        """The predictions.jsonl line: citations and passages exactly as in `rag ask --json`."""
        d = self.answer.to_dict()
        row = {key: d[key] for key in PREDICTION_KEYS if key in d}
        return {"id": self.item.id, **row, "latency_ms": round(self.latency_ms, 3)}


@dataclass(frozen=True)
class ItemScore:
    id: str
    type: str
    answerable: bool
    abstained: bool
    correct: bool
    has_history: bool
    answer: AnswerScore | None  # None for questions without gold answers
    evidence_ranks: tuple[int | None, ...]  # per gold evidence string: rank of the first passage covering it
    relevant: tuple[bool, ...]  # per retrieved passage: does it cover some gold evidence?
    citation_precision: float | None  # None unless answerable, answered and with gold evidence
    citation_recall: float | None
    citation_supported: bool | None
    quotes: int
    verbatim_quotes: int
    unlocated_evidence: int  # gold evidence strings found nowhere in the indexed documents
    confidence: float
    latency_ms: float
    signals: dict[str, float] = dataclasses.field(default_factory=dict)  # the LLM reader's (Answer.signals)

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["answer"] = dataclasses.asdict(self.answer) if self.answer else None
        return finite(d)


@dataclass(frozen=True)
class Run:
    mode: str
    k: int
    predictions: tuple[Prediction, ...]
    scores: tuple[ItemScore, ...]
    metrics: dict[str, float]
    by_type: dict[str, dict[str, float]]
    recall_curve: tuple[float, ...]  # evidence recall@1..k
    risk: tuple[RiskPoint, ...] = ()  # empty unless swept
    seconds: float = 0.0

    def failures(self, limit: int = 15) -> list[tuple[Prediction, ItemScore]]:
        """The wrong ones, worst first: confident wrong answers, then wrong abstentions."""
        wrong = [(p, s) for p, s in zip(self.predictions, self.scores, strict=True) if not s.correct]
        return sorted(wrong, key=lambda ps: (ps[1].abstained, -ps[1].confidence))[:limit]


def short_answer(answer: Answer) -> str:
    """What EM and F1 are taken on: the direct answer, else the quotes; nothing when abstaining."""
    if answer.abstained:
        return ""
    return answer.direct_answer or " ".join(c.quote for c in answer.citations)


# --- targets ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetCheck:
    name: str
    op: str  # ">=" or "<="
    goal: float
    value: float  # NaN when the run has no such metric

    @property
    def met(self) -> bool:
        if math.isnan(self.value):
            return False
        return self.value >= self.goal if self.op == ">=" else self.value <= self.goal

    @property
    def shortfall(self) -> float:
        """How far from the goal a miss is (0 when met, NaN when there is no value)."""
        if math.isnan(self.value):
            return math.nan
        return 0.0 if self.met else round(abs(self.value - self.goal), 10)

    def miss_line(self) -> str:
        if math.isnan(self.value):
            return f"missed target {self.name} {self.op} {self.goal:g}: the run has no value for it"
        return (
            f"missed target {self.name} {self.op} {self.goal:g}: {self.value:.3f}, "
            f"short by {self.shortfall:.3f}"
        )


def check_targets(
    metrics: Mapping[str, float], targets: Mapping[str, tuple[str, float]] = TARGETS
) -> list[TargetCheck]:
    """Each target against the run's value."""
    return [TargetCheck(name, op, goal, metrics.get(name, math.nan)) for name, (op, goal) in targets.items()]


def targets_record(
    metrics: Mapping[str, float], targets: Mapping[str, tuple[str, float]] = TARGETS
) -> dict[str, dict[str, Any]]:
    """The targets as metrics.json holds them: {name: {target, value, met}}."""
    return {
        t.name: {"target": f"{t.op} {t.goal}", "value": t.value, "met": t.met}
        for t in check_targets(metrics, targets)
    }


# --- small shared helpers --------------------------------------------------------------------------


def finite(value: Any) -> Any:
    """NaN becomes null, so the JSON is standard."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Mapping):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def write_json(path: Path, data: Any, indent: int = 1) -> Path:
    """`data` as standard JSON (NaN as null) in `path`."""
    path.write_text(json.dumps(finite(data), indent=indent, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    """One JSON object a line (NaN as null)."""
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(finite(row), ensure_ascii=False) + "\n")
    return path


def shown_path(path: Path) -> str:
    """`path` relative to the working folder when it lies below it, as given otherwise."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def fmt(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.3f}"

"""Evaluation sets: JSON Lines of questions with gold answers and gold evidence, loaded and checked.

One line per question (a contract; any set in this format runs):

    {"id": "q001", "question": "...", "history": [{"question": "...", "answer": "..."}],
     "answerable": true, "answers": ["52", "fifty-two"], "evidence": ["exact sentence(s)"], "type": "factoid"}

`answers` are alternatives (any one will do), except for type "list", where they are the parts
that all belong in a full answer. `load_dataset` accepts any such set; `check_dataset` applies the
stricter rules our own hand-written set follows (every evidence string verbatim in the article,
every answer found in its evidence, at least 15% unanswerable, ...).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.metrics import contains_answer
from rag.errors import RagError

TYPES = frozenset(
    {
        "factoid",
        "paraphrase",
        "numeric",
        "list",
        "multi_sentence",
        "why_how",
        "follow_up",
        "entity",
        "unanswerable",
        "false_premise",
    }
)
UNANSWERABLE_TYPES = frozenset({"unanswerable", "false_premise"})
LIST_TYPE = "list"
KEYS = ("id", "question", "history", "answerable", "answers", "evidence", "type")
MIN_ITEMS = 80
MIN_UNANSWERABLE_SHARE = 0.15
_ID = re.compile(r"^q\d{3,}$")


class DatasetError(RagError):
    """The evaluation set cannot be read or does not follow the format."""


@dataclass(frozen=True)
class EvalItem:
    id: str
    question: str
    history: tuple[tuple[str, str], ...]  # earlier turns as (question, answer)
    answerable: bool
    answers: tuple[str, ...]
    evidence: tuple[str, ...]  # exact text of the source documents
    type: str

    @property
    def all_parts(self) -> bool:
        """Must a full answer hold every gold answer (a list), rather than any one of them?"""
        return self.type == LIST_TYPE


def read_jsonl(path: Path) -> list[Any]:
    """Every line of a JSON Lines file, parsed; DatasetError naming each bad line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DatasetError(f"no evaluation set at {path}; pass --dataset PATH to a JSON Lines file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read the evaluation set {path}: {exc}") from exc
    rows, errors = [], []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            errors.append(f"line {n}: not JSON ({exc.msg} at column {exc.colno})")
    if errors:
        raise DatasetError(f"{path} has {len(errors)} bad line(s): " + "; ".join(errors[:5]))
    return rows


def load_dataset(path: Path) -> tuple[EvalItem, ...]:
    """The items of the set at `path`, or DatasetError saying which lines are wrong and how."""
    items, errors = [], []
    for n, row in enumerate(read_jsonl(path), 1):
        try:
            items.append(parse_item(row))
        except DatasetError as exc:
            errors.append(f"item {n}: {exc}")
    if errors:
        raise DatasetError(f"{path} does not follow the evaluation format: " + "; ".join(errors[:5]))
    if not items:
        raise DatasetError(f"{path} holds no questions")
    seen = Counter(item.id for item in items)
    dups = sorted(i for i, c in seen.items() if c > 1)
    if dups:
        raise DatasetError(f"{path} repeats the id(s) {', '.join(dups[:5])}; every id must be unique")
    return tuple(items)


def parse_item(row: object) -> EvalItem:
    """One item from its JSON object; `history`, `answers`, `evidence` and `type` may be left out."""
    if not isinstance(row, dict):
        raise DatasetError(f"expected a JSON object, found {type(row).__name__}")
    missing = [k for k in ("id", "question", "answerable") if k not in row]
    if missing:
        raise DatasetError(f"missing {', '.join(missing)} (each line needs id, question and answerable)")
    if not isinstance(row["question"], str) or not row["question"].strip():
        raise DatasetError(f"{row['id']}: the question must be non-empty text")
    if not isinstance(row["answerable"], bool):
        raise DatasetError(f"{row['id']}: answerable must be true or false, found {row['answerable']!r}")
    answers, evidence = _strings(row, "answers"), _strings(row, "evidence")
    if row["answerable"] and not answers:
        raise DatasetError(f"{row['id']}: an answerable question needs at least one gold answer")
    return EvalItem(
        id=str(row["id"]),
        question=row["question"],
        history=_history(row),
        answerable=row["answerable"],
        answers=answers,
        evidence=evidence,
        type=str(row.get("type") or ("factoid" if row["answerable"] else "unanswerable")),
    )


def dataset_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _strings(row: dict[str, Any], key: str) -> tuple[str, ...]:
    value = row.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DatasetError(f"{row['id']}: {key} must be a list of strings")
    return tuple(value)


def _history(row: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    turns = row.get("history") or []
    if not isinstance(turns, list):
        raise DatasetError(f"{row['id']}: history must be a list of {{question, answer}} objects")
    out = []
    for turn in turns:
        if not (
            isinstance(turn, dict)
            and isinstance(turn.get("question"), str)
            and isinstance(turn.get("answer"), str)
        ):
            raise DatasetError(
                f"{row['id']}: each history turn needs a question and an answer, found {turn!r}"
            )
        out.append((turn["question"], turn["answer"]))
    return tuple(out)


# --- the authoring rules of our own set ----------------------------------------------------------


def check_dataset(rows: Sequence[Any], article: str) -> list[str]:
    """Every problem of a hand-written set against its article (empty when it is valid)."""
    errors = _duplicates(rows)
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            errors.append(f"item {n}: not an object")
        elif sorted(row) != sorted(KEYS):
            errors.append(f"{row.get('id', f'item {n}')}: keys {sorted(row)} != {sorted(KEYS)}")
        else:
            errors += _check_item(row, article)
    total = len(rows)
    if total < MIN_ITEMS:
        errors.append(f"only {total} items, need at least {MIN_ITEMS}")
    unanswerable = sum(1 for r in rows if isinstance(r, dict) and r.get("answerable") is False)
    if total and unanswerable / total < MIN_UNANSWERABLE_SHARE:
        errors.append(
            f"{unanswerable}/{total} unanswerable items, need at least {MIN_UNANSWERABLE_SHARE:.0%}"
        )
    return errors


def _duplicates(rows: Sequence[Any]) -> list[str]:
    dicts = [r for r in rows if isinstance(r, dict)]
    ids = Counter(r.get("id") for r in dicts)
    questions = Counter(
        (str(r.get("question", "")).strip().lower(), json.dumps(r.get("history"))) for r in dicts
    )
    return [f"duplicate id {i!r} ({c}x)" for i, c in ids.items() if c > 1] + [
        f"duplicate question {q!r} ({c}x)" for (q, _), c in questions.items() if c > 1
    ]


def _check_item(row: dict[str, Any], article: str) -> list[str]:
    iid = row["id"]
    try:
        item = parse_item(row)
    except DatasetError as exc:
        return [str(exc)]
    errors = [] if isinstance(iid, str) and _ID.match(iid) else [f"{iid}: id must look like q001"]
    if item.type not in TYPES:
        errors.append(f"{iid}: unknown type {item.type!r} (one of {', '.join(sorted(TYPES))})")
    errors += _check_history(item)
    errors += [
        f"{iid}: evidence not verbatim in the article: {e[:70]!r}" for e in item.evidence if e not in article
    ]
    errors += [f"{iid}: empty evidence string" for e in item.evidence if not e.strip()]
    if item.type in UNANSWERABLE_TYPES:
        if item.answerable or item.answers:
            errors.append(f"{iid}: type {item.type} must have answerable=false and answers=[]")
        if item.type == "unanswerable" and item.evidence:
            errors.append(f"{iid}: an unanswerable item has no evidence")
        return errors
    if not item.answerable or not item.evidence:
        errors.append(f"{iid}: type {item.type} must be answerable, with evidence")
    if item.type == "multi_sentence" and len(item.evidence) < 2:
        errors.append(f"{iid}: multi_sentence needs 2 or more evidence sentences")
    for answer in item.answers:
        if not answer.strip() or not any(contains_answer(ev, answer) for ev in item.evidence):
            errors.append(f"{iid}: answer {answer!r} is not found in its evidence")
    return errors


def _check_history(item: EvalItem) -> list[str]:
    if item.type == "follow_up":
        problems = [] if 1 <= len(item.history) <= 2 else [f"{item.id}: follow_up needs 1-2 history turns"]
        if any(not q.strip() or not a.strip() for q, a in item.history):
            problems.append(f"{item.id}: a history turn is empty")
        return problems
    return [f"{item.id}: history must be [] for type {item.type}"] if item.history else []

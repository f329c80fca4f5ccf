"""The evaluation set: it validates against the article, and the validator catches what it should."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evals.datasets import TYPES, DatasetError, EvalItem, check_dataset, load_dataset, read_jsonl
from evals.runner import DEFAULT_DATASET
from rag.config import PROJECT_ROOT
from tests.conftest import ARTICLE

ARTICLE_TEXT = ARTICLE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rows() -> list[Any]:
    return read_jsonl(DEFAULT_DATASET)


def test_our_set_is_valid(rows: list[Any]) -> None:
    """Every evidence string is verbatim in the article and every gold answer is found in its evidence."""
    assert check_dataset(rows, ARTICLE_TEXT) == []


def test_our_set_covers_every_type_and_the_whole_article(rows: list[Any]) -> None:
    items = load_dataset(DEFAULT_DATASET)
    assert len(items) >= 80
    types = {i.type for i in items}
    assert types >= TYPES  # every question type the set promises is present
    assert sum(not i.answerable for i in items) / len(items) >= 0.15
    assert all(i.history for i in items if i.type == "follow_up")
    # every paragraph of the article is the evidence of some question
    paragraphs = [p for p in ARTICLE_TEXT.split("\n") if p.strip()]
    evidence = [e for i in items for e in i.evidence]
    unused = [p[:60] for p in paragraphs if not any(e in p for e in evidence)]
    assert unused == []


def _broken(rows: list[Any], index: int, **changes: Any) -> list[Any]:
    out = copy.deepcopy(rows)
    out[index].update(changes)
    return out


def _row(rows: list[Any], item_id: str) -> int:
    return next(i for i, r in enumerate(rows) if r["id"] == item_id)


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"evidence": ["Belarus freed 53 political prisoners."]}, "not verbatim"),
        ({"answers": ["Ryanair"]}, "'Ryanair' is not found in its evidence"),
        ({"answerable": False}, "must be answerable"),
        ({"type": "trivia"}, "unknown type"),
        ({"history": [{"question": "Who?", "answer": "Him."}]}, "history must be []"),
        ({"answers": []}, "needs at least one gold answer"),
    ],
)
def test_validator_catches_a_broken_answerable_item(
    rows: list[Any], changes: dict[str, Any], complaint: str
) -> None:
    errors = check_dataset(_broken(rows, _row(rows, "q002"), **changes), ARTICLE_TEXT)
    assert any(complaint in e for e in errors), errors


def test_validator_catches_broken_unanswerable_and_follow_up_items(rows: list[Any]) -> None:
    unanswerable = _broken(rows, _row(rows, "q083"), answers=["Minsk"])
    assert any("answers=[]" in e for e in check_dataset(unanswerable, ARTICLE_TEXT))
    follow_up = _broken(rows, _row(rows, "q060"), history=[])
    assert any("follow_up needs 1-2 history turns" in e for e in check_dataset(follow_up, ARTICLE_TEXT))
    duplicate = [*rows, copy.deepcopy(rows[0])]
    errors = check_dataset(duplicate, ARTICLE_TEXT)
    assert any("duplicate id" in e for e in errors) and any("duplicate question" in e for e in errors)
    assert any(
        "unanswerable items" in e for e in check_dataset([r for r in rows if r["answerable"]], ARTICLE_TEXT)
    )


def test_list_items_hold_parts_and_others_alternatives() -> None:
    items = {i.id: i for i in load_dataset(DEFAULT_DATASET)}
    assert items["q039"].all_parts and items["q039"].answers == ("BBC", "The Guardian", "UPI")
    assert not items["q001"].all_parts


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_dataset_accepts_a_minimal_set(tmp_path: Path) -> None:
    """Other sets in the format run too: history, evidence and type may be left out."""
    path = _write(
        tmp_path,
        [
            json.dumps(
                {"id": "a", "question": "How many were freed?", "answerable": True, "answers": ["52"]}
            ),
            "",
            json.dumps(
                {
                    "id": "b",
                    "question": "What is the GDP?",
                    "answerable": False,
                    "history": [{"question": "Hi?", "answer": "Hello."}],
                }
            ),
        ],
    )
    items = load_dataset(path)
    assert items == (
        EvalItem("a", "How many were freed?", (), True, ("52",), (), "factoid"),
        EvalItem("b", "What is the GDP?", (("Hi?", "Hello."),), False, (), (), "unanswerable"),
    )


@pytest.mark.parametrize(
    ("lines", "complaint"),
    [
        (
            ['{"id": "a", "question": "Q?", "answerable": true, "answers": ["x"]}', "{not json"],
            "line 2: not JSON",
        ),
        (['{"id": "a", "question": "Q?"}'], "missing answerable"),
        (['{"id": "a", "question": "Q?", "answerable": "yes"}'], "answerable must be true or false"),
        (['{"id": "a", "question": "Q?", "answerable": true}'], "needs at least one gold answer"),
        (
            ['{"id": "a", "question": "Q?", "answerable": false, "evidence": "text"}'],
            "evidence must be a list",
        ),
        (['{"id": "a", "question": "Q?", "answerable": false, "history": [{"q": "x"}]}'], "history turn"),
        (['{"id": "a", "question": "Q?", "answerable": false}'] * 2, "repeats the id(s) a"),
        ([""], "holds no questions"),
    ],
)
def test_load_dataset_says_what_is_wrong(tmp_path: Path, lines: list[str], complaint: str) -> None:
    with pytest.raises(DatasetError) as info:
        load_dataset(_write(tmp_path, lines))
    assert complaint in str(info.value)


def test_missing_set_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="pass --dataset"):
        load_dataset(tmp_path / "nope.jsonl")


def test_check_script_runs_from_anywhere(tmp_path: Path) -> None:
    script = PROJECT_ROOT / "evals" / "check_dataset.py"
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("OK")
    bad = tmp_path / "bad.jsonl"
    row = json.loads(DEFAULT_DATASET.read_text(encoding="utf-8").splitlines()[0])
    row["evidence"] = ["not in the article"]
    bad.write_text(json.dumps(row) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), str(bad)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1
    assert "not verbatim" in done.stdout

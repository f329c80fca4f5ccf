"""The evaluation runner: scoring of hand-made answers, the files it writes, the baseline check,
and `rag eval` end to end on the article (slow: real model, real FAISS)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from evals.datasets import EvalItem, load_dataset
from evals.render import to_html, to_markdown
from evals.report import write_report
from evals.results import PREDICTION_KEYS
from evals.runner import (
    DEFAULT_DATASET,
    Prediction,
    aggregate,
    evaluate,
    regressions,
    run_cli,
    score_item,
    write_outputs,
)
from rag.config import Settings
from rag.types import Answer, Chunk, Citation, Document, Passage

TEXT = "Alpha met Beta in Gamma. The deal freed 52 people. Rain fell all day. The end came in May."
DOC = Document("d.txt", TEXT, "0")
DOCS = {"d.txt": DOC}


def _sentence(s: str) -> tuple[int, int]:
    start = TEXT.index(s)
    return start, start + len(s)


def _passage(*sentences: str) -> Passage:
    start, end = _sentence(sentences[0])[0], _sentence(sentences[-1])[1]
    return Passage(Chunk(f"d.txt#{start}", "d.txt", start, end, TEXT[start:end]), score=1.0)


def _cite(s: str) -> Citation:
    start, end = _sentence(s)
    return Citation("d.txt", start, end, TEXT[start:end])


def _item(**kw: Any) -> EvalItem:
    base: dict[str, Any] = dict(
        id="q1",
        question="How many were freed?",
        history=(),
        answerable=True,
        answers=("52",),
        evidence=("The deal freed 52 people.",),
        type="numeric",
    )
    return EvalItem(**{**base, **kw})


def _answer(text: str, citations: tuple[Citation, ...], passages: tuple[Passage, ...], **kw: Any) -> Answer:
    return Answer(
        question="q",
        answer=text,
        abstained=kw.pop("abstained", False),
        citations=citations,
        passages=passages,
        **kw,
    )


RAIN = "Rain fell all day."
DEAL = "The deal freed 52 people."
MET = "Alpha met Beta in Gamma."


def test_a_right_answer_scores_on_every_count() -> None:
    answer = _answer(
        "52 people [1]. “The deal freed 52 people.” [1]",
        (_cite(DEAL),),
        (_passage(RAIN), _passage(MET, DEAL)),
        direct_answer="52 people",
        confidence=0.7,
    )
    s = score_item(Prediction(_item(), answer, 12.0), DOCS)
    assert s.correct and s.answer is not None and s.answer.hit and s.answer.short_hit
    assert s.answer.f1 == pytest.approx(2 / 3)
    assert s.evidence_ranks == (2,)
    assert s.relevant == (False, True)
    assert (s.citation_precision, s.citation_recall, s.citation_supported) == (1.0, 1.0, True)
    assert (s.quotes, s.verbatim_quotes) == (1, 1)


def test_wrong_quote_wrong_answer_and_a_tampered_quote() -> None:
    tampered = Citation("d.txt", *_sentence(RAIN), "Sun shone all day.")
    answer = _answer("May [1]. “Rain fell all day.” [1]", (tampered,), (_passage(RAIN),), direct_answer="May")
    s = score_item(Prediction(_item(), answer, 1.0), DOCS)
    assert not s.correct and s.answer is not None and not s.answer.hit
    assert s.evidence_ranks == (None,)
    assert (s.citation_precision, s.citation_supported) == (0.0, False)
    assert (s.quotes, s.verbatim_quotes) == (1, 0)


def test_abstentions_are_scored_by_answerability() -> None:
    declined = _answer("The article does not say.", (), (_passage(RAIN),), abstained=True)
    right = score_item(
        Prediction(_item(answerable=False, answers=(), evidence=(), type="unanswerable"), declined, 1), DOCS
    )
    assert right.correct and right.answer is None and right.citation_supported is None
    wrong = score_item(Prediction(_item(), declined, 1.0), DOCS)
    assert not wrong.correct and wrong.abstained and wrong.citation_supported is None
    m = aggregate([right, wrong], k=5)
    assert m["correct_abstention"] == 1.0 and m["false_abstention"] == 1.0
    assert m["abstention_precision"] == 0.5 and m["accuracy"] == 0.5
    assert math.isnan(m["quote_verbatim"])  # no quotes at all


def test_unlocated_evidence_counts_as_not_retrieved() -> None:
    item = _item(evidence=("A sentence the document does not hold.",))
    answer = _answer("52 [1]. “The deal freed 52 people.” [1]", (_cite(DEAL),), (_passage(DEAL),))
    s = score_item(Prediction(item, answer, 1.0), DOCS)
    assert s.unlocated_evidence == 1 and s.evidence_ranks == (None,) and s.citation_supported is False


def test_regressions_against_a_baseline() -> None:
    baseline = {
        "tolerance": 0.02,
        "lower_is_better": ["false_abstention"],
        "metrics": {"answer_hit": 0.80, "false_abstention": 0.10, "mrr": 0.9},
    }
    assert regressions({"answer_hit": 0.785, "false_abstention": 0.115, "mrr": 0.95}, baseline) == []
    problems = regressions({"answer_hit": 0.77, "false_abstention": 0.13, "mrr": math.nan}, baseline)
    assert len(problems) == 3
    assert "answer_hit fell from 0.800 to 0.770" in problems[0]
    assert "false_abstention rose" in problems[1] and "mrr: missing" in problems[2]


def _no_nan(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in JSON output")

    return json.loads(text, parse_constant=refuse)


def test_runner_and_report_on_a_tiny_corpus(
    tiny_settings: Settings, fake_embedder: Any, tmp_path: Path
) -> None:
    """The whole runner with a fake embedder: the files, their fields, the report's sections."""
    from rag.pipeline import Engine

    engine = Engine.load(tiny_settings, fake_embedder)
    items = [
        EvalItem(
            "t1",
            "How many crews took part?",
            (),
            True,
            ("Forty-two",),
            ("Forty-two crews took part.",),
            "numeric",
        ),
        EvalItem(
            "t2",
            "Who was the captain?",
            (("Where did the winners come from?", "Lower Brook."),),
            True,
            ("Mara Quill",),
            ("Their captain, Mara Quill, has rowed for ten years.",),
            "follow_up",
        ),
        EvalItem("t3", "What did the race cost?", (), False, (), (), "unanswerable"),
    ]
    runs = {"hybrid": evaluate(engine, items), "bm25": evaluate(engine, items, mode="bm25", with_sweep=False)}
    run = runs["hybrid"]
    assert [p.item.id for p in run.predictions] == ["t1", "t2", "t3"]
    assert len(run.recall_curve) == tiny_settings.top_k and run.risk
    meta = {
        "dataset": "tiny",
        "dataset_sha256": "0" * 64,
        "settings": {},
        "command": "rag eval",
        "model_and_index_load_s": 0.0,
    }
    written = write_outputs(tmp_path, runs, "hybrid", meta) + write_report(tmp_path, runs, "hybrid", meta)
    names = {p.name for p in written}
    assert {
        "predictions.jsonl",
        "predictions-bm25.jsonl",
        "metrics.json",
        "report.md",
        "report.html",
        "recall_at_k.png",
        "latency.png",
        "by_type.png",
        "risk_coverage.png",
    } <= names
    lines = (tmp_path / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
    for line, p in zip(lines, run.predictions, strict=True):
        row = _no_nan(line)
        assert tuple(row) == PREDICTION_KEYS
        full = p.answer.to_dict()
        assert row["citations"] == full["citations"] and row["passages"] == full["passages"]
        assert row["answer"] == full["answer"] and row["abstained"] == full["abstained"]
    metrics = _no_nan((tmp_path / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["compare"]) == {"hybrid", "bm25"}
    assert metrics["metrics"]["items"] == 3 and 0 <= metrics["metrics"]["accuracy"] <= 1
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    for section in ("## Targets", "## By question type", "## Definitions", "NLI judge", "(recall_at_k.png)"):
        assert section in md
    assert (tmp_path / "report.html").read_text(encoding="utf-8").count("data:image/png;base64,") == 4
    assert (tmp_path / "latency.png").read_bytes().startswith(b"\x89PNG")


def test_markdown_and_html_escape_what_they_must(tmp_path: Path) -> None:
    from evals.render import Heading, Table

    blocks = [Heading(2, "a <b>"), Table(("x",), (("1 | 2\nthree",),))]
    assert "| 1 \\| 2 three |" in to_markdown(blocks)
    assert "<h2>a &lt;b&gt;</h2>" in to_html(blocks, tmp_path, "t")


@pytest.mark.slow
def test_rag_eval_end_to_end(
    engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`rag eval --compare --write-baseline` on a slice of our set (one of each type): every file,
    the summary, and a baseline that the same run passes. The session's engine stands in for
    get_engine so the model loads once."""
    import rag.pipeline
    from cli.main import main

    rows = DEFAULT_DATASET.read_text(encoding="utf-8").splitlines()
    by_type: dict[str, str] = {}
    for row in rows:
        by_type.setdefault(json.loads(row)["type"], row)
    subset = tmp_path / "subset.jsonl"
    subset.write_text("\n".join(by_type.values()) + "\n", encoding="utf-8")
    asked: list[Settings] = []

    def get_engine(settings: Settings) -> Any:
        asked.append(settings)
        return engine

    monkeypatch.setattr(rag.pipeline, "get_engine", get_engine)
    monkeypatch.setattr("evals.runner.BASELINE", tmp_path / "baseline.json")
    monkeypatch.setattr("evals.runner.DEFAULT_DATASET", subset)
    out = tmp_path / "out"
    argv = ["eval", "--out", str(out), "--compare", "--write-baseline", "--index-dir", str(tmp_path / "i")]
    assert main(argv) == 0
    assert asked and asked[0].index_dir == tmp_path / "i"
    stdout = capsys.readouterr().out
    assert "evidence_recall@5" in stdout and "bm25" in stdout and "dense" in stdout
    for name in ("predictions.jsonl", "predictions-dense.jsonl", "predictions-bm25.jsonl"):
        got = [json.loads(line) for line in (out / name).read_text(encoding="utf-8").splitlines()]
        assert [r["id"] for r in got] == [i.id for i in load_dataset(subset)]
        assert all(tuple(r) == PREDICTION_KEYS for r in got)
    for name in (
        "report.md",
        "report.html",
        "recall_at_k.png",
        "latency.png",
        "risk_coverage.png",
        "by_type.png",
    ):
        assert (out / name).stat().st_size > 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["compare"]) == {"hybrid", "dense", "bm25"}
    assert metrics["metrics"]["items"] == len(by_type) == 10
    assert metrics["metrics"]["quote_verbatim"] == 1.0
    baseline = json.loads((tmp_path / "baseline.json").read_text(encoding="utf-8"))
    assert baseline["dataset_sha256"] == metrics["dataset_sha256"]
    assert regressions(metrics["metrics"], baseline) == []
    # the gate leaves out counts and timings (tests never assert wall-clock times)
    assert "latency_p50_ms" in metrics["metrics"] and "latency_p50_ms" not in baseline["metrics"]


def test_write_baseline_only_for_our_set(tmp_path: Path) -> None:
    from evals.datasets import DatasetError

    with pytest.raises(DatasetError, match="drop --dataset"):
        run_cli(
            Settings(index_dir=tmp_path), tmp_path / "other.jsonl", tmp_path, False, None, write_baseline=True
        )

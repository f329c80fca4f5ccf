"""`rag eval`: every question of a set through the same ask() users call, then metrics and a report.

1. Load the set (evals.datasets) and one engine for the whole run.
2. Ask every question with its history, timing each call (`predict`).
3. Score each answer against its gold answers, and its passages and quotes against the gold
   evidence, located as character spans in the indexed documents (`score_item`).
4. Aggregate (`aggregate`); sweep the abstention threshold for the risk-coverage curve (`sweep`).
5. Write predictions.jsonl, items.jsonl, metrics.json, report.md, report.html and the plots;
   print a summary; optionally rewrite the quality gate's baseline (evals/baseline.json).

`rag eval --compare` repeats step 2-4 for dense-only, BM25-only and hybrid retrieval.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.datasets import DatasetError, EvalItem, dataset_sha256, load_dataset
from evals.metrics import (
    RiskPoint,
    Span,
    area_under_risk_coverage,
    citation_precision,
    citation_recall,
    citation_supported,
    context_precision_at_k,
    first_covering_rank,
    mean_of,
    percentile,
    reciprocal_rank,
    relevant_passages,
    risk_coverage,
    score_answer,
)
from evals.results import (
    ItemScore,
    Prediction,
    Run,
    TargetCheck,
    check_targets,
    fmt,
    short_answer,
    shown_path,
    targets_record,
    write_json,
    write_jsonl,
)
from rag.config import PROJECT_ROOT, RetrievalMode, Settings
from rag.types import Document

if TYPE_CHECKING:
    from rag.pipeline import Engine

DEFAULT_DATASET = PROJECT_ROOT / "evals" / "questions.jsonl"
DEFAULT_OUT = PROJECT_ROOT / "evals" / "out"
BASELINE = PROJECT_ROOT / "evals" / "baseline.json"
MODES: tuple[RetrievalMode, ...] = ("hybrid", "dense", "bm25")
RECALL_KS = (1, 3, 5)
TOLERANCE = 0.02

LOWER_IS_BETTER = frozenset({"false_abstention", "aurc"})
# counts, timings, and coverage (answering less can be right: it depends on the questions) are not gated
NOT_GATED = frozenset(
    {
        "items",
        "answerable",
        "unanswerable",
        "latency_p50_ms",
        "latency_p95_ms",
        "unlocated_evidence",
        "coverage",
    }
)


# --- 2. ask ----------------------------------------------------------------------------------------


def predict(
    engine: Engine, items: Sequence[EvalItem], *, k: int | None = None, mode: RetrievalMode | None = None
) -> tuple[Prediction, ...]:
    """Every item through engine.ask(), as users ask; latency is wall-clock time of that call."""
    if items:
        engine.ask(items[0].question, k=k, mode=mode)  # warm-up, not timed: first calls pay one-off costs
    out = []
    for item in items:
        t0 = time.perf_counter()
        answer = engine.ask(item.question, item.history, k=k, mode=mode)
        out.append(Prediction(item, answer, (time.perf_counter() - t0) * 1e3))
    return tuple(out)


# --- 3. score --------------------------------------------------------------------------------------


def locate(evidence: str, documents: Mapping[str, Document]) -> tuple[Span, ...]:
    """Every place `evidence` occurs verbatim in the documents."""
    spans = []
    for doc_id, doc in documents.items():
        at = doc.text.find(evidence)
        while at >= 0 and evidence:
            spans.append(Span(doc_id, at, at + len(evidence)))
            at = doc.text.find(evidence, at + 1)
    return tuple(spans)


def score_item(prediction: Prediction, documents: Mapping[str, Document]) -> ItemScore:
    item, answer = prediction.item, prediction.answer
    gold = [locate(e, documents) for e in item.evidence]
    passages = [Span(p.chunk.doc_id, p.chunk.start, p.chunk.end) for p in answer.passages]
    citations = [Span(c.doc_id, c.start, c.end) for c in answer.citations]
    graded = (
        score_answer(
            short_answer(answer),
            "" if answer.abstained else answer.answer,
            item.answers,
            all_parts=item.all_parts,
        )
        if item.answers
        else None
    )
    if item.answerable:
        correct = not answer.abstained and graded is not None and graded.hit
    else:
        correct = answer.abstained
    cited = item.answerable and not answer.abstained and bool(gold)
    verbatim = sum(1 for c in answer.citations if _verbatim(c.doc_id, c.start, c.end, c.quote, documents))
    return ItemScore(
        id=item.id,
        type=item.type,
        answerable=item.answerable,
        abstained=answer.abstained,
        correct=correct,
        has_history=bool(item.history),
        answer=graded,
        evidence_ranks=tuple(first_covering_rank(passages, g) for g in gold) if item.answerable else (),
        relevant=tuple(relevant_passages(passages, gold)),
        citation_precision=citation_precision(citations, gold) if cited else None,
        citation_recall=citation_recall(citations, gold) if cited else None,
        citation_supported=citation_supported(citations, gold) if cited else None,
        quotes=len(answer.citations),
        verbatim_quotes=verbatim,
        unlocated_evidence=sum(1 for g in gold if not g),
        confidence=answer.confidence,
        latency_ms=prediction.latency_ms,
        signals=dict(answer.signals),
    )


def _verbatim(doc_id: str, start: int, end: int, quote: str, documents: Mapping[str, Document]) -> bool:
    doc = documents.get(doc_id)
    return doc is not None and 0 <= start < end <= len(doc.text) and doc.text[start:end] == quote


# --- 4. aggregate ----------------------------------------------------------------------------------


def aggregate(scores: Sequence[ItemScore], k: int) -> dict[str, float]:
    """The run's metrics (see the report's definitions); NaN where a metric has no items to count."""
    answerable = [s for s in scores if s.answerable]
    unanswerable = [s for s in scores if not s.answerable]
    retrieved = [s for s in answerable if s.evidence_ranks]
    graded = [s.answer for s in answerable if s.answer]
    cited = [s for s in answerable if s.citation_supported is not None]
    abstained = [s for s in scores if s.abstained]
    answered = [s for s in scores if not s.abstained]
    lists = [s.answer.hit_share for s in answerable if s.answer and s.type == "list"]
    quotes = sum(s.quotes for s in scores)
    latencies = [s.latency_ms for s in scores]
    m: dict[str, float] = {
        "items": len(scores),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "accuracy": mean_of(s.correct for s in scores),
    }
    for n in (x for x in RECALL_KS if x <= k):
        m[f"evidence_recall@{n}"] = mean_of(_recall(s.evidence_ranks, n) for s in retrieved)
    m["mrr"] = mean_of(reciprocal_rank(s.evidence_ranks) for s in retrieved)
    m[f"context_precision@{k}"] = mean_of(context_precision_at_k(s.relevant, k) for s in retrieved)
    m["exact_match"] = mean_of(a.exact_match for a in graded)
    m["f1"] = mean_of(a.f1 for a in graded)
    m["answer_hit"] = mean_of(s.correct for s in answerable)
    m["short_answer_hit"] = mean_of(s.answer is not None and s.answer.short_hit for s in answerable)
    m["list_part_recall"] = mean_of(lists)
    m["citation_precision"] = mean_of(s.citation_precision for s in cited)
    m["citation_recall"] = mean_of(s.citation_recall for s in cited)
    m["citation_support"] = mean_of(s.citation_supported for s in cited)
    m["quote_verbatim"] = sum(s.verbatim_quotes for s in scores) / quotes if quotes else math.nan
    m["abstention_precision"] = mean_of(not s.answerable for s in abstained)
    m["correct_abstention"] = mean_of(s.abstained for s in unanswerable)
    m["false_abstention"] = mean_of(s.abstained for s in answerable)
    m["coverage"] = len(answered) / len(scores) if scores else math.nan
    m["selective_accuracy"] = mean_of(s.correct for s in answered)
    m["follow_up_accuracy"] = mean_of(s.correct for s in scores if s.has_history)
    m["latency_p50_ms"] = percentile(latencies, 50)
    m["latency_p95_ms"] = percentile(latencies, 95)
    m["unlocated_evidence"] = sum(s.unlocated_evidence for s in scores)
    return m


def by_type(scores: Sequence[ItemScore], k: int) -> dict[str, dict[str, float]]:
    """A few metrics per question type, in the order types first appear in the set."""
    types = list(dict.fromkeys(s.type for s in scores))
    out = {}
    for t in types:
        group = [s for s in scores if s.type == t]
        out[t] = {
            "items": len(group),
            "accuracy": mean_of(s.correct for s in group),
            "abstained": mean_of(s.abstained for s in group),
            "f1": mean_of(s.answer.f1 for s in group if s.answer and s.answerable),
            f"evidence_recall@{min(5, k)}": mean_of(
                _recall(s.evidence_ranks, min(5, k)) for s in group if s.evidence_ranks
            ),
            "citation_support": mean_of(s.citation_supported for s in group),
        }
    return out


def recall_curve(scores: Sequence[ItemScore], k: int) -> tuple[float, ...]:
    retrieved = [s for s in scores if s.answerable and s.evidence_ranks]
    return tuple(mean_of(_recall(s.evidence_ranks, n) for s in retrieved) for n in range(1, k + 1))


def _recall(ranks: Sequence[int | None], k: int) -> float:
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def sweep(
    engine: Engine, predictions: Sequence[Prediction], k: int | None, mode: RetrievalMode | None
) -> tuple[RiskPoint, ...]:
    """The risk-coverage curve: the questions the bot abstained on are asked again with the abstention
    threshold off (the others would get the same answer), then the threshold is swept over the
    confidences. Questions the bot still declines (a figure the article never states) stay unanswered."""
    open_engine = engine.with_settings(engine.settings.replace(abstain_threshold=-math.inf))
    # the LLM reader's threshold is its own fitted one (asking again would give the same abstentions at
    # the cost of the model's time): its curve is over the questions it answered; the held-out curve over
    # all of them is evals/fit/answerability.py's
    declined = [p.item for p in predictions if p.answer.abstained and engine.settings.reader != "llm"]
    again = {p.item.id: p for p in predict(open_engine, declined, k=k, mode=mode)}
    points = []
    for p in (again.get(p.item.id, p) for p in predictions):
        ok = False
        if p.item.answerable and not p.answer.abstained:
            ok = score_answer(
                short_answer(p.answer), p.answer.answer, p.item.answers, all_parts=p.item.all_parts
            ).hit
        points.append((p.answer.confidence, not p.answer.abstained, ok))
    return tuple(risk_coverage(points))


def evaluate(
    engine: Engine,
    items: Sequence[EvalItem],
    *,
    k: int | None = None,
    mode: RetrievalMode | None = None,
    with_sweep: bool = True,
) -> Run:
    """One run of the set through `engine` (a rag.pipeline.Engine), scored."""
    t0 = time.perf_counter()
    k = k or engine.settings.top_k
    mode = mode or engine.settings.retrieval
    predictions = predict(engine, items, k=k, mode=mode)
    documents = engine.index.store.documents
    scores = tuple(score_item(p, documents) for p in predictions)
    metrics = aggregate(scores, k)
    risk = sweep(engine, predictions, k, mode) if with_sweep else ()
    if risk:
        metrics["aurc"] = area_under_risk_coverage(risk)
    return Run(
        str(mode),
        k,
        predictions,
        scores,
        metrics,
        by_type(scores, k),
        recall_curve(scores, k),
        risk,
        time.perf_counter() - t0,
    )


# --- 5. write, print, baseline ---------------------------------------------------------------------


def run_cli(
    settings: Settings,
    dataset: Path | None,
    out: Path | None,
    compare: bool,
    k: int | None,
    write_baseline: bool = False,
    limit: int | None = None,
) -> list[TargetCheck]:
    """`rag eval` on a JSON Lines set: run, write the report into `out`, print a summary.

    Returns the targets checked against the run (the command decides what a miss means).
    `limit` keeps the first N questions of the set."""
    from evals.report import write_report
    from rag.pipeline import get_engine

    path = Path(dataset or DEFAULT_DATASET)
    out = Path(out or DEFAULT_OUT)
    if write_baseline and (path.resolve() != DEFAULT_DATASET.resolve() or limit):
        raise DatasetError(
            f"the baseline is kept for all of {shown_path(DEFAULT_DATASET)} only; drop --dataset and "
            "--limit to write it"
        )
    items = load_dataset(path)[:limit]
    t0 = time.perf_counter()
    engine = get_engine(settings)
    load_s = time.perf_counter() - t0
    primary = settings.retrieval
    runs: dict[str, Run] = {primary: evaluate(engine, items, k=k, mode=primary)}
    if compare:
        for mode in MODES:
            if mode not in runs:
                runs[mode] = evaluate(engine, items, k=k, mode=mode, with_sweep=False)
    meta = {
        "dataset": shown_path(path),
        "dataset_sha256": dataset_sha256(path),
        "settings": settings_record(settings),
        "command": "rag eval"
        + (" --compare" if compare else "")
        + (f" -k {k}" if k else "")
        + (f" --limit {limit}" if limit else ""),
        "model_and_index_load_s": round(load_s, 2),
    }
    out.mkdir(parents=True, exist_ok=True)
    written = write_outputs(out, runs, primary, meta)
    written += write_report(out, runs, primary, meta)
    print(summary(runs, primary, meta, written, out))
    if write_baseline:
        write_baseline_file(BASELINE, runs[primary], meta)
        where = shown_path(BASELINE)
        print(f"wrote the quality gate's baseline to {where}; commit it with the change it measures")
    return check_targets(runs[primary].metrics)


def write_outputs(out: Path, runs: Mapping[str, Run], primary: str, meta: Mapping[str, Any]) -> list[Path]:
    written = []
    for mode, run in runs.items():
        suffix = "" if mode == primary else f"-{mode}"
        written.append(
            write_jsonl(out / f"predictions{suffix}.jsonl", (p.to_json() for p in run.predictions))
        )
        written.append(write_jsonl(out / f"items{suffix}.jsonl", (s.to_json() for s in run.scores)))
    main = runs[primary]
    doc = {
        **meta,
        "mode": main.mode,
        "k": main.k,
        "seconds": round(main.seconds, 2),
        "metrics": main.metrics,
        "targets": targets_record(main.metrics),
        "by_type": main.by_type,
        "recall_curve": {str(n): v for n, v in enumerate(main.recall_curve, 1)},
        "risk_coverage": [dataclasses.asdict(p) for p in main.risk],
        "compare": {mode: run.metrics for mode, run in runs.items()} if len(runs) > 1 else {},
    }
    path = write_json(out / "metrics.json", doc, indent=2)
    return [*written, path]


def summary(
    runs: Mapping[str, Run], primary: str, meta: Mapping[str, Any], written: Sequence[Path], out: Path
) -> str:
    run = runs[primary]
    m = run.metrics
    lines = [
        f"rag eval: {m['items']:.0f} questions ({m['answerable']:.0f} answerable) from {meta['dataset']}, "
        f"{run.mode} retrieval, k={run.k}, {run.seconds:.1f}s (+{meta['model_and_index_load_s']:.1f}s "
        "loading)",
    ]
    for t in check_targets(m):
        target = f"{t.op} {t.goal}"
        lines.append(f"  {t.name:<20} {fmt(t.value):>6}   target {target:<7} {'ok' if t.met else 'MISSED'}")
    lines.append(
        f"  accuracy {fmt(m['accuracy'])}, F1 {fmt(m['f1'])}, EM {fmt(m['exact_match'])}, MRR "
        f"{fmt(m['mrr'])}, follow-up {fmt(m['follow_up_accuracy'])}, latency p50 "
        f"{m['latency_p50_ms']:.1f} ms p95 {m['latency_p95_ms']:.1f} ms"
    )
    if m.get("unlocated_evidence"):
        lines.append(
            f"  warning: {m['unlocated_evidence']:.0f} evidence strings are not verbatim in the indexed "
            "documents; they count as never retrieved or cited"
        )
    if len(runs) > 1:
        lines.append("")
        lines += compare_table(runs)
    lines.append("")
    lines.append(f"wrote {', '.join(sorted({p.name for p in written}))} to {shown_path(out)}")
    return "\n".join(lines)


# column label: metric, for the side-by-side table of retrieval modes
COMPARE_COLUMNS = {
    "R@1": "evidence_recall@1",
    "R@3": "evidence_recall@3",
    "R@5": "evidence_recall@5",
    "MRR": "mrr",
    "hit": "answer_hit",
    "F1": "f1",
    "cite": "citation_support",
    "abst": "correct_abstention",
    "false-abst": "false_abstention",
    "acc": "accuracy",
}


def compare_table(runs: Mapping[str, Run]) -> list[str]:
    """A plain-text side-by-side table of the modes (the report's metrics table has every metric)."""
    width = {label: max(len(label), 5) + 2 for label in COMPARE_COLUMNS}
    rows = [f"  {'mode':<8}" + "".join(f"{label:>{width[label]}}" for label in COMPARE_COLUMNS)]
    for mode, run in runs.items():
        cells = (
            f"{fmt(run.metrics.get(name, math.nan)):>{width[label]}}"
            for label, name in COMPARE_COLUMNS.items()
        )
        rows.append(f"  {mode:<8}" + "".join(cells))
    rows.append("  (" + ", ".join(f"{label} = {name}" for label, name in COMPARE_COLUMNS.items()) + ")")
    return rows


def settings_record(settings: Settings) -> dict[str, Any]:
    """The settings that shape answers, for the record: paths left out, and secrets (an API key)."""
    d = dataclasses.asdict(settings)
    return {k: v for k, v in d.items() if not isinstance(v, Path) and k != "llm_api_key"}


# --- the quality gate's baseline -------------------------------------------------------------------


def baseline_record(run: Run, meta: Mapping[str, Any], tolerance: float = TOLERANCE) -> dict[str, Any]:
    gated = {k: round(v, 4) for k, v in run.metrics.items() if k not in NOT_GATED and not math.isnan(v)}
    return {
        "about": "The quality gate (tests/test_quality_gate.py) fails when a metric falls below its value "
        "here by more than `tolerance` (or, for lower_is_better, rises above it). After an improvement, "
        "rewrite it with `rag eval --write-baseline` and commit it with the change.",
        "dataset": meta["dataset"],
        "dataset_sha256": meta["dataset_sha256"],
        "mode": run.mode,
        "k": run.k,
        "settings": meta["settings"],
        "tolerance": tolerance,
        "lower_is_better": sorted(LOWER_IS_BETTER & set(gated)),
        "metrics": gated,
    }


def write_baseline_file(path: Path, run: Run, meta: Mapping[str, Any]) -> None:
    path.write_text(
        json.dumps(baseline_record(run, meta), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def regressions(metrics: Mapping[str, float], baseline: Mapping[str, Any]) -> list[str]:
    """What fell below the baseline by more than its tolerance (empty when nothing did)."""
    tolerance = float(baseline.get("tolerance", TOLERANCE))
    lower = set(baseline.get("lower_is_better", ()))
    problems = []
    for name, base in baseline["metrics"].items():
        value = metrics.get(name, math.nan)
        if math.isnan(value):
            problems.append(f"{name}: missing from this run (baseline {base:.3f})")
        elif name in lower and value > base + tolerance:
            problems.append(
                f"{name} rose from {base:.3f} to {value:.3f} (lower is better; tolerance {tolerance})"
            )
        elif name not in lower and value < base - tolerance:
            problems.append(f"{name} fell from {base:.3f} to {value:.3f} (tolerance {tolerance})")
    return problems

"""The report of a JSON Lines run: report.md and report.html from the same blocks (evals.render),
and the plots as PNG files."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from evals.metrics import COVER_SHARE
from evals.render import (
    Block,
    Bullets,
    Heading,
    Image,
    Para,
    Table,
    figure,
    save_figure,
    to_html,
    to_markdown,
)
from evals.results import ItemScore, Prediction, Run, short_answer, targets_record

FAILURES_SHOWN = 15
PASSAGE_CHARS = 300

DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "gold evidence",
        "the evidence strings of an item, located verbatim in the indexed documents as character "
        "spans. A gold evidence string counts as *retrieved* by a passage when that passage covers at least "
        f"{COVER_SHARE:.0%} of its characters.",
    ),
    (
        "evidence_recall@n",
        "over answerable items: the share of an item's gold evidence strings retrieved by one of "
        "the first n passages, averaged over items.",
    ),
    (
        "mrr",
        "mean reciprocal rank: 1 / the rank of the first passage that retrieves any gold evidence (0 if "
        "none), averaged over answerable items.",
    ),
    (
        "context_precision@k",
        "the share of the k retrieved passages that retrieve some gold evidence, averaged over "
        "answerable items.",
    ),
    (
        "exact_match, f1",
        "SQuAD metrics over answerable items, after SQuAD normalisation (lowercase, no punctuation, no "
        "articles a/an/the, folded spaces), taken on the direct answer (the quotes when there is none, "
        "nothing when the bot abstained); the best gold alternative counts; for `list` items the parts are "
        "joined into one reference.",
    ),
    (
        "answer_hit",
        "over answerable items: the bot answered (did not abstain) and its answer text contains a gold "
        "answer after normalisation, on whole words (also with hyphens read as spaces). For `list` items "
        "the gold answers are parts of one answer and all of them must be present; `list_part_recall` is "
        "the mean share of parts present.",
    ),
    (
        "accuracy",
        "an item is correct when it is answerable and answered with an answer hit, or unanswerable "
        "(including false premises) and abstained on; accuracy is the share of correct items.",
    ),
    (
        "citation_precision, citation_recall",
        "in the spirit of ALCE (Gao et al., 2023), with character-span overlap against the gold evidence "
        "standing in for ALCE's 11B NLI judge. Over answerable items the bot answered: precision is the "
        f"share of quotes that match gold evidence (they share at least {COVER_SHARE:.0%} of the shorter of "
        "the two); recall is the share of gold evidence strings that the quotes together cover by at least "
        f"{COVER_SHARE:.0%}.",
    ),
    (
        "citation_support",
        "over answerable items the bot answered: the share whose quotes include at least one that "
        "matches gold evidence (the answer is backed by the right text).",
    ),
    (
        "quote_verbatim",
        "over all quotes shown: the share whose text equals the document's text at the quote's "
        "character offsets, checked here independently of the pipeline's own check.",
    ),
    ("abstention_precision", "of the items the bot abstained on, the share that were unanswerable."),
    (
        "correct_abstention",
        "abstention recall: of the unanswerable items (not in the article, or a false premise), "
        "the share the bot abstained on.",
    ),
    ("false_abstention", "of the answerable items, the share the bot abstained on (lower is better)."),
    (
        "coverage, selective_accuracy",
        "the share of items answered, and the accuracy on those answered items.",
    ),
    (
        "risk-coverage curve, aurc",
        "every item is asked again with the abstention threshold off, then the threshold is swept over the "
        "answers' confidence (the evidence score the pipeline decides on): at each threshold, coverage is "
        "the share of all items answered and accuracy the share of those answered correctly (an answer to "
        "an unanswerable item is wrong). Items the bot declines regardless (a false premise naming a "
        "figure the article never states) stay unanswered. aurc is the mean risk (1 - accuracy) over "
        "coverage; lower is better.",
    ),
    ("follow_up_accuracy", "accuracy over the items that carry a conversation history."),
    (
        "latency_p50_ms, latency_p95_ms",
        "wall-clock time of each ask() call in this process, after one untimed "
        "warm-up call (model and index loading not included).",
    ),
)


# --- the report ------------------------------------------------------------------------------------


def write_report(out: Path, runs: Mapping[str, Run], primary: str, meta: Mapping[str, Any]) -> list[Path]:
    """Plots, report.md and report.html into `out`; returns the files written."""
    plots = write_plots(out, runs, primary)
    blocks = build_report(runs, primary, meta, [p.name for p in plots])
    md = out / "report.md"
    md.write_text(to_markdown(blocks), encoding="utf-8")
    page = out / "report.html"
    page.write_text(to_html(blocks, out, "rag eval report"), encoding="utf-8")
    return [*plots, md, page]


def build_report(
    runs: Mapping[str, Run], primary: str, meta: Mapping[str, Any], plots: Sequence[str]
) -> list[Block]:
    run = runs[primary]
    m = run.metrics
    settings = meta.get("settings", {})
    blocks: list[Block] = [
        Heading(1, "Evaluation report"),
        Para(
            f"{m['items']:.0f} questions ({m['answerable']:.0f} answerable, {m['unanswerable']:.0f} not) "
            f"from {meta['dataset']} (sha256 {str(meta['dataset_sha256'])[:12]}), asked through the same "
            f"ask() users call: {run.mode} retrieval, k={run.k}, "
            f"abstain_threshold={settings.get('abstain_threshold')}, model {settings.get('model_name')}. "
            f"Reproduce with `{meta['command']}`. The run took {run.seconds:.1f}s after "
            f"{meta['model_and_index_load_s']:.1f}s loading the model and index. No metric uses an LLM "
            "judge."
        ),
        Heading(2, "Targets"),
        Table(
            ("metric", "value", "target", "met", "short by"),
            tuple(
                (n, _fmt(t["value"]), t["target"], "yes" if t["met"] else "NO", _shortfall(t))
                for n, t in targets_record(m).items()
            ),
        ),
        Heading(2, "Metrics" + (" by retrieval mode" if len(runs) > 1 else "")),
    ]
    if len(runs) > 1:
        blocks.append(
            Para(
                f"The same questions through dense-only, BM25-only and hybrid (RRF) retrieval in one run "
                f"({primary} is the configured mode; the risk-coverage sweep is run for it only)."
            )
        )
    names = list(dict.fromkeys(n for r in runs.values() for n in r.metrics))
    blocks.append(
        Table(
            ("metric", *runs),
            tuple((n, *(_fmt(r.metrics.get(n, math.nan), n) for r in runs.values())) for n in names),
        )
    )
    blocks += [Heading(2, "By question type"), type_table(run)]
    blocks += [Heading(2, "Plots")] + [Image(p, PLOT_CAPTIONS.get(p, p)) for p in plots]
    blocks += failure_blocks(run)
    blocks += lucky_blocks(run)
    blocks += [Heading(2, "Definitions"), Bullets(tuple(f"{name}: {text}" for name, text in DEFINITIONS))]
    return blocks


def type_table(run: Run) -> Table:
    cols = list(dict.fromkeys(c for v in run.by_type.values() for c in v))
    rows = tuple((t, *(_fmt(v.get(c, math.nan), c) for c in cols)) for t, v in run.by_type.items())
    return Table(("type", *cols), rows)


def failure_blocks(run: Run, limit: int = FAILURES_SHOWN) -> list[Block]:
    failures = run.failures(limit)
    total = sum(1 for s in run.scores if not s.correct)
    blocks: list[Block] = [
        Heading(2, f"Worst failures ({len(failures)} of {total})"),
        Para(
            "Wrong items, worst first: answers given with the highest confidence first (wrong answers, "
            "answers to unanswerable questions), then abstentions on answerable questions. Passages marked "
            f"`gold` cover at least {COVER_SHARE:.0%} of a gold evidence string."
        ),
    ]
    for p, s in failures:
        item = p.item
        expected = ("abstain (" + item.type + ")") if not item.answerable else " | ".join(item.answers)
        lines = [f"question: {item.question}"]
        lines += [f"history: Q: {q} A: {a}" for q, a in item.history]
        lines += [
            f"expected: {expected}" + (" (all parts)" if item.all_parts else ""),
            f"got: {p.answer.answer}",
            f"confidence {p.answer.confidence:.3f}; abstained {p.answer.abstained}",
        ]
        if p.answer.resolved_question and p.answer.resolved_question != item.question:
            lines.append(f"resolved question: {p.answer.resolved_question}")
        lines += [f"gold evidence: {e}" for e in item.evidence]
        blocks += [Heading(3, f"{item.id} ({item.type})"), Bullets(tuple(lines)), passage_table(p, s)]
    return blocks


def lucky_blocks(run: Run) -> list[Block]:
    """Items counted correct whose short answer misses: the gold answer is only somewhere in the quotes."""
    rows = tuple(
        (p.item.id, p.item.question, " | ".join(p.item.answers), short_answer(p.answer))
        for p, s in zip(run.predictions, run.scores, strict=True)
        if s.correct and s.answer is not None and not s.answer.short_hit
    )
    if not rows:
        return []
    return [
        Heading(2, f"Counted correct, but the short answer misses ({len(rows)})"),
        Para(
            "These answers hold a gold answer somewhere in their quotes, so they count as answer hits, but "
            "the short answer that leads them (or, for a list, the parts it names) does not: "
            "`short_answer_hit` counts them as misses."
        ),
        Table(("id", "question", "expected", "short answer"), rows),
    ]


def passage_table(p: Prediction, score: ItemScore) -> Table:
    rows = []
    for rank, passage in enumerate(p.answer.passages, 1):
        text = " ".join(passage.chunk.text.split())
        gold = rank <= len(score.relevant) and score.relevant[rank - 1]
        rows.append(
            (
                str(rank),
                passage.chunk.chunk_id,
                f"{passage.score:.4f}",
                "gold" if gold else "",
                text[:PASSAGE_CHARS] + ("…" if len(text) > PASSAGE_CHARS else ""),
            )
        )
    return Table(("rank", "passage", "score", "", "text"), tuple(rows))


def _shortfall(target: Mapping[str, Any]) -> str:
    """How far a missed target is: '0.094' short of '>= 0.85' at 0.756."""
    value, goal = target["value"], target["target"].split()[-1]
    if target["met"] or math.isnan(value):
        return ""
    return f"{abs(value - float(goal)):.3f}"


def _fmt(value: float | None, name: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if name.endswith("_ms"):
        return f"{value:.1f}"
    if name == "items" or isinstance(value, int) or (float(value).is_integer() and abs(value) >= 2):
        return f"{value:.0f}"
    return f"{value:.3f}"


# --- plots -----------------------------------------------------------------------------------------

PLOT_CAPTIONS = {
    "by_type.png": "Accuracy, evidence recall and citation support per question type",
    "recall_at_k.png": "Evidence recall@k by number of passages retrieved",
    "risk_coverage.png": "Risk-coverage: accuracy on the questions answered, as the threshold falls",
    "latency.png": "Latency of ask() per question",
}


def write_plots(out: Path, runs: Mapping[str, Run], primary: str) -> list[Path]:
    run = runs[primary]
    paths = [plot_by_type(out / "by_type.png", run), plot_recall(out / "recall_at_k.png", runs)]
    if run.risk:
        paths.append(plot_risk(out / "risk_coverage.png", run))
    paths.append(plot_latency(out / "latency.png", run))
    return paths


def plot_by_type(path: Path, run: Run) -> Path:
    types = list(run.by_type)
    recall_key = next(
        (k for k in next(iter(run.by_type.values()), {}) if k.startswith("evidence_recall")), ""
    )
    series = [
        ("accuracy", "accuracy"),
        (recall_key, recall_key.replace("evidence_", "")),
        ("citation_support", "citation support"),
    ]
    fig = figure(9, 4)
    ax = fig.add_subplot()
    width = 0.8 / len(series)
    for i, (key, label) in enumerate(series):
        values = [run.by_type[t].get(key, math.nan) for t in types]
        xs = [x + (i - (len(series) - 1) / 2) * width for x in range(len(types))]
        ax.bar(xs, [0 if math.isnan(v) else v for v in values], width, label=label)
    ax.set_xticks(
        range(len(types)), [f"{t}\n(n={run.by_type[t]['items']:.0f})" for t in types], fontsize=8, rotation=20
    )
    ax.set_ylim(0, 1.2)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_ylabel("share")
    ax.legend(fontsize=8, loc="upper center", ncol=len(series))
    ax.set_title(f"By question type ({run.mode}, k={run.k})")
    return save_figure(fig, path)


def plot_recall(path: Path, runs: Mapping[str, Run]) -> Path:
    fig = figure(6, 4)
    ax = fig.add_subplot()
    for mode, run in runs.items():
        ks = range(1, len(run.recall_curve) + 1)
        ax.plot(list(ks), list(run.recall_curve), marker="o", label=mode)
    ax.set_xticks(range(1, max((len(r.recall_curve) for r in runs.values()), default=1) + 1))
    ax.set_xlabel("k (passages)")
    ax.set_ylabel("evidence recall@k")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("Evidence recall@k")
    return save_figure(fig, path)


def plot_risk(path: Path, run: Run) -> Path:
    fig = figure(6, 4)
    ax = fig.add_subplot()
    ax.plot([p.coverage for p in run.risk], [p.accuracy for p in run.risk], label="sweeping the threshold")
    m = run.metrics
    if not math.isnan(m["selective_accuracy"]):
        ax.scatter(
            [m["coverage"]], [m["selective_accuracy"]], color="red", zorder=3, label="current threshold"
        )
    ax.set_xlabel("coverage (share of questions answered)")
    ax.set_ylabel("accuracy on answered questions")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    ax.set_title("Risk-coverage")
    return save_figure(fig, path)


def plot_latency(path: Path, run: Run) -> Path:
    fig = figure(6, 3.5)
    ax = fig.add_subplot()
    values = [s.latency_ms for s in run.scores]
    ax.hist(values, bins=30)
    for q, style in ((50, "--"), (95, ":")):
        v = run.metrics[f"latency_p{q}_ms"]
        ax.axvline(v, color="black", linestyle=style, label=f"p{q} {v:.1f} ms")
    ax.set_xlabel("ms per ask()")
    ax.set_ylabel("questions")
    ax.legend()
    ax.set_title(f"Latency ({run.mode}, k={run.k})")
    return save_figure(fig, path)

"""The report of a SQuAD v2.0 run: report.md and report.html (evals.render) and two plots.

It reads only the metrics document the runner writes to metrics.json, so a report can be
rebuilt from that file alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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
from evals.squad.metrics import SHORT_ANSWER_F1

COUNTS = frozenset({"total", "short_answers", "HasAns_total", "NoAns_total"})
OFFICIAL = ("exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact", "NoAns_f1", "best_exact", "best_f1")
ARTICLE_COLUMNS = (
    ("questions", "total"),
    ("EM", "exact"),
    ("F1", "f1"),
    ("HasAns F1", "HasAns_f1"),
    ("NoAns", "NoAns_exact"),
    ("best F1", "best_f1"),
    ("short-answer precision", "short_answer_precision"),
    ("coverage", "coverage"),
    ("answer in a quote", "answer_in_quotes"),
    ("answer in top-k", "answer_in_passages"),
)

DEFINITIONS = (
    "prediction: the short answer the bot shows (`direct_answer`), or the empty string when it abstains or "
    "gives only a quote; the empty string is SQuAD's abstention.",
    "na_prob: the probability the question has no answer: 1 - the reader's P(answerable) when it gives one, "
    "else 1 - the answer's confidence, clipped to [0, 1].",
    "exact, f1 (official SQuAD 2.0, in %): each prediction against every gold answer after normalisation "
    "(lowercase, no punctuation, no a/an/the, folded spaces), the best counting; an unanswerable question's "
    "only gold answer is the empty string. HasAns_ / NoAns_ are the same over answerable / unanswerable "
    "questions; NoAns_exact is the share of unanswerable questions abstained on.",
    "best_exact, best_f1: the best score any na_prob threshold gives when every question above it is "
    "treated as abstained, swept as the official script does; *_thresh is that threshold.",
    "always abstain: every prediction empty. Its F1 is the share of unanswerable questions: a reader that "
    "does not beat it has learnt nothing the share of unanswerable questions does not give.",
    f"short-answer precision: of the short answers shown, the share with F1 >= {SHORT_ANSWER_F1} against the "
    "best gold answer (a short answer to an unanswerable question is wrong); coverage: the share of "
    "questions given a short answer.",
    "answer in a quote / in top-k: of the answerable questions, the share where a gold answer's annotated "
    "span lies wholly inside one of the answer's quotes / one of the k retrieved passages.",
    "latency: wall-clock time of each ask() call, after one untimed warm-up call per article.",
)


def write_squad_report(out: Path, doc: Mapping[str, Any]) -> list[Path]:
    """Plots, report.md and report.html into `out`; returns the files written."""
    plots = [plot_articles(out / "squad_articles.png", doc), plot_precision(out / "squad_precision.png", doc)]
    blocks = build_squad_report(doc, [p.name for p in plots])
    md = out / "report.md"
    md.write_text(to_markdown(blocks), encoding="utf-8")
    page = out / "report.html"
    page.write_text(to_html(blocks, out, "rag eval: SQuAD 2.0"), encoding="utf-8")
    return [*plots, md, page]


def build_squad_report(doc: Mapping[str, Any], plots: Sequence[str]) -> list[Block]:
    m = doc["metrics"]
    limit = doc.get("limit_per_article")
    return [
        Heading(1, "Evaluation report: SQuAD 2.0"),
        Para(
            f"{doc['questions']} questions ({m.get('HasAns_total', 0):.0f} answerable, "
            f"{m.get('NoAns_total', 0):.0f} not) of {len(doc['articles'])} articles from {doc['dataset']} "
            f"(sha256 {str(doc['dataset_sha256'])[:12]})"
            + (f", the first {limit} of each article" if limit else "")
            + f". Each article was indexed alone and its questions asked through the same ask() users call: "
            f"{doc['mode']} retrieval, k={doc['k']}, {doc['reader']} reader. Reproduce with "
            f"`{doc['command']}`. Asking took {doc['seconds']:.1f}s, indexing {doc['index_seconds']:.1f}s."
        ),
        Heading(2, "Targets"),
        target_table(doc),
        Heading(2, "Official metrics, beside always abstaining"),
        official_table(doc),
        Heading(2, "Selective answering and evidence"),
        selective_table(doc),
        Heading(2, "By article"),
        article_table(doc),
        Heading(2, "Plots"),
        *(Image(p, PLOT_CAPTIONS.get(p, p)) for p in plots),
        *error_blocks(doc),
        Heading(2, "Definitions"),
        Bullets(DEFINITIONS),
    ]


def target_table(doc: Mapping[str, Any]) -> Table:
    rows = [
        (n, _fmt(t["value"]), t["target"], "yes" if t["met"] else "NO") for n, t in doc["targets"].items()
    ]
    return Table(("metric", "value", "target", "met"), tuple(rows))


def official_table(doc: Mapping[str, Any]) -> Table:
    m, floor = doc["metrics"], doc["always_abstain"]
    rows = [(n, _fmt(m.get(n), n), _fmt(floor.get(n), n)) for n in OFFICIAL]
    rows.append(("best_f1 threshold (na_prob)", _fmt(m.get("best_f1_thresh"), "best_f1_thresh"), ""))
    return Table(("metric", "bot", "always abstain"), tuple(rows))


def selective_table(doc: Mapping[str, Any]) -> Table:
    m = doc["metrics"]
    rows = [(n, _fmt(m.get(n), n)) for n in ("short_answer_precision", "coverage", "short_answers")]
    rows.append(("answer_in_quotes", _fmt(m.get("answer_in_quotes"))))
    rows.append((f"answer_in_passages (top {doc['k']})", _fmt(m.get("answer_in_passages"))))
    rows += [(n, f"{m[n]:.1f}") for n in ("latency_p50_ms", "latency_p95_ms")]
    return Table(("metric", "value"), tuple(rows))


def article_table(doc: Mapping[str, Any]) -> Table:
    rows = []
    for title, a in doc["by_article"].items():
        cells = [_fmt(a["bot"].get(key), key) for _, key in ARTICLE_COLUMNS]
        rows.append((title, *cells, _fmt(a["always_abstain"]["f1"], "f1")))
    return Table(("article", *(label for label, _ in ARTICLE_COLUMNS), "always-abstain F1"), tuple(rows))


def error_blocks(doc: Mapping[str, Any]) -> list[Block]:
    errors = doc.get("confident_errors") or []
    if not errors:
        return []
    rows = tuple(
        (
            e["article"],
            e["question"],
            e["prediction"],
            " | ".join(e["gold"]) or "(unanswerable)",
            f"{e['na_prob']:.3f}",
        )
        for e in errors
    )
    return [
        Heading(2, f"Most confident wrong short answers ({len(errors)})"),
        Para(
            f"Short answers shown with F1 below {SHORT_ANSWER_F1} against every gold answer (or shown at "
            "all on an unanswerable question), lowest na_prob first: the worst outcome, a wrong answer "
            "stated with confidence."
        ),
        Table(("article", "question", "short answer", "gold", "na_prob"), rows),
    ]


def _fmt(value: float | None, name: str = "") -> str:
    """Counts as whole numbers, official exact/F1 percentages with one decimal, shares with three."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if name in COUNTS:
        return f"{value:.0f}"
    percent = ("exact" in name or "f1" in name) and not name.endswith("thresh")
    return f"{value:.1f}" if percent else f"{value:.3f}"


# --- plots -----------------------------------------------------------------------------------------

PLOT_CAPTIONS = {
    "squad_articles.png": "F1 per article, beside always abstaining on the same questions",
    "squad_precision.png": "Short-answer precision against coverage as the na_prob threshold rises",
}


def plot_articles(path: Path, doc: Mapping[str, Any]) -> Path:
    titles = list(doc["by_article"])
    bot = [doc["by_article"][t]["bot"]["f1"] for t in titles]
    floor = [doc["by_article"][t]["always_abstain"]["f1"] for t in titles]
    fig = figure(9, 4)
    ax = fig.add_subplot()
    xs = range(len(titles))
    ax.bar([x - 0.2 for x in xs], bot, 0.4, label="bot F1")
    ax.bar([x + 0.2 for x in xs], floor, 0.4, label="always abstain", color="#bbbbbb")
    ax.axhline(60, color="black", linestyle=":", label="target F1 60")
    ax.set_xticks(list(xs), [t.replace("_", " ") for t in titles], fontsize=8, rotation=20)
    ax.set_ylim(0, 100)
    ax.set_ylabel("F1 (%)")
    ax.legend(fontsize=8)
    ax.set_title("SQuAD 2.0 F1 per article")
    return save_figure(fig, path)


def plot_precision(path: Path, doc: Mapping[str, Any]) -> Path:
    curve = doc["precision_coverage"]
    m = doc["metrics"]
    fig = figure(6, 4)
    ax = fig.add_subplot()
    ax.plot([p["coverage"] for p in curve], [p["precision"] for p in curve], label="sweeping na_prob")
    if not math.isnan(m["short_answer_precision"]):
        ax.scatter([m["coverage"]], [m["short_answer_precision"]], color="red", zorder=3, label="as shown")
    ax.axhline(0.85, color="black", linestyle=":", label="target 0.85")
    ax.set_xlabel("coverage (share of questions given a short answer)")
    ax.set_ylabel(f"short-answer precision (F1 >= {SHORT_ANSWER_F1})")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    ax.set_title("Short-answer precision-coverage")
    return save_figure(fig, path)

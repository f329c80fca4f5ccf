"""Both readers side by side on evals/questions.jsonl and a stratified SQuAD 2.0 sample.

    python benchmarks/llm_reader.py run     # answers every question with both readers (writes JSONL)
    python benchmarks/llm_reader.py report  # the table; answerability applied with held-out weights
    python benchmarks/llm_reader.py recheck # the recorded replies checked again by the current code

What `run` does for each question (the LLM is the local GGUF unless RAG_LLM_URL names a server):
1. the extractive reader answers through the real pipeline (Engine.stream);
2. the LLM reader answers through the same pipeline with the abstention switched off (it always
   writes its reply), recording the answerability signals, the streamed reply, the checked short
   answer, what verification kept and dropped, time to first piece and total reader time; then,
   on the same prompt prefix, the premise correction it would give if it abstained. The
   calibrated decision is applied in `report` with weights fitted without the row's group (its
   SQuAD article, or its evals question family; evals/fit/answerability.py), so one run
   measures answering and abstaining, held out;
3. the floor, every `--floor-every`-th question: the same model answering the same prompt
   directly (no answerability, no verification), timed the same way. Reader and floor both start
   from an empty prompt cache.

SQuAD sample: for each article of the public split, `--per-class` answerable and as many
unanswerable questions (random.Random(seed)); each article is indexed on its own, as a document.
Prediction for EM/F1 (official SQuAD normalisation, best over gold answers, "" for unanswerable), as
`rag eval --dataset` makes it: "" when the reader abstains, else its short answer (`direct_answer`),
"" when it has none. Citation support (evals rows): a citation overlaps a gold evidence sentence
(evals.metrics.citation_supported), over answerable questions answered.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from functools import lru_cache
from itertools import zip_longest
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evals.squad.metrics import exact_score, f1_score, normalize_answer
from rag.config import PROJECT_ROOT, Settings
from rag.index.embed import SentenceTransformerEmbedder
from rag.pipeline import Engine
from rag.query import make_query
from rag.readers.extractive import ExtractiveReader
from rag.readers.llm.answerability import Calibration, Signals, load_calibration
from rag.readers.llm.grounding import markers, split_sentences, verify_sentence
from rag.readers.llm.passages import number_passages
from rag.readers.llm.reader import ANSWER_TOKENS, LLMReader, answer_task, followup_messages
from rag.types import Answer

SQUAD = Path("/work/shared/benchmarks/squad2/dev-v2.0-public.json")
OUT = PROJECT_ROOT / "benchmarks" / "out" / "llm_reader.jsonl"
# always write the reply (gate 0, threshold 0); the calibrated decision is made in `report`
PRELIMINARY = Calibration((0.0, 0.0, 0.0, 0.0), 0.0, 0.0, 0.0)
CORRECTION_BELOW = 0.6  # P(yes) under which the run also asks for the premise correction


# ---------------------------------------------------------------- SQuAD scoring (official definitions)


def em(pred: str, gold: str) -> float:
    return float(exact_score(pred, gold))


def f1(pred: str, gold: str) -> float:
    return f1_score(pred, gold)


def contains(text: str, gold: str) -> bool:
    needle = normalize_answer(gold.replace("-", " "))
    return bool(needle) and f" {needle} " in f" {normalize_answer(text.replace('-', ' '))} "


# ---------------------------------------------------------------- questions


def evals_items(path: Path) -> list[dict[str, Any]]:
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            q = json.loads(line)
            items.append(
                {
                    "set": "evals",
                    "id": q["id"],
                    "question": q["question"],
                    "history": [tuple(t) for t in q.get("history", [])],
                    "answerable": bool(q["answerable"]),
                    "answers": q.get("answers", []),
                    "all_parts": q.get("type") == "list",
                    "doc": "",
                    "family": q.get("type", ""),
                    "evidence": q.get("evidence", []),
                }
            )
    return items


def squad_items(path: Path, per_class: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    items = []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        qas = [q for p in article["paragraphs"] for q in p["qas"]]
        for impossible in (False, True):
            pool = sorted((q for q in qas if q["is_impossible"] == impossible), key=lambda q: q["id"])
            for q in rng.sample(pool, min(per_class, len(pool))):
                golds = list(dict.fromkeys(a["text"] for a in q["answers"]))
                items.append(
                    {
                        "set": "squad",
                        "id": q["id"],
                        "question": q["question"],
                        "history": [],
                        "answerable": not impossible,
                        "answers": golds,
                        "all_parts": False,
                        "doc": article["title"],
                        "family": "squad",
                        "evidence": [],
                    }
                )
    return items


def squad_text(path: Path, title: str) -> str:
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        if article["title"] == title:
            return "\n".join(" ".join(p["context"].split()) for p in article["paragraphs"]) + "\n"
    raise KeyError(title)


# ---------------------------------------------------------------- running


def timed_stream(pieces: Iterator[str | Answer]) -> tuple[Answer, float | None, float, str]:
    t0 = time.perf_counter()
    first: float | None = None
    text = ""
    answer: Answer | None = None
    for piece in pieces:
        if isinstance(piece, Answer):
            answer = piece
        else:
            if first is None:
                first = (time.perf_counter() - t0) * 1e3
            text += piece
    assert answer is not None
    return answer, first, (time.perf_counter() - t0) * 1e3, text


def floor(backend: Any, msgs: list[dict[str, str]]) -> dict[str, Any]:
    if hasattr(backend, "forget"):
        backend.forget()
    t0 = time.perf_counter()
    first: float | None = None
    text = ""
    for piece in backend.stream(msgs, ANSWER_TOKENS):
        if first is None:
            first = (time.perf_counter() - t0) * 1e3
        text += piece
    return {"ttft_ms": first, "total_ms": (time.perf_counter() - t0) * 1e3, "reply": text}


def answer_record(a: Answer) -> dict[str, Any]:
    first = ""
    if not a.abstained:
        if a.reader == "llm":
            sentences = split_sentences(a.answer)
            first = markers(sentences[0])[1] if sentences else ""
        elif a.citations:
            first = a.citations[0].quote
    # independent re-check: every shown LLM sentence is supported by the quotes it cites
    rejected = 0
    if a.reader == "llm" and not a.abstained:
        quotes = [c.quote for c in a.citations]
        rejected = sum(not verify_sentence(s, quotes).supported for s in split_sentences(a.answer))
    return {
        "answer": a.answer,
        "abstained": a.abstained,
        "reader": a.reader,
        "direct": a.direct_answer,
        "first": first,
        "dropped": [d.to_dict() for d in a.dropped],
        "note": a.reader_note,
        "shown_rejected": rejected,
        "citations": [[c.doc_id, c.start, c.end] for c in a.citations],
        "timings": a.timings_ms,
    }


def run_item(
    engine: Engine, item: dict[str, Any], llm: LLMReader, extractive: ExtractiveReader, do_floor: bool
) -> dict[str, Any]:
    out = dict(item)
    engine.reader = extractive
    a, _, total, _ = timed_stream(engine.stream(item["question"], item["history"]))
    out["extractive"] = answer_record(a) | {"total_ms": total}
    signals: list[Signals] = []
    llm.on_signals = signals.append
    backend = llm.backend()
    if hasattr(backend, "forget"):
        backend.forget()
    engine.reader = llm
    a, _, total, streamed = timed_stream(engine.stream(item["question"], item["history"]))
    out["llm"] = answer_record(a) | {
        "ttft_ms": a.timings_ms.get("first_token"),
        "reader_ttft_ms": a.timings_ms.get("first_piece", 0.0) + a.timings_ms.get("answerability", 0.0),
        "reader_ms": a.timings_ms.get("reader_total"),
        "total_ms": total,
        "streamed": streamed,
        "signals": signals[0].__dict__ if signals else None,
        "sentences": len(split_sentences(streamed)) if streamed else 0,
    }
    if signals:
        query = make_query(item["question"], item["history"])
        resolved = query.text
        qvec = engine.embedder.encode([resolved])[0]
        numbered = number_passages(engine.retriever.evidence(query, qvec, engine.settings.top_k))
        t0 = time.perf_counter()
        # the correction an abstention would carry; asked only where an abstention is likely (to save
        # the model's time; a question answered anyway never shows it)
        likely = signals[0].p_yes < CORRECTION_BELOW
        correction = llm._correction(backend, numbered, resolved) if likely else None
        out["llm"]["correction"] = (
            {
                "text": correction.text,
                "cites": [numbered.sentences[n - 1].citation.quote for n in correction.cites],
            }
            if correction
            else None
        )
        out["llm"]["correction_ms"] = (time.perf_counter() - t0) * 1e3
        if do_floor:
            out["floor"] = floor(
                backend, followup_messages(numbered, resolved, "Yes.", answer_task(resolved))
            )
    return out


def interleaved(items: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """Evals and SQuAD questions taken in turn (evals shuffled; SQuAD articles in turn, each shuffled), so
    a run stopped early still has both sets, every family and every article."""
    rng = random.Random(seed)
    evals = [i for i in items if i["set"] == "evals"]
    rng.shuffle(evals)
    articles: dict[str, list[dict[str, Any]]] = {}
    for i in items:
        if i["set"] == "squad":
            articles.setdefault(i["doc"], []).append(i)
    for qs in articles.values():
        rng.shuffle(qs)
    squad = [q for row in zip_longest(*articles.values()) for q in row if q is not None]
    return [q for pair in zip_longest(evals, squad) for q in pair if q is not None]


def cmd_run(args: argparse.Namespace) -> int:
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    done = {json.loads(line)["id"] for line in out.read_text().splitlines()} if out.exists() else set()
    base = Settings.from_env().replace(reader="llm")
    embedder = SentenceTransformerEmbedder()
    llm = LLMReader(base, calibration=PRELIMINARY)
    extractive = ExtractiveReader(base)
    items = evals_items(args.evals) if not args.squad_only else []
    if args.evals_limit:
        items = items[: args.evals_limit]
    if args.per_class:
        items += squad_items(args.squad, args.per_class, args.seed)
    if args.interleave:
        items = interleaved(items, args.seed)
    if args.limit:
        items = items[: args.limit]
    engines: dict[str, Engine] = {}
    tmp = Path(tempfile.mkdtemp(prefix="llm-bench-"))
    with out.open("a", encoding="utf-8") as f:
        for n, item in enumerate(items):
            if item["id"] in done:
                continue
            if item["doc"] not in engines:
                settings = base
                if item["doc"]:
                    folder = tmp / item["doc"]
                    folder.mkdir(exist_ok=True)
                    (folder / f"{item['doc']}.txt").write_text(squad_text(args.squad, item["doc"]), "utf-8")
                    settings = base.replace(seeds_dir=folder, index_dir=tmp / f"{item['doc']}-index")
                engines[item["doc"]] = Engine.load(settings, embedder=embedder)
            do_floor = bool(args.floor_every) and n % args.floor_every == 0
            record = run_item(engines[item["doc"]], item, llm, extractive, do_floor)
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            f.flush()
            print(f"{n + 1}/{len(items)} {item['set']} {record['llm']['reader_ms']:.0f} ms", file=sys.stderr)
    return 0


def cmd_recheck(args: argparse.Namespace) -> int:
    """Check the recorded replies again with the current short-answer check and verifier (no model
    call): the numbered passages are built again from the same retrieval, which is deterministic."""
    from rag.readers.llm.reader import check_reply

    rows = [json.loads(line) for line in args.out.read_text().splitlines() if line.strip()]
    base = Settings.from_env().replace(reader="llm")
    embedder = SentenceTransformerEmbedder()
    reader = LLMReader(base, calibration=PRELIMINARY)
    engines: dict[str, Engine] = {}
    tmp = Path(tempfile.mkdtemp(prefix="llm-recheck-"))
    for row in rows:
        if not row["llm"]["streamed"] or not row["llm"]["signals"]:
            continue
        if row["doc"] not in engines:
            settings = base
            if row["doc"]:
                folder = tmp / row["doc"]
                folder.mkdir(exist_ok=True)
                (folder / f"{row['doc']}.txt").write_text(squad_text(args.squad, row["doc"]), "utf-8")
                settings = base.replace(seeds_dir=folder, index_dir=tmp / f"{row['doc']}-index")
            engines[row["doc"]] = Engine.load(settings, embedder=embedder)
        engine = engines[row["doc"]]
        query = make_query(row["question"], [tuple(t) for t in row["history"]])
        qvec = engine.embedder.encode([query.text])[0]
        evidence = engine.retriever.evidence(query, qvec, engine.settings.top_k)
        numbered = number_passages(evidence)
        written = check_reply(row["llm"]["streamed"], numbered, query.text)
        answer = reader._compose(evidence, numbered, written, 1.0)
        row["llm"].update({k: v for k, v in answer_record(answer).items() if k != "timings"})
        row["llm"]["signals"]["short_found"] = float(written.short is not None)
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return 0


# ---------------------------------------------------------------- report


def decide(row: dict[str, Any], cal: Calibration) -> dict[str, Any]:
    """The LLM reader's final answer for this row under calibration `cal` (as LLMReader decides)."""
    llm = row["llm"]
    sig = llm["signals"]
    if sig is None:  # no passages at all: abstained without asking the model
        return {"abstained": True, "text": "", "pred": "", "reader": "llm", "p": 0.0, "correction": None}
    p = cal.probability(Signals(**sig))
    if p < cal.threshold or sig["p_yes"] < cal.gate:
        return {
            "abstained": True,
            "text": "",
            "pred": "",
            "reader": "llm",
            "p": p,
            "correction": llm.get("correction"),
        }
    if llm["reader"] != "llm":  # verification kept nothing (or no model): the extractive answer
        e = row["extractive"]
        return {
            "abstained": e["abstained"],
            "text": e["answer"],
            "pred": _pred(e),
            "reader": "extractive",
            "p": p,
            "citations": e.get("citations", []),
        }
    return {
        "abstained": False,
        "text": llm["answer"],
        "pred": _pred(llm),
        "reader": "llm",
        "p": p,
        "citations": llm.get("citations", []),
    }


def _pred(rec: dict[str, Any]) -> str:
    return "" if rec["abstained"] else str(rec["direct"] or "")


def scores(rows: list[dict[str, Any]], finals: list[dict[str, Any]]) -> dict[str, float]:
    ans = [(r, d) for r, d in zip(rows, finals, strict=True) if r["answerable"]]
    una = [(r, d) for r, d in zip(rows, finals, strict=True) if not r["answerable"]]

    def squad(r: dict[str, Any], d: dict[str, Any], fn: Any) -> float:
        golds = r["answers"] if r["answerable"] else [""]
        return max(fn(d["pred"], g) for g in golds)

    supported = [support(r, d) for r, d in ans if not d["abstained"] and r.get("evidence")]
    has = [(r, d) for r, d in ans if r["answers"]]
    return {
        "n": len(rows),
        "answer_hit": statistics.fmean(hit(r, d) for r, d in ans) if ans else float("nan"),
        "correct_abstention": statistics.fmean(d["abstained"] for _, d in una) if una else float("nan"),
        "false_abstention": statistics.fmean(d["abstained"] for _, d in ans) if ans else float("nan"),
        "citation_support": statistics.fmean(supported) if supported else float("nan"),
        "short_shown": sum(bool(d["pred"]) for _, d in ans + una) / max(len(rows), 1),
        "EM": 100 * statistics.fmean(squad(r, d, em) for r, d in zip(rows, finals, strict=True)),
        "F1": 100 * statistics.fmean(squad(r, d, f1) for r, d in zip(rows, finals, strict=True)),
        "HasAns_F1": 100 * statistics.fmean(squad(r, d, f1) for r, d in has) if has else float("nan"),
        "NoAns": 100 * statistics.fmean(not d["pred"] for _, d in una) if una else float("nan"),
    }


def hit(r: dict[str, Any], d: dict[str, Any]) -> bool:
    if d["abstained"] or not r["answers"]:
        return False
    found = [contains(d["text"], g) for g in r["answers"]]
    return all(found) if r["all_parts"] else any(found)


@lru_cache(maxsize=1)
def _article() -> dict[str, Any]:
    from evals.runner import locate
    from rag.index.ingest import read_document

    seeds = Settings.from_env().seeds_dir
    docs = {p.name: read_document(p, p.name, 50_000_000) for p in sorted(seeds.glob("*.txt"))}
    return {"docs": docs, "locate": locate}


def support(r: dict[str, Any], d: dict[str, Any]) -> bool:
    """Does a citation of the answer cover gold evidence (evals.metrics.citation_supported)?"""
    from evals.metrics import Span, citation_supported

    art = _article()
    gold = [art["locate"](e, art["docs"]) for e in r["evidence"]]
    return citation_supported([Span(*c) for c in d.get("citations", [])], gold)


def extractive_finals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "abstained": r["extractive"]["abstained"],
            "text": r["extractive"]["answer"],
            "pred": _pred(r["extractive"]),
            "citations": r["extractive"].get("citations", []),
        }
        for r in rows
    ]


def heldout_finals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row decided with answerability weights fitted without its group (its SQuAD article or its
    evals question family): no row is decided by weights fitted on it or its kin."""
    from evals.fit.answerability import heldout_calibrations

    by_id = heldout_calibrations(rows)
    shipped = load_calibration()
    return [decide(r, by_id.get(r["id"], shipped)) for r in rows]


def risk_coverage(
    rows: list[dict[str, Any]], finals: list[dict[str, Any]]
) -> list[tuple[float, float, float]]:
    """(coverage, risk, threshold) when answering the questions whose held-out p is highest: risk is the
    share of answered questions that are unanswerable or whose answer misses the gold answer."""
    pairs = sorted(
        (
            (d.get("p", 0.0), (not r["answerable"]) or not hit(r, {**d, "abstained": False}))
            for r, d in zip(rows, finals, strict=True)
            if r["llm"]["signals"]
        ),
        key=lambda t: -t[0],
    )
    out, wrong = [], 0
    for i, (p, bad) in enumerate(pairs, 1):
        wrong += bad
        out.append((i / len(pairs), wrong / i, p))
    return out


def cmd_report(args: argparse.Namespace) -> int:
    rows = [json.loads(line) for line in args.out.read_text().splitlines() if line.strip()]
    finals = heldout_finals(rows)
    lines = [
        "| set | reader | n | answer hit | correct abst. | false abst. | citation support | EM | F1 "
        "| HasAns F1 | NoAns |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ("evals", "squad"):
        idx = [i for i, r in enumerate(rows) if r["set"] == name]
        if not idx:
            continue
        sub = [rows[i] for i in idx]
        for reader, fin in (("extractive", extractive_finals(sub)), ("llm", [finals[i] for i in idx])):
            s = scores(sub, fin)
            lines.append(
                f"| {name} | {reader} | {s['n']} | {s['answer_hit']:.3f} | {s['correct_abstention']:.3f} | "
                f"{s['false_abstention']:.3f} | {s['citation_support']:.3f} | {s['EM']:.1f} | "
                f"{s['F1']:.1f} | {s['HasAns_F1']:.1f} | {s['NoAns']:.1f} |"
            )
    print("\n".join(lines))
    for name in ("evals", "squad"):
        idx = [i for i, r in enumerate(rows) if r["set"] == name]
        if idx:
            curve = risk_coverage([rows[i] for i in idx], [finals[i] for i in idx])
            points = [
                curve[min(len(curve) - 1, max(0, round(c * len(curve)) - 1))]
                for c in (0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
            ]
            print(
                f"\nrisk-coverage, {name} (held-out p): "
                + ", ".join(f"{c:.2f}: {r:.3f}" for c, r, _ in points)
            )
    premise = [(r, d) for r, d in zip(rows, finals, strict=True) if r.get("family") == "false_premise"]
    others = [
        (r, d)
        for r, d in zip(rows, finals, strict=True)
        if r.get("family") != "false_premise" and d["abstained"]
    ]
    print(
        f"false-premise questions: {len(premise)}, abstained {sum(d['abstained'] for _, d in premise)}, "
        f"with a correction {sum(bool(d['abstained'] and d.get('correction')) for _, d in premise)}; "
        f"other abstentions carrying a correction: {sum(bool(d.get('correction')) for _, d in others)} "
        f"of {len(others)}"
    )
    for r, d in premise:
        if d.get("correction"):
            print(f"  {r['question']} -> {d['correction']['text']}")
    written = [r for r, d in zip(rows, finals, strict=True) if d["reader"] == "llm" and not d["abstained"]]
    n_sent = sum(r["llm"]["sentences"] for r in rows)
    n_drop = sum(len(r["llm"]["dropped"]) for r in rows)
    fallback = sum(d["reader"] == "extractive" for d in finals)
    print(
        f"\ngenerated sentences: {n_sent}, dropped by verification: {n_drop} "
        f"({n_drop / max(n_sent, 1):.1%}); "
        f"answers falling back to extractive: {fallback}; shown sentences verification rejects: "
        f"{sum(r['llm']['shown_rejected'] for r in written)}"
    )
    rt = [r["llm"]["reader_ms"] / 1e3 for r in rows if r["llm"]["reader_ms"]]
    ttft = [r["llm"]["reader_ttft_ms"] / 1e3 for r in rows if r["llm"]["streamed"]]
    e2e = [r["llm"]["total_ms"] / 1e3 for r in rows]
    fl = [r for r in rows if r.get("floor") and r["llm"]["streamed"]]
    print(
        f"LLM reader, {len(rt)} questions: median total {statistics.median(rt):.2f} s (with retrieval "
        f"{statistics.median(e2e):.2f} s), median time to first token {statistics.median(ttft):.2f} s"
    )
    if fl:
        ratio_total = statistics.median(r["llm"]["reader_ms"] / r["floor"]["total_ms"] for r in fl)
        ratio_ttft = statistics.median(r["llm"]["reader_ttft_ms"] / r["floor"]["ttft_ms"] for r in fl)
        print(
            f"floor (same model, same prompt, direct), {len(fl)} questions: median total "
            f"{statistics.median(r['floor']['total_ms'] for r in fl) / 1e3:.2f} s, time to first token "
            f"{statistics.median(r['floor']['ttft_ms'] for r in fl) / 1e3:.2f} s; reader/floor median ratio: "
            f"total {ratio_total:.2f}x, first token {ratio_ttft:.2f}x"
        )
    ex = [r["extractive"]["total_ms"] / 1e3 for r in rows]
    print(f"extractive reader: median total {statistics.median(ex) * 1e3:.0f} ms")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["run", "report", "recheck"])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--evals", type=Path, default=PROJECT_ROOT / "evals" / "questions.jsonl")
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--per-class", type=int, default=20, help="SQuAD questions per article and class")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--floor-every", type=int, default=3, help="0: no floor")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--squad-only", action="store_true")
    parser.add_argument("--interleave", action="store_true", help="evals and SQuAD questions in turn")
    parser.add_argument("--evals-limit", type=int, default=0, help="the first N evals questions only")
    args = parser.parse_args(argv)
    return {"run": cmd_run, "report": cmd_report, "recheck": cmd_recheck}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())

"""The LLM reader's speed against raw llama.cpp on the same prompts, in the same run. Prints figures.

    nice python benchmarks/llm_speed.py                      # 15 article questions, the local 1.5B model
    nice python benchmarks/llm_speed.py --questions 5 --model PATH/TO/OTHER.gguf --threads 1

1. One process, one model load: the pipeline (real embedding model, FAISS index of the article in a
   temporary folder) answers with the LLM reader through the local GGUF backend, which `backend_for`
   loads once per process and hands to every reader (checked: two calls give the same object). The
   load and one warm-up question are timed apart and not counted.
2. The reader's backend is wrapped in a recorder that passes every call through and keeps the chat
   messages it was sent: the answerability prompt and the reply prompt, exactly as the reader made them.
3. For each question, the reader and then, right after it, the floor:
   - reader: `Engine.stream` (question cleaning, embedding, retrieval, quote choice, the model's
     calls, verification); total = the pipeline's `total`, first token = its `first_token`
     (question in → first piece of the reply, which includes the answerability call);
   - floor: the recorded messages sent straight to the same loaded `llama_cpp.Llama` with
     `create_chat_completion` (a call the reader made without streaming → max_tokens=1; a streamed
     call → streamed with its max_tokens, temperature 0), with no retrieval and no verification;
     first token = start → first piece of the streamed call, total = all calls.
   Both start with an empty prompt cache (the model's tokens are dropped before each), so the
   prefix shared by the two prompts of one question is reused in both, and nothing else.
4. Printed: per question, then medians, p90 and the ratios reader/floor (of the medians, and the median
   of the per-question ratios). A question the reader abstains on makes no reply: it counts in the
   totals, not in first token.

The figures are wall-clock on whatever else the machine is doing; run it with `nice` when it is idle.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.config import PROJECT_ROOT, Settings
from rag.index.embed import SentenceTransformerEmbedder
from rag.pipeline import Engine
from rag.readers.llm.backends import LlamaCppBackend, Message, backend_for
from rag.readers.llm.reader import LLMReader
from rag.types import Answer

QUESTIONS = PROJECT_ROOT / "evals" / "questions.jsonl"
WARM_UP = "Who is the US special envoy?"
DEFAULT_MAX_TOKENS = 100


@dataclass(frozen=True)
class Call:
    """One call the reader made to its backend: which method, the messages, whether it streamed."""

    method: str
    messages: tuple[Message, ...]
    streamed: bool
    max_tokens: int


@dataclass
class Recorder:
    """Passes every backend call through and records its messages (any method whose first argument
    is a list of chat messages, so the recorder keeps working when the reader's calls change)."""

    inner: Any
    calls: list[Call] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.inner.name)

    def __getattr__(self, attr: str) -> Any:
        target = getattr(self.inner, attr)
        if not callable(target):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            result = target(*args, **kwargs)
            if args and _is_messages(args[0]):
                streamed = isinstance(result, Iterator)
                max_tokens = kwargs.get("max_tokens", args[1] if len(args) > 1 else DEFAULT_MAX_TOKENS)
                msgs = tuple(dict(m) for m in args[0])
                self.calls.append(Call(attr, msgs, streamed, int(max_tokens) if streamed else 1))
            return result

        return call


def _is_messages(value: object) -> bool:
    return isinstance(value, Sequence) and bool(value) and all(isinstance(m, dict) for m in value)


@dataclass(frozen=True)
class Timing:
    total_ms: float
    first_ms: float | None  # None: nothing was streamed (the reader abstained)


def reader_run(engine: Engine, question: str) -> tuple[Timing, Answer]:
    answer: Answer | None = None
    for item in engine.stream(question):
        if isinstance(item, Answer):
            answer = item
    assert answer is not None
    streamed = "first_piece" in answer.timings_ms
    first = answer.timings_ms.get("first_token") if streamed else None
    return Timing(answer.timings_ms["total"], first), answer


def floor_run(llm: Any, calls: Sequence[Call]) -> tuple[Timing, str]:
    """The recorded calls sent straight to llama-cpp-python, in order."""
    t0 = time.perf_counter()
    first: float | None = None
    text = ""
    for c in calls:
        chat: Any = [dict(m) for m in c.messages]
        if not c.streamed:
            llm.create_chat_completion(messages=chat, max_tokens=1, temperature=0.0)
            continue
        for chunk in llm.create_chat_completion(
            messages=chat, max_tokens=c.max_tokens, temperature=0.0, stream=True
        ):
            piece = chunk["choices"][0]["delta"].get("content")
            if piece:
                if first is None:
                    first = (time.perf_counter() - t0) * 1e3
                text += piece
    return Timing((time.perf_counter() - t0) * 1e3, first), text


def pick_questions(path: Path, n: int) -> list[str]:
    """`n` single-turn questions spread evenly over the evaluation set (answerable or not, as they come)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    single = [r["question"] for r in rows if not r.get("history")]
    step = max(1, len(single) // n)
    return single[::step][:n]


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(name: str, reader: Sequence[float], floor: Sequence[float]) -> str:
    if not reader or not floor:
        return f"{name}: no data"
    r_med, f_med = statistics.median(reader), statistics.median(floor)
    per_q = statistics.median(r / f for r, f in zip(reader, floor, strict=True) if f > 0)
    return (
        f"{name:<12} reader median {r_med / 1e3:6.2f} s (p90 {pct(reader, 0.9) / 1e3:5.2f})   "
        f"floor median {f_med / 1e3:6.2f} s (p90 {pct(floor, 0.9) / 1e3:5.2f})   "
        f"ratio {r_med / f_med:4.2f}x (per question {per_q:4.2f}x)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--questions", type=int, default=15, help="how many questions (default 15)")
    parser.add_argument("--model", type=Path, default=None, help="a .gguf file (default: rag llm-setup's)")
    parser.add_argument("--threads", type=int, default=0, help="llama.cpp threads (default: RAG_LLM_THREADS)")
    parser.add_argument("--json", type=Path, default=None, help="also write the per-question rows here")
    args = parser.parse_args(argv)

    os.environ.pop("RAG_LLM_URL", None)  # the floor is llama.cpp in this process: the reader must be too
    base = Settings.from_env()
    changes: dict[str, Any] = {"reader": "llm", "llm_url": ""}
    if args.model:
        changes["llm_model_path"] = args.model
    if args.threads:
        changes["llm_threads"] = args.threads
    tmp = Path(tempfile.mkdtemp(prefix="llm-speed-"))
    settings = base.replace(index_dir=tmp / "index", **changes)

    backend = backend_for(settings)
    if not isinstance(backend, LlamaCppBackend):
        raise SystemExit("the floor needs the local GGUF backend; unset RAG_LLM_URL")
    assert backend_for(settings) is backend, "the local model must be loaded once per process"
    recorder = Recorder(backend)
    engine = Engine.load(settings, embedder=SentenceTransformerEmbedder())
    engine.reader = LLMReader(settings, backend=recorder)  # type: ignore[arg-type]

    t = time.perf_counter()
    llm = backend._load()
    load_s = time.perf_counter() - t
    t = time.perf_counter()
    reader_run(engine, WARM_UP)
    warm_s = time.perf_counter() - t
    print(
        f"model {backend.model_path.name}, {backend.threads} thread(s); load {load_s:.1f} s, "
        f"warm-up question {warm_s:.1f} s (not counted); load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )

    rows: list[dict[str, Any]] = []
    for i, question in enumerate(pick_questions(QUESTIONS, args.questions)):
        recorder.calls.clear()

        backend.forget()
        r, answer = reader_run(engine, question)
        calls = list(recorder.calls)
        backend.forget()
        f, _ = floor_run(llm, calls)
        row = {
            "question": question,
            "reader": answer.reader,
            "abstained": answer.abstained,
            "calls": [c.method for c in calls],
            "reader_total_ms": r.total_ms,
            "reader_first_ms": r.first_ms,
            "floor_total_ms": f.total_ms,
            "floor_first_ms": f.first_ms,
        }
        rows.append(row)
        first = (
            f"{r.first_ms / 1e3:5.2f}/{f.first_ms / 1e3:5.2f} s" if r.first_ms and f.first_ms else "   -   "
        )
        print(
            f"{i + 1:2d}. total {r.total_ms / 1e3:5.2f}/{f.total_ms / 1e3:5.2f} s  first {first}  "
            f"{answer.reader}{' abstained' if answer.abstained else ''}  {question[:60]}",
            flush=True,
        )

    both_first = [r for r in rows if r["reader_first_ms"] and r["floor_first_ms"]]
    print(f"\n{len(rows)} questions (reader/floor), load average now {os.getloadavg()[0]:.1f}")
    print(summary("total", [r["reader_total_ms"] for r in rows], [r["floor_total_ms"] for r in rows]))
    print(
        summary(
            f"first token ({len(both_first)})",
            [r["reader_first_ms"] for r in both_first],
            [r["floor_first_ms"] for r in both_first],
        )
    )
    print("targets: median ≤ 4 s, first token ≤ 1.5 s, ≤ 1.2x the floor")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

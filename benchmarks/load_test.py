"""Load test of the running chat server over loopback: errors, latency and memory. Prints figures.

    .venv/bin/python benchmarks/load_test.py                  # 8 clients x 25 requests, then 1,000 questions
    .venv/bin/python benchmarks/load_test.py --clients 4 --requests 10 --flat 200

1. Start `rag serve --port P` (127.0.0.1 only) as a subprocess over a temporary copy of the article
   and a temporary index, and wait until it answers.
2. Burst: `clients` threads, each with its own gradio_client.Client, send `requests` questions each
   to the `/ask` endpoint at once. An error is an exception, a reply that breaks the JSON contract,
   or a quote that is not the article's text at its offsets; a refused question (empty, too long)
   is a correct reply, counted apart. Latency p50/p95/max and the server's RSS before and after.
3. Flatness: 1,000 distinct questions (the same clients, in batches of 100), the server's RSS
   sampled after every batch; the growth from the first sample to the last is reported.

Everything is bounded (fixed request counts, timeouts on every wait); the server is stopped at the end.
Exit code 1 when any request failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "seeds" / "belarus-prisoner-release-2025.txt"
START_TIMEOUT_S = 300
REQUEST_TIMEOUT_S = 120

QUESTIONS = [
    "How many political prisoners did Belarus free?",
    "Who is the US special envoy?",
    "Which airline did the US ease sanctions on?",
    "Why did Poland close its border?",
    "Which countries were the foreign prisoners from?",
    "What is the capital of France?",
    "What is the population of Minsk?",
    "<script>alert(1)</script>",
    "Сколько политических заключённых освободили?",
    "",  # refused: empty
    "x" * 5000,  # refused: over the length limit
    "How many\x00 political\x01 prisoners were freed?",
]
TEMPLATES = ["What does the article say about {}?", "Who mentioned {}?", "When did {} happen?", "Why {}?"]


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    refused: int = 0
    abstained: int = 0
    answered: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, ms: float, outcome: str) -> None:
        with self.lock:
            self.latencies_ms.append(ms)
            if outcome.startswith("error"):
                self.errors.append(outcome)
            else:
                setattr(self, outcome, getattr(self, outcome) + 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=25, help="requests per client in the burst")
    parser.add_argument("--flat", type=int, default=1000, help="questions in the memory-flatness run")
    parser.add_argument("--sample-every", type=int, default=100)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)

    import psutil
    from gradio_client import Client

    article = ARTICLE.read_text(encoding="utf-8")
    work = Path(tempfile.mkdtemp(prefix="rag-load-"))
    server, url, log = start_server(work)
    figures: dict[str, Any] = {"clients": args.clients, "requests_per_client": args.requests}
    try:
        proc = psutil.Process(server.pid)
        clients = [Client(url, verbose=False, download_files=False) for _ in range(args.clients)]
        check(clients[0], QUESTIONS[0], article, Tally())  # warm-up: the first request pays one-off costs
        figures["rss_mb_idle"] = rss_mb(proc)

        # 2. the burst
        burst = Tally()
        jobs: queue.Queue[str] = queue.Queue()
        for i in range(args.clients * args.requests):
            jobs.put(QUESTIONS[i % len(QUESTIONS)])
        t0 = time.perf_counter()
        run_clients(clients, jobs, article, burst)
        wall = time.perf_counter() - t0
        figures["burst"] = summary(burst, wall)
        figures["rss_mb_after_burst"] = rss_mb(proc)
        print_burst(figures)

        # 3. memory flatness
        if args.flat < 1:
            return 0
        rng = random.Random(0)
        words = sorted({w.strip(".,;:“”\"'()—") for w in article.split() if len(w) > 3})
        flat = Tally()
        samples = [(0, rss_mb(proc))]
        done = 0
        t0 = time.perf_counter()
        while done < args.flat:
            batch = min(args.sample_every, args.flat - done)
            for _ in range(batch):
                jobs.put(rng.choice(TEMPLATES).format(" ".join(rng.sample(words, 2))))
            run_clients(clients, jobs, article, flat)
            done += batch
            samples.append((done, rss_mb(proc)))
            print(f"  after {done:5d} questions: server RSS {samples[-1][1]:7.1f} MB", flush=True)
        figures["flat"] = summary(flat, time.perf_counter() - t0)
        figures["flat"]["rss_mb_samples"] = samples
        figures["flat"]["rss_growth_mb"] = round(samples[-1][1] - samples[1][1], 1)
        print_flat(figures)
    finally:
        stop_server(server)
        log.close()
        shutil.rmtree(work, ignore_errors=True)

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    errors = figures["burst"]["errors"] + figures.get("flat", {}).get("errors", 0)
    print(f"\nerrors: {errors}")
    return 1 if errors else 0


# ---------------------------------------------------------------- the server


def start_server(work: Path) -> tuple[subprocess.Popen[bytes], str, Any]:
    seeds = work / "seeds"
    seeds.mkdir()
    shutil.copy(ARTICLE, seeds / ARTICLE.name)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_INDEX_DIR=str(work / "index"), RAG_SEEDS_DIR=str(seeds), HF_HUB_OFFLINE="1")
    log = (work / "serve.log").open("w+b")
    t0 = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise SystemExit(f"`rag serve` exited with {server.returncode}:\n{log.read().decode()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    print(
                        f"server up at {url} in {time.perf_counter() - t0:.1f}s (pid {server.pid})",
                        flush=True,
                    )
                    return server, url, log
        except OSError:
            time.sleep(0.5)
    stop_server(server)
    raise SystemExit(f"`rag serve` did not answer at {url} within {START_TIMEOUT_S}s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=30)


def rss_mb(proc: Any) -> float:
    """Resident memory of the server and any processes it started, in MB."""
    total = proc.memory_info().rss
    for child in proc.children(recursive=True):
        with contextlib.suppress(Exception):  # a child that ended between listing and reading
            total += child.memory_info().rss
    return round(total / 1e6, 1)


# ---------------------------------------------------------------- the clients


def run_clients(clients: list[Any], jobs: queue.Queue[str], article: str, tally: Tally) -> None:
    """Every client takes questions from `jobs` until it is empty; returns when all are answered."""

    def work(client: Any) -> None:
        while True:
            try:
                question = jobs.get_nowait()
            except queue.Empty:
                return
            check(client, question, article, tally)

    threads = [threading.Thread(target=work, args=(c,), daemon=True) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=REQUEST_TIMEOUT_S * (jobs.qsize() + 2))


def check(client: Any, question: str, article: str, tally: Tally) -> None:
    t0 = time.perf_counter()
    try:
        job = client.submit(question, api_name="/ask")
        result = job.result(timeout=REQUEST_TIMEOUT_S)
    except Exception as exc:
        tally.record((time.perf_counter() - t0) * 1e3, f"error: {type(exc).__name__}: {exc}"[:300])
        return
    tally.record((time.perf_counter() - t0) * 1e3, outcome(result, article))


def outcome(result: Any, article: str) -> str:
    if not isinstance(result, dict) or not {"answer", "abstained", "citations", "error"} <= set(result):
        return f"error: not the JSON contract: {str(result)[:200]}"
    for c in result["citations"]:
        if article[c["start"] : c["end"]] != c["quote"]:
            return f"error: quote does not verify: {c}"
    if result["error"]:
        return "refused"
    return "abstained" if result["abstained"] else "answered"


# ---------------------------------------------------------------- figures


def summary(tally: Tally, wall_s: float) -> dict[str, Any]:
    ms = sorted(tally.latencies_ms)
    return {
        "requests": len(ms),
        "errors": len(tally.errors),
        "first_errors": tally.errors[:5],
        "answered": tally.answered,
        "abstained": tally.abstained,
        "refused": tally.refused,
        "p50_ms": round(statistics.median(ms), 1) if ms else None,
        "p95_ms": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1) if ms else None,
        "max_ms": round(ms[-1], 1) if ms else None,
        "throughput_rps": round(len(ms) / wall_s, 1) if wall_s else None,
        "wall_s": round(wall_s, 1),
    }


def print_burst(f: dict[str, Any]) -> None:
    b = f["burst"]
    print(
        f"\nburst: {f['clients']} clients x {f['requests_per_client']} requests = {b['requests']} requests "
        f"in {b['wall_s']}s ({b['throughput_rps']} req/s)\n"
        f"  errors {b['errors']}; answered {b['answered']}, abstained {b['abstained']}, "
        f"refused {b['refused']}\n"
        f"  latency p50 {b['p50_ms']} ms, p95 {b['p95_ms']} ms, max {b['max_ms']} ms\n"
        f"  server RSS {f['rss_mb_idle']} MB before, {f['rss_mb_after_burst']} MB after"
    )
    for e in b["first_errors"]:
        print(f"  {e}")


def print_flat(f: dict[str, Any]) -> None:
    m = f["flat"]
    print(
        f"\nflatness: {m['requests']} distinct questions in {m['wall_s']}s ({m['throughput_rps']} req/s), "
        f"errors {m['errors']}\n"
        f"  latency p50 {m['p50_ms']} ms, p95 {m['p95_ms']} ms\n"
        f"  server RSS {m['rss_mb_samples'][1][1]} MB after the first batch, {m['rss_mb_samples'][-1][1]} MB "
        f"after the last: growth {m['rss_growth_mb']} MB"
    )
    for e in m["first_errors"]:
        print(f"  {e}")


if __name__ == "__main__":
    sys.exit(main())

"""Soak test of `rag serve` through its raw HTTP API: errors, latency and server memory. Prints figures.

    .venv/bin/python benchmarks/soak.py                       # 5,000 requests, 16 clients
    .venv/bin/python benchmarks/soak.py --requests 500 --clients 4

1. Start `rag serve --port P` (127.0.0.1 only) as a subprocess over a temporary copy of the article
   and a temporary index, and wait until it answers.
2. `clients` threads share `requests` requests. Each request is what a script without
   gradio_client sends: `POST /gradio_api/call/ask` with a JSON body (a new session every time),
   then `GET /gradio_api/call/ask/<event_id>` read to its `complete` or `error` event. Most ask
   real questions; some send what a careless or hostile client sends (k="inf", a missing
   argument, a question of 5,000 characters): those must come back as an answer carrying an
   `error`, never a failed request. An error is a failed request, a reply that breaks the JSON
   contract, or a quote that is not the article's text at its offsets.
3. The server's RSS is sampled at start, every 500 requests and at the end.

Bounded: a fixed request count, a deadline (--max-seconds), timeouts on every wait; loopback only;
the server is stopped at the end. Exit code 1 when any request failed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from load_test import stop_server  # the same way to stop `rag serve` (run as benchmarks/soak.py)

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "seeds" / "belarus-prisoner-release-2025.txt"
START_TIMEOUT_S = 300
REQUEST_TIMEOUT_S = 60

QUESTIONS: list[list[Any]] = [
    ["How many political prisoners did Belarus free?", 5],
    ["Who is the US special envoy?", 3],
    ["Which airline did the US ease sanctions on?", 5],
    ["Why did Poland close its border?", 10],
    ["What is the population of Minsk?", 5],
    ["<script>alert(1)</script>", 5],
    ["Сколько политических заключённых освободили?", 5],
    ["How many political prisoners were freed?", "inf"],  # a bad k: the default is used
    ["Who is the US special envoy?", "abc"],
    ["x" * 5000, 5],  # refused: over the question length limit (an answer with an error)
    [],  # arguments missing: refused (HTTP 422) with a clear message, not a traceback in the log
]


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, ms: float, outcome: str) -> None:
        with self.lock:
            self.latencies_ms.append(ms)
            if outcome.startswith("error"):
                self.errors.append(outcome)
            key = outcome.split(":")[0]
            self.outcomes[key] = self.outcomes.get(key, 0) + 1


def main(argv: list[str] | None = None) -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="stop sending after this long")
    args = parser.parse_args(argv)

    import psutil

    work = Path(tempfile.mkdtemp(prefix="rag-soak-"))
    server, port = start_server(work)
    article = ARTICLE.read_text(encoding="utf-8")
    try:
        proc = psutil.Process(server.pid)
        for _ in range(20):  # warm up: the first answers load lazily built parts
            ask(port, QUESTIONS[0], article)
        rss_start = proc.memory_info().rss / 1e6
        print(f"server RSS at start (after 20 warm-up requests): {rss_start:.1f} MB", flush=True)
        tally = Tally()
        counter = iter(range(args.requests))
        counter_lock = threading.Lock()
        deadline = time.monotonic() + args.max_seconds
        samples: list[tuple[int, float]] = []

        def client() -> None:
            while time.monotonic() < deadline:
                with counter_lock:
                    n = next(counter, None)
                if n is None:
                    return
                t0 = time.perf_counter()
                outcome = ask(port, QUESTIONS[n % len(QUESTIONS)], article)
                tally.record((time.perf_counter() - t0) * 1e3, outcome)
                if n and n % 500 == 0:
                    samples.append((n, proc.memory_info().rss / 1e6))
                    print(f"  {n:5d} requests: server RSS {samples[-1][1]:.1f} MB", flush=True)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        time.sleep(2)
        rss_end = proc.memory_info().rss / 1e6
        report(tally, args, wall, rss_start, rss_end)
        if samples:
            first_n, first_rss = min(samples)
            later = done_count(tally) - first_n
            print(
                f"server RSS from request {first_n:,} to the end: {first_rss:.1f} -> {rss_end:.1f} MB "
                f"({(rss_end - first_rss) * 1e3 / max(1, later):.2f} KB per request over {later:,} requests)"
            )
        return 1 if tally.errors else 0
    finally:
        stop_server(server)
        shutil.rmtree(work, ignore_errors=True)


def done_count(tally: Tally) -> int:
    return len(tally.latencies_ms)


def ask(port: int, data: list[Any], article: str) -> str:
    """One raw request pair; the outcome: answered, abstained, refused, bad-arguments or error: why."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    try:
        body = json.dumps({"data": data}).encode()
        conn.request("POST", "/gradio_api/call/ask", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        payload = response.read()
        if response.status == 422 and len(data) < 2:
            return "bad-arguments"  # refused with a clear message, as it should be
        if response.status != 200:
            return f"error: POST HTTP {response.status} {payload[:120]!r}"
        event_id = json.loads(payload)["event_id"]
        conn.request("GET", f"/gradio_api/call/ask/{event_id}")
        response = conn.getresponse()
        stream = response.read().decode("utf-8")
    except (OSError, ValueError, KeyError) as exc:
        return f"error: {type(exc).__name__}: {exc}"
    finally:
        conn.close()
    return judge(stream, data, article)


def judge(stream: str, data: list[Any], article: str) -> str:
    events = [block for block in stream.split("\n\n") if block.strip()]
    if not events:
        return "error: empty event stream"
    last = events[-1]
    kind = last.split("\n", 1)[0].removeprefix("event: ").strip()
    payload = last.split("data: ", 1)[1] if "data: " in last else ""
    if kind == "error":
        if len(data) < 2:
            return "bad-arguments"
        return f"error: an error event for {str(data)[:60]}: {payload[:120]}"
    if kind != "complete":
        return f"error: last event {kind!r}"
    try:
        (answer,) = json.loads(payload)
    except ValueError:
        return "error: the complete event is not JSON"
    for key in ("question", "answer", "abstained", "citations"):
        if key not in answer:
            return f"error: reply lacks {key!r}"
    if answer.get("error"):
        return "refused"
    for c in answer["citations"]:
        if article[c["start"] : c["end"]] != c["quote"]:
            return f"error: quote does not match the article at {c['start']}-{c['end']}"
    return "abstained" if answer["abstained"] else "answered"


def report(tally: Tally, args: argparse.Namespace, wall: float, rss_start: float, rss_end: float) -> None:
    lat = sorted(tally.latencies_ms)
    done = len(lat)
    rate = done / wall if wall else 0.0
    print(f"\n{done:,} raw HTTP requests ({args.clients} concurrent clients) in {wall:.1f}s: {rate:.1f}/s")
    print("outcomes: " + ", ".join(f"{k} {v:,}" for k, v in sorted(tally.outcomes.items())))
    print(f"errors: {len(tally.errors)}")
    for e in tally.errors[:10]:
        print(f"  {e}")
    if lat:
        p95 = lat[min(done - 1, int(0.95 * done))]
        print(f"latency: p50 {statistics.median(lat):.0f} ms, p95 {p95:.0f} ms, max {lat[-1]:.0f} ms")
    print(f"server RSS: {rss_start:.1f} MB at start, {rss_end:.1f} MB at end ({rss_end - rss_start:+.1f} MB)")
    if done:
        print(f"growth per request: {(rss_end - rss_start) * 1e3 / done:.2f} KB")


# ---------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(work: Path) -> tuple[subprocess.Popen[bytes], int]:
    seeds = work / "seeds"
    seeds.mkdir()
    shutil.copy(ARTICLE, seeds / ARTICLE.name)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_INDEX_DIR=str(work / "index"), RAG_SEEDS_DIR=str(seeds), HF_HUB_OFFLINE="1")
    log = (work / "serve.log").open("w+b")
    rag = str(Path(sys.executable).parent / "rag")
    server = subprocess.Popen(
        [rag, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise SystemExit(f"the server exited: {log.read().decode(errors='replace')[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/")
            if conn.getresponse().status == 200:
                return server, port
        except OSError:
            time.sleep(0.5)
    stop_server(server)
    raise SystemExit(f"the server did not answer within {START_TIMEOUT_S}s")


if __name__ == "__main__":
    sys.exit(main())

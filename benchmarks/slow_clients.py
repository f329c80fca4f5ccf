"""Slow clients against `rag serve` (issue 18, item 2): does a normal request get through? Prints figures.

    .venv/bin/python benchmarks/slow_clients.py                      # 1,100 slow connections, 40 s
    .venv/bin/python benchmarks/slow_clients.py --connections 300 --seconds 20

1. `rag serve` starts as a subprocess over a temporary index of the article, with its limit on open
   files set to 1,024 (soft and hard, so it cannot raise it), as on the machine of the report.
2. `--connections` connections from 127.0.0.2 (another address of this machine) each send the
   first line of a request, then one byte of header every 2 s, never finishing (a slowloris).
   Half as many more send whole headers announcing a body of 1 MB, then drip it.
3. Meanwhile a normal client on 127.0.0.1 loads the page (GET /) every second (target: within
   2 s), and asks a question through the raw API every 5 s (target: answered; its time is mostly
   the CPU's); each has a 10 s timeout.
4. Then `--abandoned` API questions (half of them streamed) are sent from several addresses and
   never read, and their sockets closed: the page's time while they wait, and the server's memory
   before, while and after (target: back within 10%).
5. Printed: what happened to the slow connections (refused with 503, cut off by a timeout, still
   open), the normal requests' latencies (target: every one answered within 2 s), and the size of
   the server's log (target: under 1 MB).

Bounded: fixed counts and a deadline; loopback only; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from load_test import stop_server  # the same way to stop `rag serve` (run as benchmarks/*.py)

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "seeds" / "belarus-prisoner-release-2025.txt"
SERVER_FILES = 1024
TARGET_S = 2.0
TARGET_LOG_BYTES = 1_000_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(root: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    seeds = root / "seeds"
    seeds.mkdir()
    shutil.copy(ARTICLE, seeds / ARTICLE.name)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "RAG_SEEDS_DIR": str(seeds)}
    env["RAG_INDEX_DIR"] = str(root / "index")

    def few_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (SERVER_FILES, SERVER_FILES))

    cli = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]
    with open(log, "wb") as out:
        return subprocess.Popen(
            [*cli, "serve", "--port", str(port), "--host", "0.0.0.0"],
            env=env,
            stdout=out,
            stderr=out,
            preexec_fn=few_files,
        )


def wait_until_up(port: int, proc: subprocess.Popen[bytes], timeout: float = 600) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout and proc.poll() is None:
        try:
            if get_page(port)[0] == 200:
                return time.monotonic() - t0
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not start (exit {proc.poll()})")


def get_page(port: int, timeout: float = 10) -> tuple[int, float]:
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        response.read()
        return response.status, time.perf_counter() - t0
    finally:
        conn.close()


def ask(port: int, timeout: float = 10) -> tuple[int, float]:
    t0 = time.perf_counter()
    body = json.dumps({"data": ["Who is the US special envoy?", 3]})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", "/gradio_api/call/ask", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        reply = response.read()
        if response.status != 200:
            return response.status, time.perf_counter() - t0
        event = json.loads(reply)["event_id"]
        conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.request("GET", f"/gradio_api/call/ask/{event}")
        response = conn.getresponse()
        text = response.read().decode()
        ok = "event: complete" in text
        return (response.status if ok else 599), time.perf_counter() - t0
    finally:
        conn.close()


class Slowloris:
    """Many connections from another local address, each dripping a request that never ends."""

    def __init__(self, port: int, count: int, bodies: int) -> None:
        self.port = port
        self.selector = selectors.DefaultSelector()
        self.open: dict[socket.socket, bytes] = {}
        self.refused_503 = 0
        self.timed_out = 0  # closed by the server after we had started (408 or silence)
        self.failed_connect = 0
        self.count, self.bodies = count, bodies

    def connect_all(self) -> None:
        for i in range(self.count + self.bodies):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.bind(("127.0.0.2", 0))
                s.connect_ex(("127.0.0.1", self.port))
            except OSError:
                self.failed_connect += 1
                s.close()
                continue
            if i < self.count:
                first = b"GET / HTTP/1.1\r\nHost: localhost\r\n"
            else:
                first = (
                    b"POST /gradio_api/call/ask HTTP/1.1\r\nHost: localhost\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{"
                )
            self.open[s] = first
            self.selector.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)

    def tick(self) -> None:
        """Send each connection its next byte; count the ones the server answered or closed."""
        for key, events in self.selector.select(timeout=0):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            if events & selectors.EVENT_READ:
                self._read(sock)
            elif events & selectors.EVENT_WRITE and sock in self.open:
                self._write(sock)

    def drip(self) -> None:
        for sock in list(self.open):
            try:
                sock.send(b"X" if self.open[sock] == b"" else b"")
            except OSError:
                self._close(sock, refused=False)

    def _write(self, sock: socket.socket) -> None:
        first = self.open[sock]
        if first:
            try:
                sock.send(first)
            except OSError:
                self._close(sock, refused=False)
                return
            self.open[sock] = b""
        self.selector.modify(sock, selectors.EVENT_READ)

    def _read(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(4096)
        except OSError:
            data = b""
        self._close(sock, refused=data.startswith(b"HTTP/1.1 503"))

    def _close(self, sock: socket.socket, *, refused: bool) -> None:
        if refused:
            self.refused_503 += 1
        else:
            self.timed_out += 1
        self.open.pop(sock, None)
        self.selector.unregister(sock)
        sock.close()

    def close(self) -> None:
        for sock in list(self.open):
            self.selector.unregister(sock)
            sock.close()
        self.open.clear()


def under_attack(port: int, slow: Slowloris, duration: float) -> tuple[list[float], list[float], list[str]]:
    """The normal client's requests while the slow ones drip: (page times, question times, misses)."""
    pages: list[float] = []
    asks: list[float] = []
    failures: list[str] = []
    t0 = time.monotonic()
    next_page, next_ask, next_drip = t0 + 1, t0 + 2, t0
    while time.monotonic() - t0 < duration:
        slow.tick()
        now = time.monotonic()
        if now >= next_drip:
            slow.drip()
            next_drip = now + 2
        for due, what, store, call in ((next_page, "page", pages, get_page), (next_ask, "ask", asks, ask)):
            if now < due:
                continue
            try:
                status, seconds = call(port)
                store.append(seconds)
                if status != 200 or (what == "page" and seconds > TARGET_S):
                    failures.append(f"{what} at {now - t0:.0f} s: HTTP {status} in {seconds:.2f} s")
            except OSError as exc:
                store.append(float("inf"))
                failures.append(f"{what} at {now - t0:.0f} s: {type(exc).__name__} {exc}")
        next_page = now + 1 if now >= next_page else next_page
        next_ask = now + 5 if now >= next_ask else next_ask
        time.sleep(0.02)
    return pages, asks, failures


def abandoned_questions(port: int, pid: int, count: int) -> dict[str, float]:
    """`count` API questions (half streamed) sent from several addresses and left unread, their
    sockets then closed: the page's time while they wait, and the server's RSS before, during and
    after (target: back within 10% of before)."""
    import psutil

    server = psutil.Process(pid)
    before = server.memory_info().rss
    body = json.dumps({"model": "rag", "messages": [{"role": "user", "content": "Who is the US envoy?"}]})
    streamed = json.dumps({**json.loads(body), "stream": True})
    sockets = []
    for i in range(count):
        s = socket.socket()
        try:
            s.bind((f"127.0.3.{i // 50 + 1}", 0))
            s.connect(("127.0.0.1", port))
            data = streamed if i % 2 else body
            s.sendall(
                f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n\r\n{data}".encode()
            )
            sockets.append(s)
        except OSError:
            s.close()
    time.sleep(2)
    status, page_s = get_page(port, timeout=60)
    during = server.memory_info().rss
    for s in sockets:
        s.close()
    time.sleep(15)
    after = server.memory_info().rss
    return {
        "sent": len(sockets),
        "page_s": page_s if status == 200 else float("inf"),
        "before_mb": before / 2**20,
        "during_mb": during / 2**20,
        "after_mb": after / 2**20,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=1100)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--abandoned", type=int, default=300, help="API questions sent and left unread")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    print(f"load average at start: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    root = Path(tempfile.mkdtemp(prefix="slow-clients-"))
    log = root / "serve.log"
    port = free_port()
    proc = start_server(root, port, log)
    try:
        started = wait_until_up(port, proc)
        print(f"rag serve answered after {started:.1f} s (open files limit {SERVER_FILES})")
        log_before = log.stat().st_size
        slow = Slowloris(port, args.connections, args.connections // 2)
        slow.connect_all()
        pages, asks, failures = under_attack(port, slow, args.seconds)
        still_open = len(slow.open)
        slow.close()
        time.sleep(1)
        abandoned = abandoned_questions(port, proc.pid, args.abandoned)
        log_growth = log.stat().st_size - log_before
    finally:
        stop_server(proc)
    total = args.connections + args.connections // 2
    print(
        f"\nslow connections from 127.0.0.2: {total:,} ({args.connections:,} dripping headers, "
        f"{args.connections // 2:,} dripping a body)"
    )
    print(f"  refused at once with 503: {slow.refused_503:,}")
    print(f"  closed by the server's timeouts: {slow.timed_out:,}")
    print(
        f"  still open after {args.seconds:.0f} s: {still_open:,}; could not connect: {slow.failed_connect:,}"
    )
    for name, times in (("page (GET /)", pages), ("question (/call/ask)", asks)):
        finite = [t for t in times if t != float("inf")]
        if finite:
            print(
                f"{name}: {len(times)} requests, median {statistics.median(finite):.2f} s, "
                f"max {max(times):.2f} s"
            )
    print(
        f"{abandoned['sent']:.0f} API questions sent and left unread (half streamed): the page took "
        f"{abandoned['page_s']:.2f} s meanwhile; server RSS {abandoned['before_mb']:.0f} MB before, "
        f"{abandoned['during_mb']:.0f} MB while they waited, {abandoned['after_mb']:.0f} MB 15 s after they "
        f"left ({100 * (abandoned['after_mb'] / abandoned['before_mb'] - 1):+.1f}%, target within 10%)"
    )
    if abandoned["page_s"] > TARGET_S:
        failures.append(f"page while questions waited: {abandoned['page_s']:.2f} s")
    if abandoned["after_mb"] > 1.1 * abandoned["before_mb"]:
        failures.append("server memory did not return within 10% after the questions left")
    print(f"server log grew by {log_growth:,} bytes (target: under {TARGET_LOG_BYTES:,})")
    for line in failures[:10]:
        print(f"  missed: {line}")
    shutil.rmtree(root, ignore_errors=True)
    ok = not failures and log_growth < TARGET_LOG_BYTES
    print("within target" if ok else f"{len(failures)} normal request(s) missed the target")
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

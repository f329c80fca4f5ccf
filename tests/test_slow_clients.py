"""Slow and absent clients against the real chat server (issue 18, item 2): raw sockets, no client library.

The server is the real Gradio app over the real pipeline, launched as `rag serve` launches it, with
small limits from the environment so that a test needs few connections. A client over its cap is
answered with a JSON 503 at once, the server's total cap protects everyone else, headers that
never end are cut off with a JSON 408, a garbled request gets a JSON 400, repeated log messages are
bounded, and an API question whose client leaves is stopped. benchmarks/slow_clients.py prints the
figures at full size (1,100 slow connections).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import free_port
from ui import connections

pytestmark = pytest.mark.slow  # the real model and the real server


@pytest.fixture(scope="module")
def port(engine: Any) -> Iterator[int]:
    from ui.app import build_app, launch

    limits = {
        "RAG_MAX_CONNECTIONS": "30",
        "RAG_MAX_CONNECTIONS_PER_CLIENT": "5",
        "RAG_HEADER_TIMEOUT_S": "2",
        "RAG_BODY_TIMEOUT_S": "3",
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in limits.items():
            patch.setenv(name, value)
        app = build_app(engine.settings, engine)
        chosen = free_port()
        launch(app, "127.0.0.1", chosen, block=False)
    try:
        yield chosen
    finally:
        app.close()


def slow_socket(port: int, source: str, first: bytes = b"GET / HTTP/1.1\r\nHost: x\r\n") -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=15, source_address=(source, 0))
    s.sendall(first)
    return s


def reply(s: socket.socket) -> tuple[int, dict[str, Any]]:
    """The status and JSON body the server sent on a raw socket (0, {} when it closed silently)."""
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
    if not data:
        return 0, {}
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def page(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_a_client_over_its_cap_gets_503_and_others_are_served(port: int) -> None:
    held = [slow_socket(port, "127.0.0.2") for _ in range(5)]
    try:
        time.sleep(0.3)
        extra = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=("127.0.0.2", 0))
        status, body = reply(extra)
        extra.close()
        assert status == 503 and "too many connections from your address" in body["error"]
        assert page(port) == 200  # another address is served while they wait
    finally:
        for s in held:
            s.close()


def test_the_total_cap_answers_503_and_frees_its_file_descriptors(port: int) -> None:
    held = [slow_socket(port, f"127.0.1.{i // 5 + 1}") for i in range(30)]  # 6 addresses, 5 each
    try:
        time.sleep(0.3)
        refused = socket.create_connection(("127.0.0.1", port), timeout=10)
        status, body = reply(refused)
        refused.close()
        assert status == 503 and "too many open connections" in body["error"]
    finally:
        for s in held:
            s.close()
    time.sleep(0.5)
    assert page(port) == 200  # their slots are free again


def test_headers_and_bodies_that_never_end_are_cut_off(port: int) -> None:
    dripping = slow_socket(port, "127.0.0.3")
    t0 = time.monotonic()
    status, body = reply(dripping)  # nothing more is sent; the server gives up after 2 s
    dripping.close()
    assert status == 408 and "too long" in body["error"]
    assert time.monotonic() - t0 < 14

    head = b"POST /gradio_api/call/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    slow_body = slow_socket(port, "127.0.0.3", head + b"Content-Length: 100000\r\n\r\n{")
    t0 = time.monotonic()
    status, _ = reply(slow_body)
    slow_body.close()
    assert time.monotonic() - t0 < 14  # closed (or refused) instead of held forever
    assert page(port) == 200


def test_a_garbled_request_gets_a_json_400(port: int) -> None:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"\x00\x01 NOT HTTP\r\n\r\n")
    status, body = reply(s)
    s.close()
    assert status == 400 and body["error"]


def test_repeated_log_messages_are_bounded(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test-repeats")
    logger.addFilter(connections.RepeatFilter())
    with caplog.at_level(logging.ERROR, logger="test-repeats"):
        for i in range(10_000):
            logger.error("socket.accept() out of system resource: %s", f"[Errno 24] Too many open files {i}")
    assert len(caplog.records) == connections.REPEATS_LOGGED


class _SlowLLM:
    """An engine whose reader writes one piece every 50 ms for ever, until its stream is closed
    (a fake in addition to the real ones: it stands for a generation a client walks away from)."""

    def __init__(self) -> None:
        self.pieces = 0
        self.closed = threading.Event()

    def stream(self, question: str, history: Any = ()) -> Iterator[str]:
        try:
            while True:
                time.sleep(0.05)
                self.pieces += 1
                yield "word "
        finally:
            self.closed.set()


def test_a_question_whose_client_leaves_is_stopped() -> None:
    from ui.openai_api import Questions

    questions = Questions(workers=1, waiting=0)
    llm = _SlowLLM()

    async def leave_after_a_while() -> None:
        task = asyncio.ensure_future(questions.answer(llm, "Who?", []))  # type: ignore[arg-type]
        await asyncio.sleep(0.5)
        task.cancel()  # what Starlette does when the client of a stream goes away
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(leave_after_a_while())
    assert llm.closed.wait(5)  # the generation was closed: no more pieces are written
    written = llm.pieces
    time.sleep(0.3)
    assert llm.pieces == written
    assert questions.admitted == 0

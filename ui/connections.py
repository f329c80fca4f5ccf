"""Connections that slow or absent clients cannot use to starve the server (`rag serve`).

Gradio runs its app on uvicorn; uvicorn's HTTP protocol (h11) is given these limits, per
connection, before the app sees a request:

1. A cap on open connections per client address (MAX_PER_CLIENT) and in all (MAX_CONNECTIONS):
   one over the cap is answered at once with 503 and a JSON error, then closed, so it holds no
   file descriptor. The process's own limit on open files is raised to its hard limit at start.
2. A header timeout: a request's headers must be complete HEADER_TIMEOUT_S after the connection
   opens (or after the previous response on a kept-alive connection); a body must be complete
   BODY_TIMEOUT_S after its headers. A client that drips bytes is cut off then.
3. A write timeout: a client that stops reading its response (the send buffer stays full for
   WRITE_TIMEOUT_S) is disconnected, which ends the work behind the response.
4. uvicorn's own settings where they exist: `limit_concurrency` (a backstop over the caps above),
   `timeout_keep_alive` and `h11_max_incomplete_event_size` (the largest header block).
5. Bounded logs: a message repeated within REPEAT_WINDOW_S is logged at most REPEATS_LOGGED times,
   then once as a count (a flood of "Too many open files" was 230 MB of log).

Every limit is a setting read from the environment (RAG_MAX_CONNECTIONS, RAG_MAX_CONNECTIONS_PER_CLIENT,
RAG_HEADER_TIMEOUT_S, RAG_BODY_TIMEOUT_S, RAG_WRITE_TIMEOUT_S) when the server starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import resource
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_CONNECTIONS = 900  # below the 1,024 open files a process often gets, with room for the rest
MAX_PER_CLIENT = 64  # a browser opens about 6 at once, plus one stream per question waiting
HEADER_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 60.0  # 10 MB at 170 KB/s
WRITE_TIMEOUT_S = 30.0
KEEP_ALIVE_S = 5
MAX_HEADER_BYTES = 16 * 1024
REPEAT_WINDOW_S = 60.0
REPEATS_LOGGED = 5


@dataclass(frozen=True)
class Limits:
    max_connections: int = MAX_CONNECTIONS
    max_per_client: int = MAX_PER_CLIENT
    header_timeout_s: float = HEADER_TIMEOUT_S
    body_timeout_s: float = BODY_TIMEOUT_S
    write_timeout_s: float = WRITE_TIMEOUT_S

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        from rag.config import _from_env

        env = os.environ if env is None else env
        changes: dict[str, Any] = {}
        for name, key, kind in (
            ("RAG_MAX_CONNECTIONS", "max_connections", int),
            ("RAG_MAX_CONNECTIONS_PER_CLIENT", "max_per_client", int),
            ("RAG_HEADER_TIMEOUT_S", "header_timeout_s", float),
            ("RAG_BODY_TIMEOUT_S", "body_timeout_s", float),
            ("RAG_WRITE_TIMEOUT_S", "write_timeout_s", float),
        ):
            if env.get(name):
                changes[key] = _from_env(env, name, kind, "a positive number up to 100,000", 1, 100_000)
        return cls(**changes)


class _Counts:
    """Open connections, in all and per client address (one per server)."""

    def __init__(self) -> None:
        self.total = 0
        self.per_client: Counter[str] = Counter()


_FULL = "the server has too many open connections; try again in a moment"
_TOO_MANY = "too many connections from your address; close some and try again"


def guarded_protocol(limits: Limits) -> type[H11Protocol]:
    """uvicorn's h11 protocol with `limits` (a class per server: its counts are its own)."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"limits": limits, "counts": _Counts()})


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the limits above; `guarded_protocol` makes one per server."""

    limits: Limits = Limits()
    counts: _Counts = _Counts()
    _deadline: asyncio.TimerHandle | None = None
    _write_deadline: asyncio.TimerHandle | None = None
    _counted = ""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = (self.client[0] if self.client else "") or "?"
        if (
            self.counts.total >= self.limits.max_connections
            or self.counts.per_client[address] >= self.limits.max_per_client
        ):
            full = self.counts.total >= self.limits.max_connections
            transport.write(_json_response(503, _FULL if full else _TOO_MANY))
            transport.close()
            return
        self._counted = address
        self.counts.total += 1
        self.counts.per_client[self._counted] += 1
        self._arm(self.limits.header_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._write_deadline is not None:
            self._write_deadline.cancel()
        self._release()
        super().connection_lost(exc)

    def _release(self) -> None:
        self._disarm()
        if self._counted:
            self.counts.total -= 1
            self.counts.per_client[self._counted] -= 1
            if self.counts.per_client[self._counted] <= 0:
                del self.counts.per_client[self._counted]
            self._counted = ""

    def data_received(self, data: bytes) -> None:
        waiting = self.conn.their_state
        super().data_received(data)
        now = self.conn.their_state
        if now is h11.IDLE:
            if self._deadline is None:  # a new request on a kept-alive connection has begun
                self._arm(self.limits.header_timeout_s)
        elif now is not waiting:
            if now is h11.SEND_BODY:
                self._arm(self.limits.body_timeout_s)  # headers complete: the body has its own time
            else:
                self._disarm()  # the request is whole

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._release()  # the connection is the websocket protocol's from now on
        super().handle_websocket_upgrade(event)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._disarm()  # uvicorn's keep-alive timeout runs until the next request begins

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._write_deadline is None:
            self._write_deadline = self.loop.call_later(self.limits.write_timeout_s, self._give_up)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._write_deadline is not None:
            self._write_deadline.cancel()
            self._write_deadline = None

    def send_400_response(self, msg: str) -> None:
        if not self.transport.is_closing():
            self.transport.write(_json_response(400, msg))
            self.transport.close()

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._give_up)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _give_up(self) -> None:
        """Too slow: close the connection (the app, if it runs, sees the client leave)."""
        self._deadline = None
        if self.transport.is_closing():
            return
        if self.flow is not None and self.flow.write_paused:
            self.transport.abort()  # nothing more can be written to a client that does not read
            return
        if self.cycle is None:  # the headers never came: say so before closing
            self.transport.write(_json_response(408, "the request took too long to arrive"))
        self.transport.close()


def _json_response(status: int, message: str) -> bytes:
    reasons = {400: "Bad Request", 408: "Request Timeout", 503: "Service Unavailable"}
    body = json.dumps({"error": message}).encode()
    head = (
        f"HTTP/1.1 {status} {reasons[status]}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


def configure(config: Any, limits: Limits) -> None:
    """Set a uvicorn Config (before its server starts) to use the guarded protocol and limits."""
    config.http = guarded_protocol(limits)
    config.limit_concurrency = limits.max_connections + 100  # a backstop: the protocol refuses first
    config.timeout_keep_alive = KEEP_ALIVE_S
    config.h11_max_incomplete_event_size = MAX_HEADER_BYTES


_patching = threading.Lock()


@contextlib.contextmanager
def guarded_servers(limits: Limits) -> Iterator[None]:
    """While Gradio's `launch()` runs inside this block, the uvicorn server it makes is configured
    with `limits` (Gradio builds the uvicorn Config itself and offers no way to pass these)."""
    from gradio import http_server

    with _patching:
        original = http_server.Server

        class GuardedServer(original):  # type: ignore[misc, valid-type]
            def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
                configure(config, limits)
                super().__init__(config, *args, **kwargs)

        http_server.Server = GuardedServer  # type: ignore[misc]
        try:
            yield
        finally:
            http_server.Server = original  # type: ignore[misc]


def raise_open_files_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit; the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(
                resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard)
            )
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class RepeatFilter(logging.Filter):
    """Lets a message through at most REPEATS_LOGGED times per REPEAT_WINDOW_S, then notes how many
    were left out. Messages are told apart by their logger and format string, not their values."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg)[:200])
        now = time.monotonic()
        with self._lock:
            window = self._seen.setdefault(key, [now, 0, 0])  # start, logged, dropped
            if now - window[0] > REPEAT_WINDOW_S:
                dropped = int(window[2])
                window[:] = [now, 0, 0]
                if dropped:
                    record.msg = f"{record.getMessage()} [repeated {dropped:,} more times in the last minute]"
                    record.args = None
            if window[1] >= REPEATS_LOGGED:
                window[2] += 1
                return False
            window[1] += 1
            if len(self._seen) > 10_000:
                self._seen.clear()
        return True


def bound_repeated_logs() -> None:
    """A RepeatFilter on each logger a server writes through (asyncio's accept errors included) and
    on each of their handlers (which also see what child loggers pass up); each counts on its own."""
    for name in ("asyncio", "uvicorn", "uvicorn.error", "uvicorn.access", "gradio", "httpx", ""):
        logger = logging.getLogger(name)
        for target in (logger, *logger.handlers):
            if not any(isinstance(f, RepeatFilter) for f in target.filters):
                target.addFilter(RepeatFilter())

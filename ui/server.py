"""The chat server's guard: what `rag serve` accepts, keeps and logs, beyond what the app shows.

`ui/app.py` builds the Gradio app; `launch_options` adds, as one ASGI middleware and a few
launch settings:

1. Authentication when asked for (`--auth-token` or RAG_AUTH_TOKEN): every request must carry the
   token as `Authorization: Bearer <token>`, a `rag_token` cookie, or `?token=<token>` (which
   sets the cookie, so a browser opened on `http://host:port/?token=...` keeps working).
2. A cap on request bodies: a declared Content-Length over the cap is refused (413) before a byte
   is read; a body sent without one is counted as it streams and cut off at the cap.
3. Uploads: only through Gradio's upload route, each file at most MAX_UPLOAD_BYTES, all of them
   at most UPLOAD_QUOTA_BYTES, kept in a temporary folder of this server that is removed when it stops.
4. Flat memory under raw HTTP clients: Gradio keeps a copy of the page's component configuration
   for every session id it sees (about 40 KB here) and a raw `/call/ask` request is a new session
   each time; sessions that hold no state and have no event pending are forgotten after
   SESSION_IDLE_S, and at most SESSION_CAPACITY sessions are kept in all.
5. Short logs: no log record carries more than LOG_MAX_CHARS characters of anything a client sent.
6. A new index generation written by `rag index` while the server runs is loaded between requests
   and announced on stderr; a generation that fails to load is reported and the old one kept.

`check_port`, `bind_warning` and `auth_token` give the one-line errors and warnings `rag serve` prints.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import hmac
import ipaddress
import json
import logging
import os
import re
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from rag.errors import ServerError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 1_000_000  # a question, its settings, a chat history: far less than this
MAX_UPLOAD_BYTES = 10_000_000  # one uploaded document
UPLOAD_QUOTA_BYTES = 200_000_000  # all uploads kept by one server
SESSION_IDLE_S = 10.0
SESSION_CAPACITY = 2_000
LOG_MAX_CHARS = 300
ERROR_BODY_MAX = 65_536  # an error body this long is sent on as it is read
ANALYTICS_KEPT = 500  # Gradio keeps 10,000 events' timings
UPLOAD_PATHS = ("/gradio_api/upload", "/upload")
COOKIE = "rag_token"


# ---------------------------------------------------------------- before starting


def check_port(host: str, port: int) -> None:
    """ServerError, in one line naming --port, unless `port` is a port this process can listen on."""
    if not 1 <= port <= 65535:
        raise ServerError(f"--port {port} is not a port number; use one from 1 to 65535, e.g. --port 7860")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ServerError(f"--host {host} is not an address of this machine ({exc.strerror})") from None
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ServerError(_bind_failure(host, port, exc)) from None


def _bind_failure(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is in use (another `rag serve`?); use another, e.g. --port {port + 1}"
    if exc.errno == errno.EACCES:
        return f"port {port} needs administrator rights; choose one above 1023 with --port, e.g. --port 7860"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"--host {host} is not an address of this machine"
    return f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port or --host"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def auth_token(given: str | None, env: MutableMapping[str, str] | None = None) -> str:
    """The token every client must show: --auth-token, else $RAG_AUTH_TOKEN, else '' (none)."""
    token = given if given is not None else (env if env is not None else os.environ).get("RAG_AUTH_TOKEN", "")
    if token and (len(token) < 8 or not token.isprintable() or " " in token):
        raise ServerError("--auth-token must be at least 8 printable characters without spaces")
    return token


def bind_warning(host: str, port: int, token: str) -> str:
    """What to tell the user when the server is reachable from other machines ('' when it is not)."""
    if is_loopback(host):
        return ""
    if token:
        return (
            f"warning: --host {host} makes the server reachable from other machines; every request must "
            f"carry the token (open http://<this machine>:{port}/?token=...)"
        )
    return (
        f"warning: --host {host} makes the server reachable from other machines, without authentication: "
        "anyone who can reach the port can ask questions and read the indexed documents. "
        "Require a token with --auth-token TOKEN (or RAG_AUTH_TOKEN), or bind 127.0.0.1"
    )


# ---------------------------------------------------------------- the guard


@dataclass
class Guard:
    """The server's policy and its bookkeeping (one per launched app)."""

    token: str = ""
    max_body: int = MAX_BODY_BYTES
    max_upload: int = MAX_UPLOAD_BYTES
    upload_quota: int = UPLOAD_QUOTA_BYTES
    upload_dir: Path | None = None
    blocks: Any = None  # the gr.Blocks, for its session table once launched
    index_dir: Path | None = None  # what client-facing errors name files relative to
    index_changed: Callable[[], bool] | None = None  # asked each second: a new index generation? ...
    reload: Callable[[], str] | None = None  # ... which this swaps in, returning the notice to log
    on_request: list[Callable[[], None]] = field(default_factory=list)
    _last_prune: float = 0.0
    _last_index_check: float = 0.0
    _reloading: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------ housekeeping between requests

    def between_requests(self) -> None:
        now = time.monotonic()
        if now - self._last_prune >= 1.0:
            self._last_prune = now
            forget_idle_sessions(self.blocks)
        if self.reload is not None and now - self._last_index_check >= 1.0:
            self._last_index_check = now
            self._check_index()

    def _check_index(self) -> None:
        changed = self.index_changed is not None and self.index_changed()
        if changed and self._reloading.acquire(blocking=False):
            threading.Thread(target=self._reload, daemon=True, name="rag-index-reload").start()

    def _reload(self) -> None:
        try:
            message = self.reload() if self.reload is not None else ""
            if message:
                print(message, file=sys.stderr, flush=True)
        finally:
            self._reloading.release()

    def upload_room(self) -> int:
        if self.upload_dir is None or not self.upload_dir.is_dir():
            return self.upload_quota
        used = sum(f.stat().st_size for f in self.upload_dir.rglob("*") if f.is_file())
        return self.upload_quota - used

    # ------------------------------------------------ the ASGI middleware

    def middleware(self, app: ASGIApp) -> ASGIApp:
        guard = self

        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] not in ("http", "websocket"):
                await app(scope, receive, send)
                return
            guard.between_requests()
            set_cookie = ""
            if guard.token and not _own_startup_call(scope):
                shown = _presented_tokens(scope)
                if not any(hmac.compare_digest(t.encode(), guard.token.encode()) for t in shown["all"]):
                    await _refuse(scope, send, 401, "this server needs its token: add ?token=... or a header")
                    return
                if hmac.compare_digest(shown["query"].encode(), guard.token.encode()):
                    set_cookie = f"{COOKIE}={guard.token}; Path=/; HttpOnly; SameSite=Strict"
            if scope["type"] == "websocket":
                await app(scope, receive, send)
                return
            path = scope.get("path", "")
            upload = path.rstrip("/").endswith(UPLOAD_PATHS)
            cap = guard.max_upload + 65_536 if upload else guard.max_body
            declared = _content_length(scope)
            if declared is not None and declared > cap:
                await _refuse(scope, send, 413, f"request body over the limit of {cap:,} bytes")
                return
            if upload and guard.upload_room() < (declared or 0):
                await _refuse(scope, send, 507, "no room left for uploads on this server; try again later")
                return
            if scope.get("method") == "POST" and _CALL.search(path):
                body = await _read_body(receive, cap)
                problem = "over" if body is None else guard.bad_call(path, body)
                if problem:
                    status = 413 if problem == "over" else 422
                    text = f"request body over the limit of {cap:,} bytes" if problem == "over" else problem
                    await _refuse(scope, send, status, text)
                    return
                receive = _replay(body or b"", receive)
            await _capped(app, scope, receive, send, cap, set_cookie, guard.index_dir)

        return guarded

    def bad_call(self, path: str, body: bytes) -> str:
        """Why a call to an endpoint cannot run ('' when it can): too few arguments, or no JSON.

        Gradio would put the call's arguments, whole, into a traceback on stderr."""
        try:
            payload = json.loads(body)
        except ValueError:
            return 'the request body is not JSON; send {"data": [arguments]}'
        except RecursionError:
            return 'the request body is JSON nested too deeply; send {"data": [arguments]}'
        if not isinstance(payload, dict) or not isinstance(payload.get("data", []), list):
            return 'the request body must be a JSON object {"data": [arguments]}'
        fn = _endpoint(self.blocks, path, payload)
        wanted = len(getattr(fn, "inputs", []) or [])
        given = len(payload.get("data", []))
        if fn is not None and given < wanted:
            name = getattr(fn, "api_name", None) or "this endpoint"
            return f'/{name} takes {wanted} arguments, {given} given; send {{"data": [{wanted} values]}}'
        return ""


_ABSOLUTE = re.compile(r"(?<![\w.~:/])(/[^\s\"'<>|*?]+)")


def client_text(text: str, index_dir: Path | None) -> str:
    """`text` as a client may see it: absolute paths inside the index folder written relative to it,
    any other absolute path cut to its file name (a client need not learn the server's folders).

    >>> client_text("File not allowed: /srv/rag/index/manifest.json.", Path("/srv/rag/index"))
    'File not allowed: manifest.json.'
    >>> client_text("/home/ann/notes/a.txt: cannot be read", None)
    'a.txt: cannot be read'
    """
    roots = []
    if index_dir is not None:
        roots = sorted({str(index_dir), str(Path(index_dir).resolve())}, key=len, reverse=True)

    def shown(match: re.Match[str]) -> str:
        path = match.group(1)
        tail = ""
        while path and path[-1] in ".,;:)]}":  # sentence punctuation after the path
            path, tail = path[:-1], path[-1] + tail
        for root in roots:
            if path == root:
                return "the index folder" + tail
            if path.startswith(root.rstrip("/") + "/"):
                return path[len(root.rstrip("/")) + 1 :] + tail
        return (Path(path).name or "/") + tail

    return _ABSOLUTE.sub(shown, text)


async def _capped(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    cap: int,
    cookie: str,
    index_dir: Path | None = None,
) -> None:
    """Run `app`, cutting its request body off at `cap` bytes (then answering 413 in its place).
    An error response's body (status 400 and above) names no absolute path (`client_text`)."""
    seen = 0
    over = False
    started = False
    errors = _ErrorBodies(send, index_dir)

    async def counted_receive() -> Message:
        nonlocal seen, over
        if over:
            return {"type": "http.disconnect"}
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > cap:
                over = True
                return {"type": "http.disconnect"}
        return message

    async def guarded_send(message: Message) -> None:
        nonlocal started
        if over:
            return  # the app's answer to a cut-off body is replaced by ours
        if message["type"] == "http.response.start":
            started = True
            message = _with_cookie(message, cookie)
        if not await errors.held(message):
            await send(message)

    try:
        with contextlib.suppress(OSError):
            await app(scope, counted_receive, guarded_send)
    except Exception as exc:  # the answer is still JSON, and no traceback repeats the request
        if started:
            raise
        await _failed(scope, send, exc)
        return
    if over and not started:
        await _refuse(scope, send, 413, f"request body over the limit of {cap:,} bytes")


def _with_cookie(start: Message, cookie: str) -> Message:
    if not cookie:
        return start
    return {**start, "headers": [*start.get("headers", []), (b"set-cookie", cookie.encode())]}


async def _failed(scope: Scope, send: Send, exc: Exception) -> None:
    """The JSON answer to a request the app failed on: 400 when the request was too deep to read."""
    logging.getLogger("uvicorn.error").error("request failed: %s", type(exc).__name__)
    if isinstance(exc, RecursionError):
        await _refuse(scope, send, 400, "the request is nested too deeply to be read")
    else:
        await _refuse(scope, send, 500, "the server failed on this request; try again, or report it")


class _ErrorBodies:
    """Holds an error response (status 400 and above) until its body is known, then sends it with
    the server's folders taken out of the body."""

    def __init__(self, send: Send, index_dir: Path | None) -> None:
        self.send, self.index_dir = send, index_dir
        self.start: Message | None = None
        self.parts: list[bytes] = []

    async def held(self, message: Message) -> bool:
        """Whether `message` was taken here (held, or sent rewritten)."""
        if message["type"] == "http.response.start":
            if int(message.get("status", 200)) < 400:
                return False
            self.start = message
            return True
        if self.start is None or message["type"] != "http.response.body":
            return False
        self.parts.append(message.get("body", b""))
        more = bool(message.get("more_body", False))
        if more and sum(map(len, self.parts)) < ERROR_BODY_MAX:
            return True
        start, body = self.start, b"".join(self.parts)
        self.start, self.parts = None, []
        await _send_error(self.send, start, body, self.index_dir, more)
        return True


async def _send_error(send: Send, start: Message, body: bytes, index_dir: Path | None, more: bool) -> None:
    """An error response, its body with the server's folders taken out of it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    if text is not None:
        text = client_text(text, index_dir)
        kind = next((v for k, v in headers if k.lower() == b"content-type"), b"")
        if b"json" not in kind and not more:  # every error is JSON: a plain-text one is wrapped
            text = json.dumps({"error": text.strip() or f"HTTP {start.get('status', 500)}"})
            headers = [(k, v) for k, v in headers if k.lower() != b"content-type"]
            headers.append((b"content-type", b"application/json"))
        body = text.encode("utf-8")
    if not more:
        headers.append((b"content-length", str(len(body)).encode()))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": more})


_CALL = re.compile(r"/(call|run)/[^/]+/?$|/queue/join/?$")


def _endpoint(blocks: Any, path: str, payload: dict[str, Any]) -> Any:
    fns = getattr(blocks, "fns", {}) or {}
    index = payload.get("fn_index")
    if path.rstrip("/").endswith("/queue/join"):
        return fns.get(index) if isinstance(index, int) else None
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return next((fn for fn in fns.values() if getattr(fn, "api_name", None) == name), None)


async def _read_body(receive: Receive, cap: int) -> bytes | None:
    """The whole request body, or None once it passes `cap` bytes."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            return None
        parts.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def _replay(body: bytes, then: Receive) -> Receive:
    """A receive() that gives `body` once, then whatever the client sends next (its disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await then()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _own_startup_call(scope: Scope) -> bool:
    """Gradio's launch() calls its own startup route over loopback, without the token."""
    client = scope.get("client") or ("", 0)
    return str(scope.get("path", "")).endswith("/startup-events") and is_loopback(str(client[0]))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _presented_tokens(scope: Scope) -> dict[str, Any]:
    found: list[str] = []
    for name, value in scope.get("headers", []):
        text = value.decode("latin-1")
        if name == b"authorization" and text.lower().startswith("bearer "):
            found.append(text[7:].strip())
        elif name == b"cookie":
            cookie: SimpleCookie = SimpleCookie()
            with contextlib.suppress(Exception):
                cookie.load(text)
            if COOKIE in cookie:
                found.append(cookie[COOKIE].value)
    query = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [""])[0]
    return {"all": [*found, query], "query": query}


async def _refuse(scope: Scope, send: Send, status: int, text: str) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = json.dumps({"error": text}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# ---------------------------------------------------------------- sessions


def forget_idle_sessions(blocks: Any, idle_s: float = SESSION_IDLE_S) -> int:
    """Forget what Gradio keeps for sessions that are over: the number of sessions forgotten.

    A raw HTTP call (`POST /gradio_api/call/ask`, then `GET .../<event_id>`) is a new session each
    time, and Gradio keeps three things for each one after it is answered: its copy of the page's
    component configuration (the state table, until 10,000 sessions), its message queue (until
    2,000) and an empty set of pending event ids (never dropped, and searched on every GET).
    A session that holds no state and has no event pending loses nothing by being forgotten: it
    is made again, the same, if its id comes back. Runs on the server's event loop, between requests."""
    app = getattr(blocks, "server_app", None)
    holder = getattr(app, "state_holder", None)
    queue = getattr(blocks, "_queue", None)
    if holder is None or queue is None:
        return 0
    pending = queue.pending_event_ids_session
    for session_id in [s for s, ids in pending.items() if not ids]:
        del pending[session_id]
    messages = queue.pending_messages_per_session
    for session_id in [s for s, q in list(messages.items()) if s not in pending and q.empty()]:
        del messages[session_id]
    analytics = getattr(queue, "event_analytics", None)  # timings for Gradio's monitoring page
    if isinstance(analytics, dict) and len(analytics) > ANALYTICS_KEPT:
        for event_id in list(analytics)[: len(analytics) - ANALYTICS_KEPT]:
            analytics.pop(event_id, None)
    cutoff = _now() - idle_s
    forgotten = 0
    with holder.lock:
        for session_id in list(holder.session_data):
            state = holder.session_data.get(session_id)
            last = holder.time_last_used.get(session_id)
            if state is None or state.state_data or session_id in pending:
                continue
            if last is not None and last.timestamp() > cutoff:
                continue
            del holder.session_data[session_id]
            holder.time_last_used.pop(session_id, None)
            forgotten += 1
    return forgotten


def _now() -> float:
    return time.time()


# ---------------------------------------------------------------- logs


class ShortLogs(logging.Filter):
    """Cuts every log record to LOG_MAX_CHARS characters, so no client can fill the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        with contextlib.suppress(Exception):
            message = record.getMessage()
            if len(message) > LOG_MAX_CHARS or record.exc_info:
                cut = len(message) - LOG_MAX_CHARS
                record.msg = message[:LOG_MAX_CHARS] + (f"… [{cut:,} more characters]" if cut > 0 else "")
                record.args = None
                record.exc_info = None  # a traceback would repeat the request's values
                record.exc_text = None
        return True


def shorten_logs() -> None:
    for name in ("", "gradio", "uvicorn", "uvicorn.error", "uvicorn.access", "fastapi", "httpx"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, ShortLogs) for f in logger.filters):
            logger.addFilter(ShortLogs())
        for handler in logger.handlers:
            if not any(isinstance(f, ShortLogs) for f in handler.filters):
                handler.addFilter(ShortLogs())


# ---------------------------------------------------------------- uploads folder


def upload_folder() -> tuple[Path, str | None]:
    """A fresh folder for this server's uploads (Gradio reads GRADIO_TEMP_DIR), removed at exit;
    and the GRADIO_TEMP_DIR it replaces."""
    folder = Path(tempfile.mkdtemp(prefix="rag-serve-uploads-"))
    previous = os.environ.get("GRADIO_TEMP_DIR")
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    atexit.register(shutil.rmtree, folder, True)
    atexit.register(remove_gradio_leftovers)
    return folder, previous


def remove_gradio_leftovers() -> None:
    """Gradio makes an empty `vibe_edit_history` folder in its default temporary folder (chosen when
    it is imported, before this server's own folder exists); it goes when empty, and so does that
    folder when nothing else is in it."""
    with contextlib.suppress(Exception):
        from gradio import route_utils

        default = Path(route_utils.DEFAULT_TEMP_DIR)
        for folder in (default / "vibe_edit_history", default):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty: other Gradio apps may keep files there


def stop_on_signals() -> None:
    """SIGTERM and SIGHUP stop the server as Ctrl-C (SIGINT) does: the server closes, its lifespan
    ends and the exit handlers run, so its temporary folder goes (by default they kill the process
    on the spot, and the folder stayed: 195 MB after a quota test)."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            with contextlib.suppress(ValueError, OSError):  # not the main thread, or no such signal
                signal.signal(number, stop)


def lifespan(
    folder: Path, previous: str | None
) -> Callable[[Any], contextlib.AbstractAsyncContextManager[None]]:
    """An ASGI lifespan that removes the uploads folder when the server stops."""

    @contextlib.asynccontextmanager
    async def remove_uploads(_: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            remove_gradio_leftovers()
            if os.environ.get("GRADIO_TEMP_DIR") == str(folder):  # later apps in this process: as before
                if previous is None:
                    os.environ.pop("GRADIO_TEMP_DIR", None)
                else:
                    os.environ["GRADIO_TEMP_DIR"] = previous

    return remove_uploads


def launch_options(
    blocks: Any,
    token: str = "",
    *,
    index_dir: Path | None = None,
    index_changed: Callable[[], bool] | None = None,
    reload: Callable[[], str] | None = None,
) -> dict[str, Any]:
    """Keyword arguments for `gr.Blocks.launch` that put the guard in front of the app."""
    from starlette.middleware import Middleware

    folder, previous = upload_folder()
    guard = Guard(
        token=token,
        upload_dir=folder,
        blocks=blocks,
        index_dir=index_dir,
        index_changed=index_changed,
        reload=reload,
    )
    shorten_logs()

    class GuardMiddleware:
        def __init__(self, app: ASGIApp) -> None:
            self.app = guard.middleware(app)

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            await self.app(scope, receive, send)

    return {
        "max_file_size": guard.max_upload,
        "state_session_capacity": SESSION_CAPACITY,
        "app_kwargs": {"middleware": [Middleware(GuardMiddleware)], "lifespan": lifespan(folder, previous)},
    }

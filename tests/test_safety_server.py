"""A hostile client against the real chat server (issue 11, findings 3 and 4): raw HTTP, no gradio_client.

The server is the real Gradio app over the real pipeline, launched as `rag serve` launches it
(behind ui/server.py's guard). Request bodies and uploads are capped, uploads live in the server's
own folder and go when it stops, raw clients leave no sessions behind, bad arguments are answers
with an error (never a traceback, never the request in the log), a token is enforced beyond
loopback, and a generation written by `rag index` while the server runs is answered from.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TINY_TEXT, free_port, stop_process
from ui import server as guard

pytestmark = pytest.mark.slow  # the real model and the real server

FERRY = "The ferry to Gull Island runs twice a day. Its pilot is Ines Varga.\n"


@pytest.fixture(scope="module")
def served(engine) -> Iterator[tuple[Any, int]]:  # type: ignore[no-untyped-def]
    from ui.app import build_app, launch

    app = build_app(engine.settings, engine)
    port = free_port()
    launch(app, "127.0.0.1", port, block=False)
    try:
        yield app, port
    finally:
        app.close()


def request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body, headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def call_ask(port: int, data: list[Any], headers: dict[str, str] | None = None) -> tuple[str, Any]:
    """POST /gradio_api/call/ask then GET its events: (last event's name, its data)."""
    status, _, body = request(
        port, "POST", "/gradio_api/call/ask", json.dumps({"data": data}).encode(),
        {"Content-Type": "application/json", **(headers or {})},
    )  # fmt: skip
    assert status == 200, body[:200]
    event_id = json.loads(body)["event_id"]
    status, _, stream = request(port, "GET", f"/gradio_api/call/ask/{event_id}", headers=headers)
    last = [block for block in stream.decode().split("\n\n") if block.strip()][-1]
    name = last.split("\n", 1)[0].removeprefix("event: ")
    payload = last.split("data: ", 1)[1]
    return name, json.loads(payload)


# ---------------------------------------------------------------- finding 3: what the server takes


def test_request_bodies_and_uploads_are_capped(served: tuple[Any, int]) -> None:
    _, port = served
    # a declared body over the cap is refused before it is sent
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("POST", "/gradio_api/call/ask")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(100_000_000))
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 413 and b"limit" in response.read()
    conn.close()

    # a body streamed without a length is cut off at the cap
    chunks = (b'{"data": ["' + b"x" * 400_000 for _ in range(4))
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(
        "POST", "/gradio_api/call/ask", chunks, {"Content-Type": "application/json"}, encode_chunked=True
    )
    assert conn.getresponse().status == 413
    conn.close()

    # uploads: a small text file is taken, into this server's own folder; an over-size one is not
    boundary = uuid.uuid4().hex

    def upload(data: bytes) -> tuple[int, bytes]:
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="notes.txt"\r\n'
                f"Content-Type: text/plain\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        status, _, reply = request(
            port,
            "POST",
            "/gradio_api/upload",
            body,
            {"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        return status, reply

    status, reply = upload(b"A small note.\n")
    assert status == 200, reply
    (stored,) = json.loads(reply)
    folder = Path(os.environ["GRADIO_TEMP_DIR"])
    assert folder.name.startswith("rag-serve-uploads-") and Path(stored).is_relative_to(folder)
    status, _ = upload(b"x" * (guard.MAX_UPLOAD_BYTES + 100_000))
    assert status == 413


def test_uploads_folder_goes_when_the_server_stops(engine) -> None:  # type: ignore[no-untyped-def]
    from ui.app import build_app, launch

    app = build_app(engine.settings, engine)
    port = free_port()
    launch(app, "127.0.0.1", port, block=False)
    folder = Path(os.environ["GRADIO_TEMP_DIR"])
    (folder / "left-behind.txt").write_text("an upload", encoding="utf-8")
    assert request(port, "GET", "/")[0] == 200
    app.close()
    deadline = time.monotonic() + 10
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not folder.exists()


def test_raw_http_clients_leave_no_sessions_behind(served: tuple[Any, int]) -> None:
    app, port = served
    for i in range(40):  # each raw call is a new Gradio session
        name, _ = call_ask(port, ["Who is the US special envoy?", 3 + i % 3])
        assert name == "complete"
    time.sleep(guard.SESSION_IDLE_S + 1.5)
    call_ask(port, ["Who is the US special envoy?", 3])  # housekeeping runs between requests

    holder, queue = app.server_app.state_holder, app._queue
    assert len(holder.session_data) <= 2  # the last call's session, at most one more
    assert len(queue.pending_event_ids_session) <= 2  # Gradio alone keeps an empty set for every one
    assert len(queue.pending_messages_per_session) <= 2
    assert len(queue.event_analytics) <= guard.ANALYTICS_KEPT


def test_bad_arguments_are_clear_answers_and_logs_stay_short(
    served: tuple[Any, int], capfd: pytest.CaptureFixture[str]
) -> None:
    _, port = served
    name, (answer,) = call_ask(port, ["How many political prisoners were freed?", "inf"])
    assert name == "complete" and not answer["error"] and answer["citations"]
    name, (answer,) = call_ask(port, ["Who is the US special envoy?", None])
    assert name == "complete" and not answer["error"]
    name, (answer,) = call_ask(port, [12345, 5])
    assert name == "complete" and "must be text" in answer["error"]
    marker = "Q" * 200_000
    name, (answer,) = call_ask(port, [marker, 5])
    assert name == "complete" and "characters long; the limit is" in answer["error"]
    for data in ([], [marker]):  # arguments missing: refused before Gradio would log them whole
        status, _, body = request(
            port, "POST", "/gradio_api/call/ask", json.dumps({"data": data}).encode(),
            {"Content-Type": "application/json"},
        )  # fmt: skip
        assert status == 422 and f"/ask takes 2 arguments, {len(data)} given" in json.loads(body)["error"]
    status, _, body = request(
        port, "POST", "/gradio_api/call/ask", b"{not json", {"Content-Type": "application/json"}
    )
    assert status == 422 and "not JSON" in json.loads(body)["error"]
    name, _ = call_ask(port, ["Who is the US special envoy?", 5, "one too many"])
    assert name == "complete"

    out, err = capfd.readouterr()
    logged = out + err
    assert "Traceback" not in logged
    assert "Q" * (guard.LOG_MAX_CHARS + 1) not in logged  # nothing user-sized in the log


def test_beyond_loopback_warns_and_requires_the_token(engine) -> None:  # type: ignore[no-untyped-def]
    assert guard.bind_warning("127.0.0.1", 7860, "") == ""
    open_warning = guard.bind_warning("0.0.0.0", 7860, "")
    assert "without authentication" in open_warning and "--auth-token" in open_warning

    token = "s3cret-" + uuid.uuid4().hex[:8]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", RAG_AUTH_TOKEN=token)
    rag = str(Path(sys.executable).parent / "rag")
    log = Path(engine.settings.index_dir).parent / f"serve-{port}.log"
    with open(log, "wb") as out:
        index = str(engine.settings.index_dir)
        proc = subprocess.Popen(
            [rag, "serve", "--host", "0.0.0.0", "--port", str(port), "--index-dir", index],
            env=env, stdout=out, stderr=out,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        status = 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = request(port, "GET", "/")[0]
                break
            except OSError:
                time.sleep(0.5)
        assert status == 401, log.read_text()
        text = log.read_text()
        assert "warning: --host 0.0.0.0 makes the server reachable from other machines" in text
        assert token not in text  # the token is never printed

        assert request(port, "GET", "/?token=wrong-token")[0] == 401
        status, headers, _ = request(port, "GET", f"/?token={token}")
        assert status == 200 and "rag_token=" in headers.get("set-cookie", "")
        name, (answer,) = call_ask(
            port, ["Who is the US special envoy?", 3], {"Authorization": f"Bearer {token}"}
        )
        assert name == "complete" and answer["citations"]
        assert request(port, "POST", "/gradio_api/call/ask", b'{"data": ["Who?", 3]}')[0] == 401
    finally:
        stop_process(proc)


# ---------------------------------------------------------------- finding 4: a new generation is served


def test_a_generation_written_while_serving_is_picked_up(
    tmp_path: Path,
    real_embedder,  # type: ignore[no-untyped-def]
    capfd: pytest.CaptureFixture[str],
) -> None:
    from rag.config import Settings
    from rag.pipeline import Engine
    from ui.app import build_app, launch

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "boat-race.txt").write_text(TINY_TEXT, encoding="utf-8")
    settings = Settings(seeds_dir=docs, index_dir=tmp_path / "index")
    engine = Engine.load(settings, real_embedder)
    app = build_app(settings, engine)
    port = free_port()
    launch(app, "127.0.0.1", port, block=False)
    try:
        question = ["Who is the pilot of the ferry to Gull Island?", 3]
        _, (before,) = call_ask(port, question)
        assert "Ines Varga" not in before["answer"]

        (docs / "ferry.txt").write_text(FERRY, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
        env["HF_HUB_OFFLINE"] = "1"
        rag = str(Path(sys.executable).parent / "rag")
        built = subprocess.run(
            [
                rag,
                "index",
                "--index-dir",
                str(settings.index_dir),
                "--trust-sources",
            ],  # built here, by the API
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert built.returncode == 0 and "indexed 2 documents" in built.stdout, built.stderr

        deadline = time.monotonic() + 60
        after: dict[str, Any] = {}
        while time.monotonic() < deadline:
            _, (after,) = call_ask(port, question)
            if "Ines Varga" in after["answer"]:
                break
            time.sleep(1)
        assert "Ines Varga" in after["answer"]
        assert any(c["doc_id"] == "ferry.txt" and c["quote"] in FERRY for c in after["citations"])
        _, err = capfd.readouterr()
        assert f"notice: the index in {settings.index_dir} has a new generation" in err
    finally:
        app.close()
        shutil.rmtree(tmp_path / "index", ignore_errors=True)

"""What a client sees when something fails (issue 18, items 3 and 7), through the real chat server.

No error names an absolute path of the server (files are named relative to the index); every error
is JSON, with a 4xx when the client is at fault (deeply nested JSON included), never a plain-text
500 or a traceback.
"""

from __future__ import annotations

import http.client
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.config import Settings
from tests.conftest import ARTICLE, free_port

pytestmark = pytest.mark.slow  # the real model and the real server


@pytest.fixture(scope="module")
def served(engine: Any) -> Iterator[tuple[Any, int]]:
    from ui.app import build_app, launch

    app = build_app(engine.settings, engine)
    port = free_port()
    launch(app, "127.0.0.1", port, block=False)
    try:
        yield app, port
    finally:
        app.close()


def request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body, {"Content-Type": "application/json"} if body else {})
        response = conn.getresponse()
        return response.status, response.getheader("content-type") or "", response.read()
    finally:
        conn.close()


def test_an_error_names_no_absolute_path_of_the_server(served: tuple[Any, int]) -> None:
    app, port = served
    index = Path(app.rag_chat.settings.index_dir).resolve()
    for path in (f"/gradio_api/file={index}/manifest.json", f"/gradio_api/file={index}/../secret.txt"):
        status, kind, body = request(port, "GET", path)
        assert 400 <= status < 500 and "json" in kind
        text = json.loads(body)
        assert str(index) not in body.decode() and str(index.parent) not in body.decode(), text


def test_deeply_nested_json_is_a_json_400(served: tuple[Any, int]) -> None:
    _, port = served
    deep = b'{"data": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}"
    for path in ("/gradio_api/call/ask", "/v1/chat/completions", "/gradio_api/queue/join"):
        status, kind, body = request(port, "POST", path, deep)
        assert 400 <= status < 500, (path, status, body[:200])
        assert "json" in kind and "nested too deeply" in body.decode(), (path, body[:200])


def test_every_error_is_json(served: tuple[Any, int]) -> None:
    _, port = served
    for method, path, body in (
        ("GET", "/no/such/page", None),
        ("POST", "/gradio_api/call/ask", b"not json"),
        ("POST", "/v1/chat/completions", b"[1, 2]"),
        ("POST", "/gradio_api/call/ask", b'{"data": []}'),
    ):
        status, kind, reply = request(port, method, path, body)
        assert 400 <= status < 500 and "json" in kind, (path, status, kind)
        json.loads(reply)


def test_a_refused_upload_names_its_file_relative_to_the_index(tmp_path: Path, real_embedder: Any) -> None:
    from rag.index.indexer import update_index
    from rag.pipeline import Engine
    from ui.app import ChatApp
    from ui.render import Conversation

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(ARTICLE, seeds / ARTICLE.name)
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    update_index(settings, lambda: real_embedder, [seeds])
    handlers = ChatApp(Engine.load(settings, real_embedder))
    binary = tmp_path / "in" / "data.txt"
    binary.parent.mkdir()
    binary.write_bytes(b"text\x00\x01\x02 with NUL bytes")
    *_, last = handlers.add([str(binary)], Conversation())
    status = str(last[-1])
    assert "error" in status and "uploads/data.txt" in status, status
    assert str(tmp_path) not in status

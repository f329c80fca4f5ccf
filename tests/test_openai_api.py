"""The OpenAI-compatible API on `rag serve`, called with the official `openai` Python client.

Fast tests run the real Gradio app with the API mounted (ui.app.launch) over a tiny corpus and the
fake embedder; the slow test starts a real `rag serve` on a loopback port over the article (real
model, real index) and checks the article's facts, follow-ups, streaming and quotes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.config import Settings
from rag.index.indexer import update_index
from rag.pipeline import Engine
from tests.conftest import ARTICLE, FakeEmbedder, free_port, stop_process
from tests.test_ui_api import wait_until_up

openai = pytest.importorskip("openai")


def _client(base: str, key: str = "unused") -> Any:
    return openai.OpenAI(base_url=f"{base}v1", api_key=key, max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def tiny_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    from ui.app import build_app, launch

    root = tmp_path_factory.mktemp("api")
    docs = root / "docs"
    docs.mkdir()
    (docs / "boat-race.txt").write_text(
        "The river town of Elmford held its annual boat race on Sunday. Forty-two crews took part.\n"
        "The winning crew came from the village of Lower Brook. "
        "Their captain, Mara Quill, has rowed for ten years.\n",
        encoding="utf-8",
    )
    settings = Settings(seeds_dir=docs, index_dir=root / "index")
    embedder = FakeEmbedder()
    update_index(settings, lambda: embedder)
    engine = Engine.load(settings, embedder)
    app = build_app(settings, engine)
    url = launch(app, "127.0.0.1", free_port(), block=False)
    try:
        yield url, engine
    finally:
        app.close()


def test_models_and_a_completion_with_citations(tiny_server: tuple[str, Engine]) -> None:
    url, engine = tiny_server
    client = _client(url)
    assert [m.id for m in client.models.list().data] == ["rag"]
    reply = client.chat.completions.create(
        model="rag", messages=[{"role": "user", "content": "Who was the captain of the winning crew?"}]
    )
    message = reply.choices[0].message
    assert message.role == "assistant" and message.content
    extra = reply.model_extra or {}
    rag = extra["rag"]
    assert rag["answer"] == message.content and rag["question"] == "Who was the captain of the winning crew?"
    cites = (message.model_extra or {})["citations"]
    assert cites == [{"index": i, **c} for i, c in enumerate(rag["citations"], 1)]
    docs = engine.retriever.store.documents
    for c in cites:
        assert docs[c["doc_id"]].text[c["start"] : c["end"]] == c["quote"]


def test_history_and_small_talk_and_content_parts(tiny_server: tuple[str, Engine]) -> None:
    client = _client(tiny_server[0])
    messages: list[Any] = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Who is the captain?"},
        {"role": "assistant", "content": "Mara Quill [1]. “Their captain, Mara Quill, has rowed.” [1]"},
        {"role": "user", "content": [{"type": "text", "text": "How long has she rowed?"}]},
    ]
    reply = client.chat.completions.create(model="anything", messages=messages)
    rag = (reply.model_extra or {})["rag"]
    assert rag["resolved_question"] == "How long has Mara Quill rowed?"
    assert reply.model == "anything"
    hello = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": "hello!"}])
    assert (hello.model_extra or {})["rag"]["kind"] == "smalltalk"


def test_streaming_sends_the_verified_answer(tiny_server: tuple[str, Engine]) -> None:
    client = _client(tiny_server[0])
    question = [{"role": "user", "content": "Where did the winning crew come from?"}]
    whole = client.chat.completions.create(model="rag", messages=question)
    chunks = list(client.chat.completions.create(model="rag", messages=question, stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["rag"]["answer"] == text
    assert (last.choices[0].delta.model_extra or {})["citations"] == (
        whole.choices[0].message.model_extra or {}
    )["citations"]


def test_errors_have_openais_shape(tiny_server: tuple[str, Engine]) -> None:
    url = tiny_server[0]
    client = _client(url)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="rag", messages=[{"role": "user", "content": "   "}])
    assert "empty" in caught.value.message and caught.value.code == "invalid_question"
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="rag", messages=[])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="rag", messages=[{"role": "assistant", "content": "hi"}])
    for body in (b"not json", b"[1, 2]", json.dumps({"messages": "hi"}).encode()):
        status, data = _post(f"{url}v1/chat/completions", body)
        assert status == 400 and set(data["error"]) == {"message", "type", "param", "code"}
    status, data = _post(f"{url}v1/chat/completions", b"x" * (300 * 1024))
    assert status == 413 and "limit" in data["error"]["message"]


def test_a_token_is_required_when_the_server_has_one(
    tiny_server: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = tiny_server[0]
    monkeypatch.setenv("RAG_AUTH_TOKEN", "s3cret")
    with pytest.raises(openai.AuthenticationError) as caught:
        _client(url, "wrong").models.list()
    assert "Bearer" in caught.value.message
    with pytest.raises(openai.AuthenticationError):
        _client(url, "wrong").chat.completions.create(
            model="rag", messages=[{"role": "user", "content": "Hi"}]
        )
    assert _client(url, "s3cret").models.list().data[0].id == "rag"


def _post(url: str, body: bytes) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.slow
def test_rag_serve_answers_the_openai_client(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(ARTICLE, seeds / ARTICLE.name)
    port = free_port()
    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_SEEDS_DIR": str(seeds)}
    env.pop("RAG_AUTH_TOKEN", None)
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, proc, log)
        client = _client(url)
        first = client.chat.completions.create(
            model="rag", messages=[{"role": "user", "content": "Which airline did the US ease sanctions on?"}]
        )
        assert "Belavia" in (first.choices[0].message.content or "")
        article = ARTICLE.read_text(encoding="utf-8")
        for c in (first.choices[0].message.model_extra or {})["citations"]:
            assert article[c["start"] : c["end"]] == c["quote"]
        follow = client.chat.completions.create(
            model="rag",
            messages=[
                {"role": "user", "content": "Who led the talks in Minsk?"},
                {"role": "assistant", "content": _ask(client, "Who led the talks in Minsk?")},
                {"role": "user", "content": "What did he give Lukashenko?"},
            ],
        )
        assert (follow.model_extra or {})["rag"][
            "resolved_question"
        ] == "What did John Coale give Lukashenko?"
        stream = client.chat.completions.create(
            model="rag",
            messages=[{"role": "user", "content": "Why did Poland close its border?"}],
            stream=True,
        )
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert "security" in text
    finally:
        stop_process(proc)
        log.close()


def _ask(client: Any, question: str) -> str:
    reply = client.chat.completions.create(model="rag", messages=[{"role": "user", "content": question}])
    return str(reply.choices[0].message.content)

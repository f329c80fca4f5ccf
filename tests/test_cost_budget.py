"""The cost budget of a document (issue 18, item 1): through the real CLI and the real chat server.

A document over its sentence or chunk budget is left out whole, with a message naming it and the
limit; a panel upload over the (tighter) upload budget is refused and not kept; an upload is
indexed in a job that reports its progress; the server listens before its example questions are
drawn. Timings are printed by benchmarks/hostile_uploads.py, never asserted here.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.config import PROJECT_ROOT, Settings
from rag.index.budget import BudgetError, chunks_within
from rag.index.store import read_manifest
from rag.types import Document
from tests.conftest import ARTICLE, TINY_TEXT, free_port

pytestmark = pytest.mark.slow  # the real model

CLI = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]


def rag(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=full, timeout=600)


@pytest.mark.parametrize(
    "shape",
    ["word\n" * 1_000_000, "word\n\n" * 700_000, "Ab. " * 1_250_000, "Ab cd. " * 700_000],
    ids=["one-word-lines", "blank-line-words", "tiny-sentences", "short-sentences"],
)
def test_five_megabytes_of_any_shape_over_the_budget_is_refused_naming_the_limit(shape: str) -> None:
    doc = Document("hostile.txt", shape, "", "")
    with pytest.raises(BudgetError, match=r"hostile\.txt: .* over the limit of 20,000 (sentences|chunks)"):
        chunks_within(doc, Settings())


def test_text_without_sentence_ends_is_chunked_whole_within_the_budget() -> None:
    text = ("lorem ipsum dolor sit amet " * 200_000)[:5_000_000]
    chunks = chunks_within(Document("noend.txt", text, "", ""), Settings())
    assert 0 < len(chunks) <= 20_000
    covered = sum(c.end - c.start for c in chunks)
    assert covered >= len(text.strip()) - len(chunks)  # pieces cut at spaces: nothing lost
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_rag_index_leaves_out_a_document_over_budget_whole_and_names_it(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "boat-race.txt").write_text(TINY_TEXT, encoding="utf-8")
    (docs / "lines.txt").write_text("word\n" * 300_000, encoding="utf-8")
    index = tmp_path / "index"
    done = rag("index", "--index-dir", str(index), str(docs))
    assert done.returncode == 0, done.stderr
    assert (
        "lines.txt: at least 300,000 chunks (one per paragraph), over the limit of 20,000 chunks"
        in done.stderr
    )
    assert "RAG_MAX_DOCUMENT_CHUNKS" in done.stderr
    manifest = read_manifest(index)
    assert manifest is not None and set(manifest["documents"]) == {"boat-race.txt"}

    # a limit set in the environment; the only document over it: one line, nothing written
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(ARTICLE, alone / ARTICLE.name)
    index2 = tmp_path / "index2"
    done = rag("index", "--index-dir", str(index2), str(alone), env={"RAG_MAX_DOCUMENT_SENTENCES": "20"})
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert f"{ARTICLE.name}: more than 20 sentences, over the limit of 20 sentences" in lines[0]
    assert "RAG_MAX_DOCUMENT_SENTENCES" in lines[0] and "Traceback" not in done.stderr
    assert read_manifest(index2) is None


@pytest.fixture
def own_engine(tmp_path: Path, real_embedder: Any) -> Any:
    """The real pipeline over a fresh index of the article that this test may change."""
    from rag.index.indexer import update_index
    from rag.pipeline import Engine

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(ARTICLE, seeds / ARTICLE.name)
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    update_index(settings, lambda: real_embedder, [seeds])
    return Engine.load(settings, real_embedder)


def run_upload(handlers: Any, path: Path) -> list[str]:
    from ui.render import Conversation

    return [str(outputs[-1]) for outputs in handlers.add([str(path)], Conversation())]


def test_a_panel_upload_over_budget_is_refused_and_not_kept(own_engine: Any, tmp_path: Path) -> None:
    from rag.index.library import uploads_dir
    from ui.app import ChatApp

    handlers = ChatApp(own_engine)
    before = set(handlers.live.documents)
    hostile = tmp_path / "in" / "dots.txt"
    hostile.parent.mkdir()
    hostile.write_text("Ab. " * 1_250_000, encoding="utf-8")  # 5 MB of tiny sentences
    statuses = run_upload(handlers, hostile)
    assert "error" in statuses[-1]
    assert "dots.txt: more than 4,000 sentences, over the limit of 4,000 sentences" in statuses[-1]
    assert "RAG_MAX_UPLOAD_SENTENCES" in statuses[-1]
    assert set(handlers.live.documents) == before
    assert not [p for p in uploads_dir(own_engine.settings).glob("*") if p.is_file()]  # nothing kept
    assert not hostile.exists()  # the server's temporary copy is gone too


def test_an_upload_is_indexed_in_a_job_that_reports_progress(
    own_engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ui.app
    from ui.app import ChatApp

    monkeypatch.setattr(ui.app, "PROGRESS_EVERY_S", 0.05)
    handlers = ChatApp(own_engine)
    notes = tmp_path / "in" / "notes.txt"
    notes.parent.mkdir()
    notes.write_text(
        "\n\n".join(f"The lighthouse keeper logged ship number {i} passing at dawn." for i in range(300)),
        encoding="utf-8",
    )
    statuses = run_upload(handlers, notes)
    assert any("Adding notes.txt:" in s for s in statuses[:-1]), statuses[:3]
    assert "Added notes.txt" in statuses[-1] and "error" not in statuses[-1]
    assert "notes.txt" in handlers.live.documents


@pytest.fixture
def slow_examples(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Example questions that wait until the test lets them be drawn (in addition to the real ones)."""
    import ui.app

    release = threading.Event()
    real = ui.app.draw_examples

    def held(*args: Any, **kwargs: Any) -> list[str]:
        release.wait(120)
        return real(*args, **kwargs)

    monkeypatch.setattr(ui.app, "draw_examples", held)
    yield release
    release.set()


def call(port: int, name: str, data: list[Any]) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(
        "POST", f"/gradio_api/call/{name}", json.dumps({"data": data}), {"Content-Type": "application/json"}
    )
    event_id = json.loads(conn.getresponse().read())["event_id"]
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", f"/gradio_api/call/{name}/{event_id}")
    stream = conn.getresponse().read().decode()
    conn.close()
    return json.loads(stream.strip().split("data: ")[-1])


def test_the_server_listens_before_its_example_questions_are_drawn(
    engine: Any, slow_examples: threading.Event
) -> None:
    from ui.app import build_app, launch

    app = build_app(engine.settings, engine)
    port = free_port()
    launch(app, "127.0.0.1", port, block=False)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/")
        assert conn.getresponse().status == 200
        conn.close()
        assert call(port, "examples", []) == [[]]  # not drawn yet
        assert call(port, "ask", ["Who is the US special envoy?", 3])[0]["citations"]  # questions answered
        slow_examples.set()
        assert app.rag_chat.examples_ready.wait(120)
        (drawn,) = call(port, "examples", [])
        assert drawn and all(q.endswith("?") for q in drawn)
    finally:
        app.close()


def test_a_large_markdown_upload_is_refused_before_it_is_parsed(own_engine: Any, tmp_path: Path) -> None:
    from ui.app import ChatApp

    handlers = ChatApp(own_engine)
    headings = tmp_path / "in" / "headings.md"
    headings.parent.mkdir()
    headings.write_text("# Heading\n\nSome text under it.\n\n" * 60_000, encoding="utf-8")  # 2 MB
    statuses = run_upload(handlers, headings)
    assert (
        "error" in statuses[-1] and "Markdown or HTML" in statuses[-1] and "limited to 1 MB" in statuses[-1]
    )
    assert "headings.md" not in handlers.live.documents

"""One truth for every writer and every tab (issue 18, item 6): the real indexer, model and chat handlers.

Same-name uploads never overwrite each other; a panel upload while `rag index` runs loses nothing;
a tab that listed the documents before an upload in another tab searches the upload; an upload's
file is deleted only once the index no longer needs it; a question whose document was removed
while it ran says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from rag.config import PROJECT_ROOT, Settings
from rag.errors import DiskFullError
from rag.index.store import read_manifest
from tests.conftest import ARTICLE
from ui.render import Conversation

pytestmark = pytest.mark.slow  # the real model

LIGHTHOUSE = "The lighthouse keeper of Gull Point is Ines Varga. She has kept the light for twelve years.\n"


@pytest.fixture
def handlers(tmp_path: Path, real_embedder: Any) -> Any:
    """The chat's handlers over the real pipeline and a fresh index of the article."""
    from rag.index.indexer import update_index
    from rag.pipeline import Engine
    from ui.app import ChatApp

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(ARTICLE, seeds / ARTICLE.name)
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    update_index(settings, lambda: real_embedder, [seeds])
    return ChatApp(Engine.load(settings, real_embedder))


def file_in(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def final_status(outputs: Any) -> str:
    *_, last = outputs
    return str(last[-1])


def test_24_concurrent_same_name_uploads_keep_24_documents(handlers: Any, tmp_path: Path) -> None:
    statuses: list[str] = []

    def upload(i: int) -> None:
        path = file_in(
            tmp_path / f"client-{i}", "report.md", f"# Report {i}\n\nShip {i} reached harbour {i}.\n"
        )
        statuses.append(final_status(handlers.add([str(path)], Conversation())))

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    assert len(statuses) == 24 and all("Added report.md" in s and "error" not in s for s in statuses)
    reports = sorted(d for d in handlers.live.documents if d.startswith("report"))
    assert len(reports) == 24, reports
    manifest = read_manifest(handlers.settings.index_dir)
    assert manifest is not None and len([d for d in manifest["documents"] if d.startswith("report")]) == 24
    texts = {handlers.live.documents[d].text for d in reports}
    assert len(texts) == 24  # no upload replaced another


def test_a_panel_upload_during_rag_index_loses_nothing(handlers: Any, tmp_path: Path) -> None:
    docs = tmp_path / "many"
    for i in range(300):
        file_in(docs, f"note-{i:03d}.txt", f"Note {i}: the shed number {i} holds {i + 3} rakes.\n")
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1"}
    cli = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]
    index = str(handlers.settings.index_dir)
    proc = subprocess.Popen(
        [
            *cli,
            "index",
            "--index-dir",
            index,
            "--trust-sources",
            str(docs),
        ],  # its seeds were never named here
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert wait_until_locked(handlers.settings.index_dir / ".build.lock", proc)  # `rag index` is building
    upload = file_in(tmp_path / "browser", "lighthouse.txt", LIGHTHOUSE)
    status = final_status(handlers.add([str(upload)], Conversation()))  # waits for it, then adds
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err
    assert "Added lighthouse.txt" in status
    manifest = read_manifest(handlers.settings.index_dir)
    assert manifest is not None
    names = set(manifest["documents"])
    assert "lighthouse.txt" in names and len([n for n in names if n.startswith("note-")]) == 300


def wait_until_locked(lock: Path, proc: subprocess.Popen[bytes]) -> bool:
    """Wait until another process holds the index's build lock (True), or has ended (False)."""
    from filelock import FileLock, Timeout

    while proc.poll() is None:
        probe = FileLock(str(lock))
        try:
            probe.acquire(timeout=0)
        except Timeout:
            return True
        probe.release()
        time.sleep(0.05)
    return False


def test_a_tab_listed_before_an_upload_searches_it(handlers: Any, tmp_path: Path) -> None:
    listed = sorted(handlers.live.documents)  # what a tab opened before the upload shows
    upload = file_in(tmp_path / "other-tab", "lighthouse.txt", LIGHTHOUSE)
    assert "Added lighthouse.txt" in final_status(handlers.add([str(upload)], Conversation()))
    assert "lighthouse.txt" in handlers.library_view()[-1]  # a tab (re)loaded now lists it
    *_, final = handlers.chat_turn("Who is the lighthouse keeper?", 5, listed, Conversation(), listed)
    conv = final[2]
    answer = conv.turns[-1].answer
    assert not answer.error and answer.citations and answer.citations[0].doc_id == "lighthouse.txt"
    assert "lighthouse.txt" in final[-1]  # the tab's list is brought up to date


def test_a_question_whose_document_is_removed_meanwhile_says_so(handlers: Any, tmp_path: Path) -> None:
    upload = file_in(tmp_path / "in", "lighthouse.txt", LIGHTHOUSE)
    final_status(handlers.add([str(upload)], Conversation()))
    names = sorted(handlers.live.documents)
    turn = handlers.chat_turn("Who is the lighthouse keeper?", 5, ["lighthouse.txt"], Conversation(), names)
    next(turn)  # the question has started, on the documents of then
    assert "Removed lighthouse.txt" in final_status(handlers.remove("lighthouse.txt", Conversation()))
    *_, final = turn
    answer = final[2].turns[-1].answer
    assert answer.error and "lighthouse.txt was removed from the index" in answer.error
    assert final[3] == "Who is the lighthouse keeper?"  # the question returns to the box to ask again

    # a tab that still lists it, asking about it alone: told it is gone
    *_, final = handlers.chat_turn("Who keeps the light?", 5, ["lighthouse.txt"], Conversation(), names)
    assert "lighthouse.txt was removed from the index" in final[2].turns[-1].answer.error


def test_an_upload_is_deleted_only_once_the_index_no_longer_needs_it(
    handlers: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.index.library

    upload = file_in(tmp_path / "in", "lighthouse.txt", LIGHTHOUSE)
    final_status(handlers.add([str(upload)], Conversation()))
    stored = Path(handlers.live.documents["lighthouse.txt"].source)
    assert stored.exists()

    def full_disk(*args: Any, **kwargs: Any) -> Any:  # a full disk, in addition to the real indexer
        raise DiskFullError("the disk is full: 0 MB free, 2 MB needed; free some space")

    monkeypatch.setattr(rag.index.library, "update_index", full_disk)
    status = final_status(handlers.remove("lighthouse.txt", Conversation()))
    assert "error" in status and "disk is full" in status
    assert stored.exists() and "lighthouse.txt" in handlers.live.documents  # nothing lost
    added = final_status(
        handlers.add([str(file_in(tmp_path / "in2", "ferry.txt", "The ferry runs daily.\n"))], Conversation())
    )
    assert "error" in added
    assert not (stored.parent / "ferry.txt").exists()  # no copy left behind to be indexed later
    assert not [p for p in stored.parent.iterdir() if p.name.startswith(".")]  # nor a partial one

    monkeypatch.undo()
    assert "Removed lighthouse.txt" in final_status(handlers.remove("lighthouse.txt", Conversation()))
    assert not stored.exists()

"""A damaged index is detected, refused with the command that fixes it, and rebuilt; a build killed
midway leaves the previous index intact; concurrent builds are serialised by the lock.

Every kind of damage is applied to a real index folder: `store.load` must refuse it with a message
naming `rag index`, and `open_index` must rebuild it. With the real model, the rebuilt index must
answer exactly as the undamaged one does, with quotes that verify against the article on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from rag.config import PROJECT_ROOT, Settings
from rag.errors import IndexCorruptError, IndexMismatchError, RagError
from rag.index.indexer import LOCK_NAME, open_index, update_index
from rag.index.store import MANIFEST, load, read_manifest
from tests.conftest import ARTICLE, TINY_TEXT, FakeEmbedder

SECOND_TEXT = "The ferry to Gull Island runs twice a day. Its pilot is Ines Varga.\n"

# ---------------------------------------------------------------- helpers


def _manifest(index_dir: Path) -> dict:  # type: ignore[type-arg]
    manifest = read_manifest(index_dir)
    assert manifest is not None
    return manifest


def _gen(index_dir: Path) -> Path:
    return index_dir / _manifest(index_dir)["generation"]


def _write_manifest(index_dir: Path, manifest: dict) -> None:  # type: ignore[type-arg]
    (index_dir / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def _rehash(index_dir: Path, name: str) -> None:
    """Make the manifest's checksum agree with a file changed on purpose: only deeper checks can catch it."""
    manifest = _manifest(index_dir)
    manifest["files"][name] = hashlib.sha256((_gen(index_dir) / name).read_bytes()).hexdigest()
    _write_manifest(index_dir, manifest)


def _edit_chunks(index_dir: Path, edit: Callable[[dict], None]) -> None:  # type: ignore[type-arg]
    path = _gen(index_dir) / "chunks.json"
    table = json.loads(path.read_text(encoding="utf-8"))
    edit(table)
    path.write_text(json.dumps(table), encoding="utf-8")


def _edit_manifest(index_dir: Path, **changes: object) -> None:
    _write_manifest(index_dir, {**_manifest(index_dir), **changes})


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_bytes(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(len(data) - 64, len(data)):  # the last vectors' float bytes
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _drop_last_sentence(table: dict) -> None:  # type: ignore[type-arg]
    table["sentences"].pop()
    table["chunks"] = [c for c in table["chunks"] if all(i < len(table["sentences"]) for i in c["sentences"])]


def _shift_chunk(table: dict) -> None:  # type: ignore[type-arg]
    table["chunks"][0]["start"] += 3


def _sentence_past_the_end(table: dict) -> None:  # type: ignore[type-arg]
    table["sentences"][-1][2] += 10_000


def _fewer_vectors(index_dir: Path) -> None:
    path = _gen(index_dir) / "vectors.npy"
    vectors = np.load(path, allow_pickle=False)
    np.save(path, vectors[:-1], allow_pickle=False)
    _rehash(index_dir, "vectors.npy")


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated faiss.index": lambda d: _truncate(_gen(d) / "faiss.index"),
    "corrupted vectors.npy": lambda d: _flip_bytes(_gen(d) / "vectors.npy"),
    "vectors.npy short by one row, checksum updated": _fewer_vectors,
    "chunks.json edited": lambda d: _edit_chunks(d, _drop_last_sentence),
    "chunks.json one sentence short, checksum updated": lambda d: (
        _edit_chunks(d, _drop_last_sentence),
        _rehash(d, "chunks.json"),
    ),
    "chunk offsets shifted, checksum updated": lambda d: (
        _edit_chunks(d, _shift_chunk),
        _rehash(d, "chunks.json"),
    ),
    "sentence past the end of its text, checksum updated": lambda d: (
        _edit_chunks(d, _sentence_past_the_end),
        _rehash(d, "chunks.json"),
    ),
    "texts.json truncated": lambda d: _truncate(_gen(d) / "texts.json"),
    "manifest from another model": lambda d: _edit_manifest(d, model="paraphrase-mpnet-base-v2"),
    "manifest from another format version": lambda d: _edit_manifest(d, format_version=99),
    "manifest without checksums": lambda d: _edit_manifest(d, files=None),
    "manifest naming a path outside the index": lambda d: _edit_manifest(d, generation="../../etc"),
    "manifest with chunking garbage": lambda d: _edit_manifest(d, chunking=[1, 2]),
    "missing faiss.index": lambda d: (_gen(d) / "faiss.index").unlink(),
    "missing texts.json": lambda d: (_gen(d) / "texts.json").unlink(),
    "missing generation folder": lambda d: shutil.rmtree(_gen(d)),
    "manifest.json garbage": lambda d: (d / MANIFEST).write_bytes(b"\x00\xff{not json"),
    "manifest.json empty": lambda d: (d / MANIFEST).write_bytes(b""),
    "manifest.json a JSON list": lambda d: (d / MANIFEST).write_text("[1, 2, 3]"),
    "manifest.json missing": lambda d: (d / MANIFEST).unlink(),
}


def _tiny_index(tmp_path: Path, embedder: FakeEmbedder) -> Settings:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(TINY_TEXT, encoding="utf-8")
    settings = Settings(seeds_dir=docs, index_dir=tmp_path / "index")
    update_index(settings, lambda: embedder)
    return settings


def _leftovers(index_dir: Path) -> list[str]:
    current = _manifest(index_dir)["generation"]
    return sorted(
        p.name
        for p in index_dir.iterdir()
        if p.name.startswith((".tmp-", f".{MANIFEST}.")) or (p.name.startswith("gen-") and p.name != current)
    )


# ---------------------------------------------------------------- damage: fast, with the fake embedder


# the manifest is the record of what the index was built from: without it nothing may be rebuilt
MANIFEST_LOST = (
    "manifest.json garbage",
    "manifest.json empty",
    "manifest.json a JSON list",
    "manifest.json missing",
)


@pytest.mark.parametrize("kind", [k for k in DAMAGE if k not in MANIFEST_LOST])
def test_damage_is_refused_with_the_fix_and_rebuilt(tmp_path: Path, kind: str) -> None:
    embedder = FakeEmbedder()
    settings = _tiny_index(tmp_path, embedder)
    pristine = load(settings.index_dir, settings, embedder.name)

    DAMAGE[kind](settings.index_dir)

    with pytest.raises((IndexCorruptError, IndexMismatchError)) as caught:
        load(settings.index_dir, settings, embedder.name)
    assert "`rag index`" in str(caught.value)

    result = open_index(settings, lambda: embedder)
    assert not result.up_to_date and result.reason
    reloaded = load(settings.index_dir, settings, embedder.name)
    assert reloaded.chunks == pristine.chunks
    assert np.array_equal(reloaded.vectors, pristine.vectors)
    assert _leftovers(settings.index_dir) == []


def _files(index_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(index_dir)): p.read_bytes() for p in index_dir.rglob("*") if p.is_file()}


@pytest.mark.parametrize("kind", MANIFEST_LOST)
def test_lost_manifest_is_refused_naming_the_fix_and_nothing_is_deleted(tmp_path: Path, kind: str) -> None:
    embedder = FakeEmbedder()
    settings = _tiny_index(tmp_path, embedder)
    pristine = load(settings.index_dir, settings, embedder.name)
    other = tmp_path / "demo"  # what a careless fallback would index instead: must never happen
    other.mkdir()
    (other / "demo.txt").write_text(SECOND_TEXT, encoding="utf-8")
    settings = settings.replace(seeds_dir=other)
    DAMAGE[kind](settings.index_dir)
    before = _files(settings.index_dir)

    for attempt in (
        lambda: open_index(settings, lambda: embedder),
        lambda: update_index(settings, lambda: embedder),
    ):
        with pytest.raises(IndexCorruptError) as caught:
            attempt()
        assert f"`rag index --index-dir {settings.index_dir} PATHS`" in str(caught.value)
        assert "manifest.json" in str(caught.value)
        assert _files(settings.index_dir) == before  # not one byte of the index deleted or changed

    update_index(settings, lambda: embedder, [tmp_path / "docs"])  # the command the message names
    assert load(settings.index_dir, settings, embedder.name).chunks == pristine.chunks
    assert _leftovers(settings.index_dir) == []


def test_documents_gone_but_index_valid_is_served(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    settings = _tiny_index(tmp_path, embedder)
    pristine = load(settings.index_dir, settings, embedder.name)
    shutil.rmtree(settings.seeds_dir)
    calls = embedder.calls

    result = open_index(settings, lambda: embedder)

    assert result.up_to_date and "not all in" in result.reason
    assert result.store.chunks == pristine.chunks
    assert embedder.calls == calls  # nothing was rebuilt


def test_damaged_index_without_documents_says_what_to_do(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    settings = _tiny_index(tmp_path, embedder)
    shutil.rmtree(settings.seeds_dir)
    _truncate(_gen(settings.index_dir) / "faiss.index")
    with pytest.raises(RagError) as caught:
        open_index(settings, lambda: embedder)
    message = str(caught.value)
    assert "is damaged" in message and "faiss.index" in message  # what happened
    assert f"{settings.seeds_dir} no longer exists" in message  # why it cannot repair itself
    assert f"`rag index --index-dir {settings.index_dir} PATHS`" in message  # how to fix it


# ---------------------------------------------------------------- damage: the real model answers as before

QUESTIONS = (
    "How many political prisoners were freed?",
    "Which airline did the US ease sanctions on?",
    "What is the population of Minsk?",
)


@pytest.mark.slow
@pytest.mark.parametrize(
    "kind",
    [
        "truncated faiss.index",
        "corrupted vectors.npy",
        "chunks.json one sentence short, checksum updated",
        "manifest from another model",
        "missing generation folder",
    ],
)
def test_real_index_damaged_is_rebuilt_and_answers_as_before(
    tmp_path: Path,
    kind: str,
    engine,  # type: ignore[no-untyped-def]
    real_embedder,  # type: ignore[no-untyped-def]
) -> None:
    from rag.pipeline import Engine

    settings = engine.settings.replace(index_dir=tmp_path / "index")
    shutil.copytree(engine.settings.index_dir, settings.index_dir)
    DAMAGE[kind](settings.index_dir)
    with pytest.raises((IndexCorruptError, IndexMismatchError), match="`rag index`"):
        load(settings.index_dir, settings, real_embedder.name)

    repaired = Engine.load(settings, real_embedder)

    assert not repaired.index.up_to_date
    article = ARTICLE.read_text(encoding="utf-8")
    answered = 0
    for question in QUESTIONS:
        want, got = engine.ask(question).to_dict(), repaired.ask(question).to_dict()
        assert got["answer"] == want["answer"] and got["citations"] == want["citations"]
        assert all(article[c["start"] : c["end"]] == c["quote"] for c in got["citations"])
        answered += not got["abstained"]
    assert answered >= 2


@pytest.mark.slow
def test_real_index_whose_documents_are_gone_still_answers(
    tmp_path: Path,
    engine,  # type: ignore[no-untyped-def]
    real_embedder,  # type: ignore[no-untyped-def]
) -> None:
    from rag.pipeline import Engine

    settings = engine.settings.replace(index_dir=tmp_path / "index", seeds_dir=tmp_path / "gone")
    shutil.copytree(engine.settings.index_dir, settings.index_dir)
    _edit_manifest(settings.index_dir, sources=[str(tmp_path / "moved-away")])

    served = Engine.load(settings, real_embedder)

    assert served.index.up_to_date
    question = QUESTIONS[1]
    assert served.ask(question).to_dict()["citations"] == engine.ask(question).to_dict()["citations"]


# ---------------------------------------------------------------- a build killed midway

# Runs a build in a child process and stops it at `point` (writes the marker file, then sleeps
# until the parent kills it). The embedder is the tests' fake one; the stops are patched in.
CHILD = r"""
import sys, time
from pathlib import Path
import rag.index.store as store
from rag.config import Settings
from rag.index.indexer import update_index
from tests.conftest import FakeEmbedder

point, index_dir, docs, marker = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])

def stop():
    marker.write_text(point)
    time.sleep(300)

class StoppingEmbedder(FakeEmbedder):
    def encode(self, texts, **kw):
        if point == "embedding":
            stop()
        return super().encode(texts, **kw)

real_write_json, real_fsync_dir, real_atomic = store._write_json, store._fsync_dir, store.write_json_atomic
real_remove = store.remove_old_generations
removals = []

def write_json(path, data):
    half_written = (point == "generation file" and path.name == "chunks.json") or (
        point == "manifest file" and path.name.startswith(".manifest.json"))
    if half_written:
        import json
        text = json.dumps(data)
        path.write_text(text[: len(text) // 2])
        stop()
    real_write_json(path, data)

def fsync_dir(folder):
    if point == "generation written":
        stop()
    real_fsync_dir(folder)

def atomic(path, data):
    if point == "generation renamed":
        stop()
    real_atomic(path, data)

def remove(index_dir, keep):
    removals.append(keep)
    if point == "manifest committed" and len(removals) == 2:
        stop()
    real_remove(index_dir, keep)

store._write_json, store._fsync_dir, store.write_json_atomic = write_json, fsync_dir, atomic
store.remove_old_generations = remove
update_index(Settings(seeds_dir=docs, index_dir=index_dir), StoppingEmbedder, force=True)
marker.write_text("finished")
"""

KILL_POINTS = [
    "embedding",
    "generation file",
    "generation written",
    "generation renamed",
    "manifest file",
    "manifest committed",
]


def _run_and_kill(point: str, settings: Settings, tmp_path: Path) -> None:
    marker = tmp_path / "stopped"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, point, str(settings.index_dir), str(settings.seeds_dir), str(marker)],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(1200):  # up to 60 s for the child to reach its stop
            # the marker may exist before its text is written: wait for the text
            if (marker.exists() and marker.read_text()) or child.poll() is not None:
                break
            time.sleep(0.05)
        assert marker.exists(), (
            child.stderr.read().decode() if child.poll() is not None else "child never stopped"
        )
        assert marker.read_text() == point
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        assert child.stderr is not None
        child.stderr.close()


@pytest.mark.parametrize("point", KILL_POINTS)
def test_build_killed_midway_leaves_a_whole_index(tmp_path: Path, point: str) -> None:
    from filelock import FileLock

    embedder = FakeEmbedder()
    settings = _tiny_index(tmp_path, embedder)
    (settings.seeds_dir / "b.txt").write_text(SECOND_TEXT, encoding="utf-8")

    _run_and_kill(point, settings, tmp_path)

    # the folder holds a whole index: the previous one, or the new one once the manifest was committed
    survivor = load(settings.index_dir, settings, embedder.name)
    expected = {"a.txt", "b.txt"} if point == "manifest committed" else {"a.txt"}
    assert set(survivor.documents) == expected
    if point not in ("embedding", "manifest committed"):
        assert _leftovers(settings.index_dir), "the kill should have left a half-written build behind"
    # the dead build's lock was released with its process
    lock = FileLock(str(settings.index_dir / LOCK_NAME), timeout=10)
    lock.acquire()
    lock.release()
    # the next build cleans up after it and indexes both documents
    result = update_index(settings, lambda: embedder)
    assert set(result.store.documents) == {"a.txt", "b.txt"}
    assert _leftovers(settings.index_dir) == []
    assert set(load(settings.index_dir, settings, embedder.name).documents) == {"a.txt", "b.txt"}


def test_next_build_cleans_leftovers_even_when_nothing_changed(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    settings = _tiny_index(tmp_path, embedder)
    _run_and_kill("generation written", settings, tmp_path)  # a forced rebuild of the same documents
    assert _leftovers(settings.index_dir)

    result = update_index(settings, lambda: embedder)

    assert result.up_to_date
    assert _leftovers(settings.index_dir) == []


# ---------------------------------------------------------------- concurrent builds

# Builds with an embedder that logs when it starts and stops embedding, so the parent can see
# whether two builds ever embedded at the same time (they must not: the lock serialises them).
LOGGING_CHILD = r"""
import os, sys, time
from pathlib import Path
from rag.config import Settings
from rag.index.indexer import update_index
from tests.conftest import FakeEmbedder

index_dir, docs, log = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]

def note(event):
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, f"{os.getpid()} {event}\n".encode())
    os.close(fd)

class LoggingEmbedder(FakeEmbedder):
    def encode(self, texts, **kw):
        note("start")
        time.sleep(0.5)  # widen the window in which an unlocked build would overlap
        note("end")
        return super().encode(texts, **kw)

update_index(Settings(seeds_dir=docs, index_dir=index_dir), LoggingEmbedder, force=True)
"""


def test_concurrent_builds_are_serialised(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(TINY_TEXT, encoding="utf-8")
    settings = Settings(seeds_dir=docs, index_dir=tmp_path / "index")
    log = tmp_path / "log"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", LOGGING_CHILD, str(settings.index_dir), str(docs), str(log)],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        )
        for _ in range(3)
    ]
    assert [c.wait(timeout=120) for c in children] == [0, 0, 0]

    events = [line.split() for line in log.read_text().splitlines()]
    assert len(events) == 6
    for start, end in zip(events[::2], events[1::2], strict=True):
        assert start[1] == "start" and end[1] == "end" and start[0] == end[0]  # never two builds at once
    assert set(load(settings.index_dir, settings, "all-MiniLM-L6-v2").documents) == {"a.txt"}
    assert _leftovers(settings.index_dir) == []


@pytest.mark.slow
def test_two_rag_index_runs_at_once_both_succeed(tmp_path: Path, engine) -> None:  # type: ignore[no-untyped-def]
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(ARTICLE, docs / ARTICLE.name)
    (docs / "b.txt").write_text(SECOND_TEXT, encoding="utf-8")
    index_dir = tmp_path / "index"
    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir), "RAG_SEEDS_DIR": str(docs)}
    rag = str(Path(sys.executable).parent / "rag")
    runs = [
        subprocess.Popen(
            [rag, "index", "--force", str(docs)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=300) for run in runs]

    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
        assert "indexed 2 documents" in out
        assert "Traceback" not in err
    settings = engine.settings.replace(index_dir=index_dir, seeds_dir=docs)
    store = load(index_dir, settings, "all-MiniLM-L6-v2")
    assert set(store.documents) == {ARTICLE.name, "b.txt"}
    assert store.vectors.shape == (len(store.sentence_spans), 384)
    assert _leftovers(index_dir) == []


def test_unusable_index_folder_is_one_line_error(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(TINY_TEXT, encoding="utf-8")
    not_a_folder = tmp_path / "index"
    not_a_folder.write_text("a file where the index folder should be", encoding="utf-8")
    rag = str(Path(sys.executable).parent / "rag")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    done = subprocess.run(
        [rag, "index", "--index-dir", str(not_a_folder), str(docs)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and str(not_a_folder) in done.stderr
    assert "Traceback" not in done.stderr

"""The index's life: build it from documents, keep it current, repair it, one builder at a time.

`update_index` reads the documents, reuses the vectors of unchanged ones and writes a new
generation under a file lock. `open_index` loads a verified index, rebuilding it when it is
missing, damaged, stale or built under other settings, as long as its documents are at hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rag.config import Settings
from rag.embed import Embedder
from rag.errors import IndexCorruptError, IndexLockedError, IndexMismatchError, NoDocumentsError
from rag.ingest import Skipped, discover, load_documents, sha256_bytes
from rag.store import BuildReport, Store, build, load, read_manifest, remove_leftovers, save
from rag.types import Document

LOCK_NAME = ".build.lock"
LOCK_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class IndexResult:
    store: Store
    report: BuildReport
    skipped: tuple[Skipped, ...] = ()
    up_to_date: bool = False
    reason: str = ""  # why it was (re)built


def default_sources(settings: Settings) -> list[Path]:
    """What the index at settings.index_dir was built from, or the seeds folder."""
    try:
        manifest = read_manifest(settings.index_dir)
    except IndexCorruptError:
        manifest = None
    recorded = (manifest or {}).get("sources")
    if not isinstance(recorded, list) or not all(isinstance(p, str) and p for p in recorded):
        recorded = []  # a damaged manifest: fall back to the seeds folder
    return [Path(p) for p in recorded] or [settings.seeds_dir]


def update_index(
    settings: Settings,
    embedder_factory: Callable[[], Embedder],
    paths: Sequence[Path] | None = None,
    progress: bool = False,
    force: bool = False,
) -> IndexResult:
    """Build or refresh the index from `paths` (default: the seeds folder)."""
    sources = [Path(p).resolve() for p in (paths or [settings.seeds_dir])]
    with _lock(settings.index_dir):
        remove_leftovers(settings.index_dir)  # of a build that was killed midway
        previous, reason = _try_load(settings, settings.model_name)
        docs, skipped = read_documents(discover(sources), previous, settings.max_document_bytes)
        if not docs:
            detail = "; ".join(s.reason for s in skipped) or "no .txt, .md or .html files"
            raise NoDocumentsError(f"nothing to index in {', '.join(map(str, sources))}: {detail}")
        current = {d.doc_id: d.sha256 for d in docs}
        if previous is not None and not force and _same(previous, current, sources):
            return IndexResult(previous, BuildReport(reused_docs=tuple(current)), tuple(skipped), True)
        store, report = build(docs, settings, embedder_factory(), previous, progress)
        save(store, settings.index_dir, [str(s) for s in sources], report)
        return IndexResult(store, report, tuple(skipped), False, reason or "documents changed")


def open_index(settings: Settings, embedder_factory: Callable[[], Embedder]) -> IndexResult:
    """A verified, current index: loaded when it is, (re)built when it is not."""
    sources = default_sources(settings)
    store, reason = _try_load(settings, settings.model_name)
    if store is not None:
        present = [p for p in sources if p.exists()]
        docs, skipped = read_documents(discover(present), store, settings.max_document_bytes)
        if not docs or len(present) < len(sources):
            # its documents are gone (moved, unmounted, another machine) but the index is valid: serve it
            why = f"its documents are not all in {', '.join(map(str, sources))}; serving the index as built"
            return IndexResult(store, BuildReport(), tuple(skipped), True, why)
        if _same(store, {d.doc_id: d.sha256 for d in docs}, [p.resolve() for p in sources]):
            return IndexResult(store, BuildReport(), tuple(skipped), True)
        reason = "documents changed since the index was built"
    result = update_index(settings, embedder_factory, sources)
    return IndexResult(result.store, result.report, result.skipped, result.up_to_date, reason)


def read_documents(
    files: Sequence[tuple[Path, str]], previous: Store | None, max_bytes: int
) -> tuple[list[Document], list[Skipped]]:
    """Like `load_documents`, but a file whose bytes hash as when `previous` was built keeps the
    text extracted then: checking a folder of unchanged HTML then costs a hash, not a parse."""
    known = {(d.doc_id, d.sha256): d for d in previous.documents.values()} if previous else {}
    docs: list[Document] = []
    skipped: list[Skipped] = []
    for path, doc_id in files:
        try:
            data = path.read_bytes() if known and path.stat().st_size <= max_bytes else None
        except OSError:
            data = None  # load_documents below says why
        same = known.get((doc_id, sha256_bytes(data))) if data is not None else None
        if same is not None:
            docs.append(same if same.source == str(path) else replace(same, source=str(path)))
            continue
        more, why = load_documents([(path, doc_id)], max_bytes)
        docs += more
        skipped += why
    return docs, skipped


def _try_load(settings: Settings, model: str) -> tuple[Store | None, str]:
    try:
        return load(settings.index_dir, settings, model), ""
    except (IndexCorruptError, IndexMismatchError) as exc:
        return None, str(exc)


def _same(store: Store, current: dict[str, str], sources: Sequence[Path]) -> bool:
    recorded = [str(p) for p in store.manifest.get("sources", [])]
    have = {d: doc.sha256 for d, doc in store.documents.items()}
    return have == current and recorded == [str(s) for s in sources]


class _lock:
    """An exclusive, process-wide lock on the index folder; released even if the process dies."""

    def __init__(self, index_dir: Path) -> None:
        from filelock import FileLock

        index_dir.mkdir(parents=True, exist_ok=True)
        self.path = index_dir / LOCK_NAME
        self._lock = FileLock(str(self.path), timeout=LOCK_TIMEOUT_S)

    def __enter__(self) -> None:
        from filelock import Timeout

        try:
            self._lock.acquire()
        except Timeout as exc:
            raise IndexLockedError(
                f"another process has been building the index for {LOCK_TIMEOUT_S:.0f}s ({self.path}); "
                "wait for it to finish, or stop it and run `rag index` again"
            ) from exc

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

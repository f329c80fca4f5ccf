"""The index's life: build it from documents, keep it current, repair it, one builder at a time.

`update_index` reads the documents, reuses the vectors of unchanged ones and writes a new
generation under a file lock. `open_index` loads a verified index, rebuilding it when it is
missing, damaged, stale or built under other settings, as long as its documents are at hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.config import Settings
from rag.embed import Embedder
from rag.errors import IndexCorruptError, IndexLockedError, IndexMismatchError, NoDocumentsError
from rag.ingest import Skipped, discover, load_documents
from rag.store import BuildReport, Store, build, load, read_manifest, save

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
    recorded = (manifest or {}).get("sources") or []
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
        docs, skipped = load_documents(discover(sources), settings.max_document_bytes)
        if not docs:
            detail = "; ".join(s.reason for s in skipped) or "no .txt, .md or .html files"
            raise NoDocumentsError(f"nothing to index in {', '.join(map(str, sources))}: {detail}")
        previous, reason = _try_load(settings, settings.model_name)
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
        docs, skipped = load_documents(discover(sources), settings.max_document_bytes)
        if _same(store, {d.doc_id: d.sha256 for d in docs}, [p.resolve() for p in sources]):
            return IndexResult(store, BuildReport(), tuple(skipped), True)
        reason = "documents changed since the index was built"
    result = update_index(settings, embedder_factory, sources)
    return IndexResult(result.store, result.report, result.skipped, result.up_to_date, reason)


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

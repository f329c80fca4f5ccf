"""The index's life: build it from documents, keep it current, repair it, one builder at a time.

`update_index` reads the documents, reuses the vectors of unchanged ones and writes a new
generation under a file lock. `open_index` loads a verified index, rebuilding it when it is
damaged, stale or built under other settings, from the sources its manifest records.

Rules that keep a user's index safe:
1. An index is only ever rebuilt from the sources it records. Its manifest unreadable or gone
   while its data is there: refused, naming the command that rebuilds it from its documents.
2. Only a brand-new index (no manifest, no data) is built from the seeds folder on first use.
3. Nothing of an index is deleted before a new generation is committed (see `store.save`).
4. A rebuild that cannot be written (a full disk) leaves the intact index in use, with a warning.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.errors import (
    DiskFullError,
    IndexCorruptError,
    IndexLocationError,
    IndexLockedError,
    IndexMismatchError,
    IndexNotFoundError,
    NoDocumentsError,
)
from rag.index.budget import BudgetError
from rag.index.embed import Embedder
from rag.index.ingest import FORMATS, TEXT_VERSION, Skipped, discover_files, load_documents, sha256_bytes
from rag.index.store import (
    BuildReport,
    Store,
    build,
    generations,
    load,
    read_manifest,
    remove_leftovers,
    save,
)
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
    warning: str = ""  # what a user should know about the index being served (shown as `warning: ...`)


def rebuild_command(index_dir: Path) -> str:
    return f"`rag index --index-dir {index_dir} PATHS`"


def check_location(index_dir: Path) -> None:
    """IndexLocationError when the index folder is a file (or something else that is not a folder)."""
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexLocationError(
            f"the index folder {index_dir} is a file, not a folder; point --index-dir (or RAG_INDEX_DIR) "
            "at a folder for the index"
        )


def require_index(index_dir: Path) -> None:
    """IndexNotFoundError unless `index_dir` holds an index (used for an --index-dir named by hand:
    a typo must not create a new index of the demo article)."""
    check_location(index_dir)
    if not index_dir.exists():
        raise IndexNotFoundError(
            f"no index at {index_dir}: the folder does not exist; check the path, or build an index "
            f"there with {rebuild_command(index_dir)}"
        )
    if not (index_dir / "manifest.json").exists() and not generations(index_dir):
        raise IndexNotFoundError(
            f"no index in {index_dir}: the folder holds no index; build one there with "
            f"{rebuild_command(index_dir)}"
        )


def recorded_sources(index_dir: Path) -> tuple[list[Path], bool] | None:
    """(sources, follow_links) recorded in the index's manifest; None for a brand-new index (no
    manifest, no data). IndexCorruptError, naming the fix, when the record is unreadable or gone."""
    check_location(index_dir)
    try:
        manifest = read_manifest(index_dir)
    except IndexCorruptError as exc:
        raise IndexCorruptError(
            f"the index in {index_dir} has a damaged manifest.json ({_cause(exc)}), so the documents it was "
            f"built from are unknown; it is left as it is. Rebuild it from its documents with "
            f"{rebuild_command(index_dir)}"
        ) from exc
    if manifest is None:
        if generations(index_dir):
            raise IndexCorruptError(
                f"the index in {index_dir} has lost its manifest.json, so the documents it was built from "
                f"are unknown; it is left as it is. Rebuild it from its documents with "
                f"{rebuild_command(index_dir)}"
            )
        return None
    recorded = manifest.get("sources")
    if not isinstance(recorded, list) or not recorded or not all(isinstance(p, str) and p for p in recorded):
        raise IndexCorruptError(
            f"the manifest of the index in {index_dir} records no sources ({recorded!r}); rebuild it from "
            f"its documents with {rebuild_command(index_dir)}"
        )
    return [Path(p) for p in recorded], manifest.get("follow_links") is True


def default_sources(settings: Settings) -> list[Path]:
    """What the index at settings.index_dir was built from, or the seeds folder for a brand-new index."""
    recorded = recorded_sources(settings.index_dir)
    return recorded[0] if recorded else [settings.seeds_dir]


def update_index(
    settings: Settings,
    embedder_factory: Callable[[], Embedder],
    paths: Sequence[Path] | None = None,
    progress: bool = False,
    force: bool = False,
    *,
    follow_links: bool | None = None,
    seeds_if_new: bool = True,
    edit_sources: Callable[[list[Path]], list[Path]] | None = None,
) -> IndexResult:
    """Build or refresh the index from `paths` (default: the sources it records; for a brand-new
    index the seeds folder, unless `seeds_if_new` is False). `follow_links` None: as recorded.

    `edit_sources`, when given, makes the sources from the ones recorded (or the seeds folder) when
    the lock is held: a writer that adds or removes one source (the chat panel) then never undoes
    what another writer (`rag index`) committed while it waited."""
    check_location(settings.index_dir)
    recorded = None
    if not paths:
        recorded = recorded_sources(settings.index_dir)
    elif follow_links is None:
        with contextlib.suppress(IndexCorruptError):  # documents named: a damaged record does not matter
            recorded = recorded_sources(settings.index_dir)
    if not paths and recorded is None and not seeds_if_new:
        raise NoDocumentsError(
            f"{settings.index_dir} holds no index yet and no documents were given; "
            f"name them: {rebuild_command(settings.index_dir)}"
        )
    follow = follow_links if follow_links is not None else bool(recorded and recorded[1])
    chosen = paths or (recorded[0] if recorded else [settings.seeds_dir])
    sources = [Path(p).resolve() for p in chosen]
    with _lock(settings.index_dir):
        if edit_sources is not None:
            sources = [Path(p).resolve() for p in edit_sources(default_sources(settings))]
        elif paths:
            sources += _own_sources(settings, sources)  # the chat panel's uploads stay indexed
        remove_leftovers(settings.index_dir)  # of a build that was killed midway
        previous, reason = _try_load(settings, settings.model_name)
        files, outside = discover_files(sources, follow)
        docs, skipped = read_documents(files, previous, settings.max_document_bytes)
        skipped = outside + skipped
        if not docs:
            detail = "; ".join(s.reason for s in skipped) or f"no {FORMATS} files"
            raise NoDocumentsError(f"nothing to index in {', '.join(map(str, sources))}: {detail}")
        current = {d.doc_id: d.sha256 for d in docs}
        recorded_follow = bool(previous and previous.manifest.get("follow_links") is True)
        if (
            previous is not None
            and not force
            and _same(previous, current, sources)
            and recorded_follow == follow
        ):
            return IndexResult(previous, BuildReport(reused_docs=tuple(current)), tuple(skipped), True)
        store, report = _build_within_budget(docs, skipped, settings, embedder_factory(), previous, progress)
        extra: dict[str, Any] = {"follow_links": True} if follow else {}
        unreadable = [
            {"doc_id": s.doc_id, "sha256": s.sha256, "reason": s.reason} for s in skipped if s.sha256
        ]
        if unreadable:
            extra["unreadable"] = unreadable
        save(store, settings.index_dir, [str(s) for s in sources], report, extra)
        return IndexResult(store, report, tuple(skipped), False, reason or "documents changed")


def add_to_index(
    settings: Settings,
    embedder_factory: Callable[[], Embedder],
    paths: Sequence[Path],
    progress: bool = False,
    force: bool = False,
    *,
    follow_links: bool = False,
) -> IndexResult:
    """Add `paths` to the sources the index records (a brand-new index: just `paths`) and bring it
    up to date; the documents already in it stay. `follow_links` True turns link following on."""
    check_location(settings.index_dir)
    try:
        recorded = recorded_sources(settings.index_dir)
    except IndexCorruptError:
        recorded = None  # its record of sources is lost: what is named now is all there is to read
    # a recorded source that is gone (moved, deleted) cannot be read again: its documents leave the
    # index, and the summary names them as removed
    present = [p for p in recorded[0] if p.exists()] if recorded else []
    sources = combined_sources(present, paths)
    follow = follow_links or bool(recorded and recorded[1])
    return update_index(settings, embedder_factory, sources, progress, force, follow_links=follow)


def combined_sources(recorded: Sequence[Path], added: Sequence[Path]) -> list[Path]:
    """The recorded sources with `added` joined to them: a path the sources already hold (itself, or
    inside a recorded folder) adds nothing; a recorded source inside an added folder is taken in by it.

    >>> [str(p) for p in combined_sources([Path("/d/notes")], [Path("/d/notes/a.txt"), Path("/d/b.md")])]
    ['/d/notes', '/d/b.md']
    """
    result = [Path(p) for p in recorded]
    for path in added:
        new = Path(path).resolve()
        if any(new == old or new.is_relative_to(old) for old in result):
            continue
        result = [old for old in result if not old.is_relative_to(new)] + [new]
    return result


def remove_from_index(
    settings: Settings, embedder_factory: Callable[[], Embedder], names: Sequence[str], progress: bool = False
) -> IndexResult:
    """Take documents out of the index: each name is a document's id (as `rag ask` cites it), the
    path of a document, or a recorded source (a file or a whole folder). A folder the removed file
    was in is kept as its other files. The files themselves are never touched."""
    require_index(settings.index_dir)
    recorded = recorded_sources(settings.index_dir)
    store, reason = _try_load(settings, settings.model_name)
    if recorded is None or store is None:
        raise IndexCorruptError(
            f"the index in {settings.index_dir} cannot be read ({_cause(reason)}); rebuild it with "
            f"{rebuild_command(settings.index_dir)} naming only the documents to keep"
        )
    sources, follow = recorded
    for name in names:
        sources = sources_without(sources, _source_of(name, store, sources, settings.index_dir), follow)
    if not sources:
        raise NoDocumentsError(
            f"removing {', '.join(names)} would leave the index in {settings.index_dir} with no documents; "
            f"add others first ({rebuild_command(settings.index_dir)}) or delete the folder"
        )
    return update_index(settings, embedder_factory, sources, progress, follow_links=follow)


def _source_of(name: str, store: Store, sources: Sequence[Path], index_dir: Path) -> Path:
    """The file or folder a name given to `rag remove` stands for."""
    doc = store.documents.get(name)
    if doc is not None and doc.source:
        return Path(doc.source)
    path = Path(name).expanduser().resolve()
    held = [Path(d.source).resolve() for d in store.documents.values() if d.source]
    if any(path == p or p.is_relative_to(path) for p in held) or path in [s.resolve() for s in sources]:
        return path
    names = sorted(store.documents)
    shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
    raise NoDocumentsError(
        f"{name!r} is neither a document in the index in {index_dir} nor a source of it; "
        f"its documents are: {shown}"
    )


def sources_without(sources: Sequence[Path], path: Path, follow_links: bool = False) -> list[Path]:
    """The sources with `path` (a file or folder) left out: a recorded folder holding it becomes
    its other files, a recorded source inside it goes with it."""
    path = path.resolve()
    kept: list[Path] = []
    for source in sources:
        resolved = source.resolve()
        if resolved == path or resolved.is_relative_to(path):
            continue
        if resolved.is_dir() and path.is_relative_to(resolved):
            files, _ = discover_files([source], follow_links)
            kept += [file for file, _ in files if not file.resolve().is_relative_to(path)]
        else:
            kept.append(source)
    return kept


def _own_sources(settings: Settings, sources: Sequence[Path]) -> list[Path]:
    """Recorded sources inside the index folder (the chat panel's uploads) that `sources` lacks: a
    `rag index PATHS` names the user's folders, and keeps what was uploaded into the index itself."""
    with contextlib.suppress(IndexCorruptError):
        recorded = recorded_sources(settings.index_dir)
        index = settings.index_dir.resolve()
        own = [p.resolve() for p in (recorded[0] if recorded else []) if p.resolve().is_relative_to(index)]
        return [p for p in own if p not in sources and p.exists()]
    return []


def _build_within_budget(
    docs: list[Document],
    skipped: list[Skipped],
    settings: Settings,
    embedder: Embedder,
    previous: Store | None,
    progress: bool,
) -> tuple[Store, BuildReport]:
    """`build`, leaving out (whole, and listed in `skipped`) each document over its cost budget.

    Documents are chunked before anything is embedded, so leaving one out costs only chunking."""
    while True:
        try:
            return build(docs, settings, embedder, previous, progress)
        except BudgetError as exc:
            over = [d for d in docs if d.doc_id == exc.doc_id]
            if not over:
                raise
            docs = [d for d in docs if d.doc_id != exc.doc_id]
            skipped.append(Skipped(over[0].source or exc.doc_id, str(exc)))
            if not docs:
                raise NoDocumentsError(f"nothing to index: {exc}") from None


def open_index(settings: Settings, embedder_factory: Callable[[], Embedder]) -> IndexResult:
    """A verified, current index: loaded when it is, (re)built from its recorded sources when it is
    not, built from the seeds folder when there is none yet. When a needed rebuild cannot be
    written (a full disk, a read-only folder) the intact index is served with a warning."""
    recorded = recorded_sources(settings.index_dir)
    if recorded is None:
        result = update_index(settings, embedder_factory, [settings.seeds_dir], follow_links=False)
        return replace(
            result, reason=f"no index in {settings.index_dir} yet; built from {settings.seeds_dir}"
        )
    sources, follow = recorded
    store, reason = _try_load(settings, settings.model_name)
    present = [p for p in sources if p.exists()]
    missing = [str(p) for p in sources if not p.exists()]
    if store is None:
        if missing:
            raise IndexCorruptError(
                f"the index in {settings.index_dir} is damaged ({_cause(reason)}) and the documents it was "
                f"built from are gone ({', '.join(missing)} no longer exists); rebuild it from where the "
                f"documents are now: {rebuild_command(settings.index_dir)}"
            )
        result = update_index(settings, embedder_factory, sources, follow_links=follow)
        return replace(result, reason=reason)
    files, outside = discover_files(present, follow)
    docs, skipped = read_documents(files, store, settings.max_document_bytes)
    skipped = outside + skipped
    if not docs or missing:
        # its documents are gone (moved, unmounted, another machine) but the index is valid: serve it
        why = f"its documents are not all in {', '.join(map(str, sources))}; serving the index as built"
        return IndexResult(store, BuildReport(), tuple(skipped), True, why, warning=why)
    if _same(store, {d.doc_id: d.sha256 for d in docs}, [p.resolve() for p in sources]):
        return IndexResult(store, BuildReport(), tuple(skipped), True)
    reason = "documents changed since the index was built"
    try:
        result = update_index(settings, embedder_factory, sources, follow_links=follow)
    except DiskFullError as exc:
        return _as_built(store, skipped, reason, str(exc))
    except OSError as exc:
        if exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOSPC, errno.EDQUOT):
            raise
        return _as_built(store, skipped, reason, f"cannot write to {settings.index_dir} ({exc.strerror})")
    return replace(result, reason=reason)


def _as_built(store: Store, skipped: list[Skipped], reason: str, failure: str) -> IndexResult:
    built = store.manifest.get("built_at", "when it was built")
    warning = (
        f"the documents changed but the index could not be rebuilt: {failure}. Answering from the "
        f"index as built ({built}); its quotes are from the documents as they were then"
    )
    return IndexResult(store, BuildReport(), tuple(skipped), True, reason, warning)


def _cause(exc: Exception | str) -> str:
    """What went wrong, without the generic advice that follows it."""
    return str(exc).split("; run `rag index`")[0]


def read_documents(
    files: Sequence[tuple[Path, str]], previous: Store | None, max_bytes: int
) -> tuple[list[Document], list[Skipped]]:
    """Like `load_documents`, but a file whose bytes hash as when `previous` was built keeps the
    text extracted then: checking a folder of unchanged HTML then costs a hash, not a parse. A file
    found unusable then (a scanned PDF) is skipped again for the same reason without a parse."""
    current = previous is not None and previous.manifest.get("text_version") == TEXT_VERSION
    known = {(d.doc_id, d.sha256): d for d in previous.documents.values()} if previous and current else {}
    unusable = _unreadable(previous) if previous and current else {}
    docs: list[Document] = []
    skipped: list[Skipped] = []
    for path, doc_id in files:
        try:
            data = path.read_bytes() if path.stat().st_size <= max_bytes else None
        except OSError:
            data = None  # load_documents below says why
        digest = sha256_bytes(data) if data is not None else ""
        same = known.get((doc_id, digest))
        if same is not None:
            docs.append(same if same.source == str(path) else replace(same, source=str(path)))
            continue
        if (doc_id, digest) in unusable:
            skipped.append(Skipped(str(path), unusable[(doc_id, digest)], doc_id, digest))
            continue
        more, why = load_documents([(path, doc_id)], max_bytes)
        docs += more
        skipped += [replace(s, doc_id=doc_id, sha256=digest) if digest else s for s in why]
    return docs, skipped


def _unreadable(store: Store) -> dict[tuple[str, str], str]:
    """(doc_id, sha256) -> why, for the files the index found unusable when it was built."""
    entries = store.manifest.get("unreadable")
    if not isinstance(entries, list):
        return {}
    return {
        (str(e.get("doc_id")), str(e.get("sha256"))): str(e.get("reason"))
        for e in entries
        if isinstance(e, dict) and e.get("doc_id") and e.get("sha256") and e.get("reason")
    }


def _try_load(settings: Settings, model: str) -> tuple[Store | None, str]:
    try:
        return load(settings.index_dir, settings, model), ""
    except (IndexCorruptError, IndexMismatchError) as exc:
        return None, str(exc)


def _same(store: Store, current: dict[str, str], sources: Sequence[Path]) -> bool:
    recorded = [str(p) for p in store.manifest.get("sources", [])]
    have = {d: doc.sha256 for d, doc in store.documents.items()}
    same_reading = store.manifest.get("text_version") == TEXT_VERSION
    return same_reading and have == current and recorded == [str(s) for s in sources]


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

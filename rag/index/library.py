"""The user's documents in an index: uploads added, documents removed (Engine.add_files and
Engine.remove_document call these; the UI and the API go through the engine).

Every change goes through the same indexer as `rag index` (`rag.index.indexer.update_index`), so an
unchanged document keeps its vectors and only new text is embedded. Uploaded files are kept in
the index's own folder (`<index_dir>/uploads/`) and that folder becomes one of the index's
recorded sources. Removing a document takes it out of the index; the file itself is deleted only
when it was an upload, never when it is one of the user's own files.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.config import Settings
from rag.errors import RagError
from rag.index.embed import Embedder
from rag.index.indexer import IndexResult, sources_without, update_index
from rag.index.ingest import FORMATS, SUPPORTED_SUFFIXES
from rag.types import Document

UPLOADS = "uploads"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# Markdown and HTML are parsed before the cost budget can count their sentences: 5 MB of Markdown
# headings took 58 s and 520 MB to convert (benchmarks/hostile_uploads.py), 1 MB about a fifth of that
MAX_MARKUP_UPLOAD_BYTES = 1_000_000
UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".csv", ".pdf", ".docx")
_UNSAFE = re.compile(r"[^\w.+-]+")


class LibraryError(RagError):
    """An upload or removal that was refused; the message says why and what to do."""


def uploads_dir(settings: Settings) -> Path:
    return settings.index_dir / UPLOADS


def is_upload(doc: Document, settings: Settings) -> bool:
    folder = uploads_dir(settings).resolve()
    return bool(doc.source) and Path(doc.source).resolve().is_relative_to(folder)


@dataclass(frozen=True)
class Change:
    """What an upload or a removal did: the new index and a sentence for the user."""

    index: IndexResult
    message: str


def add_files(
    settings: Settings,
    embedder_factory: Callable[[], Embedder],
    files: Sequence[Path],
    taken: Collection[str] = (),
) -> Change:
    """Copy uploaded `files` into the index's uploads folder and index them with the rest.

    A name already used (by an upload, or by a document of the index: `taken`) gets a new one
    (`report-2.md`); a file whose bytes equal the upload of that name is not stored twice. Each
    copy is written under a hidden name and renamed when whole, so a full disk leaves no truncated
    file to be indexed later. A file the indexer does not take (over the budget, unreadable) is
    deleted again and named in the message; when none is taken, LibraryError says why."""
    if not files:
        raise LibraryError(f"no file was given; choose one or more {FORMATS} files")
    checked = [(Path(f), safe_name(Path(f).name)) for f in files]
    for path, name in checked:
        size = path.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            raise LibraryError(
                f"{path.name} is {size / 1e6:.1f} MB; uploads are limited to "
                f"{MAX_UPLOAD_BYTES / 1e6:.0f} MB a file. Split it, or index it with `rag index`"
            )
        if Path(name).suffix != ".txt" and size > MAX_MARKUP_UPLOAD_BYTES:
            raise LibraryError(
                f"{path.name} is {size / 1e6:.1f} MB of Markdown or HTML; those uploads are limited to "
                f"{MAX_MARKUP_UPLOAD_BYTES / 1e6:.0f} MB a file (converting them is slow). Split it, save it "
                "as .txt, or index it with `rag index`"
            )
    folder = uploads_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    stored: list[tuple[str, str]] = []  # (name asked for, name stored)
    new_files: list[Path] = []
    try:
        for path, name in checked:
            kept, is_new = _store(path, folder, name, set(taken))
            stored.append((name, kept.name))
            if is_new:
                new_files.append(kept)
        result = update_index(settings, embedder_factory, edit_sources=lambda s: _with(s, folder))
    except BaseException:
        for path in new_files:  # the index does not hold them: no copy is left to be indexed later
            path.unlink(missing_ok=True)
        raise
    refused = {Path(s.path).name: s.reason for s in result.skipped if Path(s.path).parent == folder.resolve()}
    for name in refused:
        (folder / name).unlink(missing_ok=True)  # the index left it out; it is not kept either
    added = [(asked, kept) for asked, kept in stored if kept not in refused]
    if not added:
        raise LibraryError("Not added: " + "; ".join(refused.values()))
    names = ", ".join(
        asked if asked == kept else f"{asked} as {kept} (that name was taken)" for asked, kept in added
    )
    embedded = result.report.sentences_embedded
    message = f"Added {names}; {embedded:,} new sentence{'s' if embedded != 1 else ''} embedded."
    if refused:
        message += " Not added: " + "; ".join(refused.values())
    return Change(result, message)


def _store(path: Path, folder: Path, name: str, taken: set[str]) -> tuple[Path, bool]:
    """Copy `path` into `folder` under `name`, or the first free `stem-N` name: (where, whether new)."""
    data = path.read_bytes()
    stem, suffix = name[: -len(Path(name).suffix)], Path(name).suffix
    for n in range(1, 10_000):
        candidate = folder / (name if n == 1 else f"{stem}-{n}{suffix}")
        if candidate.exists():
            if candidate.read_bytes() == data:
                return candidate, False  # this very file is already an upload
            continue
        if candidate.name in taken:
            continue
        partial = folder / f".{candidate.name}.{os.getpid()}.partial"  # hidden: never indexed
        try:
            partial.write_bytes(data)
            os.link(partial, candidate)  # fails if another writer took the name meanwhile
        except FileExistsError:
            continue
        finally:
            partial.unlink(missing_ok=True)
        return candidate, True
    raise LibraryError(f"{name}: too many uploads share this name; rename the file and upload it again")


def _with(sources: list[Path], folder: Path) -> list[Path]:
    return sources if any(_same_path(s, folder) for s in sources) else [*sources, folder]


def remove_document(
    settings: Settings,
    embedder_factory: Callable[[], Embedder],
    documents: dict[str, Document],
    doc_id: str,
) -> Change:
    """Take `doc_id` out of the index; delete its file only when it is an upload, and only once the
    index no longer holds it (until then it is hidden under another name, and put back on failure)."""
    doc = documents.get(doc_id)
    if doc is None:
        raise LibraryError(f"{doc_id!r} is not in the index; pick one of: {', '.join(sorted(documents))}")
    if len(documents) == 1:
        raise LibraryError(f"{doc_id} is the only document; add another before removing it")
    if not is_upload(doc, settings):
        result = update_index(
            settings, embedder_factory, edit_sources=lambda s: sources_without(s, Path(doc.source))
        )
        return Change(result, f"Removed {doc_id} from the index (the file itself was left where it is).")
    stored = Path(doc.source)
    hidden = stored.with_name(f".removing-{stored.name}")  # hidden files are not indexed
    with contextlib.suppress(FileNotFoundError):
        os.replace(stored, hidden)
    try:
        result = update_index(settings, embedder_factory, edit_sources=lambda s: s)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.replace(hidden, stored)
        raise
    hidden.unlink(missing_ok=True)
    return Change(result, f"Removed {doc_id} from the index (deleted from the uploads folder).")


def safe_name(name: str) -> str:
    """A file name safe to store: no folders, only word characters, dots, plus and minus.

    >>> safe_name("../../My notes (v2).md")
    'My_notes_v2.md'
    """
    base = Path(name.replace("\\", "/")).name
    suffix = Path(base).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LibraryError(f"{base} is not a {FORMATS} file; only those can be uploaded")
    stem = _UNSAFE.sub("_", Path(base).stem).strip("._") or "document"
    return stem[:100] + suffix


def _same_path(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()

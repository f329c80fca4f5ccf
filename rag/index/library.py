"""The user's documents in an index: uploads added, documents removed (Engine.add_files and
Engine.remove_document call these; the UI and the API go through the engine).

Every change goes through the same indexer as `rag index` (`rag.index.indexer.update_index`), so an
unchanged document keeps its vectors and only new text is embedded. Uploaded files are kept in
the index's own folder (`<index_dir>/uploads/`) and that folder becomes one of the index's
recorded sources. Removing a document takes it out of the index; the file itself is deleted only
when it was an upload, never when it is one of the user's own files.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.config import Settings
from rag.errors import RagError
from rag.index.embed import Embedder
from rag.index.indexer import IndexResult, default_sources, update_index
from rag.index.ingest import FORMATS, SUPPORTED_SUFFIXES, discover
from rag.types import Document

UPLOADS = "uploads"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
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


def add_files(settings: Settings, embedder_factory: Callable[[], Embedder], files: Sequence[Path]) -> Change:
    """Copy uploaded `files` into the index's uploads folder and index them with the rest."""
    if not files:
        raise LibraryError(f"no file was given; choose one or more {FORMATS} files")
    checked = [(Path(f), safe_name(Path(f).name)) for f in files]
    for path, _ in checked:
        size = path.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            raise LibraryError(
                f"{path.name} is {size / 1e6:.1f} MB; uploads are limited to "
                f"{MAX_UPLOAD_BYTES / 1e6:.0f} MB a file. Split it, or index it with `rag index`"
            )
    folder = uploads_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    for path, name in checked:
        shutil.copyfile(path, folder / name)
    sources = default_sources(settings)
    if not any(_same_path(s, folder) for s in sources):
        sources = [*sources, folder]
    result = update_index(settings, embedder_factory, sources)
    names = ", ".join(name for _, name in checked)
    embedded = result.report.sentences_embedded
    message = f"Added {names}; {embedded:,} new sentence{'s' if embedded != 1 else ''} embedded."
    skipped = [s for s in result.skipped if Path(s.path).parent == folder.resolve()]
    if skipped:
        message += " Not indexed: " + "; ".join(s.reason for s in skipped)
    return Change(result, message)


def remove_document(
    settings: Settings,
    embedder_factory: Callable[[], Embedder],
    documents: dict[str, Document],
    doc_id: str,
) -> Change:
    """Take `doc_id` out of the index; delete its file only when it is an upload."""
    doc = documents.get(doc_id)
    if doc is None:
        raise LibraryError(f"{doc_id!r} is not in the index; pick one of: {', '.join(sorted(documents))}")
    if len(documents) == 1:
        raise LibraryError(f"{doc_id} is the only document; add another before removing it")
    sources = default_sources(settings)
    upload = is_upload(doc, settings)
    if upload:
        Path(doc.source).unlink(missing_ok=True)
    else:
        sources = sources_without(sources, Path(doc.source))
    result = update_index(settings, embedder_factory, sources)
    where = "deleted from the uploads folder" if upload else "the file itself was left where it is"
    return Change(result, f"Removed {doc_id} from the index ({where}).")


def sources_without(sources: Sequence[Path], path: Path) -> list[Path]:
    """The recorded sources with `path` left out: a folder holding it becomes its other files."""
    path = path.resolve()
    kept: list[Path] = []
    for source in sources:
        resolved = source.resolve()
        if resolved == path:
            continue
        if resolved.is_dir() and path.is_relative_to(resolved):
            kept += [file for file, _ in discover([source]) if file.resolve() != path]
        else:
            kept.append(source)
    return kept


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

"""Read documents as text, keeping the text exactly as read so offsets stay true.

Plain text is decoded as UTF-8 from the raw bytes (no newline translation). HTML and Markdown
are converted to text that keeps their structure (rag.extract_text: headings and list items as
lines, table cells separated, page chrome dropped); offsets then refer to that extracted text,
which the index keeps beside itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.errors import DocumentError, NoDocumentsError
from rag.extract_text import html_to_text, markdown_to_text
from rag.types import Document

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES

MARKDOWN_SUFFIXES = {".md", ".markdown"}


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    path: str
    reason: str


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def discover(paths: Sequence[Path]) -> list[tuple[Path, str]]:
    """(file, doc_id) for every supported file under `paths`, sorted, doc_ids unique.

    A folder's files are named relative to the folder; a file given directly by its name.
    """
    found: dict[str, Path] = {}
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise NoDocumentsError(f"{root} does not exist; give a file or a folder of .txt, .md or .html")
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if path.suffix.lower() not in SUPPORTED_SUFFIXES or _hidden(path, root):
                continue
            doc_id = path.name if root.is_file() else path.relative_to(root).as_posix()
            doc_id = _unique(doc_id, found)
            found[doc_id] = path.resolve()
    return [(path, doc_id) for doc_id, path in sorted(found.items())]


def read_document(path: Path, doc_id: str, max_bytes: int) -> Document:
    """Read one document; raise DocumentError naming the file when it cannot be used."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DocumentError(
                f"{path}: {size:,} bytes is over the limit of {max_bytes:,}; split it into smaller files"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    return parse_document(data, doc_id, path)


def parse_document(data: bytes, doc_id: str, path: Path) -> Document:
    if b"\x00" in data[:65536]:
        raise DocumentError(
            f"{path}: looks binary (contains NUL bytes); only text, Markdown and HTML are read"
        )
    try:
        raw = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{path}: is not valid UTF-8 (byte {exc.start}); re-save it as UTF-8, e.g. "
            f"`iconv -f latin1 -t utf-8`"
        ) from exc
    try:
        text = _to_text(raw, path.suffix.lower())
    except (AssertionError, ValueError) as exc:  # the parser gives up on some malformed markup
        raise DocumentError(
            f"{path}: cannot be read as HTML ({exc}); fix the markup or save it as .txt"
        ) from exc
    if not text.strip():
        raise DocumentError(f"{path}: has no text to index (empty or only white space/markup)")
    return Document(doc_id=doc_id, text=text, sha256=sha256_bytes(data), source=str(path))


def load_documents(files: Iterable[tuple[Path, str]], max_bytes: int) -> tuple[list[Document], list[Skipped]]:
    """Read every file; the bad ones are skipped with a reason, the good ones kept."""
    docs: list[Document] = []
    skipped: list[Skipped] = []
    for path, doc_id in files:
        try:
            docs.append(read_document(path, doc_id, max_bytes))
        except DocumentError as exc:
            skipped.append(Skipped(str(path), str(exc)))
    return docs, skipped


def _to_text(raw: str, suffix: str) -> str:
    """The text that is indexed and quoted: HTML and Markdown converted, plain text as it is."""
    if suffix in HTML_SUFFIXES:
        return html_to_text(raw)
    if suffix in MARKDOWN_SUFFIXES:
        return markdown_to_text(raw)
    return raw


def _hidden(path: Path, root: Path) -> bool:
    rel = path.relative_to(root).parts if path != root else ()
    return any(part.startswith(".") for part in rel)


def _unique(doc_id: str, taken: dict[str, Path]) -> str:
    candidate, n = doc_id, 2
    while candidate in taken:
        candidate = f"{doc_id}~{n}"
        n += 1
    return candidate

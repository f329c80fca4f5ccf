"""Read documents as text, keeping the text exactly as read so offsets stay true.

Plain text is decoded from the raw bytes (no newline translation): UTF-8, with a leading
byte-order mark dropped, or UTF-16/UTF-32 when the file starts with their byte-order mark (or is
plainly UTF-16 without one). HTML and Markdown are converted to text that keeps their structure
(rag.index.formats: headings and list items as lines, table rows with their header, page chrome
dropped), and so are CSV files (a row a line, with its header), PDF (rag.index.pdf: paragraphs a
line, pages opening with a form feed) and Word .docx (rag.index.docx); offsets then refer to that
extracted text, which the index keeps beside itself.

Discovery never leaves the folders it is given: a symbolic link whose target lies outside its
folder (`notes.txt -> /etc/passwd`) is skipped with a reason, unless links are followed on purpose.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.errors import DocumentError, NoDocumentsError
from rag.index.docx import docx_to_text
from rag.index.formats import csv_to_text, html_to_text, markdown_to_text
from rag.index.pdf import pdf_to_text
from rag.types import Document

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
CSV_SUFFIXES = {".csv"}
PDF_SUFFIXES = {".pdf"}
DOCX_SUFFIXES = {".docx"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | CSV_SUFFIXES | PDF_SUFFIXES | DOCX_SUFFIXES
FORMATS = ".txt, .md, .html, .csv, .pdf or .docx"  # as a message names them

MARKDOWN_SUFFIXES = {".md", ".markdown"}

# How documents are turned into text; an index built under another version re-reads its documents
# (2: structure-keeping HTML and parsed Markdown, byte-order marks dropped, UTF-16 and UTF-32 read;
# 3: an HTML/Markdown paragraph's line breaks read as spaces, table rows carry their header, CSV, PDF
# and .docx read; and chunking: a hard wrap is not a sentence end, a table row is one sentence).
TEXT_VERSION = 3


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    path: str
    reason: str
    doc_id: str = ""  # with sha256: a file read and found unusable, remembered so it is not parsed again
    sha256: str = ""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def discover(paths: Sequence[Path], follow_links: bool = False) -> list[tuple[Path, str]]:
    """(file, doc_id) for every supported file under `paths`, sorted, doc_ids unique.

    A folder's files are named relative to the folder; a file given directly by its name.
    Links leaving their folder are left out (`discover_files` also says which and why).
    """
    return discover_files(paths, follow_links)[0]


def discover_files(
    paths: Sequence[Path], follow_links: bool = False
) -> tuple[list[tuple[Path, str]], list[Skipped]]:
    """Like `discover`, and the links it skipped: a link whose target is outside the folder it was
    found in is followed only with `follow_links` (a path given by name is always read)."""
    found: dict[str, Path] = {}
    skipped: list[Skipped] = []
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise NoDocumentsError(f"{root} does not exist; give a file or a folder of {FORMATS} files")
        if root.is_file():
            _add(found, root.name, root.resolve())
            continue
        inside = root.resolve()
        for path in _walk(root, follow_links):
            linked_folder = path.is_symlink() and path.is_dir()
            if _hidden(path, root) or (not linked_folder and path.suffix.lower() not in SUPPORTED_SUFFIXES):
                continue
            target = path.resolve()
            if not follow_links and not target.is_relative_to(inside):
                skipped.append(Skipped(str(path), _outside_reason(path, target, root)))
                continue
            if target.is_file():
                _add(found, path.relative_to(root).as_posix(), target)
    return [(path, doc_id) for doc_id, path in sorted(found.items())], skipped


def _walk(root: Path, follow_links: bool) -> list[Path]:
    """Every file (or link to one) under `root`, sorted; linked folders are entered only when
    following links, and each real folder once (a link loop ends)."""
    files: list[Path] = []
    seen: set[str] = set()
    for folder, dirs, names in os.walk(root, followlinks=follow_links):
        real = os.path.realpath(folder)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs.sort()
        files += [Path(folder) / name for name in names]
        if not follow_links:  # a link to a folder is not entered; say so if it leaves the root
            files += [Path(folder) / d for d in dirs if os.path.islink(os.path.join(folder, d))]
    return sorted(files)


def _outside_reason(path: Path, target: Path, root: Path) -> str:
    kind = "folder" if target.is_dir() else "file"
    return (
        f"{_shown(path)}: a link to the {kind} {_shown(target)}, outside {_shown(root)}; links that leave "
        "the indexed folder are not followed (use --follow-links to follow them)"
    )


def _shown(path: Path) -> str:
    """A path as it can be shown on one line: control characters in names written as escapes."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in str(path))


def _add(found: dict[str, Path], doc_id: str, path: Path) -> None:
    found[_unique(doc_id, found)] = path


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
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES or suffix in DOCX_SUFFIXES:
        text = pdf_to_text(data, path) if suffix in PDF_SUFFIXES else docx_to_text(data, path)
        if not text.strip():
            raise DocumentError(f"{path}: has no text to index (an empty document)")
        return Document(doc_id=doc_id, text=text, sha256=sha256_bytes(data), source=str(path))
    raw = decode_text(data, path)
    try:
        text = _to_text(raw, suffix)
    except (AssertionError, ValueError, csv.Error) as exc:  # the parser gives up on malformed input
        kind = "CSV" if suffix in CSV_SUFFIXES else "HTML"
        raise DocumentError(f"{path}: cannot be read as {kind} ({exc}); fix it or save it as .txt") from exc
    if not text.strip():
        raise DocumentError(f"{path}: has no text to index (empty or only white space/markup)")
    return Document(doc_id=doc_id, text=text, sha256=sha256_bytes(data), source=str(path))


_BOMS = (  # longest first: the UTF-32 LE mark begins with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode_text(data: bytes, path: Path) -> str:
    r"""The file's text: its byte-order mark says the encoding (and is dropped), else UTF-8; a file
    that is plainly UTF-16 without a mark (every other byte NUL) is read as such.

    >>> decode_text("\ufeffHi".encode("utf-8"), Path("a.txt"))
    'Hi'
    >>> decode_text("Hi".encode("utf-16"), Path("a.txt"))
    'Hi'
    """
    encoding, body = next(((enc, data[len(bom) :]) for bom, enc in _BOMS if data.startswith(bom)), ("", data))
    encoding = encoding or _bomless_utf16(data)
    if encoding and encoding != "utf-8":
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError as exc:
            raise DocumentError(
                f"{path}: starts like {encoding.upper()} text but is not valid {encoding.upper()} "
                f"(byte {exc.start}); re-save it as UTF-8"
            ) from exc
        if "\x00" in text:
            raise DocumentError(f"{path}: looks binary (contains NUL characters); only text is read")
        return text
    if b"\x00" in body[:65536]:
        raise DocumentError(f"{path}: looks binary (contains NUL bytes); only {FORMATS} files are read")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{path}: is not valid UTF-8 (byte {exc.start + len(data) - len(body)}); re-save it as UTF-8, "
            "e.g. `iconv -f latin1 -t utf-8`"
        ) from exc


def _bomless_utf16(data: bytes) -> str:
    """'utf-16-le'/'utf-16-be' when the start of `data` is text in UTF-16 without a mark: an even
    length and a NUL at every odd (or every even) position, as ASCII-range text gives; else ''."""
    head = data[:4096]
    if len(data) % 2 or len(head) < 8:
        return ""
    evens, odds = head[0::2], head[1::2]
    if odds.count(0) == len(odds) and evens.count(0) == 0:
        return "utf-16-le"
    if evens.count(0) == len(evens) and odds.count(0) == 0:
        return "utf-16-be"
    return ""


def read_as_typed(doc: Document) -> bool:
    """Whether the document's text is the file as a person typed it (plain text), not text
    extracted from markup or a layout, whose lines are its blocks.

    >>> read_as_typed(Document("notes.txt", "", "")), read_as_typed(Document("a.md", "", "", "/d/a.md"))
    (True, False)
    """
    suffix = Path(doc.source or doc.doc_id).suffix.lower()
    return suffix not in (SUPPORTED_SUFFIXES - TEXT_SUFFIXES) | MARKDOWN_SUFFIXES


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
    if suffix in CSV_SUFFIXES:
        return csv_to_text(raw)
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

"""Read documents as text, keeping the text exactly as read so offsets stay true.

Plain text and Markdown are decoded as UTF-8 from the raw bytes (no newline translation).
HTML is converted to text by html.parser (scripts, styles and other non-content dropped);
offsets then refer to that extracted text, which the index keeps beside itself.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from rag.errors import DocumentError, NoDocumentsError
from rag.types import Document

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES

_NON_CONTENT_TAGS = ["script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "head"]
_BLOCK_TAGS = "p div br li h1 h2 h3 h4 h5 h6 tr pre blockquote section article header footer table dd dt"
_BLOCKS = frozenset(_BLOCK_TAGS.split())
_MANY_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")


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
        text = html_to_text(raw) if path.suffix.lower() in HTML_SUFFIXES else raw
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


def html_to_text(html: str) -> str:
    """Visible text of an HTML page: one block element a line, no scripts or styles.

    One pass of the standard library's parser, linear in the size of the page (however deeply
    nested); markup left unfinished at the very end is dropped, as a browser drops it.

    >>> html_to_text("<p>Hi <b>there</b></p><script>alert(1)</script><p>Bye</p>")
    'Hi there\\nBye'
    """
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    text = "\n".join(line for line in lines if line)
    return _MANY_BLANK_LINES.sub("\n\n", text).strip()


class _TextParser(HTMLParser):
    """Collects the text outside non-content elements, with a line break around each block element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden: dict[str, int] = {}  # open non-content elements, by name

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.hidden.pop("head", None)  # a <head> never closed ends where the body starts
        if tag in _NON_CONTENT_TAGS:
            self.hidden[tag] = self.hidden.get(tag, 0) + 1
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.hidden.get(tag):
            self.hidden[tag] -= 1
            if not self.hidden[tag]:
                del self.hidden[tag]
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:  # `<![foo ...]>`: a browser skips it as a bogus comment, and so do we
            end = self.rawdata.find(">", i)
            return end + 1 if end >= 0 else -1

    def close(self) -> None:
        if self.rawdata.startswith("<"):
            self.rawdata = ""  # an unfinished tag or comment: the standard parser would show it as text
        super().close()


def _hidden(path: Path, root: Path) -> bool:
    rel = path.relative_to(root).parts if path != root else ()
    return any(part.startswith(".") for part in rel)


def _unique(doc_id: str, taken: dict[str, Path]) -> str:
    candidate, n = doc_id, 2
    while candidate in taken:
        candidate = f"{doc_id}~{n}"
        n += 1
    return candidate

"""Quotes are spans of the source: every citation is checked to be document.text[start:end].

>>> from rag.types import Document, Citation
>>> docs = {"a.txt": Document("a.txt", "Hello world.", "0")}
>>> verify(Citation("a.txt", 0, 5, "Hello"), docs)
True
>>> verify(Citation("a.txt", 0, 5, "Howdy"), docs)
False
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rag.errors import RagError
from rag.index.pdf import page_at
from rag.types import Citation, Document


class QuoteMismatchError(RagError):
    """A quote is not the source's text at its offsets: a bug, never shown to a user as an answer."""


def verify(citation: Citation, documents: Mapping[str, Document]) -> bool:
    doc = documents.get(citation.doc_id)
    if doc is None or not 0 <= citation.start < citation.end <= len(doc.text):
        return False
    return doc.text[citation.start : citation.end] == citation.quote


def cite(doc: Document, start: int, end: int) -> Citation:
    """A citation of doc.text[start:end], verified before it is returned; a PDF's names its page."""
    citation = Citation(doc.doc_id, start, end, doc.text[start:end], page_of(doc, start))
    if not verify(citation, {doc.doc_id: doc}):
        raise QuoteMismatchError(f"span {start}:{end} is not a quote of {doc.doc_id}")
    return citation


def page_of(doc: Document, offset: int) -> int | None:
    """The page of a PDF document holding `offset`; None for documents without pages."""
    paged = doc.doc_id.lower().endswith(".pdf") or doc.source.lower().endswith(".pdf")
    return page_at(doc.text, offset) if paged else None


def verified(citations: Iterable[Citation], documents: Mapping[str, Document]) -> tuple[Citation, ...]:
    """Keep only the citations that verify; the answer step refuses to show any other."""
    return tuple(c for c in citations if verify(c, documents))

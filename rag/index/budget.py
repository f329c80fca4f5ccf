"""The cost budget of one document: how many sentences and chunks it may bring into the index.

Every sentence is embedded and kept as a vector, every chunk is kept in the chunk table, so these
two counts are what a document costs in time, memory and disk. A 5 MB file of one-word lines is
500,000 of each (minutes of embedding, gigabytes of index); the article is 60 sentences.

1. Before chunking, a cheap lower bound: a chunk never crosses a paragraph, so a document has at
   least as many chunks (and sentences) as paragraphs. Over the limit: refused without splitting
   a single sentence.
2. After chunking, the exact counts.

A document over either limit raises `BudgetError` (a `DocumentError`) naming the document, the count
and the limit, and how to change it; the indexer then leaves the whole document out (nothing of it
is half-indexed) and reports it as skipped.

>>> from rag.types import Document
>>> doc = Document(doc_id="lines.txt", text="a\\nb\\nc\\n", sha256="", source="")
>>> chunks_within(doc, Settings(max_document_chunks=2))
Traceback (most recent call last):
...
rag.index.budget.BudgetError: lines.txt: at least 3 chunks (one per paragraph), over the limit of 2 chunks a \
document (RAG_MAX_DOCUMENT_CHUNKS); split it into smaller documents, or raise the limit
>>> len(chunks_within(doc, Settings(max_document_chunks=3)))
3
"""

from __future__ import annotations

from pathlib import Path

from rag.config import Settings
from rag.errors import DocumentError
from rag.index.chunk import iter_chunks, paragraphs
from rag.index.ingest import read_as_typed
from rag.types import Chunk, Document

UPLOADS = "uploads"  # the chat panel's uploads, under the index folder (rag/index/library.py)


class BudgetError(DocumentError):
    """A document would cost more than the budget allows; `doc_id` says which."""

    def __init__(self, doc_id: str, message: str) -> None:
        super().__init__(message)
        self.doc_id = doc_id


def chunks_within(doc: Document, settings: Settings) -> list[Chunk]:
    """The document's chunks (as `chunk_text` makes them), or BudgetError as soon as it is clear
    that they hold more sentences or chunks than the document may have: a document far over the
    budget costs only the part of it read until then."""
    check_paragraphs(doc, settings)
    sentence_limit, chunk_limit = limits(doc, settings)
    chunks: list[Chunk] = []
    sentences = 0
    last_end = -1
    hard_wraps = read_as_typed(doc)
    for chunk in iter_chunks(
        doc.doc_id, doc.text, settings.chunk_chars, settings.overlap_sentences, hard_wraps
    ):
        chunks.append(chunk)
        sentences += sum(1 for s in chunk.sentences if s.start >= last_end)  # overlap counted once
        last_end = max(last_end, chunk.sentences[-1].end)
        if sentences > sentence_limit:
            raise _over(doc, f"more than {sentence_limit:,} sentences", sentence_limit, "sentences", settings)
        if len(chunks) > chunk_limit:
            raise _over(doc, f"more than {chunk_limit:,} chunks", chunk_limit, "chunks", settings)
    return chunks


def limits(doc: Document, settings: Settings) -> tuple[int, int]:
    """(sentences, chunks) the document may have: tighter for an upload of the chat panel, which is
    indexed while the user waits."""
    if is_upload(doc, settings):
        return settings.max_upload_sentences, settings.max_upload_chunks
    return settings.max_document_sentences, settings.max_document_chunks


def is_upload(doc: Document, settings: Settings) -> bool:
    """Whether the document was uploaded through the chat panel (it lives in <index>/uploads/)."""
    if not doc.source:
        return False
    return Path(doc.source).resolve().is_relative_to((settings.index_dir / UPLOADS).resolve())


def check_paragraphs(doc: Document, settings: Settings) -> None:
    """BudgetError when the document has more paragraphs than it may have chunks (or sentences)."""
    sentence_limit, chunk_limit = limits(doc, settings)
    count = len(paragraphs(doc.text, read_as_typed(doc)))
    limit = min(chunk_limit, sentence_limit)
    if count > limit:
        what = "chunks" if limit == chunk_limit else "sentences"
        raise _over(doc, f"at least {count:,} {what} (one per paragraph)", limit, what, settings)


def _over(doc: Document, found: str, limit: int, what: str, settings: Settings) -> BudgetError:
    upload = is_upload(doc, settings)
    env = f"RAG_MAX_{'UPLOAD' if upload else 'DOCUMENT'}_{what.upper()}"
    advice = "split it into smaller documents" + (
        ", or index it with `rag index`" if upload else ", or raise the limit"
    )
    return BudgetError(
        doc.doc_id,
        f"{doc.doc_id}: {found}, over the limit of {limit:,} {what} a document ({env}); {advice}",
    )

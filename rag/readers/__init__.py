"""Readers write the answer from what retrieval found; every reader shares one small protocol.

- `extractive` (rag.readers.extractive): quotes the best sentences and leads with the short answer. The
  default, and the fallback of the other.
- `llm` (rag.readers.llm): a language model decides whether the quotes answer the question, writes
  1-3 sentences citing numbered quotes, and every sentence is verified against the quotes it cites.

Every reader gets the same `Evidence` (rag.retrieve): the parsed query, the retrieved passages and the
text they point into; never the retriever itself. A reader's `stream()` yields text pieces as it
writes (a preview; may be empty) and then the final, verified `Answer`, exactly once and last.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

from rag.config import Settings
from rag.retrieve import Evidence
from rag.types import Answer

if TYPE_CHECKING:
    from rag.readers.extractive import ExtractiveReader


class Reader(Protocol):
    name: str

    def stream(self, evidence: Evidence) -> Iterator[str | Answer]:
        """Text pieces while writing, then the final Answer (always last, exactly once)."""
        ...


def get_reader(settings: Settings) -> Reader:
    """The reader `settings.reader` names."""
    if settings.reader == "llm":
        from rag.readers.llm import LLMReader

        return LLMReader(settings, fallback=fallback_reader(settings))
    return fallback_reader(settings)


def fallback_reader(settings: Settings) -> ExtractiveReader:
    """The extractive reader: the default, and what the LLM reader falls back on."""
    from rag.readers.extractive import ExtractiveReader

    return ExtractiveReader(settings)


def final(pieces: Iterator[str | Answer]) -> Answer:
    """The Answer at the end of a reader's stream."""
    answer: Answer | None = None
    for piece in pieces:
        if isinstance(piece, Answer):
            answer = piece
    if answer is None:
        raise RuntimeError("a reader's stream ended without an Answer")
    return answer

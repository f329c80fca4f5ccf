"""Readers write the answer from what retrieval found; every reader shares one small protocol.

- `extractive` (rag.readers.extractive): quotes the best sentences and leads with the short answer. The
  library's default (`Settings()`, `ask()`), and the fallback of the other.
- `llm` (rag.readers.llm): a language model decides whether the quotes answer the question, writes
  1-3 sentences citing numbered quotes, and every sentence is verified against the quotes it cites.
- `auto` (what `rag ask`, `rag chat` and `rag serve` use unless told otherwise): `llm` when it can run
  here (a server at $RAG_LLM_URL, or llama-cpp-python and the local model file), else `extractive`, each
  answer then saying why in `reader_note`.

Every reader gets the same `Evidence` (rag.retrieve): the parsed query, the retrieved passages and the
text they point into; never the retriever itself. A reader's `stream()` yields text pieces as it
writes (a preview; may be empty) and then the final, verified `Answer`, exactly once and last.
"""

from __future__ import annotations

import dataclasses
import importlib.util
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
    """The reader `settings.reader` names (`auto`: the one `resolve_reader` picks)."""
    settings, missing = resolve_reader(settings)
    if settings.reader == "llm":
        from rag.readers.llm import LLMReader

        return LLMReader(settings, fallback=fallback_reader(settings))
    if missing:
        return NotedReader(fallback_reader(settings), f"the LLM reader cannot run here: {missing}")
    return fallback_reader(settings)


def resolve_reader(settings: Settings) -> tuple[Settings, str]:
    """`auto` made concrete: the settings with reader `llm` when it can run here, else `extractive` and
    why not (a message that says how to set it up); other readers as they are, with ""."""
    if settings.reader != "auto":
        return settings, ""
    missing = llm_unavailable(settings)
    return settings.replace(reader="extractive" if missing else "llm"), missing


def llm_unavailable(settings: Settings) -> str:
    """Why the LLM reader cannot run here, or "" when it can: a server URL is enough; a local model needs
    llama-cpp-python and the assembled model file (checked by name and place, not read)."""
    if settings.llm_url:
        return ""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (`make install` builds it, or set RAG_LLM_URL to a server)"
    from rag.readers.llm.model_files import ModelFileError, local_model_path

    try:
        local_model_path(settings.llm_model_path)
    except ModelFileError as exc:
        return f"{exc} (`make llm-model` sets it up)"
    return ""


class NotedReader:
    """The extractive reader standing in for the LLM reader: its answers, with why in `reader_note`."""

    def __init__(self, reader: ExtractiveReader, note: str) -> None:
        self.reader, self.note = reader, note
        self.name = reader.name

    def stream(self, evidence: Evidence) -> Iterator[str | Answer]:
        yield self.answer(evidence)

    def answer(self, evidence: Evidence) -> Answer:
        return dataclasses.replace(self.reader.answer(evidence), reader_note=self.note)


def fallback_reader(settings: Settings) -> ExtractiveReader:
    """The extractive reader: the library's default, `auto`'s where the LLM reader cannot run, and what the
    LLM reader falls back on."""
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

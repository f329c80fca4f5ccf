"""The chain of evidence as types: Document -> Chunk -> Passage -> Citation -> Answer.

Every offset is a Python string index into the document's text exactly as it was read
(for HTML, the text extracted from it), never into a normalised copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    doc_id: str  # path relative to the corpus root, e.g. "belarus-prisoner-release-2025.txt"
    text: str
    sha256: str  # hash of the raw bytes on disk
    source: str = ""  # absolute path it was read from


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    chunk_id: str  # says where it is: "belarus-prisoner-release-2025.txt#c003"
    doc_id: str
    start: int
    end: int
    text: str  # invariant: document.text[start:end] == text
    sentences: tuple[Sentence, ...] = ()  # absolute spans of the sentences in the chunk


@dataclass(frozen=True)
class Passage:
    chunk: Chunk
    score: float  # fused retrieval score, higher is better
    dense_score: float = 0.0  # cosine similarity to the question
    lexical_score: float = 0.0  # BM25 score

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk.chunk_id,
            "doc_id": self.chunk.doc_id,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "score": round(self.score, 6),
            "dense_score": round(self.dense_score, 6),
            "lexical_score": round(self.lexical_score, 6),
            "text": self.chunk.text,
        }


@dataclass(frozen=True)
class Citation:
    doc_id: str
    start: int
    end: int
    quote: str  # invariant: document.text[start:end] == quote (checked by rag.cite.verify)

    def to_dict(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "start": self.start, "end": self.end, "quote": self.quote}


@dataclass(frozen=True)
class Dropped:
    """A sentence a reader wrote that verification rejected, and why; never shown as an answer."""

    sentence: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"sentence": self.sentence, "reason": self.reason}


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str  # the text shown to the user
    abstained: bool
    citations: tuple[Citation, ...] = ()
    passages: tuple[Passage, ...] = ()
    direct_answer: str = ""  # the short answer ("52 political prisoners") when one was found
    confidence: float = 0.0  # the evidence score the abstention decision was made on
    resolved_question: str = ""  # the question after follow-up resolution from history
    error: str = ""  # set when the question itself could not be asked (empty, too long)
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False)
    reader: str = "extractive"  # who wrote the answer: "extractive" or "llm"
    dropped: tuple[Dropped, ...] = ()  # sentences the LLM wrote that verification rejected
    reader_note: str = ""  # why the LLM reader fell back to the extractive answer, if it did

    def to_dict(self) -> dict[str, Any]:
        """The JSON answer (a contract: these keys are never renamed, only added to)."""
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "direct_answer": self.direct_answer,
            "confidence": round(self.confidence, 6),
            "resolved_question": self.resolved_question,
            "error": self.error,
            "reader": self.reader,
            "dropped": [d.to_dict() for d in self.dropped],
            "reader_note": self.reader_note,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }

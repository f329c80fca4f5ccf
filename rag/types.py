"""The chain of evidence as types: Document -> Chunk -> Passage -> Citation -> Answer.

Every offset is a Python string index into the document's text exactly as it was read
(for HTML, the text extracted from it), never into a normalised copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# what an Answer is: a grounded answer, an abstention, a reply to small talk, a request to ask in
# English, or an error about the question itself
AnswerKind = Literal["answer", "abstain", "smalltalk", "language", "error"]


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
    page: int | None = None  # the 1-based page of a PDF the quote starts on; None for unpaged documents

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "start": self.start,
            "end": self.end,
            "quote": self.quote,
            "page": self.page,
        }


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
    confidence: float = 0.0  # what the abstention decision was made on: the reader's P(answerable)
    resolved_question: str = ""  # the question after follow-up resolution from history
    error: str = ""  # set when the question itself could not be asked (empty, too long)
    kind: AnswerKind | None = None  # set for "smalltalk"/"language"; otherwise read from error/abstained
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False)
    p_answerable: float = 0.0  # calibrated probability that the documents answer the question
    p_short: float = 0.0  # probability that the (shown or candidate) short answer is right
    reader: str = "extractive"  # who wrote the answer: "extractive" or "llm"
    dropped: tuple[Dropped, ...] = ()  # sentences the LLM wrote that verification rejected
    reader_note: str = ""  # why the LLM reader fell back to the extractive answer, if it did
    # what the LLM reader's answerability decision read (P(yes), similarities, coverage); empty otherwise
    signals: dict[str, float] = field(default_factory=dict, compare=False)

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
            "kind": self.reply_kind(),
            "p_answerable": round(self.p_answerable, 6),
            "p_short": round(self.p_short, 6),
            "reader": self.reader,
            "dropped": [d.to_dict() for d in self.dropped],
            "reader_note": self.reader_note,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "signals": {k: round(v, 6) for k, v in self.signals.items()},
        }

    def reply_kind(self) -> AnswerKind:
        """What kind of reply this is (the JSON's "kind")."""
        if self.kind is not None:
            return self.kind
        if self.error:
            return "error"
        return "abstain" if self.abstained else "answer"

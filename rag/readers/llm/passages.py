"""The passages the LLM reader reads: the top retrieved chunks, each sentence numbered so a reply can cite it.

The model sees whole passages (the gold evidence is in the top 5 retrieved chunks for nearly every question),
not a few sentences picked by hand-set weights. Chunks overlap by a sentence; a sentence is numbered once,
in the first (best-ranked) passage that holds it. Passages are taken in retrieval order until `max_passages`
or `max_chars` (the prompt budget: ~4 characters a token) is reached; the first passage is always kept.

The model reads, for two passages of two and one sentences:

    [1] Belarus freed 52 prisoners. [2] The deal eased sanctions.

    [3] Poland closed its border.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rag.cite import cite, verify
from rag.retrieve import Evidence
from rag.text import terms
from rag.types import Citation

MAX_PASSAGES = 4
MAX_CHARS = 1500


@dataclass(frozen=True)
class NumberedSentence:
    number: int  # 1-based, as the model sees it: [number]
    sentence: int  # index into store.sentence_spans
    citation: Citation  # the sentence as a verified, verbatim citation
    passage: int  # 0-based rank of the passage it was numbered in
    dense: float  # cosine similarity of the question to the sentence
    words: float  # IDF-weighted share of the question's content words in the sentence


@dataclass(frozen=True)
class Numbered:
    """The numbered sentences of the passages the model reads, in passage order."""

    sentences: tuple[NumberedSentence, ...]

    @classmethod
    def of_citations(cls, citations: Sequence[Citation]) -> Numbered:
        """Quotes chosen elsewhere (an overview's), numbered in the order given, one passage each."""
        return cls(tuple(NumberedSentence(i, -1, c, i, 0.0, 0.0) for i, c in enumerate(citations, 1)))

    def __len__(self) -> int:
        return len(self.sentences)

    def get(self, number: int) -> NumberedSentence | None:
        """The sentence numbered `number`, or None when there is none."""
        return self.sentences[number - 1] if 1 <= number <= len(self.sentences) else None

    def text(self) -> str:
        """The passages as the model reads them: one paragraph a passage, each sentence after its [n]."""
        paragraphs: list[list[str]] = []
        last = -1
        for s in self.sentences:
            if s.passage != last:
                paragraphs.append([])
                last = s.passage
            paragraphs[-1].append(f"[{s.number}] {' '.join(s.citation.quote.split())}")
        return "\n\n".join(" ".join(p) for p in paragraphs)

    def quotes(self) -> list[str]:
        """Each sentence's text, in number order (what verification checks a reply against)."""
        return [s.citation.quote for s in self.sentences]

    def best(self) -> NumberedSentence | None:
        """The sentence closest in meaning to the question."""
        return max(self.sentences, key=lambda s: s.dense, default=None)


def number_passages(
    evidence: Evidence, max_passages: int = MAX_PASSAGES, max_chars: int = MAX_CHARS
) -> Numbered:
    """The sentences of the top passages, numbered 1..n in passage order (see the module docstring)."""
    store, retrieval = evidence.store, evidence.retrieval
    q_terms = set(evidence.query.parsed.terms)
    weights = {t: evidence.idf(t) for t in q_terms}
    total = sum(weights.values()) or 1.0
    seen: set[int] = set()
    out: list[NumberedSentence] = []
    chars = 0
    for rank, c in enumerate(retrieval.chunk_indices[:max_passages]):
        new = [s for s in store.chunk_sentences[c] if s not in seen]
        size = sum(len(store.sentence_text(s)) + 5 for s in new)
        if out and chars + size > max_chars:
            break
        chars += size
        for s in new:
            seen.add(s)
            span = store.sentence_spans[s]
            citation = cite(store.documents[store.sentence_doc[s]], span.start, span.end)
            if not citation.quote.strip() or not verify(citation, store.documents):
                continue
            words = sum(weights[t] for t in q_terms & set(terms(citation.quote))) / total
            dense = float(retrieval.sentence_scores[s])
            out.append(NumberedSentence(len(out) + 1, s, citation, rank, dense, words))
    return Numbered(tuple(out))

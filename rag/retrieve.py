"""Dense (FAISS over sentence vectors) and lexical (BM25 over chunks) retrieval, fused by RRF.

A chunk's dense score is the best cosine similarity between the question and one of its
sentences, so a chunk is found by its most relevant sentence rather than by its average.
Reciprocal rank fusion: score(c) = sum over retrievers of 1 / (rrf_k + rank(c)).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain, pairwise

import numpy as np

from rag.config import RetrievalMode, Settings
from rag.index.store import Store
from rag.query import Query
from rag.query.spelling import Vocabulary
from rag.text import terms
from rag.types import Passage

_WORD_PAIR = re.compile(r"\w\w")  # two word characters: a token would run across them


def _chunk_terms(store: Store, c: int, sentence_terms: list[list[str]]) -> list[str]:
    """terms(chunk.text), from its sentences' terms: only white space lies between them, unless two
    sentences touch inside a word, where the chunk is tokenised afresh."""
    chunk, members = store.chunks[c], store.chunk_sentences[c]
    spans = [store.sentence_spans[s] for s in members]
    if len(spans) == 1 and (spans[0].start, spans[0].end) == (chunk.start, chunk.end):
        return sentence_terms[members[0]]  # most chunks of short-paragraph text
    text = store.documents[chunk.doc_id].text
    touching = any(a.end == b.start and _WORD_PAIR.match(text, a.end - 1) for a, b in pairwise(spans))
    if touching or not spans or (spans[0].start, spans[-1].end) != (chunk.start, chunk.end):
        return terms(chunk.text)
    return [t for s in members for t in sentence_terms[s]]


@dataclass(frozen=True)
class Retrieval:
    passages: tuple[Passage, ...]
    chunk_indices: tuple[int, ...]  # position in store.chunks of each passage's chunk
    question_vector: np.ndarray
    sentence_scores: np.ndarray  # cosine similarity of the question to every sentence


@dataclass(frozen=True)
class Evidence:
    """What a reader reads, and all it reads: the query, what retrieval found for it, and the indexed
    text those passages point into (with term statistics for weighing the query's words)."""

    query: Query
    retrieval: Retrieval
    store: Store
    term_df: Mapping[str, int]  # in how many indexed sentences each term occurs

    @property
    def passages(self) -> tuple[Passage, ...]:
        return self.retrieval.passages

    def idf(self, term: str) -> float:
        """How rare `term` is among the indexed sentences (BM25's idf, never negative)."""
        return idf(self.term_df.get(term, 0), len(self.store.sentence_spans))


def idf(df: int, n: int) -> float:
    """log(1 + (n - df + 0.5) / (df + 0.5)) over `n` sentences (at least 1)."""
    n = max(n, 1)
    return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))


class Retriever:
    """Holds the BM25 index built over the store's chunks; search() is read-only and thread-safe."""

    def __init__(self, store: Store, settings: Settings) -> None:
        import bm25s

        self.store = store
        self.settings = settings
        sentence_terms = [terms(store.sentence_text(i)) for i in range(len(store.sentence_spans))]
        corpus = [_chunk_terms(store, c, sentence_terms) for c in range(len(store.chunks))]
        self._bm25 = bm25s.BM25()
        if corpus:
            self._bm25.index(corpus, show_progress=False)
        # document frequency of each term over sentences, for the answer step's term weights
        self.sentence_df: dict[str, int] = Counter(t for ts in sentence_terms for t in set(ts))
        # the documents' words, for reading a question's typos as words of the documents
        self.vocabulary = Vocabulary.of(d.text for d in store.documents.values())
        # each chunk's sentences laid end to end, so a chunk's best sentence is one reduceat
        members = store.chunk_sentences
        sizes = np.fromiter(map(len, members), dtype=np.int64, count=len(members))
        self._members = np.fromiter(chain.from_iterable(members), dtype=np.int64, count=int(sizes.sum()))
        self._starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self._empty = sizes == 0

    def idf(self, term: str) -> float:
        return idf(self.sentence_df.get(term, 0), len(self.store.sentence_spans))

    def evidence(
        self,
        query: Query,
        qvec: np.ndarray,
        k: int,
        mode: RetrievalMode | None = None,
        doc_ids: frozenset[str] | None = None,
    ) -> Evidence:
        """What the readers get for `query`: the k best passages (see `search`) and the text they are in."""
        return Evidence(query, self.search(query.text, qvec, k, mode, doc_ids), self.store, self.sentence_df)

    def lexical_scores(self, query: str) -> np.ndarray:
        n = len(self.store.chunks)
        tokens = terms(query)
        if not n or not tokens:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)

    def sentence_similarities(self, qvec: np.ndarray) -> np.ndarray:
        """Cosine similarity of the question to every sentence, exact (flat) or approximate (HNSW)."""
        vectors = self.store.vectors
        if self.store.manifest.get("index_type") != "hnsw":
            return vectors @ qvec
        sims = np.full(len(vectors), -1.0, dtype=np.float32)
        n = min(len(vectors), self.settings.candidates * 20)
        scores, ids = self.store.index.search(qvec[None, :], n)
        keep = ids[0] >= 0
        sims[ids[0][keep]] = scores[0][keep]
        return sims

    def chunk_dense_scores(self, sims: np.ndarray) -> np.ndarray:
        """Each chunk's best sentence similarity (-1 for a chunk without sentences)."""
        dense = np.full(len(self._starts), -1.0, dtype=np.float32)
        if len(self._members):
            best = np.maximum.reduceat(sims[self._members], np.minimum(self._starts, len(self._members) - 1))
            dense[~self._empty] = best[~self._empty]
        return dense

    def search(
        self,
        query: str,
        qvec: np.ndarray,
        k: int,
        mode: RetrievalMode | None = None,
        doc_ids: frozenset[str] | None = None,
    ) -> Retrieval:
        """The k best passages; with `doc_ids`, only passages of those documents are ranked."""
        mode = mode or self.settings.retrieval
        sims = self.sentence_similarities(qvec)
        dense = self.chunk_dense_scores(sims)
        lexical = self.lexical_scores(query) if mode != "dense" else np.zeros(len(dense), dtype=np.float32)
        allowed = self._allowed(doc_ids)
        if allowed is not None:  # other documents' chunks take no part in the ranking
            dense[~allowed] = -1.0
            lexical[~allowed] = 0.0
        fused = self._fuse(dense, lexical, mode)
        order = np.argsort(-fused, kind="stable")
        order = (order if allowed is None else order[allowed[order]])[:k]
        passages = tuple(
            Passage(self.store.chunks[i], float(fused[i]), float(dense[i]), float(lexical[i])) for i in order
        )
        return Retrieval(passages, tuple(int(i) for i in order), qvec, sims)

    def _allowed(self, doc_ids: frozenset[str] | None) -> np.ndarray | None:
        if doc_ids is None:
            return None
        chunks = self.store.chunks
        return np.fromiter((c.doc_id in doc_ids for c in chunks), dtype=bool, count=len(chunks))

    def _fuse(self, dense: np.ndarray, lexical: np.ndarray, mode: RetrievalMode) -> np.ndarray:
        if mode == "dense":
            return dense
        if mode == "bm25":
            return lexical
        fused = np.zeros(len(dense), dtype=np.float64)
        top = self.settings.candidates
        for scores in (dense, lexical):
            ranked = np.argsort(-scores, kind="stable")[:top]
            ranked = ranked[scores[ranked] > (0 if scores is lexical else -1)]
            fused[ranked] += 1.0 / (self.settings.rrf_k + 1 + np.arange(len(ranked)))
        return fused

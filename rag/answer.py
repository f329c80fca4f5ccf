"""Compose the answer from quoted sentences of the retrieved passages, or abstain.

1. Every sentence of the retrieved passages is a candidate.
2. Each is scored: w * cosine(question, sentence) + (1 - w) * the IDF-weighted share of the
   question's content words the sentence contains.
3. The best score is the evidence score; below `abstain_threshold` the bot says the article does
   not say, and shows the closest passages instead of an answer. A question that states a figure
   the documents never contain (a false premise, "why were 100 freed?") is not answered either.
4. The best sentence is quoted; a second one is added when it scores nearly as well and brings
   question words the first lacks (lists, multi-part questions).
5. The direct answer (a number, date, name or place) leads, taken verbatim from the quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.cite import cite, verified
from rag.config import Settings
from rag.extract import direct_answer
from rag.retrieve import Retrieval, Retriever, terms
from rag.store import Store
from rag.types import Answer, Citation

DENSE_WEIGHT = 0.6
SECOND_QUOTE_RATIO = 0.85
_DIGITS = re.compile(r"\d[\d,.]*\d|\d")

NOT_FOUND = "The article does not say."


@dataclass(frozen=True)
class Candidate:
    sentence: int  # index into the store's sentence table
    score: float
    dense: float
    coverage: float
    covered: frozenset[str]


def score_sentences(question: str, retrieval: Retrieval, retriever: Retriever) -> list[Candidate]:
    """Candidates from the retrieved passages, best first."""
    store = retriever.store
    q_terms = set(terms(question))
    weights = {t: retriever.idf(t) for t in q_terms}
    total = sum(weights.values()) or 1.0
    seen: set[int] = set()
    out: list[Candidate] = []
    for chunk_index in retrieval.chunk_indices:
        for s in store.chunk_sentences[chunk_index]:
            if s in seen:
                continue
            seen.add(s)
            covered = q_terms & set(terms(store.sentence_text(s)))
            coverage = sum(weights[t] for t in covered) / total if q_terms else 0.0
            dense = float(retrieval.sentence_scores[s])
            score = DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * coverage
            out.append(Candidate(s, score, dense, coverage, frozenset(covered)))
    out.sort(key=lambda c: -c.score)
    return out


def compose(
    question: str,
    retrieval: Retrieval,
    retriever: Retriever,
    settings: Settings,
    shown_question: str | None = None,
) -> Answer:
    """The answer to `question` (already resolved from history) from `retrieval`."""
    shown = shown_question if shown_question is not None else question
    candidates = score_sentences(question, retrieval, retriever)
    confidence = candidates[0].score if candidates else 0.0
    unknown = unsupported_figures(question, retriever)
    if not candidates or confidence < settings.abstain_threshold or unknown:
        return abstain(shown, question, retrieval, confidence, unknown)
    chosen = select_quotes(candidates, settings.max_quotes)
    store = retriever.store
    citations = verified(
        (cite(store.documents[store.sentence_doc[c.sentence]], *_span(store, c.sentence)) for c in chosen),
        store.documents,
    )
    if not citations:
        return abstain(shown, question, retrieval, confidence, [])
    short, marker = next(
        ((d, i) for i, c in enumerate(citations, 1) if (d := direct_answer(question, c.quote))), ("", 0)
    )
    return Answer(
        question=shown,
        answer=answer_text(short, marker, citations),
        abstained=False,
        citations=citations,
        passages=retrieval.passages,
        direct_answer=short,
        confidence=confidence,
        resolved_question=question,
    )


def select_quotes(candidates: list[Candidate], max_quotes: int) -> list[Candidate]:
    best = candidates[0]
    chosen = [best]
    covered = set(best.covered)
    for c in candidates[1 : max_quotes + 3]:
        if len(chosen) >= max_quotes:
            break
        if c.score >= SECOND_QUOTE_RATIO * best.score and not c.covered <= covered:
            chosen.append(c)
            covered |= c.covered
    return sorted(chosen, key=lambda c: c.sentence)


def unsupported_figures(question: str, retriever: Retriever) -> list[str]:
    """Numbers the question states that no document contains, e.g. '100' in 'why were 100 freed?'."""
    figures = {m.group().replace(",", "") for m in _DIGITS.finditer(question)}
    if not figures:
        return []
    texts = [d.text.replace(",", "") for d in retriever.store.documents.values()]
    return sorted(f for f in figures if not any(re.search(rf"(?<![\d.]){re.escape(f)}(?![\d])", t) for t in texts))


def abstain(shown: str, resolved: str, retrieval: Retrieval, confidence: float, unknown: list[str]) -> Answer:
    text = NOT_FOUND
    if unknown:
        text = f"The article does not say that: it never mentions {', '.join(unknown)}."
    text += " The closest passages are listed below; none of them answers the question."
    return Answer(
        question=shown,
        answer=text,
        abstained=True,
        passages=retrieval.passages,
        confidence=confidence,
        resolved_question=resolved,
    )


def answer_text(short: str, marker: int, citations: tuple[Citation, ...]) -> str:
    """'52 political prisoners [1]. “…quote…” [1]': the short answer first, then the numbered quotes."""
    quotes = " ".join(f"“{c.quote}” [{i}]" for i, c in enumerate(citations, 1))
    return f"{short} [{marker}]. {quotes}" if short else f"The article says: {quotes}"


def _span(store: Store, s: int) -> tuple[int, int]:
    span = store.sentence_spans[s]
    return span.start, span.end

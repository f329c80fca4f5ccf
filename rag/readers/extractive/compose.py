"""Compose the answer from quoted sentences of the retrieved passages, or abstain.

1. The question, parsed once before retrieval (rag.query), is read against the retrieved sentences
   (features): the sentences are scored, the candidate short answers in the best ones found.
2. The fitted reader model (model) gives each candidate the probability that it is
   right and the question the probability that the documents answer it (p_answerable).
3. The bot abstains, says no answer was found and offers the closest passages as ones that may help,
   when p_answerable is below the fitted threshold or the question rests on something the documents
   contradict (a figure or name they never pair with the topic).
4. The best sentence is quoted, with the sentence holding the best candidate when that is another
   one; the sentence before joins when it supplies question words the best one lacks, the sentence
   after when the best one only leads in to a why/how answer, and a second-best sentence when it
   scores nearly as well and adds question words (lists).
5. The short answer leads only when its probability of being right clears the threshold fitted for
   short-answer precision; otherwise the answer is the quotes alone. It is a verbatim span of a quote.
"""

from __future__ import annotations

from rag.cite import cite, verified
from rag.config import Settings
from rag.index.store import Store
from rag.query.parse import Question
from rag.readers.base import Source, abstain, quoted
from rag.readers.extractive.features import read
from rag.readers.extractive.model import decide, load_model
from rag.readers.extractive.scoring import ScoredSentence, next_sentence, previous_sentence
from rag.retrieve import Evidence
from rag.types import Answer, Citation

SECOND_QUOTE_RATIO = 0.9
SHORT_SENTENCE_CHARS = 90  # a why/how answer this short is a lead-in: quote what follows too


def compose(evidence: Evidence, settings: Settings) -> Answer:
    """The answer to the evidence's query (already resolved from history) from its passages."""
    q = evidence.query.parsed
    reading = read(evidence)
    decision = decide(reading, load_model(), settings.abstain_threshold)
    store = evidence.store
    source = Source.of(store)
    if decision.abstain:
        return abstain(evidence, decision.p_answerable, decision.p_short, reading.premise)
    best = reading.spans[decision.best] if decision.best >= 0 else None
    lead = best.sentence if best is not None else None
    chosen = select_sentences(list(reading.sentences), store, q, settings.max_quotes, lead)
    citations = verified(
        (cite(store.documents[store.sentence_doc[s]], *_span(store, s)) for s in chosen),
        store.documents,
    )
    if not citations:
        return abstain(evidence, decision.p_answerable, decision.p_short)
    short, marker = "", 0
    if decision.show_short and best is not None:
        span = store.sentence_spans[best.sentence]
        start, end = span.start + best.span.start, span.start + best.span.end
        marker = next((i for i, c in enumerate(citations, 1) if c.start <= start and end <= c.end), 0)
        short = best.span.text if marker else ""
    return Answer(
        question=evidence.query.shown,
        answer=answer_text(short, marker, citations, source),
        abstained=False,
        citations=citations,
        passages=evidence.passages,
        direct_answer=short,
        confidence=decision.p_answerable,
        resolved_question=evidence.query.text,
        p_answerable=decision.p_answerable,
        p_short=decision.p_short,
    )


def select_sentences(
    candidates: list[ScoredSentence], store: Store, q: Question, max_quotes: int, lead: int | None = None
) -> list[int]:
    """The sentences to quote, in document order: the best one, the one holding the best candidate
    short answer (`lead`), then context."""
    best = candidates[0]
    chosen = [best.sentence]
    if lead is not None and lead != best.sentence:
        chosen.append(lead)
    prev = previous_sentence(store, best.sentence)
    if len(chosen) < max_quotes and best.context_covered and prev is not None and prev not in chosen:
        chosen.append(prev)  # it names what the best sentence refers to
    elif (
        len(chosen) < max_quotes
        and q.kind in ("reason", "description", "none")
        and len(store.sentence_text(best.sentence)) < SHORT_SENTENCE_CHARS
    ):
        following = next_sentence(store, best.sentence)
        if following is not None and following not in chosen:
            chosen.append(following)  # the best sentence is a lead-in; the reason follows
    covered = set(best.covered | best.context_covered)
    for c in candidates[1:4]:
        if len(chosen) >= max_quotes:
            break
        if (
            c.sentence not in chosen
            and c.score >= SECOND_QUOTE_RATIO * best.score
            and not c.covered <= covered
        ):
            chosen.append(c.sentence)
            covered |= c.covered
    return sorted(chosen)


def answer_text(short: str, marker: int, citations: tuple[Citation, ...], source: Source) -> str:
    """'52 [1]. “…quote…” [1]': the short answer first, then the numbered quotes."""
    quotes = quoted(citations)
    return f"{short} [{marker}]. {quotes}" if short else f"{source.says()}: {quotes}"


def _span(store: Store, s: int) -> tuple[int, int]:
    span = store.sentence_spans[s]
    return span.start, span.end

"""Compose the answer from quoted sentences of the retrieved passages, or abstain.

1. The question is parsed once (rag/question.py) and read against the retrieved sentences
   (rag/reading.py): the sentences are scored, the candidate short answers in the best ones found.
2. The fitted reader model (rag/reader_model.py) gives each candidate the probability that it is
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

from dataclasses import dataclass

from rag.cite import cite, verified
from rag.config import Settings
from rag.evidence import ScoredSentence, next_sentence, previous_sentence
from rag.question import Question, parse
from rag.reader_model import Decision, decide, load_model
from rag.reading import read
from rag.retrieve import Retrieval, Retriever
from rag.store import Store
from rag.types import Answer, Citation

SECOND_QUOTE_RATIO = 0.9
SHORT_SENTENCE_CHARS = 90  # a why/how answer this short is a lead-in: quote what follows too
SEED_ARTICLE = "belarus-prisoner-release-2025.txt"


@dataclass(frozen=True)
class Source:
    """How answers name what was searched: 'the article', 'notes.txt' or 'the documents'."""

    name: str
    plural: bool = False

    @classmethod
    def of(cls, store: Store) -> Source:
        ids = list(store.documents)
        if ids == [SEED_ARTICLE]:
            return cls("the article")
        if len(ids) == 1:
            return cls(ids[0].rsplit("/", 1)[-1])
        return cls("the documents", plural=True)

    def says(self) -> str:
        """'The article says' / 'notes.txt says' / 'The documents say'."""
        name = self.name[0].upper() + self.name[1:] if self.name.startswith("the ") else self.name
        return f"{name} {'say' if self.plural else 'says'}"

    def does_not_say(self) -> str:
        return f"{self.name} {'do' if self.plural else 'does'} not say"


def compose(
    question: str,
    retrieval: Retrieval,
    retriever: Retriever,
    settings: Settings,
    shown_question: str | None = None,
) -> Answer:
    """The answer to `question` (already resolved from history) from `retrieval`."""
    shown = shown_question if shown_question is not None else question
    q = parse(question)
    reading = read(q, retrieval, retriever)
    decision = decide(reading, load_model(), settings.abstain_threshold)
    store = retriever.store
    source = Source.of(store)
    if decision.abstain:
        return abstain(shown, question, retrieval, decision, source, reading.premise)
    best = reading.spans[decision.best] if decision.best >= 0 else None
    lead = best.sentence if best is not None else None
    chosen = select_sentences(list(reading.sentences), store, q, settings.max_quotes, lead)
    citations = verified(
        (cite(store.documents[store.sentence_doc[s]], *_span(store, s)) for s in chosen),
        store.documents,
    )
    if not citations:
        return abstain(shown, question, retrieval, decision, source)
    short, marker = "", 0
    if decision.show_short and best is not None:
        span = store.sentence_spans[best.sentence]
        start, end = span.start + best.span.start, span.start + best.span.end
        marker = next((i for i, c in enumerate(citations, 1) if c.start <= start and end <= c.end), 0)
        short = best.span.text if marker else ""
    return Answer(
        question=shown,
        answer=answer_text(short, marker, citations, source),
        abstained=False,
        citations=citations,
        passages=retrieval.passages,
        direct_answer=short,
        confidence=decision.p_answerable,
        resolved_question=question,
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


def abstain(
    shown: str,
    resolved: str,
    retrieval: Retrieval,
    decision: Decision,
    source: Source,
    problem: str = "",
) -> Answer:
    """No answer was found: say so, and offer the closest passages as ones that may help."""
    said = f"{source.does_not_say()} that: {problem}" if problem else source.does_not_say()
    text = f"No answer was found: {said}."
    if retrieval.passages:
        text += " The closest passages are listed below; they may help."
    return Answer(
        question=shown,
        answer=text,
        abstained=True,
        passages=retrieval.passages,
        confidence=decision.p_answerable,
        resolved_question=resolved,
        p_answerable=decision.p_answerable,
        p_short=decision.p_short,
    )


def answer_text(short: str, marker: int, citations: tuple[Citation, ...], source: Source) -> str:
    """'52 [1]. “…quote…” [1]': the short answer first, then the numbered quotes."""
    quotes = " ".join(f"“{c.quote}” [{i}]" for i, c in enumerate(citations, 1))
    return f"{short} [{marker}]. {quotes}" if short else f"{source.says()}: {quotes}"


def _span(store: Store, s: int) -> tuple[int, int]:
    span = store.sentence_spans[s]
    return span.start, span.end

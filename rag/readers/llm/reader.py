"""The LLM reader: a language model writes the answer; every sentence it writes is verified.

1. Quotes: the best sentences of the retrieved passages (meaning and word overlap, as the extractive
   reader scores them), verbatim spans with offsets, numbered [1]..[n]. Overview questions quote the
   document's lead and most central sentences instead (rag.readers.overview).
2. Answerability: the model is asked whether the quotes answer the question; its P(yes) (from token
   log-probabilities) and the retrieval signals are combined by a fitted logistic model
   (rag.readers.llm.answerability). Below the threshold the reader says the article does not say.
3. The reply: 1-3 sentences citing the quotes, streamed piece by piece. Both prompts share their
   start (instructions, quotes, question), so the model reads it once (prompt-prefix caching).
4. Verification (rag.readers.llm.grounding): a sentence whose figures, names or content words are not in the
   quotes it cites is dropped and recorded with the reason. The Answer holds only verified sentences,
   citing only verified quotes (rag.cite). When nothing survives, or the model cannot be reached,
   the extractive answer is given, with the reason in `reader_note`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass

from rag.cite import cite, verify
from rag.config import Settings
from rag.readers.base import Fallback, abstain
from rag.readers.llm.answerability import Calibration, Signals, load_calibration
from rag.readers.llm.backends import ChatBackend, LLMError, Message, backend_for
from rag.readers.llm.grounding import Verdict, verify_reply
from rag.readers.llm.model_files import ModelFileError
from rag.readers.overview import overview_citations
from rag.retrieve import Evidence
from rag.text import terms
from rag.types import Answer, Citation, Dropped

MAX_QUOTES = 3
MAX_TOKENS = 100
DENSE_WEIGHT = 0.65

SYSTEM = (
    "Answer the question using only the numbered quotes. Be brief: 1 to 3 short sentences, the first "
    "giving the answer directly. After each sentence write the number of the quote it comes from in "
    "brackets. Use the quotes' own words, names and figures; add nothing else."
)
ASK_ANSWERABLE = "Do these quotes answer the question? Reply with yes or no only."
ASK_ANSWER = "Answer the question from the quotes, citing them like [1]."
ASK_OVERVIEW = "Summarise what the quotes say in 2 or 3 sentences, citing them like [1]."


@dataclass(frozen=True)
class Quote:
    citation: Citation
    dense: float
    words: float


def messages(quotes: Sequence[Citation], question: str, task: str) -> list[Message]:
    """The chat prompt: fixed instructions, the numbered quotes, the question, then the task."""
    numbered = "\n".join(f"[{i}] {' '.join(c.quote.split())}" for i, c in enumerate(quotes, 1))
    user = f"Quotes:\n{numbered}\n\nQuestion: {question}\n\n{task}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def select_quotes(evidence: Evidence, n: int = MAX_QUOTES) -> list[Quote]:
    """The `n` best sentences of the retrieved passages, best first, as verified citations."""
    store, retrieval = evidence.store, evidence.retrieval
    q_terms = set(evidence.query.parsed.terms)
    weights = {t: evidence.idf(t) for t in q_terms}
    total = sum(weights.values()) or 1.0
    seen: set[int] = set()
    scored: list[tuple[float, int, float, float]] = []
    for c in retrieval.chunk_indices:
        for s in store.chunk_sentences[c]:
            if s in seen:
                continue
            seen.add(s)
            dense = float(retrieval.sentence_scores[s])
            words = sum(weights[t] for t in q_terms & set(terms(store.sentence_text(s)))) / total
            scored.append((DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * words, s, dense, words))
    scored.sort(key=lambda x: -x[0])
    quotes = []
    for _, s, dense, words in scored[:n]:
        span = store.sentence_spans[s]
        citation = cite(store.documents[store.sentence_doc[s]], span.start, span.end)
        if verify(citation, store.documents):
            quotes.append(Quote(citation, dense, words))
    return quotes


class LLMReader:
    name = "llm"

    def __init__(
        self,
        settings: Settings,
        backend: ChatBackend | None = None,
        calibration: Calibration | None = None,
        on_signals: Callable[[Signals], None] | None = None,
        fallback: Fallback | None = None,
    ) -> None:
        self.settings = settings
        self._backend = backend
        self.calibration = calibration  # default: the fitted file, answerability.json
        self.on_signals = on_signals  # sees each question's answerability signals (benchmarks)
        self._fallback_reader = fallback  # the reader whose answer is given when no sentence survives

    @property
    def fallback(self) -> Fallback:
        """The reader whose answer stands when the model fails or nothing it wrote is verified
        (by default the one the readers' entrance gives for `extractive`)."""
        if self._fallback_reader is None:
            from rag.readers import fallback_reader

            self._fallback_reader = fallback_reader(self.settings)
        return self._fallback_reader

    def backend(self) -> ChatBackend:
        if self._backend is None:
            self._backend = backend_for(self.settings)
        return self._backend

    def stream(self, evidence: Evidence) -> Iterator[str | Answer]:
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        try:
            answer = yield from self._write(evidence, timings)
        except (LLMError, ModelFileError) as exc:
            answer = self._fallback(evidence, str(exc), ())
        timings["reader_total"] = (time.perf_counter() - t0) * 1e3
        answer.timings_ms.update(timings)
        yield answer

    def _write(self, evidence: Evidence, timings: dict[str, float]) -> Generator[str, None, Answer]:
        # the return value (an Answer) travels through `yield from`; pieces are yielded as they come
        backend = self.backend()
        question = evidence.query.text
        overview = evidence.query.overview
        if overview:
            citations = list(overview_citations(evidence.store, evidence.passages))
            confidence = 1.0
        else:
            quotes = select_quotes(evidence)
            citations = [q.citation for q in quotes]
            if not quotes:
                return self._abstain(evidence, 0.0)
            t = time.perf_counter()
            p_yes = backend.yes_probability(messages(citations, question, ASK_ANSWERABLE))
            timings["answerability"] = (time.perf_counter() - t) * 1e3
            signals = Signals(p_yes, quotes[0].dense, quotes[0].words)
            if self.on_signals:
                self.on_signals(signals)
            calibration = self.calibration or load_calibration()
            confidence = calibration.probability(signals)
            if confidence < calibration.threshold:
                return self._abstain(evidence, confidence)
        t = time.perf_counter()
        reply = ""
        task = ASK_OVERVIEW if overview else ASK_ANSWER
        for piece in backend.stream(messages(citations, question, task), MAX_TOKENS):
            if not reply:
                timings["first_piece"] = (time.perf_counter() - t) * 1e3
            reply += piece
            yield piece
        timings["generate"] = (time.perf_counter() - t) * 1e3
        verdicts = verify_reply(reply, [c.quote for c in citations])
        return self._compose(evidence, citations, verdicts, confidence)

    def _compose(
        self,
        evidence: Evidence,
        citations: Sequence[Citation],
        verdicts: Sequence[Verdict],
        confidence: float,
    ) -> Answer:
        dropped = tuple(Dropped(v.sentence, v.reason) for v in verdicts if not v.supported)
        kept = [v for v in verdicts if v.supported]
        if not kept:
            note = "no sentence the model wrote was supported by its quotes"
            note = note if verdicts else "the model wrote nothing"
            return self._fallback(evidence, note, dropped)
        order: dict[int, int] = {}  # quote number in the prompt -> number in the answer
        for v in kept:
            for n in v.cites:
                order.setdefault(n, len(order) + 1)
        sentences = []
        for v in kept:
            marks = "".join(f"[{order[n]}]" for n in v.cites)
            body = v.text.rstrip()
            end = body[-1] if body[-1] in ".!?" else "."
            body = body.rstrip(".!? ")
            sentences.append(f"{body} {marks}{end}" if marks else f"{body}{end}")
        return Answer(
            question=evidence.query.shown,
            answer=" ".join(sentences),
            abstained=False,
            citations=tuple(citations[n - 1] for n in order),
            passages=evidence.passages,
            direct_answer=self._short_answer(evidence, " ".join(sentences)),
            confidence=confidence,
            p_answerable=confidence,
            resolved_question=evidence.query.text,
            reader=self.name,
            dropped=dropped,
        )

    def _abstain(self, evidence: Evidence, confidence: float) -> Answer:
        refusal = abstain(evidence, confidence)
        return dataclasses.replace(refusal, reader=self.name)

    def _short_answer(self, evidence: Evidence, reply: str) -> str:
        """The extractive reader's short answer, when it clears that reader's bar and the reply
        states it too: the model's own wording is never taken for a short answer."""
        found = self.fallback.answer(evidence).direct_answer
        return found if found and found in reply else ""

    def _fallback(self, evidence: Evidence, note: str, dropped: tuple[Dropped, ...]) -> Answer:
        answer = self.fallback.answer(evidence)
        return dataclasses.replace(answer, reader=self.fallback.name, reader_note=note, dropped=dropped)

"""The LLM reader: a language model reads the top passages, states a short answer checked in code, and
writes a sentence that is verified; or it says the documents do not say.

1. Passages (passages.py): the top retrieved chunks (up to 4, within a prompt budget), each
   sentence numbered [1]..[n] so a reply can cite it. Overview questions read the document's lead and
   most central sentences instead (rag.readers.overview).
2. Judge: the model is asked whether the numbered sentences answer the question; its P(yes) is read
   from the token log-probabilities.
3. Reply: unless P(yes) is below the fitted gate, the model answers on the same prompt (the judge's
   prompt and reply are its prefix, so llama.cpp reads only the new lines: the question restated and
   the task, `answer_task`) in one line, streamed:
   "ANSWER: <the shortest words that answer> [n]"; with `write_sentence`, a second line
   "SAYS: <one sentence> [n]" too. The shown answer is the short answer and the sentence it is in.
   A yes/no question gets no reply: the model answers one "yes" or "no", which no sentence holds, so
   past the gate the extractive reader's quotes answer it.
4. Short answer (short_answer.py): kept only when verbatim (case, spaces and quote marks
   folded) in a numbered sentence, the one the reply cites or, on a citation slip, the one holding it
   (of several, the one with most of the question's words); the answer cites that sentence, and
   `direct_answer` is the document's own characters.
5. Answerability (answerability.py): P(yes), the closest sentence's similarity and word
   coverage, and whether the short answer checked out, combined by a logistic model fitted on data
   held out by article and question family. Below its threshold the reader abstains; when the
   passages contradict what the question assumes, the abstention carries the correction they state
   (a third short reply on the same prefix, verified like any other sentence).
6. Verification (grounding.py): a sentence whose figures, names or content words are not in the
   sentences it cites, or whose claim no single cited sentence states (claims.py), is dropped and
   recorded with the reason. The Answer holds only the checked short answer and verified sentences,
   citing only the sentences they rest on (rag.cite). When
   nothing survives, or the model cannot be reached, the extractive answer is given, with the
   reason in `reader_note`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass

from rag.config import Settings
from rag.readers.base import Fallback, Source, abstain, quoted
from rag.readers.llm.answerability import Calibration, Signals, load_calibration
from rag.readers.llm.backends import ChatBackend, LLMError, Message, backend_for
from rag.readers.llm.claims import ParserMissing
from rag.readers.llm.described import described_short
from rag.readers.llm.grounding import Verdict, verify_reply
from rag.readers.llm.model_files import ModelFileError
from rag.readers.llm.passages import Numbered, number_passages
from rag.readers.llm.short_answer import MAX_SHORT_WORDS, ShortAnswer, fit_answer, locate_short, parse_reply
from rag.readers.overview import overview_citations
from rag.retrieve import Evidence
from rag.text import terms
from rag.types import Answer, Citation, Dropped

MAX_TOKENS = 100  # an overview's reply
ANSWER_TOKENS = 24  # one short line (60 with a sentence)
CORRECTION_TOKENS = 40

SYSTEM = (
    "You answer questions about a document using only its numbered sentences. Use the sentences' own "
    "words, names and figures; add nothing else."
)
ASK_ANSWERABLE = "Do the numbered sentences answer this question? Reply yes or no."
# the form, not an example: with "For example: ANSWER: in 1998 [3]" the model wrote the example itself
# when it found no answer (17 of 304 SQuAD replies, 10 of 127 of the evaluation set's) and leant to dates
# ("in 2012" for "who ranked ..."); it copies the form's brackets at times ("[<2>]"), which parse_reply reads
ASK_ANSWER = (
    "Reply with one line: ANSWER: then the shortest words copied exactly from one numbered sentence that "
    "answer the question, then that sentence's number in brackets, in the form:\nANSWER: <words> [<number>]"
)
# the same with a sentence in the reply's own words (SAYS:), verified like any other; twice the tokens to
# write, which on 2 busy cores costs more than the answer is worth (LLMReader(write_sentence=True))
ASK_ANSWER_AND_SENTENCE = (
    "Reply in two lines:\n"
    "ANSWER: the shortest words copied exactly from one numbered sentence that answer the question, then "
    "that sentence's number in brackets\n"
    "SAYS: one short sentence that answers the question, then the number of the sentence it comes from "
    "in brackets. For example:\nANSWER: in 1998 [3]\nSAYS: The bridge opened in 1998 [3]."
)
ASK_CORRECTION = (
    "Does the question assume something that the numbered sentences contradict? If it does, write one "
    "short sentence saying what they state instead, then its number in brackets, like [2]. If it does "
    "not, write NONE."
)
POLAR_NOTE = "a yes/no question: the model's yes or no cannot be checked in the text, so quotes are given"
ASK_OVERVIEW = "Summarise what the quotes say in 2 or 3 sentences, citing them like [1]."
OVERVIEW_SYSTEM = (
    "Answer the question using only the numbered quotes. Use the quotes' own words, names and figures; "
    "add nothing else."
)


def messages(quotes: Sequence[Citation], question: str, task: str) -> list[Message]:
    """An overview's prompt: fixed instructions, the numbered quotes, the question, then the task."""
    numbered = "\n".join(f"[{i}] {' '.join(c.quote.split())}" for i, c in enumerate(quotes, 1))
    user = f"Quotes:\n{numbered}\n\nQuestion: {question}\n\n{task}"
    return [{"role": "system", "content": OVERVIEW_SYSTEM}, {"role": "user", "content": user}]


def judge_messages(numbered: Numbered, question: str) -> list[Message]:
    """The shared prefix: instructions, the numbered passages, the question, and the yes/no task."""
    user = f"{numbered.text()}\n\nQuestion: {question}\n\n{ASK_ANSWERABLE}"
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def answer_task(question: str, task: str = ASK_ANSWER) -> str:
    """The reply's task with the question restated just before it: the judge's turn holds it, but many
    passages back, and the 1.5B model answers it more often and more shortly when it is repeated (SQuAD
    questions outside the 304 evaluated: 32 of 41 answerable ones got a short answer, HasAns F1 54.4,
    against 30 and 46.8 without it and with the dated example)."""
    return f"Question: {question}\n{task}"


def followup_messages(numbered: Numbered, question: str, judged: str, task: str) -> list[Message]:
    """The judge's prompt and a fixed reply to it, then `task`: the model reads only the new turn."""
    return [
        *judge_messages(numbered, question),
        {"role": "assistant", "content": judged},
        {"role": "user", "content": task},
    ]


@dataclass(frozen=True)
class Written:
    """What the model wrote for a question, checked: the short answer and the verdicts on its sentences."""

    reply: str
    short: ShortAnswer | None
    verdicts: tuple[Verdict, ...]
    objections: tuple[str, ...] = ()  # the short answer is verbatim, but said of someone or something else
    misfits: tuple[str, ...] = ()  # the short answer is verbatim, but not the kind of answer asked for
    misfit_in: tuple[int, ...] = ()  # the numbered sentences where it stands as such


class LLMReader:
    name = "llm"

    def __init__(
        self,
        settings: Settings,
        backend: ChatBackend | None = None,
        calibration: Calibration | None = None,
        on_signals: Callable[[Signals], None] | None = None,
        write_sentence: bool = False,
        fallback: Fallback | None = None,
    ) -> None:
        self.settings = settings
        self.write_sentence = write_sentence  # also a sentence in the model's words (SAYS:), verified
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
        signals: dict[str, float] = {}
        try:
            answer = yield from self._write(evidence, timings, signals)
        except (LLMError, ModelFileError, ParserMissing) as exc:
            answer = self._fallback(evidence, str(exc), ())
        timings["reader_total"] = (time.perf_counter() - t0) * 1e3
        answer.timings_ms.update(timings)
        answer.signals.update(signals)
        yield answer

    def _write(
        self, evidence: Evidence, timings: dict[str, float], record: dict[str, float]
    ) -> Generator[str, None, Answer]:
        # the return value (an Answer) travels through `yield from`; pieces are yielded as they come
        backend = self.backend()
        question = evidence.query.text
        if evidence.query.overview:
            return (yield from self._overview(evidence, timings))
        numbered = number_passages(evidence)
        best = numbered.best()
        if best is None:
            return self._abstain(evidence, 0.0)
        calibration = self.calibration or load_calibration()
        t = time.perf_counter()
        p_yes = backend.yes_probability(judge_messages(numbered, question))
        timings["answerability"] = (time.perf_counter() - t) * 1e3
        words = max(s.words for s in numbered.sentences)
        written: Written | None = None
        if evidence.query.parsed.polar and not self.write_sentence and p_yes >= calibration.gate:
            # a yes/no question: asked for the words that settle it, the model writes "yes" or "no" (23
            # of 24 such questions), so there is no short answer to check: the quotes answer it
            record.update(Signals(p_yes, best.dense, words).__dict__)  # what the gate read; no short answer
            return self._fallback(evidence, POLAR_NOTE, ())
        if p_yes >= calibration.gate:
            t = time.perf_counter()
            reply = ""
            task, tokens = (
                (ASK_ANSWER_AND_SENTENCE, 60) if self.write_sentence else (ASK_ANSWER, ANSWER_TOKENS)
            )
            shown = 0  # characters of the draft already yielded
            for piece in backend.stream(
                followup_messages(numbered, question, "Yes.", answer_task(question, task)), tokens
            ):
                if not reply:
                    timings["first_piece"] = (time.perf_counter() - t) * 1e3
                reply += piece
                draft = draft_text(reply)
                if len(draft) > shown:
                    yield draft[shown:]
                    shown = len(draft)
            timings["generate"] = (time.perf_counter() - t) * 1e3
            written = check_reply(reply, numbered, question, documents_text(evidence, numbered))
        signals = Signals(p_yes, best.dense, words, float(written is not None and written.short is not None))
        if self.on_signals:
            self.on_signals(signals)
        confidence = calibration.probability(signals)
        record.update(signals.__dict__)
        record.update(candidate_signals(evidence, numbered, written.short if written else None))
        record["p_answerable"] = confidence
        if written is not None and written.objections and not any(v.supported for v in written.verdicts):
            # the span the model chose is the passages' answer to another question (someone else's age,
            # another agent's deed): they do not say what was asked
            refusal = self._abstain(evidence, confidence, problem=written.objections[0])
            return dataclasses.replace(
                refusal, dropped=(Dropped(written.reply.strip(), written.objections[0]),)
            )
        if written is None or confidence < calibration.threshold:
            t = time.perf_counter()
            correction = self._correction(backend, numbered, question)
            timings["correction"] = (time.perf_counter() - t) * 1e3
            refusal = self._abstain(evidence, confidence, correction, numbered)
            if written is None or not written.reply.strip():
                return refusal
            # what the model answered, withheld: shown under `dropped` with the reason, never as the answer
            reason = (
                f"withheld: the probability that the passages answer the question, {confidence:.2f}, is "
                f"below the reader's threshold of {calibration.threshold:.2f}"
            )
            return dataclasses.replace(refusal, dropped=(Dropped(written.reply.strip(), reason),))
        return self._compose(evidence, numbered, written, confidence)

    def _overview(self, evidence: Evidence, timings: dict[str, float]) -> Generator[str, None, Answer]:
        question = evidence.query.text
        citations = list(overview_citations(evidence.store, evidence.passages))
        t = time.perf_counter()
        reply = ""
        for piece in self.backend().stream(messages(citations, question, ASK_OVERVIEW), MAX_TOKENS):
            if not reply:
                timings["first_piece"] = (time.perf_counter() - t) * 1e3
            reply += piece
            yield piece
        timings["generate"] = (time.perf_counter() - t) * 1e3
        verdicts = tuple(verify_reply(reply, [c.quote for c in citations]))
        numbered = Numbered.of_citations(citations)
        return self._compose(evidence, numbered, Written(reply, None, verdicts), 1.0)

    def _correction(self, backend: ChatBackend, numbered: Numbered, question: str) -> Verdict | None:
        """The sentence correcting the question's premise, when the passages contradict it and the
        sentence is verified against the sentences it cites; None otherwise."""
        reply = "".join(
            backend.stream(followup_messages(numbered, question, "No.", ASK_CORRECTION), CORRECTION_TOKENS)
        )
        text = parse_reply(reply).says.strip()
        if not text or text.upper().startswith("NONE"):
            return None
        verdicts = [v for v in verify_reply(text, numbered.quotes()) if v.supported and v.cites]
        return verdicts[0] if len(verdicts) == 1 else None

    def _compose(
        self,
        evidence: Evidence,
        numbered: Numbered,
        written: Written,
        confidence: float,
    ) -> Answer:
        verdicts = written.verdicts
        dropped = tuple(Dropped(v.sentence, v.reason) for v in verdicts if not v.supported)
        dropped += tuple(Dropped(written.reply.strip(), reason) for reason in written.misfits)
        kept = [v for v in verdicts if v.supported]
        short = written.short
        if not kept and short is None:
            note = "no sentence the model wrote was supported by its quotes"
            note = note if verdicts or written.reply.strip() else "the model wrote nothing"
            note = (
                f"the model's short answer did not fit the question: {written.misfits[0]}"
                if written.misfits and not verdicts
                else note
            )
            answer = self._fallback(evidence, note, dropped)
            if written.misfit_in and not answer.abstained and not answer.direct_answer:
                # the sentence the model took its span from is the one it found to answer: quoted first
                quote = numbered.sentences[written.misfit_in[0] - 1].citation
                answer = with_quote_first(answer, quote, Source.of(evidence.store).says())
            return answer
        order: dict[int, int] = {}  # sentence number in the prompt -> quote number in the answer
        if short is not None:
            order[short.number] = 1
        for v in kept:
            for n in v.cites:
                order.setdefault(n, len(order) + 1)
        sentences = [f"{short.text} [1]."] if short is not None else []
        if short is not None and not kept:  # the short answer and the sentence that states it, quoted
            sentences.append(f"“{numbered.sentences[short.number - 1].citation.quote}” [1]")
        for v in kept:
            marks = "".join(f"[{order[n]}]" for n in v.cites)
            body = v.text.rstrip()
            end = body[-1] if body[-1] in ".!?" else "."
            body = body.rstrip(".!? ")
            sentences.append(f"{body} {marks}{end}" if marks else f"{body}{end}")
        citations = tuple(numbered.sentences[n - 1].citation for n in order)
        return Answer(
            question=evidence.query.shown,
            answer=" ".join(sentences),
            abstained=False,
            citations=citations,
            passages=evidence.passages,
            direct_answer=short.text if short is not None else "",
            confidence=confidence,
            p_answerable=confidence,
            p_short=confidence if short is not None else 0.0,
            resolved_question=evidence.query.text,
            reader=self.name,
            dropped=dropped,
        )

    def _abstain(
        self,
        evidence: Evidence,
        confidence: float,
        correction: Verdict | None = None,
        numbered: Numbered | None = None,
        problem: str = "",
    ) -> Answer:
        source = Source.of(evidence.store)
        refusal = abstain(evidence, confidence, problem=problem)
        if correction is None or numbered is None:
            return dataclasses.replace(refusal, reader=self.name)
        # the passages contradict the question's premise: say what they state instead, cited
        citations = tuple(numbered.sentences[n - 1].citation for n in correction.cites)
        marks = "".join(f"[{i}]" for i in range(1, len(citations) + 1))
        body = correction.text.rstrip().rstrip(".!? ")
        text = f"No answer was found: {source.does_not_say()} that. It says: {body} {marks}."
        return dataclasses.replace(refusal, answer=text, citations=citations, reader=self.name)

    def _fallback(self, evidence: Evidence, note: str, dropped: tuple[Dropped, ...]) -> Answer:
        answer = self.fallback.answer(evidence)
        return dataclasses.replace(answer, reader=self.fallback.name, reader_note=note, dropped=dropped)


def with_quote_first(answer: Answer, quote: Citation, says: str) -> Answer:
    """A quotes-only `answer` with `quote` first ("The article says: “…” [1] “…” [2]"), when it lacks it.

    A short answer that did not fit the question ("last year" for "Where had she been detained?") still
    came from the sentence the model read as the answer ("… detained on the border last year …"), which
    the extractive reader's quotes may not hold."""
    if any(c.doc_id == quote.doc_id and c.start <= quote.start < c.end for c in answer.citations):
        return answer
    citations = (quote, *answer.citations)
    return dataclasses.replace(answer, answer=f"{says}: {quoted(citations)}", citations=citations)


def draft_text(reply: str) -> str:
    """The reply as its draft is shown while it is written: without the leading `ANSWER:` label (held
    back while it may still be that label) and the angle brackets of the form the model may copy
    ("[<3>]"), so the text only ever grows.

    >>> [draft_text(r) for r in ("ANS", "ANSWER: in 19", "ANSWER: in 1998 [<3>]", "In 1998")]
    ['', 'in 19', 'in 1998 [3]', 'In 1998']
    """
    text = reply.lstrip()
    label = "ANSWER:"
    if len(text) < len(label) and label.startswith(text.upper()):
        return ""
    text = text[len(label) :].lstrip() if text.upper().startswith(label) else text
    return text.replace("<", "").replace(">", "")


def candidate_signals(evidence: Evidence, numbered: Numbered, short: ShortAnswer | None) -> dict[str, float]:
    """Signals recorded beside the fitted ones (Answer.signals), so a refit can weigh them: the share of
    the question's words found anywhere in the passages (IDF-weighted), the similarity and word share
    of the sentence holding the short answer, that sentence's passage rank, and the short answer's length."""
    q_terms = set(evidence.query.parsed.terms)
    weights = {t: evidence.idf(t) for t in q_terms}
    seen = set().union(*(terms(s.citation.quote) for s in numbered.sentences))
    held = numbered.get(short.number) if short else None
    return {
        "coverage": sum(w for t, w in weights.items() if t in seen) / (sum(weights.values()) or 1.0),
        "missing_idf": max((w for t, w in weights.items() if t not in seen), default=0.0),
        "cited_dense": held.dense if held else 0.0,
        "cited_words": held.words if held else 0.0,
        "cited_passage": float(held.passage) if held else -1.0,
        "short_words": float(len(short.text.split())) if short else 0.0,
    }


def echoes_task(short: str, tasks: Sequence[str] = (ASK_ANSWER, ASK_ANSWER_AND_SENTENCE)) -> bool:
    """Whether the "short answer" is the task's own wording: at times, most often where the passages hold
    no answer, the 1.5B model continues "ANSWER:" with the words of the instruction that follows that
    label (5 of the evaluation set's 127 replies, 13 of SQuAD's 304): its first four words (three at
    least) are found in a task's.

    >>> echoes_task("then the shortest words copied exactly from one numbered sentence that")
    True
    >>> echoes_task("the shortest route"), echoes_task("six Lithuanians")
    (False, False)
    """
    words = " ".join(short.lower().split()[:4])
    return len(words.split()) >= 3 and any(words in " ".join(t.lower().split()) for t in tasks)


CONTEXT_CHARS = 200_000  # how much of the documents the short-answer check reads for names and figures


def documents_text(evidence: Evidence, numbered: Numbered) -> str:
    """The passages, then the text of the documents they come from (up to CONTEXT_CHARS): where the
    short-answer check looks for the names and figures a question takes as given."""
    passages = " ".join(s.citation.quote for s in numbered.sentences)
    docs = dict.fromkeys(s.citation.doc_id for s in numbered.sentences)
    texts = [evidence.store.documents[d].text for d in docs if d in evidence.store.documents]
    return (passages + "\n" + "\n".join(texts))[:CONTEXT_CHARS]


def check_reply(reply: str, numbered: Numbered, question: str = "", context: str = "") -> Written:
    """The reply's short answer, kept only when verbatim in a numbered sentence (the one it cites, or on a
    citation slip the one that holds it; of several, the one with most of the question's words; the answer
    then cites it) at a place where that sentence gives it as the answer to `question`
    (rag.readers.llm.claims.check_answer: not said of someone else) and when it has the question's shape
    (rag.readers.llm.answer_shape: a count for "how many", a time for "when"), and a verdict on each of its
    sentences (rag.readers.verify), against the numbered sentences."""
    parsed = parse_reply(reply)
    verdicts = tuple(verify_reply(parsed.says, numbered.quotes())) if parsed.says else ()
    cited = list(parsed.short_cites) + [n for v in verdicts for n in v.cites]
    # a citation slip (the 1.5B model often gives a neighbour's number): the sentences it cites first, then
    # the others, closest to the question first; the answer then cites the sentence that holds the span
    others = [s.number for s in sorted(numbered.sentences, key=lambda s: -s.dense)]
    located = [(s.number, s.citation.quote, s.citation.start) for s in numbered.sentences]
    context = context or " ".join(text for _, text, _ in located)
    objections: list[str] = []
    misfits: list[str] = []
    misfit_in: list[int] = []
    number_of = {text: n for n, text, _ in located}

    def fit(text: str, start: int, end: int) -> tuple[int, int] | None:  # the span as the question's answer
        if not question:
            return start, end
        verdict = fit_answer(question, text, start, end, context)
        (objections if verdict.refuses else misfits).extend([verdict.reason] if verdict.reason else [])
        if verdict.reason and not verdict.refuses:
            misfit_in.append(number_of[text])
        return verdict.span

    shares = {s.number: s.words for s in numbered.sentences}  # the share of the question's words in each
    order = list(dict.fromkeys(cited + others))
    short = locate_short(parsed.short, order, located, question, fit, lambda n: shares.get(n, 0.0))
    # "Who is Igor Losik?": the model names him, which only repeats the question; the sentence's own
    # description of him ("a journalist") is the answer
    short = short or described_short(question, order, located)
    if short is not None:
        return Written(reply, short, verdicts)
    if parsed.short and not objections and not misfits:
        too_long = len(parsed.short.split()) > MAX_SHORT_WORDS
        misfits.append(
            "the model wrote out its instructions instead of an answer"
            if echoes_task(parsed.short)
            else f"the short answer is longer than {MAX_SHORT_WORDS} words"
            if too_long
            else "the short answer is not word for word in any numbered sentence"
        )
    return Written(
        reply,
        None,
        verdicts,
        tuple(dict.fromkeys(objections)),
        tuple(dict.fromkeys(misfits)),
        tuple(dict.fromkeys(misfit_in)),
    )

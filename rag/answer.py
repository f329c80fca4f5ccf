"""Compose the answer from quoted sentences of the retrieved passages, or abstain.

1. Every sentence of the retrieved passages is a candidate.
2. Each is scored on three signals:
   - meaning: cosine similarity of question and sentence (the embedding model);
   - words: the IDF-weighted share of the question's content words the sentence holds, counting
     the sentence before it in the same paragraph at a discount (it often names the subject
     that the answering sentence calls "he" or "the deal");
   - answer type: a question asking how many / when / who / where / which gets a bonus when the
     sentence holds a number / date / name / place that the question does not already contain,
     and a penalty when it holds none.
3. The best score is the evidence score. The bot abstains, says the article does not say and
   shows the closest passages, when that score is below `abstain_threshold`, when the question
   wants a number, date, name or place and the evidence holds none, or when the question rests on
   something the evidence contradicts: a figure or name the documents never pair with the topic
   ("why were 100 freed?", "why did Lithuania close its border?").
4. The best sentence is quoted; the sentence before it joins when it supplies question words the
   best one lacks, the sentence after it when the best one only restates a why/how question, and
   a second-best sentence when it scores nearly as well and adds question words (lists).
5. The direct answer (a number, date, name or place) leads, taken verbatim from a quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.cite import cite, verified
from rag.config import Settings
from rag.extract import Kind, direct_answer, question_kind
from rag.retrieve import Retrieval, Retriever, terms
from rag.store import Store
from rag.types import Answer, Citation

DENSE_WEIGHT = 0.65
CONTEXT_DISCOUNT = 0.8  # weight of question words found only in the preceding sentence
TYPE_BONUS = 0.06  # added (or, when missing, subtracted) for the expected answer type
SECOND_QUOTE_RATIO = 0.9
NAME_PREFIX = 4  # "Lithuania" and "Lithuanian", "Britain" and "British" are the same name here
SHORT_SENTENCE_CHARS = 90  # a why/how answer this short is a lead-in: quote what follows too
_DIGITS = re.compile(r"\d[\d,.]*\d|\d")
_NAME = re.compile(r"[A-Z][a-z][\w’'-]+|[A-Z]{2,}")

_SPEECH = re.compile(r"\b(say|said|says|tell|told|remark\w*|write|wrote|call\w*|describ\w*|quot\w*)\b", re.I)
_QUOTED = re.compile(r"[“\"][^”\"]{12,}[”\"]")
_DEFINITION = re.compile(r"^\s*(?i:what|who)\s+(?i:is|was|are|were)\s+((?:[A-Z][\w’'-]*\s?)+)")

NOT_FOUND = "The article does not say."


@dataclass(frozen=True)
class Candidate:
    sentence: int  # index into the store's sentence table
    score: float
    dense: float
    coverage: float  # share of question words in the sentence alone
    covered: frozenset[str]
    context_covered: frozenset[str]  # question words only the preceding sentence holds
    typed: bool  # holds the kind of answer the question asks for


class _Scorer:
    """Everything about the question that scoring needs, computed once."""

    def __init__(self, question: str, retriever: Retriever) -> None:
        self.question = question
        self.retriever = retriever
        self.store = retriever.store
        self.q_terms = frozenset(terms(question))
        self.weights = {t: retriever.idf(t) for t in self.q_terms}
        self.total = sum(self.weights.values()) or 1.0
        self.kind = question_kind(question)
        self.speech = bool(_SPEECH.search(question))
        subject = _DEFINITION.match(question)
        self.defined = subject.group(1) if subject else ""
        self._terms: dict[int, frozenset[str]] = {}

    def sentence_terms(self, s: int) -> frozenset[str]:
        if s not in self._terms:
            self._terms[s] = frozenset(terms(self.store.sentence_text(s)))
        return self._terms[s]

    def share(self, words: frozenset[str]) -> float:
        """IDF-weighted share of the question's words found among `words`."""
        return sum(self.weights[t] for t in words) / self.total if self.q_terms else 0.0

    def candidate(self, s: int, dense: float) -> Candidate:
        covered = self.q_terms & self.sentence_terms(s)
        prev = previous_sentence(self.store, s)
        context = (self.q_terms & self.sentence_terms(prev)) - covered if prev is not None else frozenset()
        words = self.share(covered) + CONTEXT_DISCOUNT * (self.share(covered | context) - self.share(covered))
        typed = self.kind != "none" and bool(direct_answer(self.question, self.store.sentence_text(s)))
        bonus = 0.0 if self.kind == "none" else (TYPE_BONUS if typed else -TYPE_BONUS)
        text = self.store.sentence_text(s)
        if self.speech and _QUOTED.search(text):
            bonus += TYPE_BONUS  # "what did she say?" is answered by her words, in quotation marks
        if self.defined and _appositive(self.defined, text):
            bonus += TYPE_BONUS  # "what is Belavia?" is answered by "Belavia, the national airline"
        score = DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * words + bonus
        return Candidate(s, score, dense, self.share(covered), covered, context, typed)


def score_sentences(question: str, retrieval: Retrieval, retriever: Retriever) -> list[Candidate]:
    """Candidates from the retrieved passages, best first."""
    scorer = _Scorer(question, retriever)
    seen: set[int] = set()
    out: list[Candidate] = []
    for chunk_index in retrieval.chunk_indices:
        for s in retriever.store.chunk_sentences[chunk_index]:
            if s not in seen:
                seen.add(s)
                out.append(scorer.candidate(s, float(retrieval.sentence_scores[s])))
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
    kind = question_kind(question)
    if kind != "none":
        # a question asking for a number, date, name or place is answered by a sentence holding one
        candidates = [c for c in candidates if c.typed] + [c for c in candidates if not c.typed]
    confidence = candidates[0].score if candidates else 0.0
    if not candidates or confidence < settings.abstain_threshold:
        return abstain(shown, question, retrieval, confidence)
    store = retriever.store
    chosen = select_sentences(candidates, store, kind, settings.max_quotes)
    problem = premise_problem(question, kind, sorted({paragraph_of(store, s) for s in chosen}), retriever)
    if problem or (kind != "none" and not candidates[0].typed):
        return abstain(shown, question, retrieval, confidence, problem)
    citations = verified(
        (cite(store.documents[store.sentence_doc[s]], *_span(store, s)) for s in chosen),
        store.documents,
    )
    if not citations:
        return abstain(shown, question, retrieval, confidence)
    short, marker = lead_answer(question, citations, store.sentence_text(candidates[0].sentence))
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


def lead_answer(question: str, citations: tuple[Citation, ...], best: str) -> tuple[str, int]:
    """The direct answer and the number of the quote it stands in: the best sentence's first."""
    order = sorted(range(len(citations)), key=lambda i: citations[i].quote != best)
    for i in order:
        found = direct_answer(question, citations[i].quote)
        if found:
            return found, i + 1
    return "", 0


def select_sentences(candidates: list[Candidate], store: Store, kind: Kind, max_quotes: int) -> list[int]:
    """The sentences to quote, in document order."""
    best = candidates[0]
    chosen = [best.sentence]
    prev = previous_sentence(store, best.sentence)
    if best.context_covered and prev is not None:
        chosen.append(prev)  # it names what the best sentence refers to
    elif kind == "none" and len(store.sentence_text(best.sentence)) < SHORT_SENTENCE_CHARS:
        following = next_sentence(store, best.sentence)
        if following is not None:
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


def premise_problem(question: str, kind: Kind, evidence: list[str], retriever: Retriever) -> str:
    """What the question takes for granted that the documents do not support, or ''.

    `evidence` is the text around the chosen quotes (their paragraphs). A figure no document
    contains, or a figure or name that the documents contain but the evidence does not (the
    question pairs it with the wrong event), is a premise the answer cannot rest on. Questions
    asking for a number, date or name are checked by full names only; their answer type is checked
    elsewhere.
    """
    corpus = [d.text for d in retriever.store.documents.values()]
    joined = " ".join(evidence)
    for figure in sorted({m.group() for m in _DIGITS.finditer(question)}):
        if not any(_has_figure(text, figure) for text in corpus):
            return f"it never mentions {figure}"
        if not _has_figure(joined, figure):
            return f"it does not mention {figure} in this connection"
    words = re.findall(r"\w+", joined)
    prefixes = {w.lower()[:NAME_PREFIX] for w in words}
    initials = "".join(w[0] for w in words if w[0].isupper())
    typed = kind != "none"
    for name in _names(question):
        parts = name.split()
        if typed and len(parts) < 2:
            continue
        known = any((p.isupper() and p in initials) or p.lower()[:NAME_PREFIX] in prefixes for p in parts)
        if not known and any(name in text for text in corpus):
            return f"it does not mention {name} in this connection"
    return ""


def _names(question: str) -> list[str]:
    """Runs of capitalised words after the first word: 'Why did Kaja Kallas praise Putin?' -> 2 names."""
    runs: list[list[str]] = []
    in_name = False
    for i, word in enumerate(re.findall(r"[\w’'-]+", question)):
        is_name = i > 0 and bool(_NAME.fullmatch(word))
        if is_name and in_name:
            runs[-1].append(word)
        elif is_name:
            runs.append([word])
        in_name = is_name
    return [" ".join(r) for r in runs]


def paragraph_of(store: Store, s: int) -> str:
    """The paragraph holding sentence `s`."""
    text = store.documents[store.sentence_doc[s]].text
    span = store.sentence_spans[s]
    start = text.rfind("\n", 0, span.start) + 1
    end = text.find("\n", span.end)
    return text[start : end if end >= 0 else len(text)]


def _has_figure(text: str, figure: str) -> bool:
    plain = figure.replace(",", "")
    return bool(re.search(rf"(?<![\d.]){re.escape(plain)}(?!\d)", text.replace(",", "")))


def _appositive(name: str, sentence: str) -> bool:
    """Does `sentence` describe `name` in apposition ("Viasna, the … NGO" or "…airline, Belavia")?"""
    name = re.escape(name.strip())
    return bool(re.search(rf"{name},\s+(?:a|an|the)\s|,\s+{name}\b", sentence))


def previous_sentence(store: Store, s: int) -> int | None:
    """The sentence before `s` in the same paragraph, if any."""
    if s == 0 or store.sentence_doc[s - 1] != store.sentence_doc[s]:
        return None
    text = store.documents[store.sentence_doc[s]].text
    return (
        s - 1 if "\n" not in text[store.sentence_spans[s - 1].end : store.sentence_spans[s].start] else None
    )


def next_sentence(store: Store, s: int) -> int | None:
    """The sentence after `s` in the same paragraph, if any."""
    if s + 1 >= len(store.sentence_spans):
        return None
    return s + 1 if previous_sentence(store, s + 1) == s else None


def abstain(shown: str, resolved: str, retrieval: Retrieval, confidence: float, problem: str = "") -> Answer:
    text = f"The article does not say that: {problem}." if problem else NOT_FOUND
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

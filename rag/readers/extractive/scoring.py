"""The evidence for a question: its retrieved sentences scored, and what the question takes for granted.

1. Every sentence of the retrieved passages is scored on three signals:
   - meaning: cosine similarity of question and sentence (the embedding model);
   - words: the IDF-weighted share of the question's content words the sentence holds, counting
     the sentence before it in the same paragraph at a discount (it often names the subject
     that the answering sentence calls "he" or "the deal");
   - answer type: a question asking for a number, date, name or place gets a bonus when the
     sentence holds a candidate of that type, a penalty when it holds none.
2. The premise check: a figure no document contains, or a figure or name the documents contain but
   not near the evidence, is something the question takes for granted that the documents do not
   support. Names are compared without accents and with hyphenated parts apart ("Ogedei" is
   "Ögedei", "Belarus" is in "Belarus-Russia"), figures with number words read as digits ("4th"
   is "fourth").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.index.store import Store
from rag.query.parse import Kind, Question
from rag.readers.extractive.spans import candidates
from rag.retrieve import Evidence
from rag.text import SMALL_NUMBERS, SMALL_ORDINALS, fold, folded_words, terms

DENSE_WEIGHT = 0.65
CONTEXT_DISCOUNT = 0.8  # weight of question words found only in the preceding sentence
TYPE_BONUS = 0.06  # added (or, when missing, subtracted) for the expected answer type
NAME_PREFIX = 4  # "Lithuania" and "Lithuanian", "Britain" and "British" are the same name here
FITTING_TYPES: dict[Kind, frozenset[str]] = {
    "number": frozenset({"number"}),
    "date": frozenset({"date"}),
    "person": frozenset({"name"}),
    "place": frozenset({"name"}),
    "entity": frozenset({"name"}),
}

_SPEECH = re.compile(r"\b(say|said|says|tell|told|remark\w*|write|wrote|call\w*|describ\w*|quot\w*)\b", re.I)
_QUOTED = re.compile(r"[“\"][^”\"]{12,}[”\"]")
_DEFINITION = re.compile(r"^\s*(?i:what|who)\s+(?i:is|was|are|were)\s+((?:[A-Z][\w’'-]*\s?)+)")
_DIGITS = re.compile(r"\d[\d,.]*\d|\d")
_NUMBER_WORD = re.compile(r"\b(" + "|".join(SMALL_NUMBERS[1:] + SMALL_ORDINALS[1:]) + r")\b", re.I)


@dataclass(frozen=True)
class ScoredSentence:
    sentence: int  # index into the store's sentence table
    score: float
    dense: float
    coverage: float  # share of question words in the sentence alone
    covered: frozenset[str]
    context_covered: frozenset[str]  # question words only the preceding sentence holds
    typed: bool  # holds a candidate of the kind of answer the question asks for


class SentenceScorer:
    """Everything about the question that sentence scoring needs, computed once."""

    def __init__(self, question: Question, evidence: Evidence) -> None:
        self.question = question
        self.store = evidence.store
        self.weights = {t: evidence.idf(t) for t in question.term_set}
        self.total = sum(self.weights.values()) or 1.0
        self.speech = bool(_SPEECH.search(question.text))
        subject = _DEFINITION.match(question.text)
        self.defined = subject.group(1) if subject else ""
        self._terms: dict[int, frozenset[str]] = {}

    def sentence_terms(self, s: int) -> frozenset[str]:
        if s not in self._terms:
            self._terms[s] = frozenset(terms(self.store.sentence_text(s)))
        return self._terms[s]

    def share(self, words: frozenset[str]) -> float:
        """IDF-weighted share of the question's words found among `words`."""
        return sum(self.weights[t] for t in words) / self.total if self.weights else 0.0

    def score(self, s: int, dense: float) -> ScoredSentence:
        q = self.question
        covered = q.term_set & self.sentence_terms(s)
        prev = previous_sentence(self.store, s)
        context = (q.term_set & self.sentence_terms(prev)) - covered if prev is not None else frozenset()
        words = self.share(covered) + CONTEXT_DISCOUNT * (self.share(covered | context) - self.share(covered))
        text = self.store.sentence_text(s)
        fitting = FITTING_TYPES.get(q.kind)
        typed = fitting is not None and any(c.type in fitting for c in candidates(text))
        bonus = 0.0 if not fitting else (TYPE_BONUS if typed else -TYPE_BONUS)
        if self.speech and _QUOTED.search(text):
            bonus += TYPE_BONUS  # "what did she say?" is answered by her words, in quotation marks
        if self.defined and appositive(self.defined, text):
            bonus += TYPE_BONUS  # "what is Belavia?" is answered by "Belavia, the national airline"
        score = DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * words + bonus
        return ScoredSentence(s, score, dense, self.share(covered), covered, context, typed)


def score_sentences(evidence: Evidence) -> list[ScoredSentence]:
    """The sentences of the retrieved passages, scored, best first."""
    scorer = SentenceScorer(evidence.query.parsed, evidence)
    retrieval = evidence.retrieval
    seen: set[int] = set()
    out: list[ScoredSentence] = []
    for chunk_index in retrieval.chunk_indices:
        for s in evidence.store.chunk_sentences[chunk_index]:
            if s not in seen:
                seen.add(s)
                out.append(scorer.score(s, float(retrieval.sentence_scores[s])))
    out.sort(key=lambda c: -c.score)
    return out


def premise_problem(question: Question, evidence: list[str], corpus: list[str]) -> str:
    """What the question takes for granted that the documents do not support, or ''.

    `evidence` is the text around the chosen quotes (their paragraphs). A figure no document
    contains, or a figure or name that the documents contain but the evidence does not (the
    question pairs it with the wrong event), is a premise the answer cannot rest on. Questions
    asking for a number, date or name are checked by full names only.

    >>> from rag.query.parse import parse
    >>> text = "Ögedei met the fourth army."
    >>> premise_problem(parse("Did the 4th army reach Ogedei?"), [text], [text])
    ''
    """
    joined = digits_for_words(" ".join(evidence))
    for figure in question.figures:
        if not any(has_figure(digits_for_words(text), figure) for text in corpus):
            return f"it never mentions {figure}"
        if not has_figure(joined, figure):
            return f"it does not mention {figure} in this connection"
    words = folded_words(joined)
    prefixes = {w[:NAME_PREFIX] for w in words}
    initials = "".join(w[0] for w in re.findall(r"\w+", joined) if w[0].isupper())
    folded_corpus = [fold(t) for t in corpus]
    for name in question.names:
        parts = folded_words(name)
        if question.kind in FITTING_TYPES and len(name.split()) < 2:
            continue
        known = any(p[:NAME_PREFIX] in prefixes for p in parts) or any(
            w.isupper() and w in initials for w in name.split()
        )
        if not known and any(fold(name) in text for text in folded_corpus):
            return f"it does not mention {name} in this connection"
    return ""


@lru_cache(maxsize=256)
def digits_for_words(text: str) -> str:
    """Small number words and ordinals as digits: 'the fourth of four' -> 'the 4th of 4'."""

    def digit(m: re.Match[str]) -> str:
        w = m.group().lower()
        if w in SMALL_NUMBERS:
            return str(SMALL_NUMBERS.index(w))
        n = SMALL_ORDINALS.index(w)
        return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n, 'th') }".replace(" ", "")

    return _NUMBER_WORD.sub(digit, text)


def has_figure(text: str, figure: str) -> bool:
    plain = figure.replace(",", "")
    return bool(re.search(rf"(?<![\d.]){re.escape(plain)}(?!\d)", text.replace(",", "")))


def appositive(name: str, sentence: str) -> bool:
    """Does `sentence` describe `name` in apposition ("Viasna, the … NGO" or "…airline, Belavia")?"""
    name = re.escape(name.strip())
    return bool(re.search(rf"{name},\s+(?:a|an|the)\s|,\s+{name}\b", sentence))


def paragraph_of(store: Store, s: int) -> str:
    """The paragraph holding sentence `s`."""
    text = store.documents[store.sentence_doc[s]].text
    span = store.sentence_spans[s]
    start = text.rfind("\n", 0, span.start) + 1
    end = text.find("\n", span.end)
    return text[start : end if end >= 0 else len(text)]


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

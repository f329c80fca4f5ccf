"""What the reader sees for one question: the best sentences, the candidate short answers in them, and
the features the fitted model (model.py) scores. The fit script builds the same Reading, so the
model is trained on exactly what it sees at run time.

1. The retrieved sentences are scored (scoring.py); the best `TOP_SENTENCES` are read.
2. Every candidate span of those sentences (spans.py) gets features: the question's kind
   crossed with the span's type, how much of the span the question already holds, how far the
   span sits from the words it shares with the question and whether in the same clause, whether
   the question's focus noun stands next to it, the word before it, the sentence's scores and
   rank, negation and tense agreement, its length and capitalisation.
3. The question gets features of its own: how well the evidence covers its words, names and
   figures, the rarest question word the evidence lacks, the sentence scores, the premise check.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from rag.query.parse import Question
from rag.readers.extractive.scoring import (
    FITTING_TYPES,
    ScoredSentence,
    paragraph_of,
    premise_problem,
    previous_sentence,
    score_sentences,
)
from rag.readers.extractive.spans import Span, candidates, clause_breaks, tokens
from rag.retrieve import Evidence, Retrieval
from rag.text import folded_words, stopwords, terms

TOP_SENTENCES = 3
NEAR = 4  # words on either side that count as "next to"
WINDOW = 6  # words on either side whose overlap with the question is counted
Features = dict[str, float]

_NEGATION = re.compile(r"\b(?:not|never|no|none|neither|nor|without)\b|n[’']t\b", re.IGNORECASE)
_FUTURE = re.compile(
    r"\b(?:will|would|plan\w*|expect\w*|could|may|might|potential\w*|future|next|propos\w*)\b", re.I
)
_BEFORE = ("in", "on", "at", "by", "of", "from", "to", "since", "as", "with", "the", "and", "for", "during")
_YEAR = re.compile(r"(?:1\d|20)\d\d")


@dataclass(frozen=True)
class SpanCandidate:
    sentence: int  # index into the store's sentence table
    rank: int  # rank of that sentence among the best ones (0 = best)
    span: Span  # offsets into the sentence's text
    features: Features


@dataclass(frozen=True)
class Reading:
    question: Question
    sentences: tuple[ScoredSentence, ...]  # every retrieved sentence, best first
    spans: tuple[SpanCandidate, ...]
    features: Features  # of the question and its evidence
    premise: str  # what the question takes for granted that the documents do not support, or ''


def read(evidence: Evidence) -> Reading:
    """The question read against its evidence: sentences scored, candidate spans and features."""
    question, retrieval = evidence.query.parsed, evidence.retrieval
    sentences = tuple(score_sentences(evidence))
    store = evidence.store
    best = sentences[:TOP_SENTENCES]
    spans: list[SpanCandidate] = []
    if question.wants_span:
        for rank, scored in enumerate(best):
            text = store.sentence_text(scored.sentence)
            spans += [
                SpanCandidate(scored.sentence, rank, span, f)
                for span, f in span_features(question, text, scored, rank, evidence)
            ]
    paragraphs = sorted({paragraph_of(store, s.sentence) for s in best[:2]})
    corpus = [d.text for d in store.documents.values()]
    premise = premise_problem(question, paragraphs, corpus) if sentences else ""
    features = question_features(question, sentences, paragraphs, retrieval, evidence, premise)
    return Reading(question, sentences, tuple(spans), features, premise)


def question_features(
    q: Question,
    sentences: tuple[ScoredSentence, ...],
    paragraphs: list[str],
    retrieval: Retrieval,
    evidence: Evidence,
    premise: str,
) -> Features:
    f: Features = {"bias_q": 1.0, f"kind:{q.kind}": 1.0}
    if not sentences:
        return f | {"no_evidence": 1.0}
    s0 = sentences[0]
    s1 = sentences[1].score if len(sentences) > 1 else 0.0
    evidence_terms = set(terms(" ".join(paragraphs)))
    weights = {t: evidence.idf(t) for t in q.term_set}
    top_idf = math.log(1 + len(evidence.store.sentence_spans)) or 1.0
    missing = [w for t, w in weights.items() if t not in evidence_terms]
    unknown = [w for t, w in weights.items() if not evidence.term_df.get(t)]  # in no document at all
    total = sum(weights.values()) or 1.0
    names = list(q.names)
    evidence_words = set(folded_words(" ".join(paragraphs)))
    prefixes = {w[:4] for w in evidence_words}
    names_missing = sum(1 for n in names if not any(p[:4] in prefixes for p in folded_words(n)))
    near = " ".join(evidence.store.sentence_text(s) for s in _with_previous(evidence, s0.sentence))
    near_prefixes = {w[:4] for w in folded_words(near)}
    names_missing_near = sum(1 for n in names if not any(p[:4] in near_prefixes for p in folded_words(n)))
    figures_missing = sum(
        1 for x in q.figures if x.replace(",", "") not in " ".join(paragraphs).replace(",", "")
    )
    passage = retrieval.passages[0] if retrieval.passages else None
    typed_best = any(c.typed for c in sentences[:TOP_SENTENCES])
    # the noun the question asks about ("population", "GDP"): absent from the evidence, it is not answered
    near_terms = set(terms(near))
    focus = q.focus - {t for n in names for t in terms(n)}
    focus_missing = len([t for t in focus if t not in evidence_terms]) / len(focus) if focus else 0.0
    focus_missing_near = len([t for t in focus if t not in near_terms]) / len(focus) if focus else 0.0
    missing_near = sum(w for t, w in weights.items() if t not in near_terms) / total
    untyped = float(q.kind in FITTING_TYPES and not typed_best)  # a number asked, none in the evidence
    f.update(
        {
            "s0_score": s0.score,
            "s0_dense": s0.dense,
            "s0_coverage": s0.coverage,
            "s0_gap": s0.score - s1,
            "s0_typed": float(s0.typed),
            "top_typed": float(typed_best),
            "p0_dense": passage.dense_score if passage else 0.0,
            "p0_lexical": math.log1p(max(passage.lexical_score, 0.0)) if passage else 0.0,
            "missing_share": sum(missing) / total,
            "missing_max_idf": max(missing, default=0.0) / top_idf,
            "missing_any": float(bool(missing)),
            "unknown_share": sum(unknown) / total,
            "unknown_any": float(bool(unknown)),
            "names_missing": float(names_missing),
            "names_missing_near": float(names_missing_near),
            "has_names": float(bool(names)),
            "figures_missing": float(figures_missing),
            "premise": float(bool(premise)),
            "focus_missing": focus_missing,
            "focus_missing_near": focus_missing_near,
            f"k:{q.kind}|focus_missing": focus_missing,
            "has_focus": float(bool(focus)),
            "missing_near_share": missing_near,
            f"k:{q.kind}|missing_near_share": missing_near,
            "untyped": untyped,
            f"k:{q.kind}|untyped": untyped,
            "negated_q": float(q.negated),
            "n_terms": math.log1p(len(q.terms)),
        }
    )
    return f


@lru_cache(maxsize=8192)
def _analysed(sentence: str) -> tuple[list[tuple[int, int]], list[str], list[frozenset[str]]]:
    """The sentence's words (offsets), each folded, and each one's stems: computed once per sentence."""
    words = tokens(sentence)
    texts = [sentence[s:e] for s, e in words]
    return words, [" ".join(folded_words(t)) for t in texts], [_word_terms(t) for t in texts]


@lru_cache(maxsize=65536)
def _word_terms(word: str) -> frozenset[str]:
    return frozenset(terms(word))


def scorer_idf(evidence: Evidence, term: str) -> float:
    return evidence.idf(term)


def span_features(
    q: Question, sentence: str, scored: ScoredSentence, rank: int, evidence: Evidence
) -> list[tuple[Span, Features]]:
    words, folded, stems = _analysed(sentence)
    if not words:
        return []
    stop = stopwords()
    anchors = [i for i, st in enumerate(stems) if st & q.term_set]
    weight = [sum(scorer_idf(evidence, t) for t in st & q.term_set) for st in stems]
    total = sum(scorer_idf(evidence, t) for t in q.term_set) or 1.0
    focus_at = [i for i, st in enumerate(stems) if st & q.focus]
    breaks = clause_breaks(sentence)
    negation_mismatch = float(q.negated != bool(_NEGATION.search(sentence)))
    future = bool(_FUTURE.search(sentence))
    common: Features = {
        "bias": 1.0,
        f"rank:{rank}": 1.0,
        "s_score": scored.score,
        "s_dense": scored.dense,
        "s_coverage": scored.coverage,
        "s_typed": float(scored.typed),
        "negation_mismatch": negation_mismatch,
        "future_mismatch": float(q.future and not future),
        "n_anchors": math.log1p(len(anchors)),
    }
    out = []
    for span in candidates(sentence):
        inside = [i for i, (s, e) in enumerate(words) if s >= span.start and e <= span.end]
        if not inside:
            continue
        first, last = inside[0], inside[-1]
        left = sum(weight[max(0, first - WINDOW) : first]) / total
        right = sum(weight[last + 1 : last + 1 + WINDOW]) / total
        span_words = [w for i in inside for w in folded[i].split()]
        content = [w for w in span_words if w not in stop] or span_words
        in_q = sum(1 for w in content if w in q.words) / len(content)
        outside = [a for a in anchors if a < first or a > last]
        distance = min((first - a if a < first else a - last for a in outside), default=len(words))
        clause = _clause(span.start, breaks)
        same_clause = sum(1 for a in anchors if _clause(words[a][0], breaks) == clause) / max(len(anchors), 1)
        before = sentence[words[first - 1][0] : words[first - 1][1]].lower() if first else ""
        k, t = q.kind, span.type
        f: Features = dict(common)
        f.update(
            {
                f"type:{t}": 1.0,
                f"kt:{k}|{t}": 1.0,
                "in_q": in_q,
                "all_in_q": float(in_q == 1.0),
                f"k:{k}|in_q": in_q,
                "log_distance": math.log1p(distance),
                f"k:{k}|log_distance": math.log1p(distance),
                "left_overlap": left,
                "right_overlap": right,
                f"k:{k}|left_overlap": left,
                f"k:{k}|right_overlap": right,
                "anchor_left": float(any(0 < first - a <= NEAR for a in anchors)),
                "anchor_right": float(any(0 < a - last <= NEAR for a in anchors)),
                "same_clause": same_clause,
                "focus_in": float(any(first <= i <= last for i in focus_at)),
                "focus_after": float(any(0 < i - last <= NEAR for i in focus_at)),
                "focus_before": float(any(0 < first - i <= NEAR for i in focus_at)),
                f"k:{k}|focus_before": float(any(0 < first - i <= NEAR for i in focus_at)),
                f"k:{k}|focus_in": float(any(first <= i <= last for i in focus_at)),
                f"k:{k}|focus_after": float(any(0 < i - last <= NEAR for i in focus_at)),
                "n_words": math.log1p(len(inside)),
                "one_word": float(len(inside) == 1),
                "capitalised": sum(1 for i in inside if sentence[words[i][0]].isupper()) / len(inside),
                "sentence_start": float(first == 0),
                f"before:{before if before in _BEFORE else 'other'}": 1.0,
                "comma_before": float(sentence[: span.start].rstrip().endswith(",")),
                "comma_after": float(sentence[span.end :].lstrip().startswith(",")),
                "year_like": float(bool(_YEAR.fullmatch(span.text))),
                "has_digit": float(any(ch.isdigit() for ch in span.text)),
            }
        )
        if q.future and t == "date":
            f["future_date_mismatch"] = float(not future)
        out.append((span, f))
    return out


def _with_previous(evidence: Evidence, s: int) -> list[int]:
    prev = previous_sentence(evidence.store, s)
    return [s] if prev is None else [prev, s]


def _clause(position: int, breaks: list[int]) -> int:
    return sum(1 for b in breaks if b <= position)

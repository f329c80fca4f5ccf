"""The question side, made once before retrieval: a `Query` holds the question as asked, as
understood after its spelling (spelling: typos read as the documents' words) and the conversation
so far (followup), and parsed (parse: kind, focus, names,
figures, overview form). Retrieval searches `Query.text`; every reader reads the same `Query`.
Greetings and questions in other languages are answered before any of this (smalltalk).

>>> q = make_query("Why?", [("When was Mikalai Khilo arrested?", "April 2024 [1]. “…” [1]")])
>>> q.text, q.parsed.kind
('Why was Mikalai Khilo arrested?', 'reason')
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.query.followup import History, resolve
from rag.query.parse import Question, is_overview, parse
from rag.query.spelling import Vocabulary, correct


@dataclass(frozen=True)
class Query:
    shown: str  # the question as the user asked it (white space and control characters cleaned)
    text: str  # as understood after spelling and follow-up resolution: what is searched and read
    parsed: Question  # parse(text): kind, focus, names, figures, negation
    overview: bool  # does it ask about a document as a whole ("What is this article about?")?


def make_query(shown: str, history: History = (), vocabulary: Vocabulary | None = None) -> Query:
    """The question as every later step reads it: its spelling corrected against the documents'
    `vocabulary` (None: contractions only), resolved from `history`, then parsed once."""
    text = resolve(correct(shown, vocabulary), history)
    return Query(shown=shown, text=text, parsed=parse(text), overview=is_overview(text))

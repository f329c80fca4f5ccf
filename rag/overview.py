"""Overview questions ("What is this article about?", "Summarize it", "What are the main points?").

They ask about a document as a whole, so no single retrieved sentence answers them. Detection looks
at the question's form only (a request to summarise, or "what is <the document> about" with nothing
after it), never at a document's topic. The extractive overview quotes the document's lead sentence
and its most central sentences: those whose embedding is closest to the mean of all its sentences'
embeddings, shown in document order.

>>> is_overview("What is this article about?"), is_overview("Summarise the text please")
(True, True)
>>> is_overview("What are the main points?"), is_overview("What does the article say about Poland?")
(True, False)
"""

from __future__ import annotations

import re

import numpy as np

from rag.cite import cite, verified
from rag.store import Store
from rag.types import Answer, Citation, Passage

_DOC = r"(?:article|text|document|story|piece|page|report|post|essay|file|passage|source|news|it)"
_THIS = rf"(?:(?:this|the|that|your)\s+)?{_DOC}"
_PATTERNS = [
    rf"^what(?:'s|’s| is| was)\s+{_THIS}\s+(?:all\s+)?about$",
    rf"^what\s+(?:does|did)\s+{_THIS}\s+(?:say|cover|discuss|describe|report|tell\s+(?:me|us))$",
    rf"^(?:what\s+is|what's|give\s+(?:me\s+)?|tell\s+me)\s*(?:an?\s+|the\s+)?(?:short\s+|brief\s+|quick\s+)?"
    rf"(?:summary|overview|gist|tl;?dr)(?:\s+of\s+{_THIS})?$",
    rf"^(?:summari[sz]e|sum\s+up|recap|outline)(?:\s+{_THIS})?(?:\s+for\s+me)?(?:\s+briefly)?$",
    rf"^(?:(?:what\s+are|list|give\s+(?:me\s+)?)\s*)?(?:the\s+)?(?:main|key|most\s+important)\s+"
    rf"(?:points|ideas|takeaways|topics|facts|events|themes)(?:\s+(?:of|in)\s+{_THIS})?$",
    r"^tl;?dr$",
]
_OVERVIEW = [re.compile(p, re.IGNORECASE) for p in _PATTERNS]
_POLITE = re.compile(r"^(?:(?:please|can you|could you|would you|kindly)\s+)+|(?:\s+please)$", re.IGNORECASE)

CENTRAL = 3  # central sentences quoted besides the lead
MIN_LEAD_CHARS = 40  # a shorter first line is a title: the lead is the sentence after it


def is_overview(question: str) -> bool:
    """Does the question ask about the document as a whole?"""
    text = " ".join(re.sub(r"(?<=\w)[,:]|;(?=\s)", " ", question).strip().rstrip("?!. ").split())
    text = _POLITE.sub("", text).strip().rstrip("?!. ")
    return any(p.match(text) for p in _OVERVIEW)


def overview_sentences(store: Store, doc_id: str, central: int = CENTRAL) -> list[int]:
    """The lead sentence and the `central` most central other sentences of `doc_id`, in document order."""
    members = [i for i, d in enumerate(store.sentence_doc) if d == doc_id]
    if not members:
        return []
    lead = next((i for i in members if len(store.sentence_text(i).strip()) >= MIN_LEAD_CHARS), members[0])
    vectors = store.vectors[members]
    centre = vectors.mean(axis=0)
    centre = centre / (np.linalg.norm(centre) or 1.0)
    order = np.argsort(-(vectors @ centre), kind="stable")
    others = [members[int(j)] for j in order if members[int(j)] != lead]
    chosen = [lead, *others[:central]]
    return sorted(chosen)


def overview_document(store: Store, passages: tuple[Passage, ...]) -> str:
    """The document an overview question is about: the only one, or the best retrieved one's."""
    if len(store.documents) == 1 or not passages:
        return next(iter(store.documents))
    return passages[0].chunk.doc_id


def overview_citations(
    store: Store, passages: tuple[Passage, ...], central: int = CENTRAL
) -> tuple[Citation, ...]:
    """Verified quotes for an overview: the lead and the most central sentences."""
    if not store.documents:
        return ()
    doc_id = overview_document(store, passages)
    doc = store.documents[doc_id]
    spans = [store.sentence_spans[s] for s in overview_sentences(store, doc_id, central)]
    return verified((cite(doc, s.start, s.end) for s in spans), store.documents)


def extractive_overview(question: str, resolved: str, store: Store, passages: tuple[Passage, ...]) -> Answer:
    """The overview answer of the extractive reader: the lead and the central sentences, quoted."""
    citations = overview_citations(store, passages)
    quotes = " ".join(f"“{c.quote}” [{i}]" for i, c in enumerate(citations, 1))
    return Answer(
        question=question,
        answer=f"In short, the article says: {quotes}" if citations else "The documents are empty.",
        abstained=not citations,
        citations=citations,
        passages=passages,
        confidence=1.0 if citations else 0.0,
        resolved_question=resolved,
    )

"""Overview questions ("What is this article about?", "Summarize it", "What are the main points?").

They ask about a document as a whole, so no single retrieved sentence answers them; the question
side tells them by their form (`rag.query.parse.is_overview`, `Query.overview`). The extractive
overview quotes the document's lead sentence and its most central sentences: those whose embedding
is closest to the mean of all its sentences' embeddings, shown in document order. Both readers
quote the same sentences (`overview_citations`).
"""

from __future__ import annotations

import numpy as np

from rag.cite import cite, verified
from rag.index.store import Store
from rag.readers.base import quoted
from rag.types import Answer, Citation, Passage

CENTRAL = 3  # central sentences quoted besides the lead
MIN_LEAD_CHARS = 40  # a shorter first line is a title: the lead is the sentence after it


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
    text = f"In short, the article says: {quoted(citations)}" if citations else "The documents are empty."
    return Answer(
        question=question,
        answer=text,
        abstained=not citations,
        citations=citations,
        passages=passages,
        confidence=1.0 if citations else 0.0,
        resolved_question=resolved,
    )

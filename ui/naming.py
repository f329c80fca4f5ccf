"""How the UI names what it answers from: the article, the one file's name, or the documents.

>>> subject(["belarus-prisoner-release-2025.txt"]), subject(["notes.md"]), subject(["a.md", "b.md"])
('the article', 'notes.md', 'the documents')
"""

from __future__ import annotations

from collections.abc import Iterable

from rag.config import SEED_ARTICLE


def subject(doc_ids: Iterable[str]) -> str:
    """How the UI names what it answers from: the article, the one file's name, or the documents."""
    ids = sorted(doc_ids)
    if ids == [SEED_ARTICLE]:
        return "the article"
    if len(ids) == 1:
        return ids[0]
    return "the documents"


def title(doc_ids: Iterable[str]) -> str:
    name = subject(doc_ids)
    return f"Ask {name}"

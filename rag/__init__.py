"""Offline, grounded question answering with verbatim, verified quotes.

    >>> from rag import ask                                          # doctest: +SKIP
    >>> ask("Which airline did the US ease sanctions on?").to_dict()  # doctest: +SKIP

Heavy libraries (torch, FAISS) load on the first call, not on import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.config import Settings
    from rag.pipeline import ask
    from rag.types import Answer, Citation, Passage

__all__ = ["Answer", "Citation", "Passage", "Settings", "ask"]


def __getattr__(name: str) -> Any:
    if name == "ask":
        from rag.pipeline import ask

        return ask
    if name == "Settings":
        from rag.config import Settings

        return Settings
    if name in {"Answer", "Citation", "Passage"}:
        from rag import types

        return getattr(types, name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")

"""What every reader shares: how answers name what was searched (Source), how they write their quotes
(quoted) and how a reader says that the documents do not answer (abstain)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from rag.config import SEED_ARTICLE
from rag.index.store import Store
from rag.retrieve import Evidence
from rag.types import Answer, Citation


@dataclass(frozen=True)
class Source:
    """How answers name what was searched: 'the article', 'notes.txt' or 'the documents'."""

    name: str
    plural: bool = False

    @classmethod
    def of(cls, store: Store) -> Source:
        ids = list(store.documents)
        if ids == [SEED_ARTICLE]:
            return cls("the article")
        if len(ids) == 1:
            return cls(ids[0].rsplit("/", 1)[-1])
        return cls("the documents", plural=True)

    def says(self) -> str:
        """'The article says' / 'notes.txt says' / 'The documents say'."""
        name = self.name[0].upper() + self.name[1:] if self.name.startswith("the ") else self.name
        return f"{name} {'say' if self.plural else 'says'}"

    def does_not_say(self) -> str:
        return f"{self.name} {'do' if self.plural else 'does'} not say"


def quoted(citations: tuple[Citation, ...]) -> str:
    """The quotes of an answer, numbered as its citations: '“…” [1] “…” [2]'."""
    return " ".join(f"“{c.quote}” [{i}]" for i, c in enumerate(citations, 1))


def abstain(evidence: Evidence, p_answerable: float, p_short: float = 0.0, problem: str = "") -> Answer:
    """No answer was found: say so, and offer the closest passages as ones that may help."""
    source = Source.of(evidence.store)
    said = f"{source.does_not_say()} that: {problem}" if problem else source.does_not_say()
    text = f"No answer was found: {said}."
    if evidence.passages:
        text += " The closest passages are listed below; they may help."
    return Answer(
        question=evidence.query.shown,
        answer=text,
        abstained=True,
        passages=evidence.passages,
        confidence=p_answerable,
        resolved_question=evidence.query.text,
        p_answerable=p_answerable,
        p_short=p_short,
    )


class Fallback(Protocol):
    """A reader that answers in one step, without a model to fail: what another reader falls back on."""

    name: str

    def answer(self, evidence: Evidence) -> Answer: ...

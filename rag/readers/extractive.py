"""The extractive reader: quoted sentences and a short answer (rag.answer.compose); overviews quote
the lead and the most central sentences (rag.overview)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from rag.answer import compose
from rag.config import Settings
from rag.overview import extractive_overview, is_overview
from rag.retrieve import Retrieval, Retriever
from rag.types import Answer


class ExtractiveReader:
    name = "extractive"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def stream(
        self, question: str, retrieval: Retrieval, retriever: Retriever, shown_question: str
    ) -> Iterator[str | Answer]:
        yield self.answer(question, retrieval, retriever, shown_question)

    def answer(
        self, question: str, retrieval: Retrieval, retriever: Retriever, shown_question: str
    ) -> Answer:
        if is_overview(question):
            return extractive_overview(shown_question, question, retriever.store, retrieval.passages)
        answer = compose(question, retrieval, retriever, self.settings, shown_question=shown_question)
        return answer if answer.reader == self.name else dataclasses.replace(answer, reader=self.name)

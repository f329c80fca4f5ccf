"""The extractive reader: quoted sentences and a short answer (compose); overview questions quote the
lead and the most central sentences (rag.readers.overview)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from rag.config import Settings
from rag.readers.extractive.compose import compose
from rag.readers.overview import extractive_overview
from rag.retrieve import Evidence
from rag.types import Answer


class ExtractiveReader:
    name = "extractive"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def stream(self, evidence: Evidence) -> Iterator[str | Answer]:
        yield self.answer(evidence)

    def answer(self, evidence: Evidence) -> Answer:
        query = evidence.query
        if query.overview:
            return extractive_overview(query.shown, query.text, evidence.store, evidence.passages)
        answer = compose(evidence, self.settings)
        return answer if answer.reader == self.name else dataclasses.replace(answer, reader=self.name)

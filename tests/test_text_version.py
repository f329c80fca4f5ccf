"""An index built when documents were read another way re-reads them instead of keeping old text."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rag.config import Settings
from rag.index.indexer import read_documents, update_index
from rag.index.ingest import TEXT_VERSION
from tests.conftest import FakeEmbedder

NOTES = "# Holidays\n\nThe office closes on **Friday** for the summer break.\n"


def _index(tmp_path: Path) -> tuple[Settings, Path]:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.md").write_text(NOTES, encoding="utf-8")
    return Settings(seeds_dir=docs, index_dir=tmp_path / "index"), docs


def _with_old_reading(store, version: int):  # type: ignore[no-untyped-def]
    """The same index as if its Markdown had been kept raw, under text version `version`."""
    doc = store.documents["notes.md"]
    old = dataclasses.replace(doc, text=NOTES)
    return dataclasses.replace(
        store, documents={"notes.md": old}, manifest={**store.manifest, "text_version": version}
    )


def test_unchanged_files_keep_their_text_only_under_the_same_reading(tmp_path: Path) -> None:
    settings, docs = _index(tmp_path)
    store = update_index(settings, FakeEmbedder, [docs]).store
    assert store.manifest["text_version"] == TEXT_VERSION
    assert store.documents["notes.md"].text.startswith("Holidays")  # parsed: no "# ", no "**"
    files = [(docs / "notes.md", "notes.md")]

    same, _ = read_documents(files, _with_old_reading(store, TEXT_VERSION), settings.max_document_bytes)
    assert same[0].text == NOTES  # same reading: the stored text is reused, the file is not parsed again

    older, _ = read_documents(files, _with_old_reading(store, TEXT_VERSION - 1), settings.max_document_bytes)
    assert older[0].text == store.documents["notes.md"].text  # another reading: read afresh
    assert "**" not in older[0].text and not older[0].text.startswith("#")

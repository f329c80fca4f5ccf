"""The index on disk: save/load round trip, manifest checks, rebuild on change, incremental reuse."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rag.config import Settings
from rag.errors import IndexCorruptError, IndexMismatchError
from rag.index.indexer import open_index, update_index
from rag.index.store import load, read_manifest
from tests.conftest import FakeEmbedder


def _factory(embedder: FakeEmbedder):  # type: ignore[no-untyped-def]
    return lambda: embedder


def test_save_load_round_trip(tiny_settings: Settings, fake_embedder: FakeEmbedder) -> None:
    built = update_index(tiny_settings, _factory(fake_embedder)).store
    loaded = load(tiny_settings.index_dir, tiny_settings, fake_embedder.name)
    assert loaded.chunks == built.chunks
    assert loaded.sentence_spans == built.sentence_spans
    assert loaded.chunk_sentences == built.chunk_sentences
    assert np.array_equal(loaded.vectors, built.vectors)
    assert loaded.index.ntotal == len(built.sentence_spans)
    for chunk in loaded.chunks:
        assert loaded.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text


def test_manifest_records_model_settings_and_hashes(
    tiny_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    update_index(tiny_settings, _factory(fake_embedder))
    manifest = read_manifest(tiny_settings.index_dir)
    assert manifest is not None
    assert manifest["model"] == "all-MiniLM-L6-v2"
    assert manifest["chunking"]["chunk_chars"] == tiny_settings.chunk_chars
    assert set(manifest["documents"]) == {"boat-race.txt"}
    assert len(manifest["documents"]["boat-race.txt"]["sha256"]) == 64
    assert set(manifest["files"]) == {"faiss.index", "vectors.npy", "chunks.json", "texts.json"}


def test_unchanged_corpus_is_not_re_embedded(tiny_settings: Settings, fake_embedder: FakeEmbedder) -> None:
    update_index(tiny_settings, _factory(fake_embedder))
    calls = fake_embedder.texts_encoded
    result = update_index(tiny_settings, _factory(fake_embedder))
    assert result.up_to_date
    assert fake_embedder.texts_encoded == calls


def test_settings_mismatch_is_refused_by_load_and_rebuilt_by_open(
    tiny_settings: Settings, fake_embedder: FakeEmbedder
) -> None:
    update_index(tiny_settings, _factory(fake_embedder))
    other = tiny_settings.replace(chunk_chars=123)
    with pytest.raises(IndexMismatchError, match=rf"chunk_chars={tiny_settings.chunk_chars}.*123.*rag index"):
        load(other.index_dir, other, fake_embedder.name)
    result = open_index(other, _factory(fake_embedder))
    assert result.store.manifest["chunking"]["chunk_chars"] == 123
    assert "chunk_chars" in result.reason


def test_model_mismatch_triggers_rebuild(tiny_settings: Settings, fake_embedder: FakeEmbedder) -> None:
    update_index(tiny_settings, _factory(fake_embedder))
    path = tiny_settings.index_dir / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["model"] = "some-other-model"
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match="some-other-model"):
        load(tiny_settings.index_dir, tiny_settings, fake_embedder.name)
    before = fake_embedder.texts_encoded
    result = open_index(tiny_settings, _factory(fake_embedder))
    assert not result.up_to_date and fake_embedder.texts_encoded > before
    assert read_manifest(tiny_settings.index_dir)["model"] == "all-MiniLM-L6-v2"  # type: ignore[index]


def test_changed_document_triggers_rebuild_of_that_document_only(
    tiny_settings: Settings, tiny_corpus: Path, fake_embedder: FakeEmbedder
) -> None:
    (tiny_corpus / "second.txt").write_text("A second file. It has two sentences.", encoding="utf-8")
    update_index(tiny_settings, _factory(fake_embedder))
    (tiny_corpus / "second.txt").write_text("A second file, changed. Now three. Really.", encoding="utf-8")
    before = fake_embedder.texts_encoded
    result = open_index(tiny_settings, _factory(fake_embedder))
    assert result.report.embedded_docs == ("second.txt",)
    assert result.report.reused_docs == ("boat-race.txt",)
    assert fake_embedder.texts_encoded - before == 3
    assert "Now three." in result.store.documents["second.txt"].text


def test_corrupt_file_is_detected(tiny_settings: Settings, fake_embedder: FakeEmbedder) -> None:
    update_index(tiny_settings, _factory(fake_embedder))
    manifest = read_manifest(tiny_settings.index_dir)
    assert manifest is not None
    vectors = tiny_settings.index_dir / manifest["generation"] / "vectors.npy"
    vectors.write_bytes(vectors.read_bytes()[:-10])
    with pytest.raises(IndexCorruptError, match=r"checksum.*rag index"):
        load(tiny_settings.index_dir, tiny_settings, fake_embedder.name)


def test_only_one_generation_is_kept(tiny_settings: Settings, fake_embedder: FakeEmbedder) -> None:
    update_index(tiny_settings, _factory(fake_embedder))
    update_index(tiny_settings, _factory(fake_embedder), force=True)
    gens = [p.name for p in tiny_settings.index_dir.iterdir() if p.name.startswith("gen-")]
    assert len(gens) == 1
    assert read_manifest(tiny_settings.index_dir)["generation"] == gens[0]  # type: ignore[index]


@pytest.mark.slow
def test_real_model_and_faiss_round_trip(article_settings: Settings, real_embedder) -> None:  # type: ignore[no-untyped-def]
    from rag.index.indexer import open_index as open_real

    store = open_real(article_settings, lambda: real_embedder).store
    loaded = load(article_settings.index_dir, article_settings, real_embedder.name)
    assert loaded.vectors.shape == (len(store.sentence_spans), 384)
    assert np.allclose(np.linalg.norm(loaded.vectors, axis=1), 1.0, atol=1e-4)
    query = real_embedder.encode(["How many political prisoners were freed?"])
    scores, ids = loaded.index.search(query, 5)
    assert np.allclose(scores[0], loaded.vectors[ids[0]] @ query[0], atol=1e-5)
    assert any("52" in loaded.sentence_text(int(i)) for i in ids[0])

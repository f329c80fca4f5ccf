"""Your own documents at scale: folders of .txt/.md/.html, incremental re-indexing, and the
shortcuts that keep it fast (distinct sentences encoded once, unchanged files not parsed again,
vectorised scoring) giving exactly what the plain way gives."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from rag.cite import cite, verify
from rag.config import Settings
from rag.index import ingest
from rag.index.indexer import open_index, update_index
from rag.index.store import load, read_manifest
from rag.pipeline import Engine
from rag.retrieve import Retriever, _chunk_terms
from rag.text import terms
from tests.conftest import FakeEmbedder

LIBRARY_HTML = """<!doctype html>
<html><head><title>Elmford library</title><style>p { color: red }</style></head>
<body>
<nav><a href="/">Home</a></nav>
<h1>Opening hours</h1>
<p>The Elmford library opens at <b>nine</b> in the morning on Saturdays.</p>
<script>var saturday = "closed all day";</script>
<p>On Sundays the reading room stays closed for cleaning.</p>
<ul><li>Children's corner: puppets and picture books.</li><li>Quiet room on the upper floor.</li></ul>
</body></html>
"""

BAKERY_MD = """# The bakery

The bakery on Mill Street sells rye bread. It opens before dawn.

The baker, Tomas Reed, learned the trade from his grandmother.
"""

FERRY_TXT = "The ferry crosses the lake twice a day. Tickets cost four crowns.\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    (root / "town").mkdir(parents=True)
    (root / "town" / "library.html").write_text(LIBRARY_HTML, encoding="utf-8")
    (root / "bakery.md").write_text(BAKERY_MD, encoding="utf-8")
    (root / "ferry.txt").write_text(FERRY_TXT, encoding="utf-8")
    (root / "notes.pptx").write_bytes(b"PK\x03\x04 not read")
    return root


@pytest.fixture
def settings(tmp_path: Path, folder: Path) -> Settings:
    return Settings(seeds_dir=folder, index_dir=tmp_path / "index")


def test_a_folder_of_text_markdown_and_html_is_indexed_with_true_offsets(
    settings: Settings, folder: Path, fake_embedder: FakeEmbedder
) -> None:
    result = update_index(settings, lambda: fake_embedder, [folder])
    store = result.store
    assert set(store.documents) == {"town/library.html", "bakery.md", "ferry.txt"}
    for chunk in store.chunks:
        assert store.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text
    for i, span in enumerate(store.sentence_spans):
        assert store.sentence_text(i) == store.documents[store.sentence_doc[i]].text[span.start : span.end]
    assert {d for d in store.sentence_doc} == set(store.documents)
    manifest = read_manifest(settings.index_dir)
    assert manifest is not None and set(manifest["documents"]) == set(store.documents)


def test_html_is_indexed_as_its_visible_text_kept_beside_the_index(
    settings: Settings, folder: Path, fake_embedder: FakeEmbedder
) -> None:
    update_index(settings, lambda: fake_embedder, [folder])
    store = load(settings.index_dir, settings, fake_embedder.name)
    text = store.documents["town/library.html"].text
    assert "opens at nine in the morning on Saturdays." in text
    assert "<" not in text and "color: red" not in text and "closed all day" not in text
    manifest = read_manifest(settings.index_dir)
    assert manifest is not None
    saved = json.loads(
        (settings.index_dir / manifest["generation"] / "texts.json").read_text(encoding="utf-8")
    )
    assert saved["town/library.html"]["text"] == text


def test_a_passage_from_html_names_the_document_and_quotes_its_text(
    settings: Settings, folder: Path, fake_embedder: FakeEmbedder
) -> None:
    update_index(settings, lambda: fake_embedder, [folder])
    engine = Engine.load(settings, fake_embedder)
    answer = engine.ask("When does the Elmford library open on Saturdays?")
    top = answer.passages[0].chunk
    assert top.doc_id == "town/library.html"
    quote = cite(engine.retriever.store.documents[top.doc_id], top.start, top.end)
    assert quote.quote == top.text and "nine in the morning on Saturdays" in quote.quote
    assert all(verify(c, engine.retriever.store.documents) for c in answer.citations)


def test_re_index_embeds_only_new_and_changed_documents_and_drops_removed_ones(
    settings: Settings, folder: Path, fake_embedder: FakeEmbedder
) -> None:
    first = update_index(settings, lambda: fake_embedder, [folder])
    ferry_vectors = _doc_vectors(first.store, "ferry.txt")
    (folder / "bakery.md").write_text(
        BAKERY_MD + "\nOn Mondays the bakery bakes pretzels.\n", encoding="utf-8"
    )
    (folder / "town" / "library.html").unlink()
    (folder / "harbour.txt").write_text("The harbour master rings a bell at noon.\n", encoding="utf-8")
    before = fake_embedder.texts_encoded

    result = update_index(settings, lambda: fake_embedder, [folder])

    report, store = result.report, result.store
    assert set(report.embedded_docs) == {"bakery.md", "harbour.txt"}
    assert report.reused_docs == ("ferry.txt",)
    assert report.removed_docs == ("town/library.html",)
    changed = [i for i, d in enumerate(store.sentence_doc) if d in {"bakery.md", "harbour.txt"}]
    assert fake_embedder.texts_encoded - before == len({store.sentence_text(i) for i in changed})
    assert "town/library.html" not in store.documents
    assert all(c.doc_id != "town/library.html" for c in store.chunks)
    assert "town/library.html" not in store.sentence_doc
    assert np.array_equal(_doc_vectors(store, "ferry.txt"), ferry_vectors)
    manifest = read_manifest(settings.index_dir)
    assert manifest is not None
    assert manifest["last_build"]["embedded_docs"] == 2
    assert manifest["last_build"]["removed_docs"] == ["town/library.html"]
    assert set(manifest["documents"]) == {"bakery.md", "ferry.txt", "harbour.txt"}


def test_unchanged_documents_are_neither_embedded_nor_parsed_again(
    settings: Settings, folder: Path, fake_embedder: FakeEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    update_index(settings, lambda: fake_embedder, [folder])
    parsed: list[str] = []
    real_parse = ingest.parse_document
    monkeypatch.setattr(
        ingest,
        "parse_document",
        lambda data, doc_id, path: parsed.append(doc_id) or real_parse(data, doc_id, path),
    )
    before = fake_embedder.calls

    again = update_index(settings, lambda: fake_embedder, [folder])
    opened = open_index(settings, lambda: fake_embedder)
    assert again.up_to_date and opened.up_to_date
    assert parsed == [] and fake_embedder.calls == before

    (folder / "ferry.txt").write_text(FERRY_TXT + "The last ferry leaves at six.\n", encoding="utf-8")
    changed = update_index(settings, lambda: fake_embedder, [folder])
    assert parsed == ["ferry.txt"]
    assert changed.report.embedded_docs == ("ferry.txt",)
    assert "The last ferry leaves at six." in changed.store.documents["ferry.txt"].text
    assert (
        changed.store.documents["town/library.html"].text == again.store.documents["town/library.html"].text
    )


def test_a_repeated_sentence_is_encoded_once_and_gets_the_same_vector(
    tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    docs = tmp_path / "pages"
    docs.mkdir()
    for name in ("a", "b", "c"):
        (docs / f"{name}.txt").write_text(f"Previous topic\n\nPage {name} is about {name}.\n\nNext topic\n")
    settings = Settings(seeds_dir=docs, index_dir=tmp_path / "index")

    store = update_index(settings, lambda: fake_embedder, [docs]).store

    texts = [store.sentence_text(i) for i in range(len(store.sentence_spans))]
    assert len(texts) == 9 and len(store.vectors) == 9
    assert fake_embedder.texts_encoded == len(set(texts)) == 5
    rows = [i for i, t in enumerate(texts) if t == "Previous topic"]
    assert len(rows) == 3 and all(np.array_equal(store.vectors[rows[0]], store.vectors[r]) for r in rows)
    assert np.allclose(store.vectors, fake_embedder.encode(texts))


def test_each_chunk_scores_as_its_best_sentence(
    settings: Settings, folder: Path, fake_embedder: FakeEmbedder
) -> None:
    store = update_index(settings.replace(chunk_chars=120), lambda: fake_embedder, [folder]).store
    retriever = Retriever(store, settings.replace(chunk_chars=120))
    rng = np.random.default_rng(0)
    for _ in range(5):
        sims = rng.uniform(-1, 1, len(store.sentence_spans)).astype(np.float32)
        expected = [max(sims[s] for s in members) for members in store.chunk_sentences]
        assert np.array_equal(retriever.chunk_dense_scores(sims), np.asarray(expected, dtype=np.float32))
    assert any(len(m) > 1 for m in store.chunk_sentences)  # the test covers chunks of several sentences


def test_chunk_terms_from_sentences_equal_the_chunks_own_terms(
    tmp_path: Path, fake_embedder: FakeEmbedder
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bakery.md").write_text(BAKERY_MD, encoding="utf-8")
    # one 25,000-character word: the splitter cuts it inside the word, so two sentences touch there
    (docs / "long.txt").write_text("Start here. " + "x" * 25_000 + " and the end.\n", encoding="utf-8")
    settings = Settings(seeds_dir=docs, index_dir=tmp_path / "index", chunk_chars=100_000)
    store = update_index(settings, lambda: fake_embedder, [docs]).store
    sentence_terms = [terms(store.sentence_text(i)) for i in range(len(store.sentence_spans))]

    for c, chunk in enumerate(store.chunks):
        assert _chunk_terms(store, c, sentence_terms) == terms(chunk.text)
    spans = store.sentence_spans
    assert any(a.end == b.start for a, b in pairwise(spans))  # the touching case is there


def test_large_index_uses_hnsw_and_finds_what_flat_search_finds(
    settings: Settings, folder: Path, fake_embedder: FakeEmbedder
) -> None:
    flat = update_index(settings, lambda: fake_embedder, [folder]).store
    approx = update_index(
        settings.replace(hnsw_min_chunks=1), lambda: fake_embedder, [folder], force=True
    ).store
    assert flat.manifest["index_type"] == "flat" and approx.manifest["index_type"] == "hnsw"
    query = "When does the Elmford library open on Saturdays?"
    qvec = fake_embedder.encode([query])[0]
    exact = Retriever(flat, settings).search(query, qvec, k=3)
    found = Retriever(approx, settings).search(query, qvec, k=3)
    assert [p.chunk.chunk_id for p in found.passages] == [p.chunk.chunk_id for p in exact.passages]


def _doc_vectors(store, doc_id: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    return store.vectors[[i for i, d in enumerate(store.sentence_doc) if d == doc_id]]


@pytest.mark.slow
def test_real_model_answers_from_a_folder_and_loads_in_the_background(
    settings: Settings, folder: Path, real_embedder
) -> None:  # type: ignore[no-untyped-def]
    """The real model, real FAISS, real BM25 over a folder: the answer comes from the HTML page."""
    from rag.index.embed import SentenceTransformerEmbedder

    update_index(settings, lambda: real_embedder, [folder])
    engine = Engine.load(settings, real_embedder)
    answer = engine.ask("What time does the Elmford library open on Saturdays?")
    assert not answer.abstained, answer.answer
    assert answer.citations[0].doc_id == "town/library.html"
    assert "nine in the morning" in answer.citations[0].quote
    assert all(verify(c, engine.retriever.store.documents) for c in answer.citations)
    assert engine.ask("Who taught the baker his trade?").citations[0].doc_id == "bakery.md"

    background = SentenceTransformerEmbedder(background=True)
    sentences = ["The ferry crosses the lake twice a day.", "Tickets cost four crowns."]
    assert background.dim == real_embedder.dim
    assert np.allclose(background.encode(sentences), real_embedder.encode(sentences), atol=1e-5)

"""Property tests (hypothesis): the invariants hold for any input, not only for the inputs we thought of.

- any document: every chunk equals its span, no sentence is cut, no text is lost;
- any bytes as a document: a Document or a DocumentError, nothing else;
- any question (and history): `ask` never raises, and every quote verifies against the source on disk;
- any damage to the manifest: `load` refuses it with the command that fixes it, `open_index` repairs it.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.config import Settings
from rag.errors import DocumentError, IndexCorruptError, IndexMismatchError, QuestionError
from rag.index.chunk import chunk_text, paragraphs, sentences
from rag.index.indexer import open_index, update_index
from rag.index.ingest import html_to_text, parse_document
from rag.index.store import MANIFEST, load, read_manifest
from rag.pipeline import clean_question
from tests.conftest import ARTICLE, TINY_TEXT, FakeEmbedder

ARTICLE_TEXT = ARTICLE.read_text(encoding="utf-8")

# pieces that stress a sentence splitter: abbreviations, decimals, quotes, odd white space, other scripts
PIECES = [
    "word", "Belarus", "prisoners", "52", "3.5", "Mr.", "U.S.", "e.g.", "No.", "a.m.", ".", "?", "!", "...",
    "…", ",", ";", ":", '"', "'", "“", "”", "(", ")", "—", "-", " ", " ", " ", " ", "\n", "\n\n", "\r\n",
    "\t", "\u00a0", "\u2028", "ünïcödé", "Минск", "日本語。", "🙂", "\x00", "\x0c",
]  # fmt: skip
documents = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=250).map("".join),
    st.text(max_size=300),
    st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=120).map("".join),
)


# ---------------------------------------------------------------- chunking


@settings(max_examples=200, deadline=None)
@given(text=documents, chunk_chars=st.integers(10, 800), overlap=st.integers(0, 3))
def test_every_chunk_is_its_span_and_no_sentence_is_cut(text: str, chunk_chars: int, overlap: int) -> None:
    chunks = chunk_text("d.txt", text, chunk_chars, overlap)
    paras = paragraphs(text)
    all_sentences = [s for p0, p1 in paras for s in sentences(text, p0, p1)]
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text and not chunk.text[0].isspace() and not chunk.text[-1].isspace()
        assert chunk.sentences[0].start == chunk.start and chunk.sentences[-1].end == chunk.end
        assert len(chunk.sentences) == 1 or chunk.end - chunk.start <= chunk_chars
        assert any(p0 <= chunk.start and chunk.end <= p1 for p0, p1 in paras)  # never crosses a paragraph
        for s in all_sentences:  # a sentence is wholly inside a chunk or wholly outside it
            assert (
                (chunk.start <= s.start and s.end <= chunk.end)
                or s.end <= chunk.start
                or s.start >= chunk.end
            )
    # nothing is lost: every visible character is in some chunk
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
    assert {s for c in chunks for s in c.sentences} == set(all_sentences)


@settings(max_examples=200, deadline=None)
@given(text=documents)
def test_sentences_are_ordered_trimmed_and_inside_the_text(text: str) -> None:
    previous_end = 0
    for s in sentences(text):
        assert previous_end <= s.start < s.end <= len(text)
        assert not text[s.start].isspace() and not text[s.end - 1].isspace()
        previous_end = s.end


# ---------------------------------------------------------------- documents


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=600) | documents.map(lambda t: t.encode("utf-8", "surrogatepass")))
@pytest.mark.parametrize("suffix", [".txt", ".html"])
def test_any_bytes_give_a_document_or_a_document_error(data: bytes, suffix: str) -> None:
    path = Path("/nowhere/doc" + suffix)
    try:
        doc = parse_document(data, "doc" + suffix, path)
    except DocumentError as exc:
        assert str(path) in str(exc)
        return
    assert doc.text.strip() and len(doc.sha256) == 64


HTML_PIECES = [
    "<p>", "</p>", "<div>", "<br>", "<b>", "</b>", "<script>", "</script>", "<style>", "</style>", "<!--",
    "-->", "<![CDATA[", "]]>", "<![foo ", "<!doctype html>", "<svg>", "</svg>", "<template>", "<noscript>",
    "<a href='", "'>", '"', "&amp;", "&lt;", "&#0;", "&#xD800;", "&bogus;", "<", ">", "/", "=", " ", "\n",
    "text", "Минск",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(html=st.lists(st.sampled_from(HTML_PIECES) | st.text(max_size=3), max_size=80).map("".join))
def test_any_markup_gives_text_or_a_document_error(html: str) -> None:
    path = Path("/nowhere/page.html")
    try:
        doc = parse_document(html.encode("utf-8", "surrogatepass"), "page.html", path)
    except DocumentError as exc:
        assert str(path) in str(exc)
        return
    assert doc.text == doc.text.strip() and "\n\n" not in doc.text


# well-formed pages: visible words survive, nothing from scripts, styles, comments or templates does
VISIBLE = ["alpha", "beta", "Минск", "52", "a &amp; b"]
HIDDEN = [
    "<script>SECRET()</script>", "<script>if (a<b) { s = '</p>SECRET' }</script>", "<style>.SECRET{}</style>",
    "<!-- SECRET -->", "<noscript>SECRET</noscript>", "<template><p>SECRET</p></template>",
    "<svg><text>SECRET</text></svg>", "<iframe>SECRET</iframe>", '<p title="SECRET" onclick="SECRET()">',
]  # fmt: skip
pages = st.recursive(
    st.sampled_from(VISIBLE + HIDDEN),
    lambda inner: st.tuples(
        st.sampled_from(["p", "div", "b", "span", "li", "h2", "td"]), st.lists(inner, max_size=4)
    ).map(lambda t: f"<{t[0]}>{' '.join(t[1])}</{t[0]}>"),
    max_leaves=25,
)


@settings(max_examples=200, deadline=None)
@given(page=pages)
def test_html_keeps_visible_text_and_drops_hidden_parts(page: str) -> None:
    text = html_to_text(page)
    assert "SECRET" not in text
    for word in ("alpha", "beta", "Минск", "52"):
        assert (word in text) == (word in page)
    assert ("a & b" in text) == ("a &amp; b" in page) and "&amp;" not in text


# ---------------------------------------------------------------- questions

LIMIT = Settings().max_question_chars


@settings(max_examples=500, deadline=None)
@given(question=st.text(max_size=LIMIT + 50))
def test_clean_question_returns_clean_text_or_a_question_error(question: str) -> None:
    try:
        text = clean_question(question, LIMIT)
    except QuestionError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert len(question) <= LIMIT
    assert text == text.strip() and "  " not in text and any(ch.isalnum() for ch in text)
    assert not any(unicodedata.category(ch)[0] in "CZ" and ch != " " for ch in text)


ARTICLE_WORDS = sorted(set(ARTICLE_TEXT.split()))
questions = st.one_of(
    st.lists(st.sampled_from(ARTICLE_WORDS), min_size=1, max_size=12).map(" ".join),
    st.text(max_size=80),
    st.tuples(st.sampled_from(ARTICLE_WORDS), st.text(max_size=20), st.sampled_from(ARTICLE_WORDS)).map(
        "".join
    ),
    st.text(max_size=20).map(lambda t: "How many political prisoners " + t),
)
histories = st.lists(st.tuples(questions, st.text(max_size=60)), max_size=2)


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(question=questions, history=histories)
def test_ask_never_raises_and_every_quote_verifies(engine, question: str, history: list[Any]) -> None:  # type: ignore[no-untyped-def]
    answer = engine.ask(question, history)
    data = answer.to_dict()
    json.dumps(data)
    assert answer.error or answer.abstained or answer.citations
    if answer.error:
        assert answer.abstained and not answer.citations
    for c in answer.citations:
        assert ARTICLE_TEXT[c.start : c.end] == c.quote  # verified against the file on disk, not the index
    for p in answer.passages:
        assert ARTICLE_TEXT[p.chunk.start : p.chunk.end] == p.chunk.text


# ---------------------------------------------------------------- a damaged manifest

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
MANIFEST_KEYS = ["format_version", "model", "dim", "chunking", "index_type", "documents", "generation",
                 "files", "sources", "counts"]  # fmt: skip


@pytest.fixture(scope="module")
def fuzz_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, FakeEmbedder]:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "docs").mkdir()
    (root / "docs" / "a.txt").write_text(TINY_TEXT, encoding="utf-8")
    settings = Settings(seeds_dir=root / "docs", index_dir=root / "index")
    embedder = FakeEmbedder()
    update_index(settings, lambda: embedder)
    return settings, embedder


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(MANIFEST_KEYS), value=json_values, delete=st.booleans(), nested=st.booleans())
def test_any_damage_to_the_manifest_is_refused_then_repaired(
    fuzz_index: tuple[Settings, FakeEmbedder], key: str, value: Any, delete: bool, nested: bool
) -> None:
    settings, embedder = fuzz_index
    update_index(settings, lambda: embedder, [settings.seeds_dir])  # start each example from a whole index
    manifest = read_manifest(settings.index_dir)
    assert manifest is not None
    pristine = load(settings.index_dir, settings, embedder.name)
    if delete:
        manifest.pop(key, None)
    elif nested and isinstance(manifest.get(key), dict) and manifest[key]:
        manifest[key][sorted(manifest[key])[0]] = value  # damage one entry inside, e.g. one file's checksum
    else:
        manifest[key] = value
    (settings.index_dir / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")

    try:
        loaded = load(settings.index_dir, settings, embedder.name)
    except (IndexCorruptError, IndexMismatchError) as exc:
        assert "`rag index`" in str(exc)
    else:  # harmless damage (e.g. to counts): the index is still whole
        assert loaded.chunks == pristine.chunks

    try:
        repaired = open_index(settings, lambda: embedder).store
    except IndexCorruptError as exc:  # the record of its sources is gone: refused, naming the fix
        assert key == "sources" and f"`rag index --index-dir {settings.index_dir} PATHS`" in str(exc)
        repaired = update_index(settings, lambda: embedder, [settings.seeds_dir]).store
    assert repaired.chunks == pristine.chunks
    assert load(settings.index_dir, settings, embedder.name).chunks == pristine.chunks

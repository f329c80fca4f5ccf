"""Chunk invariants: every chunk is its span, no sentence is cut, nothing is lost."""

from __future__ import annotations

import itertools

import pytest

from rag.index.chunk import chunk_text, paragraphs, sentences
from tests.conftest import ARTICLE, TINY_TEXT


@pytest.mark.parametrize("chunk_chars", [80, 300, 600, 2000])
@pytest.mark.parametrize("overlap", [0, 1, 2])
def test_every_chunk_equals_its_span(chunk_chars: int, overlap: int) -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    for chunk in chunk_text("a.txt", text, chunk_chars, overlap):
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.sentences[0].start == chunk.start and chunk.sentences[-1].end == chunk.end


def test_no_sentence_is_cut_and_every_sentence_is_covered() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    all_sentences = {s for p0, p1 in paragraphs(text) for s in sentences(text, p0, p1)}
    chunks = chunk_text("a.txt", text, 300, 1)
    in_chunks = {s for c in chunks for s in c.sentences}
    assert in_chunks == all_sentences
    for chunk in chunks:
        for s in all_sentences:  # a sentence is either wholly inside a chunk or wholly outside
            inside = chunk.start <= s.start and s.end <= chunk.end
            outside = s.end <= chunk.start or s.start >= chunk.end
            assert inside or outside, (chunk.chunk_id, text[s.start : s.end])


def test_sentences_are_real_sentences() -> None:
    text = "Mr. Smith paid $3.50 for tea. He left at 5 p.m. on Friday! Did he return? Yes."
    got = [text[s.start : s.end] for s in sentences(text)]
    assert got == ["Mr. Smith paid $3.50 for tea.", "He left at 5 p.m. on Friday!", "Did he return?", "Yes."]


def test_overlap_repeats_the_last_sentence() -> None:
    text = "Alpha one is here. Beta two is here. Gamma three is here. Delta four is here. Epsilon five."
    chunks = chunk_text("t.txt", text, chunk_chars=40, overlap=1)
    same_paragraph = [(a, b) for a, b in itertools.pairwise(chunks) if a.chunk_id[:-2] == b.chunk_id[:-2]]
    assert same_paragraph, "expected a paragraph split into several chunks"
    for a, b in same_paragraph:
        assert a.sentences[-1] == b.sentences[0]


def test_chunks_do_not_cross_paragraphs() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    for chunk in chunk_text("a.txt", text, 5000, 1):
        assert "\n" not in chunk.text


def test_long_sentence_is_kept_whole_and_crlf_offsets_hold() -> None:
    long = "word " * 400 + "end."
    text = "First line.\r\n\r\n" + long + "\r\nLast one."
    chunks = chunk_text("c.txt", text, 100, 1)
    assert any(c.text.endswith("end.") and c.text.startswith("word") for c in chunks)
    for c in chunks:
        assert text[c.start : c.end] == c.text


def test_chunk_ids_name_their_place() -> None:
    chunks = chunk_text("doc.md", TINY_TEXT, 600, 1)
    assert [c.chunk_id for c in chunks] == ["doc.md#p00c00", "doc.md#p01c00", "doc.md#p02c00"]


def test_empty_and_blank_text_give_no_chunks() -> None:
    assert chunk_text("e.txt", "", 600, 1) == []
    assert chunk_text("e.txt", " \n\n \t", 600, 1) == []

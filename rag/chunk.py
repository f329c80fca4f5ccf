"""Sentence-aware chunks that keep their character offsets.

1. Split the text into paragraphs (blank lines; single newlines when the text has no blank line).
2. Split each paragraph into sentences with pysbd, a rule-based splitter that needs no download.
3. Pack whole sentences into chunks of at most `chunk_chars` characters; a chunk never crosses a
   paragraph and never cuts a sentence; the last `overlap` sentences of a chunk open the next one.

>>> doc_text = "One fish. Two fish.\\nRed fish. Blue fish."
>>> [c.text for c in chunk_text("d.txt", doc_text, chunk_chars=12, overlap=0)]
['One fish.', 'Two fish.', 'Red fish.', 'Blue fish.']
>>> [c.chunk_id for c in chunk_text("d.txt", doc_text, chunk_chars=100, overlap=1)]
['d.txt#p00c00', 'd.txt#p01c00']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

from rag.types import Chunk, Sentence

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_NEWLINE = re.compile(r"\n")
# pysbd's time grows as the square of a piece's sentences (20,000 characters of "Ab. " take 10 s,
# 2,000 take 0.15 s): it is fed pieces of at most 2,000 characters, cut at a likely sentence end
# a piece without any of these characters is one sentence: pysbd is not called for it, which keeps
# a document of 500,000 one-word lines (500,000 paragraphs) linear and fast to split
_MAY_END_SENTENCE = re.compile(r"[.!?;:\n\r\u2026\u3002\uff01\uff1f\u203c\u2047-\u2049]")
_MAX_SEGMENT_CHARS = 2_000
_MAX_RUN_CHARS = 20_000
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_ANY_END = re.compile(r"[.!?;:\n][\"'”’)\]]*\s+")


@lru_cache(maxsize=1)
def _segmenter():  # type: ignore[no-untyped-def]
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Spans of the non-blank paragraphs of `text`, trimmed of surrounding white space."""
    splitter = _BLANK_LINE if _BLANK_LINE.search(text) else _NEWLINE
    spans: list[tuple[int, int]] = []
    pos = 0
    for match in [*splitter.finditer(text), None]:
        end = match.start() if match else len(text)
        span = _trim(text, pos, end)
        if span:
            spans.append(span)
        if match:
            pos = match.end()
    return spans


def sentences(text: str, start: int = 0, end: int | None = None) -> list[Sentence]:
    """Sentence spans inside text[start:end], each trimmed of white space, in order, not overlapping."""
    return list(iter_sentences(text, start, end))


def iter_sentences(text: str, start: int = 0, end: int | None = None) -> Iterator[Sentence]:
    """The spans of `sentences`, one piece of the text at a time."""
    end = len(text) if end is None else end
    found = (s for piece in _pieces(text, start, end) for s in _piece_sentences(text, *piece))
    return _fill_gaps(text, start, end, found)


def _piece_sentences(text: str, piece_start: int, piece_end: int) -> Iterator[Sentence]:
    piece = text[piece_start:piece_end]
    if not _MAY_END_SENTENCE.search(piece):  # one sentence at most: no need to ask pysbd (slow per call)
        trimmed = _trim(text, piece_start, piece_end)
        if trimmed:
            yield Sentence(*trimmed)
        return
    cursor = 0
    for span in _segmenter().segment(piece):
        # pysbd's spans are usually exact; locate the sentence text to be sure
        at = piece.find(span.sent, cursor)
        if at < 0:
            continue
        trimmed = _trim(text, piece_start + at, piece_start + at + len(span.sent))
        cursor = at + len(span.sent)
        if trimmed:
            yield Sentence(*trimmed)


def chunk_text(doc_id: str, text: str, chunk_chars: int = 400, overlap: int = 1) -> list[Chunk]:
    """Chunks of `text`; for every chunk, text[chunk.start:chunk.end] == chunk.text."""
    return list(iter_chunks(doc_id, text, chunk_chars, overlap))


def iter_chunks(doc_id: str, text: str, chunk_chars: int = 400, overlap: int = 1) -> Iterator[Chunk]:
    """The chunks of `chunk_text`, one paragraph at a time (a caller can stop early: rag/budget.py)."""
    for p_index, (p_start, p_end) in enumerate(paragraphs(text)):
        sents = iter_sentences(text, p_start, p_end)
        for c_index, group in enumerate(_pack(sents, chunk_chars, overlap)):
            start, end = group[0].start, group[-1].end
            yield (
                Chunk(
                    chunk_id=f"{doc_id}#p{p_index:02d}c{c_index:02d}",
                    doc_id=doc_id,
                    start=start,
                    end=end,
                    text=text[start:end],
                    sentences=tuple(group),
                )
            )


def _pack(sents: Iterable[Sentence], chunk_chars: int, overlap: int) -> Iterator[list[Sentence]]:
    """Greedy packing of whole sentences; a sentence longer than the limit is a chunk of its own.
    Reads `sents` only as far as the chunk it yields needs."""
    ahead = iter(sents)
    window: list[Sentence] = []  # the sentences from the current chunk's first one on
    for first in ahead:
        window.append(first)
        break
    while window:
        j = 1
        while True:
            if j == len(window):
                more = next(ahead, None)
                if more is None:
                    break
                window.append(more)
            if window[j].end - window[0].start > chunk_chars:
                break
            j += 1
        yield window[:j]
        if j == len(window):
            return
        # step back `overlap` sentences, but always move forward by at least one
        del window[: max(1, j - overlap)]


def _pieces(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Pieces of text[start:end] of at most _MAX_SEGMENT_CHARS, cut after a likely sentence end
    (the last one in the second half of the piece, else the first one after it); a run of text
    without one is cut at white space only after _MAX_RUN_CHARS, so a long sentence stays whole."""
    while end - start > _MAX_SEGMENT_CHARS:
        cut = _cut(text, start, min(end, start + _MAX_RUN_CHARS))
        if cut is None:
            if end - start <= _MAX_RUN_CHARS:
                break
            limit = start + _MAX_RUN_CHARS
            space = text.rfind(" ", start + _MAX_RUN_CHARS // 2, limit)
            cut = space if space > start else limit
        yield start, cut
        start = cut
    yield start, end


def _cut(text: str, start: int, stop: int) -> int | None:
    for pattern in (_SENTENCE_END, _ANY_END):
        ends = [
            m.end()
            for m in pattern.finditer(text, start + _MAX_SEGMENT_CHARS // 2, start + _MAX_SEGMENT_CHARS)
        ]
        if ends:
            return ends[-1]
    later = _ANY_END.search(text, start + _MAX_SEGMENT_CHARS, stop)
    return later.end() if later and later.end() < stop else None


def _fill_gaps(text: str, start: int, end: int, found: Iterable[Sentence]) -> Iterator[Sentence]:
    """Text the splitter skipped becomes a sentence of its own, so no character is lost."""
    pos = start
    for s in found:
        if s.start < pos:
            continue
        gap = _trim(text, pos, s.start)
        if gap:
            yield Sentence(*gap)
        yield s
        pos = s.end
    tail = _trim(text, pos, end)
    if tail:
        yield Sentence(*tail)


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None

"""Sentence-aware chunks that keep their character offsets.

1. Split the text into paragraphs (blank lines; single newlines when the text has no blank line,
   unless its lines are plainly hard-wrapped: then lines that end a sentence short of the width).
2. Split each paragraph into sentences with pysbd, a rule-based splitter that needs no download,
   with the hard wrap undone: a line break inside a paragraph is read as a space (the splitter reads
   a copy of the same length, so offsets still point into the text as written). A table row
   ("Week: 3 · Backup: Mei Lin", "Kraków | ul. Lubicz 23") is one sentence, never split, and a line
   that starts a list item ("- ", "2. ") starts a new sentence.
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

from rag.index.formats import is_table_row
from rag.types import Chunk, Sentence

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_NEWLINE = re.compile(r"\n")
_LINE = re.compile(r"[^\n]*\n?")
_SENTENCE_ENDS = (".", "!", "?", ":", '"', "”", "’", "'", ")")
# a text without blank lines is hard-wrapped when this share of its lines stop mid-sentence; then a
# line shorter than _SHORT_LINE of the wrap width that ends a sentence ends a paragraph
_WRAPPED_SHARE = 0.5
_MIN_WRAP_WIDTH = 20  # editors wrap at 60-100 columns; a text of far shorter lines is a list, not prose
_SHORT_LINE = 0.85
_HEADING_LINE = 0.6  # a line shorter than this share of the width ends a paragraph even without a full stop
# a line that opens a list item: "- ", "* ", "+ ", "• ", "1. ", "2) ", "a) "
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*+•‣◦]|\d{1,3}[.)]|[a-zA-Z][)])[ \t]")
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


def paragraphs(text: str, hard_wraps: bool = False) -> list[tuple[int, int]]:
    r"""Spans of the non-blank paragraphs of `text`, trimmed of surrounding white space.

    Blank lines end paragraphs. A text without any is a paragraph a line, unless `hard_wraps` (text
    as a person typed it, not extracted from markup) and its lines are plainly hard-wrapped (most
    of them long and stopping mid-sentence): then a paragraph ends at a line that ends a sentence
    well short of the wrap width.

    >>> t = "One line per paragraph.\nAnother one."
    >>> [t[a:b] for a, b in paragraphs(t)]
    ['One line per paragraph.', 'Another one.']
    >>> t = "A long sentence that was\nwrapped at a width.\nA new one starts here and\nends.\nLast one."
    >>> [t[a:b] for a, b in paragraphs(t, hard_wraps=True)]
    ['A long sentence that was\nwrapped at a width.', 'A new one starts here and\nends.', 'Last one.']
    """
    if not _BLANK_LINE.search(text):
        lines = [span for span in _split_at(text, _NEWLINE) if span]
        wrapped = hard_wraps and _hard_wrapped(text, lines)
        return _wrapped_paragraphs(text, lines) if wrapped else lines
    return [span for span in _split_at(text, _BLANK_LINE) if span]


def _split_at(text: str, splitter: re.Pattern[str]) -> list[tuple[int, int] | None]:
    spans: list[tuple[int, int] | None] = []
    pos = 0
    for match in [*splitter.finditer(text), None]:
        end = match.start() if match else len(text)
        spans.append(_trim(text, pos, end))
        if match:
            pos = match.end()
    return spans


def _ends_sentence(line: str) -> bool:
    return line.rstrip().endswith(_SENTENCE_ENDS)


def _hard_wrapped(text: str, lines: list[tuple[int, int]]) -> bool:
    """Whether most lines (the last aside) are long and stop mid-sentence, as a hard wrap leaves them
    (a heading or a list item is short)."""
    inner = lines[:-1]
    if len(inner) < 2:
        return False
    width = _width(lines)
    if width < _MIN_WRAP_WIDTH:
        return False  # lines this short are a list or a poem, not prose wrapped at a width
    open_ended = sum(
        1
        for a, b in inner
        if b - a >= 0.5 * width and not _ends_sentence(text[a:b]) and not is_table_row(text[a:b])
    )
    return open_ended >= _WRAPPED_SHARE * len(inner)


def _wrapped_paragraphs(text: str, lines: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Lines joined into paragraphs: one ends after a line that ends a sentence short of the width
    the text is wrapped at, after a line far shorter than the width (a heading), or before a list
    item or a table row."""
    width = _width(lines)
    spans: list[tuple[int, int]] = []
    start = lines[0][0]
    for (a, b), following in zip(lines, [*lines[1:], None], strict=True):
        line = text[a:b]
        # a paragraph's inner lines run close to the width: a short line ends it (or is a heading)
        ends = b - a < _SHORT_LINE * width and (_ends_sentence(line) or b - a < _HEADING_LINE * width)
        breaks = following is not None and _starts_block(text[following[0] : following[1]])
        if following is None or ends or breaks or is_table_row(line):
            spans.append((start, b))
            if following is not None:
                start = following[0]
    return spans


def _width(lines: list[tuple[int, int]]) -> int:
    """The width the lines are wrapped at: the 90th percentile of their lengths."""
    return sorted(b - a for a, b in lines)[int(0.9 * (len(lines) - 1))]


def _starts_block(line: str) -> bool:
    return bool(_LIST_ITEM.match(line)) or is_table_row(line)


def sentences(text: str, start: int = 0, end: int | None = None) -> list[Sentence]:
    r"""Sentence spans inside text[start:end], each trimmed of white space, in order, not overlapping.

    Line breaks are read as spaces (a hard wrap is not a sentence end); a table row is one sentence.

    >>> t = "The move is on 17 November, because the\nlease ends. Ask Mei.\nKraków | ul. Lubicz 23 | 9:00"
    >>> [t[s.start : s.end] for s in sentences(t)]
    ['The move is on 17 November, because the\nlease ends.', 'Ask Mei.', 'Kraków | ul. Lubicz 23 | 9:00']
    """
    return list(iter_sentences(text, start, end))


def iter_sentences(text: str, start: int = 0, end: int | None = None) -> Iterator[Sentence]:
    """The spans of `sentences`, one piece of the text at a time."""
    end = len(text) if end is None else end
    return _fill_gaps(text, start, end, _run_sentences(text, start, end))


def _run_sentences(text: str, start: int, end: int) -> Iterator[Sentence]:
    for run_start, run_end, row in _runs(text, start, end):
        if row:
            trimmed = _trim(text, run_start, run_end)
            if trimmed:
                yield Sentence(*trimmed)
        else:
            yield from _split(text, run_start, run_end)


def _runs(text: str, start: int, end: int) -> Iterator[tuple[int, int, bool]]:
    """(start, end, is_table_row) pieces of text[start:end]: each table row alone, the lines between
    rows as one run, a new run where a list item starts."""
    run = start
    for line in _LINE.finditer(text, start, end):
        if not line.group():
            break
        body = line.group().rstrip("\r\n")
        if is_table_row(body):
            if run < line.start():
                yield run, line.start(), False
            yield line.start(), line.start() + len(body), True
            run = line.end()
        elif _LIST_ITEM.match(body) and run < line.start():
            yield run, line.start(), False
            run = line.start()
    if run < end:
        yield run, end, False


def _split(text: str, start: int, end: int) -> Iterator[Sentence]:
    """pysbd's sentences of text[start:end], read with its line breaks as spaces."""
    for piece_start, piece_end in _pieces(text, start, end):
        piece = _unwrapped(text[piece_start:piece_end])
        if not _MAY_END_SENTENCE.search(piece):  # one sentence at most: no need to ask pysbd (slow per call)
            trimmed = _trim(text, piece_start, piece_end)
            if trimmed:
                yield Sentence(*trimmed)
            continue
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


def _unwrapped(piece: str) -> str:
    """The piece with its line breaks as spaces: the same length, so every offset still holds."""
    return piece.replace("\r", " ").replace("\n", " ")


def chunk_text(
    doc_id: str, text: str, chunk_chars: int = 400, overlap: int = 1, hard_wraps: bool = False
) -> list[Chunk]:
    """Chunks of `text`; for every chunk, text[chunk.start:chunk.end] == chunk.text. `hard_wraps`:
    the text is as a person typed it (.txt), whose lines may be hard-wrapped (see `paragraphs`)."""
    return list(iter_chunks(doc_id, text, chunk_chars, overlap, hard_wraps))


def iter_chunks(
    doc_id: str, text: str, chunk_chars: int = 400, overlap: int = 1, hard_wraps: bool = False
) -> Iterator[Chunk]:
    """The chunks of `chunk_text`, one paragraph at a time (a caller can stop early: rag/index/budget.py)."""
    for p_index, (p_start, p_end) in enumerate(paragraphs(text, hard_wraps)):
        sents = iter_sentences(text, p_start, p_end)
        for c_index, group in enumerate(_pack(sents, chunk_chars, overlap)):
            start, end = group[0].start, group[-1].end
            yield Chunk(
                chunk_id=f"{doc_id}#p{p_index:02d}c{c_index:02d}",
                doc_id=doc_id,
                start=start,
                end=end,
                text=text[start:end],
                sentences=tuple(group),
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

"""The chat and the article as HTML: pure functions of the conversation, every text escaped.

Nothing here talks to Gradio or to the pipeline; `ui/app.py` calls these with the conversation
so far and the documents, and hands the strings to `gr.HTML`.

Citation numbers belong to the conversation, not to one answer: a quote gets the next free
number the first time any answer cites it and keeps it afterwards, so [1], [2], [3] run in order
of first use and each number always points at the same highlighted span of the article.

>>> from rag.types import Answer, Citation, Document
>>> doc = Document("a.txt", "Ten boats raced. Mara won.", "0")
>>> cite = Citation("a.txt", 17, 26, "Mara won.")
>>> conv = Conversation().add("Who won?", Answer("Who won?", "Mara [1]. “Mara won.” [1]", False, (cite,)))
>>> conv.number(cite)
1
>>> 'id="rag-mark-1"' in article_html(conv, {"a.txt": doc})
True
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rag.types import Answer, Citation, Document, Passage

CiteKey = tuple[str, int, int]  # (doc_id, start, end)

SHOWN_QUESTION_CHARS = 300  # a too-long question is shown clipped to this many characters
_MARKER = re.compile(r"\[(\d+)\]")
SCORE_HELP = "fused retrieval score (reciprocal rank fusion of cosine and BM25 ranks)"


def esc(text: object) -> str:
    """Text made safe for HTML element content and attribute values (quotes escaped too)."""
    return html.escape(str(text), quote=True)


# ---------------------------------------------------------------- the conversation


@dataclass(frozen=True)
class Turn:
    question: str  # as the user typed it
    answer: Answer


@dataclass(frozen=True)
class Conversation:
    """The turns so far and the number each cited span was given, in order of first use."""

    turns: tuple[Turn, ...] = ()
    numbers: Mapping[CiteKey, int] = field(default_factory=dict)

    def add(self, question: str, answer: Answer) -> Conversation:
        numbers = dict(self.numbers)
        for c in answer.citations:
            numbers.setdefault(key(c), len(numbers) + 1)
        return Conversation((*self.turns, Turn(question, answer)), numbers)

    def number(self, citation: Citation) -> int:
        return self.numbers[key(citation)]

    def history(self) -> list[tuple[str, str]]:
        """(question, answer) pairs for follow-up questions; turns that were refused are left out."""
        return [(t.answer.question, t.answer.answer) for t in self.turns if not t.answer.error]

    def cited(self) -> list[tuple[int, Citation]]:
        """Every cited span once, by number; the latest answer's citations win ties (same span)."""
        spans: dict[int, Citation] = {}
        for turn in self.turns:
            for c in turn.answer.citations:
                spans[self.number(c)] = c
        return sorted(spans.items())

    def latest_numbers(self) -> set[int]:
        if not self.turns:
            return set()
        return {self.number(c) for c in self.turns[-1].answer.citations}


def key(citation: Citation) -> CiteKey:
    return (citation.doc_id, citation.start, citation.end)


# ---------------------------------------------------------------- where a span stands


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line: the article's paragraphs, as offsets."""
    spans = []
    pos = 0
    for line in text.split("\n"):
        if line.strip():
            spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


def paragraph_number(text: str, offset: int) -> int:
    """1-based number of the paragraph holding `offset` (0 before the first one)."""
    return sum(1 for start, _ in paragraphs(text) if start <= offset)


def place(citation: Citation, documents: Mapping[str, Document]) -> str:
    """'¶ 4 · characters 1669–1781', plus the document's name when there are several."""
    doc = documents.get(citation.doc_id)
    where = f"characters {citation.start:,}–{citation.end:,}"
    if doc is not None:
        where = f"¶ {paragraph_number(doc.text, citation.start)} · {where}"
    if len(documents) > 1:
        where = f"{citation.doc_id} · {where}"
    return where


# ---------------------------------------------------------------- the chat


def marker(n: int, quote: str) -> str:
    """A citation marker: hover shows the quote, a click scrolls the article to it (ui/chat.js)."""
    return (
        f'<a class="cite" href="#rag-mark-{n}" data-cite="{n}" title="{esc(quote)}" '
        f'aria-label="quote {n}: {esc(quote)}">{n}</a>'
    )


def chat_html(conv: Conversation, documents: Mapping[str, Document]) -> str:
    if not conv.turns:
        return f'<div class="rag-chat" id="rag-chat-log">{WELCOME}</div>'
    turns = "".join(turn_html(i, t, conv, documents) for i, t in enumerate(conv.turns, 1))
    return f'<div class="rag-chat" id="rag-chat-log">{turns}</div>'


WELCOME = (
    '<div class="welcome"><p><strong>Ask anything about the article.</strong> '
    "Each answer quotes it word for word: hover a number to read its quote, "
    "click it to see the quote highlighted in the article.</p>"
    "<p>If the article does not say, the bot says so and shows the closest passages instead.</p></div>"
)


def turn_html(i: int, turn: Turn, conv: Conversation, documents: Mapping[str, Document]) -> str:
    answer = turn.answer
    if answer.error:
        kind, body = "error", f'<p class="notice">{esc(sentence(answer.error))}</p>'
    elif answer.abstained:
        kind, body = "abstain", abstain_html(answer)
    else:
        kind, body = "answer", answer_html(answer, conv, documents)
    return (
        f'<div class="turn" id="rag-turn-{i}" data-kind="{kind}">'
        f'<div class="msg user"><div class="bubble">{esc(shown_question(turn.question))}</div></div>'
        f'<div class="msg bot {kind}">{body}</div></div>'
    )


def shown_question(question: str) -> str:
    if not question.strip():
        return "(an empty question)"
    if len(question) <= SHOWN_QUESTION_CHARS:
        return question
    return f"{question[:SHOWN_QUESTION_CHARS]}… ({len(question):,} characters)"


def sentence(message: str) -> str:
    """'the question is empty' -> 'The question is empty.'"""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


def answer_html(answer: Answer, conv: Conversation, documents: Mapping[str, Document]) -> str:
    numbers = [conv.number(c) for c in answer.citations]
    quotes = "".join(
        f'<li><span class="qnum">{marker(n, c.quote)}</span><div><blockquote>“{esc(c.quote)}”</blockquote>'
        f'<div class="where">{esc(place(c, documents))}</div></div></li>'
        for n, c in zip(numbers, answer.citations, strict=True)
    )
    return (
        f'<p class="lead">{lead_html(answer, numbers)}</p>'
        f'<ol class="quotes" aria-label="quotes from the article">{quotes}</ol>'
        f"{passages_html(answer.passages, opened=False)}"
    )


def lead_html(answer: Answer, numbers: list[int]) -> str:
    """The answer text without its inline quotes, its [i] markers renumbered for the conversation.

    'dozen [1]. “In return, …” [1]' becomes 'dozen ¹.' with ¹ a marker for the conversation's
    number of citation 1; a lead without markers ('The article says:') gets every marker.
    """
    text = answer.answer
    for c in answer.citations:
        text = re.sub(re.escape(f"“{c.quote}”") + r"\s*(\[\d+\])?", "", text)
    text = " ".join(text.split())
    parts: list[str] = []
    pos = 0
    seen_marker = False
    for m in _MARKER.finditer(text):
        i = int(m.group(1))
        if not 1 <= i <= len(numbers):
            continue
        parts.append(_lead_text(text[pos : m.start()], answer.direct_answer))
        parts.append(marker(numbers[i - 1], answer.citations[i - 1].quote))
        pos = m.end()
        seen_marker = True
    parts.append(_lead_text(text[pos:], answer.direct_answer))
    if not seen_marker:
        parts.extend(" " + marker(n, c.quote) for n, c in zip(numbers, answer.citations, strict=True))
    return "".join(parts)


def _lead_text(text: str, direct: str) -> str:
    """Escaped text; the direct answer in it (the short answer itself) in bold."""
    if direct and direct in text:
        before, _, after = text.partition(direct)
        return f"{esc(before)}<strong>{esc(direct)}</strong>{esc(after)}"
    return esc(text)


def abstain_html(answer: Answer) -> str:
    head, _, rest = answer.answer.partition(". ")
    detail = f" {esc(rest)}" if rest else ""
    return (
        '<p class="notice"><span class="badge">Not in the article</span> '
        f"<strong>{esc(head.rstrip('.'))}.</strong>{detail}</p>"
        f"{passages_html(answer.passages, opened=True)}"
    )


def passages_html(passages: Iterable[Passage], *, opened: bool) -> str:
    items = list(passages)
    if not items:
        return ""
    rows = "".join(
        f'<li><div class="pmeta"><span class="pid">{esc(p.chunk.chunk_id)}</span> '
        f'<span class="score" title="{SCORE_HELP}">score {p.score:.4f}</span> '
        f'<span class="sub">cosine {p.dense_score:.3f} · BM25 {p.lexical_score:.2f}</span></div>'
        f'<p class="ptext">{esc(" ".join(p.chunk.text.split()))}</p></li>'
        for p in items
    )
    label = "Closest passages" if opened else "Retrieved passages"
    return (
        f'<details class="passages"{" open" if opened else ""}>'
        f"<summary>{label} ({len(items)}) and their scores</summary><ol>{rows}</ol></details>"
    )


# ---------------------------------------------------------------- the article


def article_html(conv: Conversation, documents: Mapping[str, Document]) -> str:
    """Each document cited so far (or the first one) with every cited span highlighted."""
    cited = conv.cited()
    latest = conv.latest_numbers()
    doc_ids = list(dict.fromkeys(c.doc_id for _, c in cited if c.doc_id in documents))
    if not doc_ids and documents:
        doc_ids = [sorted(documents)[0]]
    count = len(cited)
    note = (
        f"{count} cited passage{'s' if count != 1 else ''} highlighted; the latest answer's are brightest."
        if count
        else "Cited passages will be highlighted here."
    )
    body = "".join(
        document_html(documents[d], [(n, c) for n, c in cited if c.doc_id == d], latest) for d in doc_ids
    )
    return (
        f'<div class="rag-article" id="rag-article-panel"><p class="article-note">{esc(note)}</p>{body}</div>'
    )


def document_html(doc: Document, cited: list[tuple[int, Citation]], latest: set[int]) -> str:
    paras = "".join(
        f'<p data-para="{i}"><span class="pnum" aria-hidden="true">¶ {i}</span>'
        f"{highlighted(doc.text, start, end, cited, latest)}</p>"
        for i, (start, end) in enumerate(paragraphs(doc.text), 1)
    )
    return f'<article class="doc"><h3 class="doc-title">{esc(doc.doc_id)}</h3>{paras}</article>'


def highlighted(text: str, start: int, end: int, cited: list[tuple[int, Citation]], latest: set[int]) -> str:
    """text[start:end] escaped, with each cited span in it wrapped in <mark> (spans may overlap).

    The piece where citation n begins carries id="rag-mark-n"; a small n follows where it ends.
    """
    inside = [(n, max(c.start, start), min(c.end, end)) for n, c in cited if c.start < end and c.end > start]
    cuts = sorted({start, end, *(s for _, s, _ in inside), *(e for _, _, e in inside)})
    out = []
    for a, b in itertools.pairwise(cuts):
        covering = [n for n, s, e in inside if s <= a and b <= e]
        piece = esc(text[a:b])
        if covering:
            ids = [n for n, s, _ in inside if s == a and cited_start(cited, n) == a]
            anchor = f' id="rag-mark-{ids[0]}"' if ids else ""
            extra = "".join(f'<span class="anchor" id="rag-mark-{n}"></span>' for n in ids[1:])
            cls = "cited current" if latest.intersection(covering) else "cited"
            nums = " ".join(map(str, covering))
            piece = (
                f'<mark class="{cls}"{anchor} data-n="{nums}" title="quote {esc(nums)}">{extra}{piece}</mark>'
            )
        ends = [n for n, _, e in inside if e == b and cited_end(cited, n) == b]
        out.append(piece + "".join(f'<sup class="mnum">{n}</sup>' for n in ends))
    return "".join(out)


def cited_start(cited: list[tuple[int, Citation]], n: int) -> int:
    return next(c.start for m, c in cited if m == n)


def cited_end(cited: list[tuple[int, Citation]], n: int) -> int:
    return next(c.end for m, c in cited if m == n)

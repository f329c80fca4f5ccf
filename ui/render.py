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
from collections.abc import Mapping
from dataclasses import dataclass, field

from rag.types import Answer, Citation, Document, Passage

CiteKey = tuple[str, int, int]  # (doc_id, start, end)

SHOWN_QUESTION_CHARS = 300  # a too-long question is shown clipped to this many characters
_MARKER = re.compile(r"\[(\d+)\]")
SCORE_HELP = "fused retrieval score (reciprocal rank fusion of cosine and BM25 ranks)"
# embeddings, overrides and isolates (U+202A-202E, U+2066-2069): shown as they are, they reorder
# the text around them ("txt.exe" shown as "exe.txt"); the UI drops them from what it shows
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def neutral(text: object) -> str:
    """Text without bidirectional embedding, override and isolate characters.

    >>> neutral("report\u202egnp.exe")
    'reportgnp.exe'
    """
    return _BIDI_CONTROLS.sub("", str(text))


def esc(text: object) -> str:
    """Text made safe for HTML element content and attribute values (quotes escaped too), with
    bidirectional controls dropped so a document cannot reorder what the page shows."""
    return html.escape(neutral(text), quote=True)


# ---------------------------------------------------------------- the conversation


@dataclass(frozen=True)
class Turn:
    question: str  # as the user typed it
    answer: Answer


MAX_TURNS = 100  # turns a conversation keeps, and the page shows


@dataclass(frozen=True)
class Conversation:
    """The turns so far and the number each cited span was given, in order of first use."""

    turns: tuple[Turn, ...] = ()
    numbers: Mapping[CiteKey, int] = field(default_factory=dict)

    def add(self, question: str, answer: Answer) -> Conversation:
        """The conversation with one more turn; the oldest ones beyond MAX_TURNS are let go (so a
        session's memory stays bounded), and the numbers of the spans still cited stay as they were."""
        numbers = dict(self.numbers)
        for c in answer.citations:
            numbers.setdefault(key(c), max(numbers.values(), default=0) + 1)
        turns = (*self.turns, Turn(question, answer))[-MAX_TURNS:]
        if len(turns) <= len(self.turns):  # a turn was let go: so are the numbers only it used
            kept = {key(c) for t in turns for c in t.answer.citations}
            numbers = {k: n for k, n in numbers.items() if k in kept}
        return Conversation(turns, numbers)

    def number(self, citation: Citation) -> int:
        return self.numbers[key(citation)]

    def history(self) -> list[tuple[str, str | Answer]]:
        """(question, Answer) pairs for follow-up questions; turns that were refused are left out."""
        return [(t.answer.question, t.answer) for t in self.turns if not t.answer.error]

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


class Markers:
    """Makes citation markers with ids unique on the page (each has its own popover)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.count = itertools.count(1)

    def __call__(self, n: int, quote: str) -> str:
        """A citation marker: a button whose popover shows the quote on hover, focus and tap; a click
        scrolls the article to it (ui/chat.js)."""
        pop = f"{self.prefix}-{next(self.count)}"
        # "source 1" for assistive technology (visually hidden), so a marker never runs into the
        # words or the next marker ("Metabase 12." is heard as "Metabase source 1 source 2.")
        return (
            f'<button type="button" class="cite" data-cite="{n}" aria-label="source {n}" '
            f'aria-describedby="{pop}"><span class="sr-only">source </span>{n}'
            f'<span class="pop" role="tooltip" id="{pop}">“{esc(quote)}”</span></button>'
        )


def chat_html(
    conv: Conversation,
    documents: Mapping[str, Document],
    *,
    subject: str = "the article",
    pending: tuple[str, str] | None = None,
    waiting: str = "",
) -> str:
    """The conversation; `pending` = (question, text so far) of an answer still being written,
    `waiting` what to say while it waits for its turn ("Waiting: 2 questions ahead of yours…")."""
    turns = "".join(turn_html(i, t, conv, documents, subject) for i, t in enumerate(conv.turns, 1))
    if pending is not None:
        turns += pending_html(len(conv.turns) + 1, *pending, subject, waiting=waiting)
    return f'<div class="rag-chat" id="rag-chat-log">{turns or welcome(subject)}</div>'


def welcome(subject: str) -> str:
    plural = subject == "the documents"
    return (
        f'<div class="welcome"><p><strong>Ask anything about {esc(subject)}.</strong> '
        f"Each answer quotes {'them' if plural else 'it'} word for word: hover or focus a number to read "
        f"its quote, click it to see the quote highlighted in {esc(subject)}.</p>"
        f"<p>If {esc(subject)} {'do' if plural else 'does'} not say, the bot says so and shows the passages "
        "that may help.</p></div>"
    )


def user_html(question: str) -> str:
    return f'<div class="msg user"><div class="bubble" dir="auto">{esc(shown_question(question))}</div></div>'


def pending_html(i: int, question: str, text: str, subject: str, *, waiting: str = "") -> str:
    """The answer being written: visibly provisional and busy until the verified one replaces it
    (or, before that, the question waiting for its turn)."""
    draft = f'<p class="draft">{esc(text)}</p>' if text.strip() else ""
    status = "Draft, not yet checked against the quotes…" if draft else f"Looking in {esc(subject)}…"
    status = esc(waiting) if waiting and not draft else status
    return (
        f'<div class="turn" id="rag-turn-{i}" data-kind="pending">{user_html(question)}'
        f'<div class="msg bot pending" aria-busy="true">{draft}<p class="status">{status}</p></div></div>'
    )


def turn_html(
    i: int, turn: Turn, conv: Conversation, documents: Mapping[str, Document], subject: str = "the article"
) -> str:
    answer = turn.answer
    markers = Markers(f"rag-pop-{i}")
    kind = answer_kind(answer)
    if kind == "error":
        body = f'<p class="notice">{esc(sentence(answer.error))}</p>'
    elif kind == "abstain":
        body = abstain_html(answer, documents, subject)
    elif kind == "answer":
        body = answer_html(answer, conv, documents, markers)
    else:  # a reply that is not an answer from the documents (a greeting, another language, ...)
        body = f'<p class="lead">{esc(answer.answer)}</p>'
    tools = "" if kind == "error" else tools_html(i, answer, conv, documents)
    body += reader_note_html(answer)
    return (
        f'<div class="turn" id="rag-turn-{i}" data-kind="{kind}">{user_html(turn.question)}'
        f"{understood_html(answer)}"
        f'<div class="msg bot {kind}" data-say="{esc(spoken(answer, subject))}">{body}{tools}</div></div>'
    )


def reader_note_html(answer: Answer) -> str:
    """Why the LLM reader's words are not shown (the model failed, timed out, or wrote nothing the
    quotes support): said under the answer, never silent.

    >>> reader_note_html(Answer("q", "a", False, reader="extractive", reader_note="the LLM server timed out"))
    '<p class="reader-note">Answered by quoting: the LLM server timed out.</p>'
    """
    note = " ".join((answer.reader_note or "").split()).rstrip(".")
    return f'<p class="reader-note">Answered by quoting: {esc(note)}.</p>' if note else ""


SPOKEN_CHARS = 400  # what the live region says of an answer, at most


def spoken(answer: Answer, subject: str = "the article") -> str:
    """What a screen reader hears when the answer arrives: the answer's own words, no marker digits.

    The short answer when there is one, else the lead ("The article says:") with the first quote;
    for a refusal, the refusal; for an error, the error.

    >>> from rag.types import Citation
    >>> c = Citation("a.txt", 17, 26, "Mara won.")
    >>> spoken(Answer("Who won?", "Mara [1]. “Mara won.” [1]", False, (c,), direct_answer="Mara"))
    'Mara. “Mara won.”'
    >>> spoken(Answer("Who won?", "The article says: “Mara won.” [1]", False, (c,)))
    'The article says: “Mara won.”'
    """
    kind = answer_kind(answer)
    if kind == "error":
        return sentence(answer.error)
    if kind == "abstain":
        return f"Not found in {neutral(subject)}. {neutral(answer.answer)}"[:SPOKEN_CHARS]
    text = neutral(answer.answer)
    for c in answer.citations:
        text = text.replace(f"“{neutral(c.quote)}”", "")
    lead = " ".join(_MARKER.sub("", text).split())
    lead = re.sub(r"\s+([.,;:!?])", r"\1", lead).strip()
    if kind == "answer" and answer.citations:
        first = " ".join(neutral(answer.citations[0].quote).split())
        if not lead.rstrip(".").strip():
            lead = first
        elif lead.endswith(":") or lead.rstrip(".") == answer.direct_answer.strip():
            lead = f"{lead} “{first}”"
    if len(lead) > SPOKEN_CHARS:
        lead = lead[: SPOKEN_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return lead


def answer_kind(answer: Answer) -> str:
    """answer, abstain or error, or the pipeline's own kind of reply (e.g. a greeting)."""
    if answer.error:
        return "error"
    own = str(getattr(answer, "kind", "") or "")
    if own and own not in ("answer", "abstain", "abstained", "not_found"):
        return "reply"
    return "abstain" if answer.abstained else "answer"


def understood_html(answer: Answer) -> str:
    """'Understood as: …' when a follow-up was read as a fuller question."""
    resolved = " ".join(answer.resolved_question.split())
    if not resolved or resolved.casefold() == " ".join(answer.question.split()).casefold():
        return ""
    return f'<p class="understood">Understood as: <q>{esc(resolved)}</q></p>'


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


def answer_html(
    answer: Answer, conv: Conversation, documents: Mapping[str, Document], markers: Markers | None = None
) -> str:
    markers = markers or Markers("rag-pop")
    numbers = [conv.number(c) for c in answer.citations]
    quotes = "".join(
        f'<li><span class="qnum">{markers(n, c.quote)}</span><div><blockquote>“{esc(c.quote)}”</blockquote>'
        f'<div class="where">{esc(place(c, documents))}</div></div></li>'
        for n, c in zip(numbers, answer.citations, strict=True)
    )
    return (
        f'<p class="lead">{lead_html(answer, numbers, markers)}</p>'
        f'<ol class="quotes" aria-label="Quotes">{quotes}</ol>'
    )


def lead_html(answer: Answer, numbers: list[int], markers: Markers | None = None) -> str:
    """The answer text without its inline quotes, its [i] markers renumbered for the conversation.

    'dozen [1]. “In return, …” [1]' becomes 'dozen ¹.' with ¹ a marker for the conversation's
    number of citation 1; a lead without markers ('The article says:') gets every marker.
    """
    markers = markers or Markers("rag-pop")
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
        if (parts[-1] and not parts[-1][-1].isspace()) or (pos == m.start() and seen_marker):
            parts.append(" ")  # "Metabase [1][2]" -> "Metabase ¹ ²": a marker never touches a word
        parts.append(markers(numbers[i - 1], answer.citations[i - 1].quote))
        pos = m.end()
        seen_marker = True
    parts.append(_lead_text(text[pos:], answer.direct_answer))
    if not seen_marker:
        parts.extend(" " + markers(n, c.quote) for n, c in zip(numbers, answer.citations, strict=True))
    return "".join(parts)


def _lead_text(text: str, direct: str) -> str:
    """Escaped text; the direct answer in it (the short answer itself) in bold."""
    if direct and direct in text:
        before, _, after = text.partition(direct)
        return f"{esc(before)}<strong>{esc(direct)}</strong>{esc(after)}"
    return esc(text)


def abstain_html(answer: Answer, documents: Mapping[str, Document], subject: str = "the article") -> str:
    """No answer found: the pipeline's words, then the closest passages as ones that may help."""
    helpful = "".join(
        f'<li><p class="ptext">{esc(" ".join(p.chunk.text.split()))}</p>'
        f'<div class="where">{esc(passage_place(p, documents))}</div></li>'
        for p in answer.passages
    )
    may_help = (
        f'<div class="may-help"><p class="may-help-title">These passages may help</p><ol>{helpful}</ol></div>'
        if helpful
        else ""
    )
    return (
        f'<p class="notice"><span class="badge">Not found in {esc(subject)}</span> {esc(answer.answer)}</p>'
        f"{may_help}"
    )


def passage_place(passage: Passage, documents: Mapping[str, Document]) -> str:
    c = passage.chunk
    return place(Citation(c.doc_id, c.start, c.end, c.text), documents)


def tools_html(i: int, answer: Answer, conv: Conversation, documents: Mapping[str, Document]) -> str:
    """A copy button and, folded away, the details: question as understood, scores and chunk ids."""
    copy = (
        f'<button type="button" class="copy" data-copy="{esc(answer_plain(answer, conv, documents))}" '
        f'aria-label="Copy answer {i}">Copy</button>'
    )
    return f'<div class="tools">{copy}{details_html(answer)}</div>'


def details_html(answer: Answer) -> str:
    rows = "".join(
        f'<li><div class="pmeta"><span class="pid">{esc(p.chunk.chunk_id)}</span> '
        f'<span class="score" title="{SCORE_HELP}">score {p.score:.4f}</span> '
        f'<span class="sub">cosine {p.dense_score:.3f} · BM25 {p.lexical_score:.2f}</span></div>'
        f'<p class="ptext">{esc(" ".join(p.chunk.text.split()))}</p></li>'
        for p in answer.passages
    )
    facts = f"evidence score {answer.confidence:.3f}"
    if answer.resolved_question:
        facts += f" · searched for: {answer.resolved_question}"
    return (
        f'<details class="details"><summary>Details</summary><p class="facts">{esc(facts)}</p>'
        f'<p class="facts">Retrieved passages ({len(answer.passages)}) and their scores:</p><ol>{rows}</ol>'
        "</details>"
    )


def answer_plain(answer: Answer, conv: Conversation, documents: Mapping[str, Document]) -> str:
    """The answer as plain text with its sources: what the copy button copies."""
    if answer.error:
        return sentence(answer.error)
    text = renumbered(neutral(answer.answer), answer, conv)
    sources = "\n".join(
        f"[{conv.number(c)}] {neutral(place(c, documents))}: “{neutral(c.quote)}”" for c in answer.citations
    )
    return f"{text}\n\n{sources}" if sources else text


def renumbered(text: str, answer: Answer, conv: Conversation) -> str:
    """The answer's [i] markers as the conversation's numbers, in one pass (replacing [1] by [2] and
    then [2] by [3] one after the other would turn both into [3]).

    >>> from rag.types import Citation
    >>> a, b, c = (Citation("a.txt", i, i + 1, "x") for i in range(3))
    >>> conv = Conversation().add("q", Answer("q", "x [1]", False, (a,)))
    >>> conv = conv.add("q2", Answer("q2", "x [1][2]", False, (b, c)))
    >>> renumbered("x [1][2]", conv.turns[-1].answer, conv)
    'x [2][3]'
    """

    def number(m: re.Match[str]) -> str:
        i = int(m.group(1))
        return f"[{conv.number(answer.citations[i - 1])}]" if 1 <= i <= len(answer.citations) else m.group(0)

    return _MARKER.sub(number, text)


def conversation_markdown(conv: Conversation, documents: Mapping[str, Document], title: str) -> str:
    """The whole conversation as Markdown, each answer with its quotes (the export button's file)."""
    out = [f"# {neutral(title)}", ""]
    for turn in conv.turns:
        answer = turn.answer
        out += [f"**You:** {neutral(' '.join(turn.question.split()))}", ""]
        if understood_html(answer):
            out += [f"*Understood as: {neutral(answer.resolved_question)}*", ""]
        body = sentence(answer.error) if answer.error else renumbered(neutral(answer.answer), answer, conv)
        out += [f"**Answer:** {body}", ""]
        for c in answer.citations:
            out += [f"> [{conv.number(c)}] “{neutral(c.quote)}”  ", f"> — {neutral(place(c, documents))}", ""]
        if answer.abstained and answer.passages and not answer.error:
            out += ["These passages may help:", ""]
            out += [f"- {neutral(' '.join(p.chunk.text.split()))}" for p in answer.passages]
            out.append("")
    return "\n".join(out).rstrip() + "\n"


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

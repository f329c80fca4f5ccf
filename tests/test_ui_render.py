"""The chat's HTML (ui/render.py), fast: numbering across turns, escaping, highlights in the article.

These use hand-made Answers over a tiny document; the browser and API tests run the real pipeline.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from rag.types import Answer, Chunk, Citation, Document, Passage
from ui.render import (
    Conversation,
    answer_plain,
    article_html,
    chat_html,
    conversation_markdown,
    highlighted,
    lead_html,
    paragraph_number,
)

TEXT = (
    "Ten boats raced on Sunday. Mara Quill won.\nRain delayed the final. The mayor <b>thanked</b> everyone.\n"
)
DOC = Document("race.txt", TEXT, "0")
DOCS = {"race.txt": DOC}


def cite(quote: str) -> Citation:
    start = TEXT.index(quote)
    return Citation("race.txt", start, start + len(quote), quote)


def answered(question: str, *quotes: str, short: str = "") -> Answer:
    citations = tuple(cite(q) for q in quotes)
    body = " ".join(f"“{c.quote}” [{i}]" for i, c in enumerate(citations, 1))
    text = f"{short} [1]. {body}" if short else f"The article says: {body}"
    chunk = Chunk("race.txt#c0", "race.txt", 0, len(TEXT), TEXT)
    return Answer(question, text, False, citations, (Passage(chunk, 0.5, 0.4, 1.2),), direct_answer=short)


class Tags(HTMLParser):
    """Every start tag with its attributes, to check what the browser would build."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def test_numbers_run_in_order_of_first_use_across_turns() -> None:
    conv = Conversation()
    conv = conv.add("Who won?", answered("Who won?", "Mara Quill won.", short="Mara Quill"))
    conv = conv.add(
        "What delayed it?",
        answered("What delayed it?", "Ten boats raced on Sunday.", "Rain delayed the final."),
    )
    conv = conv.add("Who won again?", answered("Who won again?", "Mara Quill won.", short="Mara Quill"))
    assert conv.number(cite("Mara Quill won.")) == 1
    assert conv.number(cite("Ten boats raced on Sunday.")) == 2
    assert conv.number(cite("Rain delayed the final.")) == 3
    html = chat_html(conv, DOCS)
    used = [int(n) for n in re.findall(r'data-cite="(\d+)"', html)]
    assert list(dict.fromkeys(used)) == [1, 2, 3]
    article = article_html(conv, DOCS)
    for n in (1, 2, 3):  # every number resolves to a highlight in the article
        assert f'id="rag-mark-{n}"' in article


def popovers(html: str) -> dict[str, str]:
    """id -> text of each citation popover."""
    return dict(re.findall(r'<span class="pop" role="tooltip" id="([^"]+)">“(.*?)”</span>', html))


def test_every_marker_is_a_button_described_by_its_quote_and_every_mark_is_the_cited_text() -> None:
    conv = Conversation().add("q", answered("q", "Mara Quill won.", "Rain delayed the final."))
    numbers = dict(conv.cited())
    html = chat_html(conv, DOCS)
    pops = popovers(html)
    markers = [a for t, a in tags(html) if "data-cite" in a]
    assert markers and all(a.get("type") == "button" for a in markers)
    ids = [str(a["aria-describedby"]) for a in markers]
    assert len(set(ids)) == len(ids)  # each popover id is unique on the page
    for attrs in markers:
        n = int(str(attrs["data-cite"]))
        assert attrs["aria-label"] == f"source {n}"
        assert pops[str(attrs["aria-describedby"])] == numbers[n].quote
    article = article_html(conv, DOCS)
    marked = re.findall(r'<mark class="cited[^"]*" id="rag-mark-(\d+)"[^>]*>(.*?)</mark>', article)
    assert {int(n): text for n, text in marked} == {n: c.quote for n, c in numbers.items()}


def test_question_and_document_text_are_escaped() -> None:
    evil = '<img src=x onerror=alert(1)> "quoted" <script>alert(2)</script>'
    abstained = Answer(
        evil, "The article does not say. Nothing here.", True, (), answered("x", "Mara Quill won.").passages
    )
    conv = Conversation().add(evil, abstained)
    html = chat_html(conv, DOCS) + article_html(conv, DOCS)
    assert not [t for t, _ in tags(html) if t in {"img", "script", "b"}]
    assert "&lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot; &lt;script&gt;" in html
    assert "&lt;b&gt;thanked&lt;/b&gt;" in html  # the document's own markup is text too


def test_quote_with_markup_is_escaped_in_the_popover_and_the_copy_text() -> None:
    conv = Conversation().add("q", answered("q", "The mayor <b>thanked</b> everyone."))
    html = chat_html(conv, DOCS)
    assert set(popovers(html).values()) == {"The mayor &lt;b&gt;thanked&lt;/b&gt; everyone."}
    copies = [a["data-copy"] for t, a in tags(html) if t == "button" and "data-copy" in a]
    assert copies and "“The mayor <b>thanked</b> everyone.” [1]" in str(copies[0])
    assert not [t for t, _ in tags(html) if t == "b"]


def test_lead_keeps_the_short_answer_and_renumbers_its_marker() -> None:
    first = answered("a", "Ten boats raced on Sunday.")
    second = answered("b", "Mara Quill won.", short="Mara Quill")
    conv = Conversation().add("a", first).add("b", second)
    lead = lead_html(second, [conv.number(c) for c in second.citations])
    assert lead.startswith("<strong>Mara Quill</strong>")
    outside_popovers = re.sub(r'<span class="pop".*?</span>', "", lead)
    assert 'data-cite="2"' in lead and "“" not in outside_popovers  # the quote is listed below, not repeated


def test_abstention_and_errors_look_different_and_errors_stay_out_of_history() -> None:
    passages = answered("x", "Mara Quill won.").passages
    conv = Conversation()
    conv = conv.add(
        "Capital of France?", Answer("Capital of France?", "The article does not say.", True, (), passages)
    )
    conv = conv.add("", Answer("", "the question is empty", True, error="the question is empty"))
    html = chat_html(conv, DOCS, subject="race.txt")
    assert 'data-kind="abstain"' in html and "These passages may help" in html
    assert "Not found in race.txt" in html and "Mara Quill won." in html
    assert 'data-kind="error"' in html and "The question is empty." in html
    # the history carries each Answer itself (a follow-up reads its short answer, not the shown text)
    assert [(q, a.answer) for q, a in conv.history() if isinstance(a, Answer)] == [
        ("Capital of France?", "The article does not say.")
    ]


def test_scores_and_chunk_ids_are_behind_details() -> None:
    html = chat_html(Conversation().add("q", answered("q", "Mara Quill won.")), DOCS)
    details = html[html.index('<details class="details">') :]
    assert "race.txt#c0" in details and "score 0.5000" in details
    assert "race.txt#c0" not in html[: html.index('<details class="details">')]


def test_understood_as_shows_only_when_the_question_was_reworded() -> None:
    plain = answered("Who won?", "Mara Quill won.")
    reworded = Answer(
        "Why was she late?",
        plain.answer,
        False,
        plain.citations,
        resolved_question="Why was Mara Quill late?",
    )
    same = Answer("Who won?", plain.answer, False, plain.citations, resolved_question="who won?")
    conv = Conversation().add("Why was she late?", reworded).add("Who won?", same)
    html = chat_html(conv, DOCS)
    assert html.count('class="understood"') == 1
    assert "Understood as: <q>Why was Mara Quill late?</q>" in html


def test_pending_answer_is_marked_busy_and_never_empty() -> None:
    html = chat_html(Conversation(), DOCS, subject="race.txt", pending=("Who won?", ""))
    assert 'aria-busy="true"' in html and "Looking in race.txt" in html
    draft = chat_html(Conversation(), DOCS, pending=("Who won?", "Mara <i>Quill</i>"))
    assert (
        'class="draft"' in draft and "Mara &lt;i&gt;Quill&lt;/i&gt;" in draft and "not yet checked" in draft
    )


def test_bidirectional_overrides_are_not_shown() -> None:
    text = "Invoice for ann\u202eexe.txt is due.\n"
    doc = Document("bidi.txt", text, "0")
    quote = text.strip()
    answer = Answer(
        "q", f"The article says: “{quote}” [1]", False, (Citation("bidi.txt", 0, len(quote), quote),)
    )
    conv = Conversation().add("what\u2067 is\u2069 due?", answer)
    shown = chat_html(conv, {"bidi.txt": doc}) + article_html(conv, {"bidi.txt": doc})
    shown += conversation_markdown(conv, {"bidi.txt": doc}, "t") + answer_plain(
        answer, conv, {"bidi.txt": doc}
    )
    assert not re.search("[\u202a-\u202e\u2066-\u2069]", shown)
    assert "annexe.txt" in shown


def test_markdown_export_has_the_quotes_and_where_they_are() -> None:
    conv = Conversation().add("Who won?", answered("Who won?", "Mara Quill won.", short="Mara Quill"))
    md = conversation_markdown(conv, DOCS, "Conversation with race.txt")
    assert md.startswith("# Conversation with race.txt\n")
    assert "**You:** Who won?" in md and "**Answer:** Mara Quill [1]." in md
    assert "> [1] “Mara Quill won.”" in md and "¶ 1 · characters 27–42" in md


def test_overlapping_spans_each_get_one_anchor() -> None:
    a = Citation("race.txt", 0, 26, TEXT[0:26])
    b = Citation("race.txt", 10, 41, TEXT[10:41])
    html = highlighted(TEXT, 0, 41, [(1, a), (2, b)], {2})
    assert html.count('id="rag-mark-1"') == 1 and html.count('id="rag-mark-2"') == 1
    assert re.sub(r"<[^>]+>|\d(?=</sup>)", "", html) == TEXT[0:41]


def test_paragraph_numbers() -> None:
    assert paragraph_number(TEXT, 0) == 1
    assert paragraph_number(TEXT, TEXT.index("Rain")) == 2


def text_of(html: str) -> str:
    """What a screen reader reads of some HTML: its text, popovers aside, white space folded."""
    html = re.sub(r'<span class="pop"[^>]*>.*?</span>', "", html)
    return " ".join(re.sub(r"<[^>]+>", "", html).split())


def test_export_and_copy_renumber_in_one_pass() -> None:
    conv = Conversation().add("Who won?", answered("Who won?", "Mara Quill won.", short="Mara Quill"))
    second = answered("What happened?", "Ten boats raced on Sunday.", "Rain delayed the final.")
    second = Answer(second.question, "Boats raced and rain fell [1][2].", False, second.citations)
    conv = conv.add("What happened?", second)
    markdown = conversation_markdown(conv, DOCS, "T")
    assert "**Answer:** Boats raced and rain fell [2][3]." in markdown  # not [3][3]
    assert answer_plain(second, conv, DOCS).startswith("Boats raced and rain fell [2][3].")


def test_markers_never_run_into_words_or_each_other() -> None:
    first = answered("q", "Ten boats raced on Sunday.", "Rain delayed the final.")
    answer = Answer("q", "It was raining at Metabase[1][2].", False, first.citations)
    conv = Conversation().add("q", answer)
    lead = lead_html(answer, [conv.number(c) for c in answer.citations])
    assert text_of(lead) == "It was raining at Metabase source 1 source 2."
    assert all(a["aria-label"] == f"source {a['data-cite']}" for t, a in tags(lead) if "data-cite" in a)


def test_what_the_live_region_says_is_the_answers_words() -> None:
    from ui.render import spoken

    plain = answered("Who won?", "Mara Quill won.")
    assert spoken(plain) == "The article says: “Mara Quill won.”"
    short = answered("Who won?", "Mara Quill won.", short="Mara Quill")
    assert spoken(short) == "Mara Quill. “Mara Quill won.”"
    llm = Answer("q", "Mara Quill won the race [1].", False, plain.citations, reader="llm")
    assert spoken(llm) == "Mara Quill won the race."
    refused = Answer("q", "No answer was found: the article does not say.", True)
    assert spoken(refused) == "Not found in the article. No answer was found: the article does not say."
    html = chat_html(Conversation().add("Who won?", short), DOCS)
    assert 'data-say="Mara Quill. “Mara Quill won.”"' in html


def test_the_welcome_agrees_with_its_subject() -> None:
    from ui.render import welcome

    assert "If the documents do not say" in welcome("the documents")
    assert "quotes them word for word" in welcome("the documents")
    assert "If the article does not say" in welcome("the article")
    assert "If notes.md does not say" in welcome("notes.md")

"""The chat's HTML (ui/render.py), fast: numbering across turns, escaping, highlights in the article.

These use hand-made Answers over a tiny document; the browser and API tests run the real pipeline.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from rag.types import Answer, Chunk, Citation, Document, Passage
from ui.render import Conversation, article_html, chat_html, highlighted, lead_html, paragraph_number

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


def test_every_marker_title_is_its_quote_and_every_mark_is_the_cited_text() -> None:
    conv = Conversation().add("q", answered("q", "Mara Quill won.", "Rain delayed the final."))
    numbers = dict(conv.cited())
    for tag, attrs in tags(chat_html(conv, DOCS)):
        if tag == "a" and "data-cite" in attrs:
            assert attrs["title"] == numbers[int(str(attrs["data-cite"]))].quote
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


def test_quote_with_markup_is_escaped_in_the_title_attribute() -> None:
    conv = Conversation().add("q", answered("q", "The mayor <b>thanked</b> everyone."))
    titles = [a["title"] for t, a in tags(chat_html(conv, DOCS)) if t == "a" and "title" in a]
    assert titles and all(title == "The mayor <b>thanked</b> everyone." for title in titles)


def test_lead_keeps_the_short_answer_and_renumbers_its_marker() -> None:
    first = answered("a", "Ten boats raced on Sunday.")
    second = answered("b", "Mara Quill won.", short="Mara Quill")
    conv = Conversation().add("a", first).add("b", second)
    lead = lead_html(second, [conv.number(c) for c in second.citations])
    assert lead.startswith("<strong>Mara Quill</strong>")
    assert 'data-cite="2"' in lead and "“" not in lead  # the quote is listed below, not repeated


def test_abstention_and_errors_look_different_and_errors_stay_out_of_history() -> None:
    passages = answered("x", "Mara Quill won.").passages
    conv = Conversation()
    conv = conv.add(
        "Capital of France?", Answer("Capital of France?", "The article does not say.", True, (), passages)
    )
    conv = conv.add("", Answer("", "the question is empty", True, error="the question is empty"))
    html = chat_html(conv, DOCS)
    assert 'data-kind="abstain"' in html and '<details class="passages" open>' in html
    assert 'data-kind="error"' in html and "The question is empty." in html
    assert conv.history() == [("Capital of France?", "The article does not say.")]


def test_overlapping_spans_each_get_one_anchor() -> None:
    a = Citation("race.txt", 0, 26, TEXT[0:26])
    b = Citation("race.txt", 10, 41, TEXT[10:41])
    html = highlighted(TEXT, 0, 41, [(1, a), (2, b)], {2})
    assert html.count('id="rag-mark-1"') == 1 and html.count('id="rag-mark-2"') == 1
    assert re.sub(r"<[^>]+>|\d(?=</sup>)", "", html) == TEXT[0:41]


def test_paragraph_numbers() -> None:
    assert paragraph_number(TEXT, 0) == 1
    assert paragraph_number(TEXT, TEXT.index("Rain")) == 2

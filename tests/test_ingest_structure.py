"""HTML and Markdown read as text that keeps their structure: rows with separated cells, headings and
list items as lines, page chrome dropped, Markdown syntax gone; offsets still true in what is indexed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.config import Settings
from rag.errors import DocumentError
from rag.index.formats import html_to_text, markdown_to_text
from rag.index.indexer import update_index
from rag.index.ingest import parse_document
from tests.conftest import FakeEmbedder

TRAVEL_PAGE = """<!doctype html><html><head><title>Trip costs</title></head><body>
<a class="skip-link" href="#main">Skip to content</a>
<header><a href="/">Travel Office</a> <span>Home · Trips · Contact</span></header>
<nav aria-label="Primary"><ul><li><a href="/">Home</a></li><li><a href="/trips">Trips</a></li></ul></nav>
<div role="navigation"><a href="/prev">Previous page</a></div>
<main id="main">
<article><header><h1>Costs of the Vienna trip</h1><p>By the office</p></header>
<h2>Daily costs<a class="headerlink" href="#daily">¶</a></h2>
<table><thead><tr><th>Item</th><th>Cost</th></tr></thead>
<tbody><tr><td>Hotel (per night)</td><td>150 euros</td></tr>
<tr><td>Train ticket</td><td><p>49 euros</p></td></tr>
</tbody></table>
<h2>What to bring</h2>
<ul><li>a passport</li><li>an umbrella</li></ul>
<p>See <a href="#daily">the costs above</a> for details.</p>
<aside class="footnote" role="note"><p>Prices from May.</p></aside>
</article></main>
<aside><h3>Related</h3><a href="/other">Other trips</a></aside>
<footer><p>© Travel Office · Imprint</p></footer>
</body></html>"""


def test_table_rows_carry_their_header_and_cells_are_separated() -> None:
    text = html_to_text(TRAVEL_PAGE)
    lines = text.splitlines()
    assert "Item: Hotel (per night) · Cost: 150 euros" in lines
    assert "Item: Train ticket · Cost: 49 euros" in lines  # a block inside a cell stays in its row
    assert "Item | Cost" not in lines  # the header is in every row, not a line of its own
    assert "Hotel (per night)150 euros" not in text


def test_a_table_without_a_header_row_keeps_its_cells_separated() -> None:
    text = html_to_text("<table><tr><td>Kraków</td><td>ul. Lubicz 23</td></tr><tr><td>Oslo</td></tr></table>")
    assert text.splitlines() == ["Kraków | ul. Lubicz 23", "Oslo"]


def test_page_chrome_is_dropped_and_content_kept() -> None:
    text = html_to_text(TRAVEL_PAGE)
    chrome_texts = (
        "Skip to content",
        "Travel Office",
        "Home",
        "Trips",
        "Previous page",
        "Other trips",
        "Imprint",
    )
    for chrome in chrome_texts:
        assert chrome not in text, chrome
    lines = text.splitlines()
    # the article's own header and a footnote are content, not chrome
    assert lines[:2] == ["Costs of the Vienna trip", "By the office"]
    assert "Prices from May." in lines
    assert "See the costs above for details." in lines  # an in-page link keeps its text


def test_headings_and_list_items_stand_on_their_own_lines() -> None:
    lines = html_to_text(TRAVEL_PAGE).splitlines()
    assert "Daily costs" in lines and "What to bring" in lines  # no permalink sign
    assert lines.index("a passport") + 1 == lines.index("an umbrella")
    assert not any("¶" in line for line in lines)


def test_nested_tables_and_unclosed_chrome_do_not_swallow_the_page() -> None:
    html = (
        "<table><tr><td>outer<table><tr><td>x</td><td>y</td></tr></table></td><td>z</td></tr></table>"
        "<nav><aside>menu</nav><p>Still here.</p>"
    )
    text = html_to_text(html)
    assert "x | y" in text and "Still here." in text and "menu" not in text


MARKDOWN = """# Holidays

The office closes on **public holidays** and on *May Day*.

## Opening hours

| Day | Hours |
|-----|-------|
| Monday | 9 to 17 |
| Saturday | closed |

- Call [the front desk](https://example.org/desk) first.
- Use `book(room=3)` to reserve.

```python
print("code stays")
```
"""


def test_markdown_is_parsed_to_text() -> None:
    text = markdown_to_text(MARKDOWN)
    lines = text.splitlines()
    assert lines[0] == "Holidays" and "Opening hours" in lines
    assert "The office closes on public holidays and on May Day." in lines
    assert "Day: Monday · Hours: 9 to 17" in lines and "Day: Saturday · Hours: closed" in lines
    assert "Call the front desk first." in lines
    assert "Use book(room=3) to reserve." in lines
    assert 'print("code stays")' in lines
    for syntax in ("#", "**", "](", "```", "|---"):
        assert syntax not in text, syntax


def test_markdown_with_html_inside_drops_scripts() -> None:
    text = markdown_to_text("Before.\n\n<script>alert(1)</script>\n\n<nav>menu</nav>\n\nAfter.")
    assert text.splitlines() == ["Before.", "After."]


@pytest.mark.parametrize("suffix", [".md", ".markdown"])
def test_markdown_documents_are_converted_at_ingest(suffix: str) -> None:
    doc = parse_document(MARKDOWN.encode(), "notes" + suffix, Path("/nowhere/notes" + suffix))
    assert doc.text.startswith("Holidays\nThe office closes")


def test_plain_text_is_kept_as_written() -> None:
    raw = "# not a heading in a .txt\n**kept**\n"
    assert parse_document(raw.encode(), "a.txt", Path("/nowhere/a.txt")).text == raw


def test_indexed_offsets_point_into_the_extracted_text(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "trip.html").write_text(TRAVEL_PAGE, encoding="utf-8")
    (folder / "office.md").write_text(MARKDOWN, encoding="utf-8")
    settings = Settings(seeds_dir=folder, index_dir=tmp_path / "index")
    store = update_index(settings, FakeEmbedder).store
    assert "Item: Hotel (per night) · Cost: 150 euros" in store.documents["trip.html"].text
    assert store.documents["office.md"].text == markdown_to_text(MARKDOWN)
    for chunk in store.chunks:
        assert store.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text


MD_PIECES = [
    "#", "## ", "\n", "\n\n", "*", "**", "_", "`", "```", "[", "]", "(", ")", "<", ">", "|", "---", "- ",
    "1. ",
    "> ", "<script>", "</script>", "<nav>", "&amp;", "\\", "text", "Минск", " ", "!", "<!--",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(md=st.lists(st.sampled_from(MD_PIECES) | st.text(max_size=3), max_size=80).map("".join))
def test_any_markdown_gives_text_or_a_document_error(md: str) -> None:
    path = Path("/nowhere/notes.md")
    try:
        doc = parse_document(md.encode("utf-8", "surrogatepass"), "notes.md", path)
    except DocumentError as exc:
        assert str(path) in str(exc)
        return
    assert doc.text == doc.text.strip()
    # raw HTML is dropped; what the writer marked as text shows as written, tags included: code (a
    # `span`, an indented block), a backslash escape (\<), an entity (&lt;)
    as_text = any(c in md for c in "`\\&") or re.search(r"(?m)^(?: {4}|\t)", md.replace("\r", "\n"))
    assert as_text or "<script>" not in doc.text


def test_markdown_code_shows_tags_as_text_and_drops_raw_html() -> None:
    assert markdown_to_text("Run `<script>` here.") == "Run <script> here."
    assert "<script>" not in markdown_to_text("Before.\n\n<script>alert(1)</script>\n\nAfter.")

"""HTML and Markdown to plain text that keeps the page's structure.

- one block element a line: headings, paragraphs and list items each stand on their own line, and
  a paragraph's own line breaks are spaces, as a browser shows them (a <pre> keeps its lines);
- a table row is a line that carries its header: "Room: Hotel (per night) · Price: 150 euros" when
  the table has a header row (<th> cells or <thead>), else its cells separated by " | "
  ("Hotel (per night) | 150 euros"); the header row itself is not repeated as a line of its own;
- page chrome is dropped: <nav>, <menu>, a page's own <header>/<footer>, <aside> (but not a
  footnote's), anything with role=navigation/banner/contentinfo/search/menu, "Skip to content"
  links and heading permalinks ("¶");
- scripts, styles, templates and other non-content are dropped as before.

Markdown is parsed by markdown-it-py (CommonMark, with tables) and its HTML read the same way, so
"## Holidays" becomes the line "Holidays", "**bold**" becomes "bold", a link its text, and code stays.

The HTML is read in one pass of the standard library's parser, linear in the size of the page
however deeply it nests: the state is a few counters, never a tree.

>>> html_to_text("<nav>Home</nav><h2>Prices</h2><table><tr><td>Hotel</td><td>150 euros</td></tr></table>")
'Prices\\nHotel | 150 euros'
>>> html_to_text("<table><tr><th>Room</th><th>Price</th></tr><tr><td>Hotel</td><td>150 euros</td></tr>")
'Room: Hotel · Price: 150 euros'
>>> markdown_to_text("## Holidays\\n\\nWe *close* on [May Day](https://example.org).")
'Holidays\\nWe close on May Day.'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from itertools import zip_longest
from typing import Any

CELL_SEPARATOR = " | "  # between the cells of a row without a header
FIELD_SEPARATOR = " · "  # between the "Header: cell" fields of a row with one

# fmt: off
_NON_CONTENT_TAGS = frozenset({
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "head", "math", "select",
    "button",
})
_BLOCKS = frozenset({
    "p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "pre", "blockquote", "section",
    "article", "header", "footer", "table", "dd", "dt", "dl", "ul", "ol", "main", "figure", "figcaption",
    "caption", "hr", "address", "details", "summary", "fieldset", "legend", "form",
})
_VOID = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
    "wbr",
})
# fmt: on
_CHROME_TAGS = frozenset({"nav", "menu"})
_CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "menu", "menubar", "toolbar"})
_CHROME_CLASSES = frozenset(
    {"footer", "site-footer", "navbar", "breadcrumb", "breadcrumbs", "skip-link", "skiplink", "headerlink"}
)
# a <header>/<footer> inside these is the content's own heading or byline, not the page's
_SECTIONING = frozenset({"article", "main", "section"})
_SKIP_LINK = re.compile(r"\s*skip\s+(to|navigation)\b", re.IGNORECASE)
_MANY_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")


def is_table_row(line: str) -> bool:
    """Whether a line of extracted text is a table row (and so one sentence, never split).

    >>> is_table_row("Week: 3 · Backup: Mei Lin"), is_table_row("Kraków | ul. Lubicz 23"), is_table_row("Hi.")
    (True, True, False)
    """
    return CELL_SEPARATOR in line or (FIELD_SEPARATOR in line and ": " in line)


def table_row(header: list[str] | None, cells: list[str]) -> str:
    """One row as a line: "Header: cell" fields with a header (empty cells left out), else cells.

    >>> table_row(["Week", "Primary", "Pager"], ["3", "Jonas Keller", ""])
    'Week: 3 · Primary: Jonas Keller'
    >>> table_row(None, ["Kraków", "ul. Lubicz 23"])
    'Kraków | ul. Lubicz 23'
    """
    if not header:
        return CELL_SEPARATOR.join(cells)
    fields = (f"{h}: {c}" if h else c for h, c in zip_longest(header, cells, fillvalue="") if c)
    return FIELD_SEPARATOR.join(fields)


def html_to_text(html: str) -> str:
    """Visible text of an HTML page, one block a line, table cells separated, page chrome dropped.

    Markup left unfinished at the very end is dropped, as a browser drops it.

    >>> html_to_text("<p>Hi <b>there</b></p><script>alert(1)</script><ul><li>one</li><li>two</li></ul>")
    'Hi there\\none\\ntwo'
    """
    parser = _StructureParser()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    text = "\n".join(line for line in lines if line)
    return _MANY_BLANK_LINES.sub("\n\n", text).strip()


def markdown_to_text(markdown: str) -> str:
    """Markdown as plain text: headings as their own lines (no "#"), emphasis removed, links as
    their text, code kept, table rows as lines carrying their header ("a: 1 · b: 2").

    >>> markdown_to_text("# Title\\n\\n- **one**\\n- `two()`\\n\\n| a | b |\\n|---|---|\\n| 1 | 2 |")
    'Title\\none\\ntwo()\\na: 1 · b: 2'
    """
    return html_to_text(_markdown().render(markdown))


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


@dataclass
class _Table:
    """An open table: its header once seen, the cells of its current row, rows written so far."""

    header: list[str] | None = None
    cells: list[list[str]] = field(default_factory=list)
    cell_open: bool = False
    all_th: bool = True  # every cell of the current row so far is a <th>
    rows: int = 0


class _StructureParser(HTMLParser):
    """Collects visible text with line breaks around blocks and " | " between table cells.

    State: how many of each element are open (to know which end tag closes a hidden or chrome
    element), the open hidden/chrome elements, and per open table the cells seen in its current row.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.depth: dict[str, int] = {}  # open elements by name
        self.dropped: list[tuple[str, int]] = []  # open hidden or chrome elements: (name, depth at entry)
        self.tables: list[_Table] = []  # the open tables, innermost last
        self.anchor: list[str] | None = None  # text of an open in-page link (a possible skip link)
        self.anchor_depth = 0

    # -- elements

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._close_head()
        if tag not in _VOID:
            self.depth[tag] = self.depth.get(tag, 0) + 1
        if self.dropped:
            if tag not in _VOID and self._drops(tag, attrs):
                self.dropped.append((tag, self.depth[tag]))
            return
        if tag not in _VOID and self._drops(tag, attrs):
            self.dropped.append((tag, self.depth[tag]))
            return
        self._open_content(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        depth = self.depth.get(tag, 0)
        if depth:
            self.depth[tag] = depth - 1
        if self.dropped:
            # the innermost dropped element this tag closes, and any left unclosed inside it
            for i in range(len(self.dropped) - 1, -1, -1):
                name, entry = self.dropped[i]
                if name == tag and depth <= entry:
                    del self.dropped[i:]
                    break
            return
        self._close_content(tag)

    def handle_data(self, data: str) -> None:
        if self.dropped:
            return
        # line breaks in the markup are spaces on the page, except in <pre>; rows end at </tr>
        in_pre = self.depth.get("pre", 0) and not self._cell()
        self._emit(data if in_pre else data.replace("\n", " ").replace("\r", " "))

    def _emit(self, text: str) -> None:
        if self.anchor is not None:
            self.anchor.append(text)
        else:
            self._sink().append(text)

    def _cell(self) -> list[str] | None:
        """The open table cell that text goes to, if any (for a table inside a cell, its own)."""
        for table in reversed(self.tables):
            if table.cell_open:
                return table.cells[-1]
        return None

    def _sink(self) -> list[str]:
        cell = self._cell()
        return self.parts if cell is None else cell

    # -- content structure

    def _open_content(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._emit("\n")
            self.tables.append(_Table())
        elif tag == "tr":
            if self.tables:
                self._end_row()
        elif tag in ("td", "th"):
            if self.tables:
                table = self.tables[-1]
                table.cells.append([])
                table.cell_open = True
                table.all_th = table.all_th and tag == "th"
        elif tag == "a" and self.anchor is None and (dict(attrs).get("href") or "").startswith("#"):
            self.anchor, self.anchor_depth = [], self.depth.get("a", 0)
        elif tag in _BLOCKS:
            self._emit(self._break())

    def _close_content(self, tag: str) -> None:
        if tag == "table":
            if self.tables:
                self._end_row()
                table = self.tables.pop()
                if table.header and not table.rows:  # only a header: show it as a row
                    self._emit(f"\n{CELL_SEPARATOR.join(table.header)}\n")
            self._emit("\n")
        elif tag == "tr":
            if self.tables:
                self._end_row()
        elif tag in ("td", "th"):
            if self.tables:
                self.tables[-1].cell_open = False
        elif tag == "a" and self.anchor is not None and self.depth.get("a", 0) < self.anchor_depth:
            text = "".join(self.anchor)
            self.anchor = None
            if not _SKIP_LINK.match(text):
                self._sink().append(text)
        elif tag in _BLOCKS:
            self._emit(self._break())

    def _end_row(self) -> None:
        """Write out the row the innermost table has open: its first row of <th> cells (or one in
        <thead>) is kept as the header, every later row written as a line carrying it."""
        table = self.tables[-1]
        table.cell_open = False
        cells = [" ".join("".join(cell).split()) for cell in table.cells]
        heading = table.all_th or bool(self.depth.get("thead"))
        table.cells, table.all_th = [], True
        if not any(cells):
            return
        if table.header is None and not table.rows and heading:
            table.header = cells
            return
        table.rows += 1
        self._emit(f"\n{table_row(table.header, cells)}\n")

    def _break(self) -> str:
        """A block inside a table cell only separates words; elsewhere it starts a line."""
        return " " if self._cell() is not None else "\n"

    def _drops(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        if tag in _NON_CONTENT_TAGS or tag in _CHROME_TAGS:
            return True
        values = dict(attrs)
        if "hidden" in values or values.get("aria-hidden") == "true":
            return True
        if (values.get("role") or "").strip().lower() in _CHROME_ROLES:
            return True
        if _CHROME_CLASSES.intersection((values.get("class") or "").lower().split()):
            return True
        if tag in ("header", "footer"):
            return not any(self.depth.get(name) for name in _SECTIONING)
        if tag == "aside":
            return values.get("role") != "note" and "footnote" not in (values.get("class") or "")
        return False

    def _close_head(self) -> None:
        """A <head> never closed ends where the body starts."""
        self.dropped = [(name, entry) for name, entry in self.dropped if name != "head"]
        self.depth.pop("head", None)

    # -- the standard parser's rough edges

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:  # `<![foo ...]>`: a browser skips it as a bogus comment, and so do we
            end = self.rawdata.find(">", i)
            return end + 1 if end >= 0 else -1

    def close(self) -> None:
        if self.rawdata.startswith("<"):
            self.rawdata = ""  # an unfinished tag or comment: the standard parser would show it as text
        super().close()
        while self.tables:  # tables left open at the end keep their rows
            self._close_content("table")
        if self.anchor is not None and not self.dropped:  # a link never closed keeps its text
            self.parts.append("".join(self.anchor))
            self.anchor = None


def csv_to_text(raw: str) -> str:
    """A CSV file as text: its first row is the header, every other row a line carrying it.

    The delimiter (comma, semicolon, tab) is sniffed; a cell's own line breaks become spaces.

    >>> csv_to_text("Office,Address,Opens\\nKraków,ul. Lubicz 23,9:00\\n")
    'Office: Kraków · Address: ul. Lubicz 23 · Opens: 9:00'
    """
    import csv

    try:
        dialect: Any = csv.Sniffer().sniff(raw[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [[" ".join(cell.split()) for cell in row] for row in csv.reader(raw.splitlines(True), dialect)]
    rows = [row for row in rows if any(row)]
    if len(rows) < 2:
        return "\n".join(table_row(None, row) for row in rows)
    header = rows[0]
    return "\n".join(table_row(header, row) for row in rows[1:])

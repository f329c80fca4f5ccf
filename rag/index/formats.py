"""HTML and Markdown to plain text that keeps the page's structure.

- one block element a line: headings, paragraphs and list items each stand on their own line;
- a table row is a line, its cells separated by " | " ("Hotel (per night) | 150 euros");
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
>>> markdown_to_text("## Holidays\\n\\nWe *close* on [May Day](https://example.org).")
'Holidays\\nWe close on May Day.'
"""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

CELL_SEPARATOR = " | "

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
    their text, code kept, tables as rows of " | "-separated cells.

    >>> markdown_to_text("# Title\\n\\n- **one**\\n- `two()`\\n\\n| a | b |\\n|---|---|\\n| 1 | 2 |")
    'Title\\none\\ntwo()\\na | b\\n1 | 2'
    """
    return html_to_text(_markdown().render(markdown))


@lru_cache(maxsize=1)
def _markdown() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


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
        self.rows: list[int] = []  # per open table: cells started in its current row
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
        # inside a table, line breaks in the markup are not the row's: rows end at </tr>
        self._emit(data.replace("\n", " ").replace("\r", " ") if self.rows else data)

    def _emit(self, text: str) -> None:
        if self.anchor is not None:
            self.anchor.append(text)
        else:
            self.parts.append(text)

    # -- content structure

    def _open_content(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.rows.append(0)
            self._emit("\n")
        elif tag == "tr":
            if self.rows:
                self.rows[-1] = 0
            self._emit("\n")
        elif tag in ("td", "th"):
            if self.rows:
                if self.rows[-1]:
                    self._emit(CELL_SEPARATOR)
                self.rows[-1] += 1
        elif tag == "a" and self.anchor is None and (dict(attrs).get("href") or "").startswith("#"):
            self.anchor, self.anchor_depth = [], self.depth.get("a", 0)
        elif tag in _BLOCKS:
            self._emit(self._break())

    def _close_content(self, tag: str) -> None:
        if tag == "table":
            if self.rows:
                self.rows.pop()
            self._emit("\n")
        elif tag == "tr":
            self._emit("\n")
        elif tag == "a" and self.anchor is not None and self.depth.get("a", 0) < self.anchor_depth:
            text = "".join(self.anchor)
            self.anchor = None
            if not _SKIP_LINK.match(text):
                self.parts.append(text)
        elif tag in _BLOCKS:
            self._emit(self._break())

    def _break(self) -> str:
        """A block inside a table cell only separates words; elsewhere it starts a line."""
        return " " if self.rows and self.rows[-1] else "\n"

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
        if self.anchor is not None and not self.dropped:  # a link never closed keeps its text
            self.parts.append("".join(self.anchor))
            self.anchor = None

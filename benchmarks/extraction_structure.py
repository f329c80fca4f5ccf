"""How much page structure the HTML/Markdown extraction keeps, measured on real pages.

Reads every HTML page under --html-dir (default: the Python documentation that make_corpus.py
unpacks into benchmarks/corpus/python-docs) with `rag.index.ingest.html_to_text` of whichever checkout
is first on PYTHONPATH, and every Markdown file given with --markdown, then prints:

- chrome: lines of the output that are the text of a navigation/footer/sidebar element
  (nav, role=navigation/search/contentinfo/banner, class footer) of the page, as a share of output chars;
- tables: rows with two or more non-empty cells whose cells stand in the output separated
  ("a | b"), and rows whose cells are glued ("ab");
- headings: h1-h6 outside the chrome that stand alone as a line (ignoring a trailing permalink "¶"),
  and lines ending in "¶";
- Markdown: lines still starting with "#", "**"/"__" pairs and "[text](url)" links left in the text.

The reference (what counts as chrome, a row, a heading) comes from BeautifulSoup, independent of
the extractor. Compare two checkouts:

    PYTHONPATH=/work/main python benchmarks/extraction_structure.py --html-dir DIR   # before
    PYTHONPATH=.          python benchmarks/extraction_structure.py --html-dir DIR   # after
"""

from __future__ import annotations

import argparse
import re
import time
from collections import defaultdict
from pathlib import Path

from bs4 import BeautifulSoup

from rag.index import ingest

HERE = Path(__file__).resolve().parent
DEFAULT_HTML = HERE / "corpus" / "python-docs"
CHROME_SELECTOR = (
    "nav, [role=navigation], [role=search], [role=contentinfo], [role=banner], div.footer, footer, header"
)


def _norm(text: str) -> str:
    return " ".join(text.split())


def measure_page(html: str, totals: dict[str, int]) -> None:
    t0 = time.perf_counter()
    out = ingest.html_to_text(html)
    totals["extract_us"] += int((time.perf_counter() - t0) * 1e6)
    lines = out.splitlines()
    line_set = set(lines)
    soup = BeautifulSoup(html, "html.parser")
    chrome_lines = {
        _norm(t) for el in soup.select(CHROME_SELECTOR) for t in el.get_text("\n").split("\n") if _norm(t)
    }
    content_lines = {_norm(t) for el in soup.select("[role=main]") for t in el.get_text("\n").split("\n")}
    chrome_only = chrome_lines - content_lines  # a line that is also in the main content is not counted
    squeezed = out.replace(" ", "")
    totals["chars"] += len(out)
    totals["chrome_chars"] += sum(len(line) + 1 for line in lines if line in chrome_only)
    in_chrome = {id(d) for el in soup.select(CHROME_SELECTOR) for d in el.descendants}
    for row in soup.find_all("tr"):
        cells = [_norm(c.get_text(" ").replace("¶", "")) for c in row.find_all(["td", "th"], recursive=False)]
        cells = [c for c in cells if c]
        if len(cells) < 2:
            continue
        totals["rows"] += 1
        # compared without spaces: BeautifulSoup's " " between inline pieces is not the extractor's
        first, second = (c.replace(" ", "") for c in cells[:2])
        totals["rows_separated"] += f"{first}|{second}" in squeezed
        totals["rows_glued"] += f"{first}{second}" in squeezed
    for h in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]):
        if id(h) in in_chrome:  # the sidebar's own headings ("Navigation") are chrome
            continue
        title = _norm(h.get_text(" ")).rstrip("¶").strip()
        totals["headings"] += 1
        totals["headings_alone"] += title in line_set or f"{title}¶" in line_set
    totals["pilcrow_lines"] += sum(line.endswith("¶") for line in lines)


def measure_markdown(path: Path, totals: dict[str, int]) -> None:
    raw = path.read_text(encoding="utf-8")
    to_text = getattr(ingest, "markdown_to_text", None)
    out = to_text(raw) if to_text else raw  # before: Markdown was indexed as it was written
    totals["md_files"] += 1
    totals["md_hash_lines"] += sum(line.lstrip().startswith("#") for line in out.splitlines())
    totals["md_emphasis"] += len(re.findall(r"\*\*[^*\n]+\*\*|__[^_\n]+__", out))
    totals["md_links"] += len(re.findall(r"\[[^\]\n]+\]\([^)\n]+\)", out))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--html-dir", type=Path, default=DEFAULT_HTML, help="folder of HTML pages")
    parser.add_argument("--limit", type=int, default=400, help="at most this many pages (sorted by path)")
    parser.add_argument("--markdown", type=Path, nargs="*", default=[], help="Markdown files to measure")
    args = parser.parse_args()
    totals: dict[str, int] = defaultdict(int)
    for page in sorted(args.html_dir.rglob("*.html"))[: args.limit]:
        totals["pages"] += 1
        measure_page(page.read_text(encoding="utf-8", errors="replace"), totals)
    for path in args.markdown:
        measure_markdown(path, totals)
    t = totals
    print(f"extractor: {ingest.__file__}")
    print(f"pages {t['pages']}, output {t['chars']:,} chars, extraction {t['extract_us'] / 1e6:.2f} s")
    share = t["chrome_chars"] / max(t["chars"], 1)
    print(f"chrome lines in output: {t['chrome_chars']:,} chars ({share:.1%})")
    print(
        f"table rows with 2+ cells: {t['rows']:,}; cells separated in {t['rows_separated']:,} "
        f"({t['rows_separated'] / max(t['rows'], 1):.1%}), glued in {t['rows_glued']:,}"
    )
    print(
        f"headings: {t['headings']:,}; standing alone as a line {t['headings_alone']:,} "
        f"({t['headings_alone'] / max(t['headings'], 1):.1%}); lines ending in a permalink ¶: "
        f"{t['pilcrow_lines']:,}"
    )
    if t["md_files"]:
        print(
            f"markdown files {t['md_files']}: lines starting with '#': {t['md_hash_lines']}, "
            f"**emphasis** left: {t['md_emphasis']}, [links](url) left: {t['md_links']}"
        )


if __name__ == "__main__":
    main()

"""A PDF's text layer as one paragraph a line, each page opening with a form feed.

pdfplumber (on pdfminer.six) gives every line of a page with its position; lines are joined into
paragraphs where the gap to the next line is small and the type size stays the same, so a
wrapped paragraph becomes one line and a heading stays a line of its own:

    Opening hours                       ->  "Opening hours"
    The Kraków office opens at 9:00         "The Kraków office opens at 9:00 on weekdays."
    on weekdays.

Pages are joined with "\\n\\f": the page of an offset is 1 + the form feeds before it
(`page_at`), so a citation can name its page without anything stored beside the text. A PDF
without a text layer (a scan) is refused with a message saying how to add one.
"""

from __future__ import annotations

import io
import itertools
import statistics
from pathlib import Path
from typing import Any

from rag.errors import DocumentError

PAGE_BREAK = "\f"
# a gap between two lines wider than this share of the line's height starts a new paragraph
_PARAGRAPH_GAP = 0.5
# ... or wider than this many times the page's usual gap (double-spaced text)
_USUAL_GAP_FACTOR = 1.6
_SIZE_CHANGE = 0.15  # a change of type size by more than this share starts a new paragraph
_BULLETS = ("•", "-", "–", "*", "◦", "▪")


def page_at(text: str, offset: int) -> int:
    """The 1-based page holding `offset` in text made by `pdf_to_text`.

    >>> page_at("One.\\n\\fTwo.\\n\\fThree.", 7)
    2
    """
    return text.count(PAGE_BREAK, 0, offset) + 1


def pdf_to_text(data: bytes, path: Path) -> str:
    """The text of every page, paragraphs one a line, pages joined by "\\n\\f"."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages = [_page_text(page) for page in pdf.pages]
    except (PdfminerException, PDFSyntaxError, PDFPasswordIncorrect, ValueError, KeyError, TypeError) as exc:
        cause = exc.args[0] if isinstance(exc, PdfminerException) and exc.args else exc
        if isinstance(cause, PDFPasswordIncorrect):
            raise DocumentError(
                f"{path}: the PDF is protected by a password; save an unprotected copy"
            ) from exc
        raise DocumentError(
            f"{path}: cannot be read as a PDF ({cause}); open it and save it again as PDF, or export its "
            "text as .txt"
        ) from exc
    if not any(pages):
        pages_of = f"{len(pages)} page{'s' if len(pages) != 1 else ''}"
        raise DocumentError(
            f"{path}: the PDF has no text layer ({pages_of} of images, e.g. a scan); run OCR on it "
            "first, e.g. `ocrmypdf in.pdf out.pdf`, and index the result"
        )
    return f"\n{PAGE_BREAK}".join(pages)


def _page_text(page: Any) -> str:
    lines = [line for line in page.extract_text_lines(return_chars=True) if line["text"].strip()]
    if not lines:
        return ""
    lines.sort(key=lambda line: (round(line["top"]), line["x0"]))
    threshold = _gap_threshold(lines)
    paragraphs: list[list[str]] = [[lines[0]["text"].strip()]]
    for before, line in itertools.pairwise(lines):
        text = line["text"].strip()
        if _starts_paragraph(before, line, threshold):
            paragraphs.append([text])
        else:
            paragraphs[-1].append(text)
    return "\n".join(_joined(p) for p in paragraphs)


def _gap_threshold(lines: list[dict[str, Any]]) -> float:
    """The gap (as a share of line height) above which a new paragraph starts on this page."""
    gaps = [_gap(a, b) for a, b in itertools.pairwise(lines)]
    gaps = [g for g in gaps if g >= 0]
    if len(gaps) < 4:
        return _PARAGRAPH_GAP
    return max(_PARAGRAPH_GAP, _USUAL_GAP_FACTOR * statistics.median(gaps))


def _gap(before: dict[str, Any], line: dict[str, Any]) -> float:
    height = max(before["bottom"] - before["top"], 1.0)
    return float((line["top"] - before["bottom"]) / height)


def _starts_paragraph(before: dict[str, Any], line: dict[str, Any], threshold: float) -> bool:
    if _gap(before, line) > threshold or line["text"].lstrip().startswith(_BULLETS):
        return True
    a, b = _size(before), _size(line)
    return abs(a - b) > _SIZE_CHANGE * max(a, b, 1.0)


def _size(line: dict[str, Any]) -> float:
    chars = line.get("chars") or []
    return float(statistics.median(c["size"] for c in chars)) if chars else 0.0


def _joined(lines: list[str]) -> str:
    """A paragraph's lines as one line; a word broken at a line end ("exam-" + "ple") is rejoined.

    >>> _joined(["The office opens at", "9:00 on week-", "days."])
    'The office opens at 9:00 on weekdays.'
    """
    out = lines[0]
    for line in lines[1:]:
        if out.endswith("-") and len(out) > 1 and out[-2].isalpha() and line[:1].islower():
            out = out[:-1] + line
        else:
            out = f"{out} {line}"
    return " ".join(out.split())

"""pypdf against pdfplumber on a PDF made here: time per page, and whether the text reads as written.

    python benchmarks/pdf_readers.py [--pages 40]

The PDF is written with fpdf2 (a dev dependency): hard-wrapped paragraphs of known sentences, a
heading per page, one word broken by a hyphen at a line end. For each reader it prints seconds per
page and how many of the known sentences come out whole on one line (a reader that keeps the PDF's
line breaks scores 0 unless the chunker undoes them; ours joins a paragraph's lines itself).
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

SENTENCES = [
    "The Kraków office opens at nine on weekdays and closes at five on Fridays.",
    "Jonas Keller is the primary on-call engineer in the third week of the rota.",
    "The release of version four moves to 17 November 2026, because the lease of the server room ends.",
    "Every visitor signs in at the front desk and wears a badge while in the building.",
    "Expenses above five hundred euros need the written approval of a department head.",
]


def make_pdf(pages: int) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=20)
    for n in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 10, f"Part {n}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        for i in range(3):
            body = " ".join(SENTENCES[(n + i + j) % len(SENTENCES)] for j in range(3))
            pdf.multi_cell(0, 5.5, body, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
    return bytes(pdf.output())


def with_pypdf(data: bytes) -> str:
    from pypdf import PdfReader

    return "\n\f".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def with_pdfplumber(data: bytes) -> str:
    from rag.index.pdf import pdf_to_text

    return pdf_to_text(data, Path("bench.pdf"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40)
    args = parser.parse_args()
    data = make_pdf(args.pages)
    print(f"{args.pages} pages, {len(data):,} bytes")
    for name, read in (("pypdf", with_pypdf), ("pdfplumber (rag.index.pdf)", with_pdfplumber)):
        t0 = time.perf_counter()
        text = read(data)
        seconds = time.perf_counter() - t0
        lines = text.replace("\f", "").splitlines()
        placed = args.pages * 9  # three paragraphs of three sentences a page
        whole = sum(line.count(s) for line in lines for s in SENTENCES)
        flat = " ".join(text.split())
        anywhere = sum(flat.count(s) for s in SENTENCES)
        paragraphs = sum(1 for line in lines if line.strip() and not line.startswith("Part "))
        print(
            f"{name:30s} {1000 * seconds / args.pages:6.1f} ms/page   sentences whole on one line "
            f"{whole}/{placed}, with line breaks as spaces {anywhere}/{placed}   "
            f"lines of body text {paragraphs} (paragraphs: {args.pages * 3})"
        )


if __name__ == "__main__":
    main()

"""Documents of the kind people keep, written at run time: hard-wrapped meeting notes, a Markdown
handbook with an on-call table, an HTML office page with a table, a CSV, a two-page PDF and a Word
file with a table.

    python -m tests.sample_documents docs/sample-formats   # the README's copies

The PDF is drawn with fpdf2 and the .docx written with python-docx, so each test reads files made
the way a user's tools make them, not fixtures saved once.
"""

from __future__ import annotations

import sys
from pathlib import Path

MEETING_NOTES = """\
Platform team meeting, 3 November 2026

Present: Ana Ruiz, Jonas Keller, Mei Lin and Tomasz Nowak. Ana chaired the meeting and Mei took the
notes. The release of version 4.0, planned for 3 November, moves to 17 November 2026, because the
database migration needs another round of testing on the staging servers. Jonas will write the
migration guide before the release.

The budget for the new monitoring service was approved at 1,200 euros a month. Tomasz asked whether
the Kraków office could host the hardware; Ana will ask the facilities team by Friday.
"""

HANDBOOK = """\
# Platform team handbook

## On-call rota

Each week has a primary and a backup engineer. The primary answers a page within fifteen
minutes; the backup steps in when the primary does not answer.

| Week | Primary on-call | Backup | Pager |
|------|-----------------|--------|-------|
| 1 | Ana Ruiz | Tomasz Nowak | +44 20 7946 0101 |
| 2 | Mei Lin | Ana Ruiz | +44 20 7946 0102 |
| 3 | Jonas Keller | Mei Lin | +44 20 7946 0103 |
| 4 | Tomasz Nowak | Jonas Keller | +44 20 7946 0104 |

## Deployments

Deployments happen on Tuesdays and Thursdays before noon. Nothing is deployed on a Friday.
"""

OFFICES = """\
<!doctype html>
<html><head><title>Offices</title></head>
<body>
<nav><a href="/">Home</a> · <a href="/jobs">Jobs</a></nav>
<main>
<h1>Our offices</h1>
<p>Visitors are welcome during opening hours; please sign in at the
front desk.</p>
<table>
  <tr><th>Office</th><th>Address</th><th>Opens</th><th>Closes</th></tr>
  <tr><td>Kraków</td><td>ul. Lubicz 23, 31-503 Kraków</td><td>8:30</td><td>17:00</td></tr>
  <tr><td>Berlin</td><td>Torstraße 109, 10119 Berlin</td><td>9:00</td><td>18:00</td></tr>
  <tr><td>London</td><td>2 Finsbury Avenue, EC2M 2PP</td><td>9:30</td><td>18:30</td></tr>
</table>
</main>
</body></html>
"""

EQUIPMENT = """\
Item,Owner,Room,Serial number
Projector,Mei Lin,2.14,PJ-55102
Label printer,Tomasz Nowak,1.03,LP-20931
Soldering station,Jonas Keller,0.07,SS-77410
"""

# (heading, paragraphs) of each page of the safety PDF; the fire assembly point is on page 2
SAFETY_PAGES = [
    (
        "Office safety",
        [
            "This guide is for everyone who works in or visits the building. Read it on your first day "
            "and again whenever the building changes; the facilities team updates it every spring.",
            "First aid kits hang beside the lifts on every floor. Mei Lin and Tomasz Nowak are the "
            "trained first aiders, and their desk phones are listed on the kitchen noticeboard.",
        ],
    ),
    (
        "Fire",
        [
            "When the alarm sounds, leave by the nearest stairs and never use the lifts. The fire "
            "assembly point is the car park behind building C, next to the bicycle shelter.",
            "A fire drill takes place on the first Monday of March and of September at eleven in the "
            "morning; it lasts about twenty minutes.",
        ],
    ),
]

TRAVEL_POLICY_TEXT = [
    "Travel policy",
    "Book trains for journeys under five hours; flights need the approval of a department head.",
    "Receipts are submitted within thirty days of the trip, through the expenses form.",
]
TRAVEL_ALLOWANCES = [
    ["City", "Hotel per night", "Meals per day"],
    ["Berlin", "140 euros", "45 euros"],
    ["Vienna", "150 euros", "50 euros"],
    ["Warsaw", "110 euros", "35 euros"],
]


def write_pdf(path: Path, pages: list[tuple[str, list[str]]] = SAFETY_PAGES) -> Path:
    """A PDF with a heading and wrapped paragraphs a page, drawn with fpdf2."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    for heading, paragraphs in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 5.5, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(4)
    pdf.output(str(path))
    return path


def write_scanned_pdf(path: Path) -> Path:
    """A PDF whose page is only a picture of text, as a scanner makes it: no text layer."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(picture).text((20, 80), "The fire assembly point is the car park.", fill="black")
    pdf = FPDF(format="A4")
    pdf.add_page()
    pdf.image(picture, x=10, y=10, w=190)
    pdf.output(str(path))
    return path


def write_docx(path: Path) -> Path:
    """A Word document: a heading, paragraphs, and a table whose first row is its header."""
    import docx

    document = docx.Document()
    document.add_heading(TRAVEL_POLICY_TEXT[0], level=1)
    for text in TRAVEL_POLICY_TEXT[1:]:
        document.add_paragraph(text)
    document.add_heading("Allowances", level=2)
    table = document.add_table(rows=len(TRAVEL_ALLOWANCES), cols=len(TRAVEL_ALLOWANCES[0]))
    for row, values in zip(table.rows, TRAVEL_ALLOWANCES, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.save(str(path))
    return path


def write_samples(folder: Path) -> dict[str, Path]:
    """Every sample document in `folder`, by file name."""
    folder.mkdir(parents=True, exist_ok=True)
    texts = {
        "meeting-notes.txt": MEETING_NOTES,
        "handbook.md": HANDBOOK,
        "offices.html": OFFICES,
        "equipment.csv": EQUIPMENT,
    }
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    write_pdf(folder / "safety.pdf")
    write_docx(folder / "travel-policy.docx")
    return {p.name: p for p in sorted(folder.iterdir())}


if __name__ == "__main__":
    for name in write_samples(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/sample-formats")):
        print(name)

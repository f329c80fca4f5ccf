"""A Word document (.docx) as text: one paragraph a line, each table row a line with its header.

python-docx reads the body in order; a paragraph's own line breaks and tabs become spaces, empty
paragraphs are left out, and a table's first row is its header, so a row reads
"Week: 3 · Primary on-call: Jonas Keller" (rag.index.formats.table_row), as HTML tables do.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from rag.errors import DocumentError
from rag.index.formats import table_row


def docx_to_text(data: bytes, path: Path) -> str:
    """The document's paragraphs and table rows, in order, one a line."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(
            f"{path}: cannot be read as a Word document ({exc}); open it in Word or LibreOffice and save "
            "it again as .docx (an old .doc must be saved as .docx)"
        ) from exc
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(_flat(Paragraph(block, document).text))
        elif tag == "tbl":
            lines += _table_lines(Table(block, document))
    return "\n".join(line for line in lines if line)


def _table_lines(table: Any) -> list[str]:
    rows = [_cells(row) for row in table.rows]
    rows = [row for row in rows if any(row)]
    if len(rows) < 2:
        return [table_row(None, row) for row in rows]
    header, body = rows[0], rows[1:]
    return [table_row(header, row) for row in body]


def _cells(row: Any) -> list[str]:
    """The row's cells, a cell merged across columns once."""
    cells: list[str] = []
    seen: set[int] = set()
    for cell in row.cells:
        if id(cell._tc) in seen:
            continue
        seen.add(id(cell._tc))
        cells.append(_flat(cell.text))
    return cells


def _flat(text: str) -> str:
    return " ".join(text.split())

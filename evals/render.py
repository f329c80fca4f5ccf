"""Report blocks (headings, paragraphs, lists, tables, images) rendered as Markdown and as one HTML file,
and matplotlib figures drawn on the Agg canvas directly (no pyplot, no display, no global state).

The same blocks are rendered twice, so the Markdown and the HTML never disagree. The HTML embeds
the plots, so it is one file that can be mailed; the Markdown links to the PNG files next to it.

>>> to_markdown([Heading(2, "Targets"), Table(("metric", "value"), (("f1", "0.5"),))]).splitlines()[2]
'| metric | value |'
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# --- blocks ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Image:
    file: str  # a PNG file in the report folder
    alt: str


Block = Heading | Para | Bullets | Table | Image


def to_markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"{'#' * b.level} {b.text}")
        elif isinstance(b, Para):
            out.append(b.text)
        elif isinstance(b, Bullets):
            out.append("\n".join(f"- {_md_line(i)}" for i in b.items))
        elif isinstance(b, Table):
            lines = [_md_row(b.headers), "|" + "|".join("---" for _ in b.headers) + "|"]
            lines += [_md_row(r) for r in b.rows]
            out.append("\n".join(lines))
        else:
            out.append(f"![{b.alt}]({b.file})")
    return "\n\n".join(out) + "\n"


def to_html(blocks: Sequence[Block], folder: Path, title: str) -> str:
    body: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            body.append(f"<h{b.level}>{html.escape(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            body.append(f"<p>{html.escape(b.text)}</p>")
        elif isinstance(b, Bullets):
            body.append("<ul>" + "".join(f"<li>{html.escape(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{html.escape(h)}</th>" for h in b.headers)
            rows = "".join(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in b.rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        else:
            data = base64.b64encode((folder / b.file).read_bytes()).decode("ascii")
            body.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(b.alt)}">'
                f"<figcaption>{html.escape(b.alt)}</figcaption></figure>"
            )
    style = (
        "body{font:15px/1.5 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;"
        "vertical-align:top;text-align:left}th{background:#f3f3f3}img{max-width:100%}"
        "figure{margin:1em 0}figcaption{color:#555;font-size:90%}"
    )
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _md_line(text: str) -> str:
    return " ".join(text.split())


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(_md_line(c).replace("|", "\\|") for c in cells) + " |"


# --- figures --------------------------------------------------------------------------------------


def figure(width: float = 7.0, height: float = 4.0) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path

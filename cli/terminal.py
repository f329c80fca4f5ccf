"""What the CLI writes: answers in readable form and text made safe to show on a terminal.

Documents and file names are anyone's text: an escape sequence in a document could recolour,
retitle or clear the user's terminal, a right-to-left override could make a quote read backwards,
and a newline in a file name could forge an output line. `printable` shows all of these as visible
escapes (`\\x1b`, `\\u202e`, `\\n`), leaving ordinary text, tabs and (where wanted) line breaks alone.
The JSON output keeps the exact text (JSON escapes control characters itself); `json_line` also
escapes C1 controls and bidirectional overrides, which JSON allows raw, so it is safe on a terminal too.

>>> printable("red\\x1b[31m text\\u202e")
'red\\\\x1b[31m text\\\\u202e'
>>> printable("two\\nlines.txt", newlines=False)
'two\\\\nlines.txt'
"""

from __future__ import annotations

import json
import re
from typing import Any

from rag.textsafe import BIDI_CONTROLS, printable
from rag.types import Answer

__all__ = ["format_answer", "json_line", "printable"]

# what JSON leaves raw but a terminal acts on: C1 controls, line/paragraph separators, bidi controls
_RAW_IN_JSON = re.compile(r"[\x7f-\x9f\u2028\u2029" + BIDI_CONTROLS + "]")
BOLD, PLAIN = "\x1b[1m", "\x1b[0m"
_INLINE_QUOTE = re.compile(r"\s*“.*?”\s*\[\d+\]", re.DOTALL)  # up to the ” that a marker follows


def json_line(data: dict[str, Any]) -> str:
    """One JSON object on one line, exact text, with nothing a terminal would act on."""
    text = json.dumps(data, ensure_ascii=False)
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def format_answer(answer: Answer, *, show_understood: bool = True, bold: bool = False) -> str:
    """The readable form: the answer with its markers, then each quote once with where it stands.

    An answer whose text carries its quotes inline ("Belavia [1]. “…” [1]") is shown as its lead
    ("Belavia [1].") and the numbered quotes below it, so no quote is printed twice.
    """
    lines = []
    if show_understood and answer.resolved_question and answer.resolved_question != answer.question:
        lines.append(f"Understood as: {printable(answer.resolved_question, newlines=False)}")
    lead = _lead(answer)
    if lead:
        shown = printable(lead)
        short = printable(answer.direct_answer) if answer.direct_answer else ""
        if bold and short and shown.startswith(short):  # the short answer leads, in bold on a terminal
            shown = f"{BOLD}{short}{PLAIN}{shown[len(short) :]}"
        lines.append(shown)
    if answer.citations:
        lines.append("")
        for i, c in enumerate(answer.citations, 1):
            lines.append(f"[{i}] “{printable(c.quote)}”")
            page = f"page {c.page}, " if c.page is not None else ""
            lines.append(f"    {printable(c.doc_id, newlines=False)}, {page}characters {c.start}-{c.end}")
    if answer.reply_kind() == "abstain" and answer.passages:
        lines += ["", "Closest passages (they may help):"]
        for p in answer.passages[:3]:
            text = " ".join(p.chunk.text.split())
            cut = text if len(text) <= 160 else text[:160] + "…"
            lines.append(
                f"  - {printable(p.chunk.chunk_id, newlines=False)} (score {p.score:.3f}): {printable(cut)}"
            )
    return "\n".join(lines).strip("\n")


def _lead(answer: Answer) -> str:
    """The answer's own words with its markers, without the quotes it repeats inline."""
    if not answer.citations:
        return answer.answer.strip()
    lead = _INLINE_QUOTE.sub(" ", answer.answer)
    return " ".join(lead.split())  # "The article says:" when only the quotes below answer

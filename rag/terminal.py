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
import unicodedata
from typing import Any

from rag.types import Answer

# the characters that reorder text when shown: embeddings, overrides, isolates and marks
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_INLINE_QUOTE = re.compile(r"\s*“.*?”\s*\[\d+\]", re.DOTALL)  # up to the ” that a marker follows
_BARE_LEAD = re.compile(r"^(?:the (?:article|documents?|\S+) says?|from \S+)\s*:?$", re.IGNORECASE)


def printable(text: str, *, newlines: bool = True) -> str:
    """`text` with control characters and bidirectional controls shown as escapes."""
    out = []
    for ch in text:
        if (ch == "\n" and newlines) or ch == "\t":
            out.append(ch)
        elif ch in "\n\r":
            out.append("\\n" if ch == "\n" else "\\r")
        elif ch in _BIDI or unicodedata.category(ch) == "Cc":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def json_line(data: dict[str, Any]) -> str:
    """One JSON object on one line, exact text, with nothing a terminal would act on."""
    text = json.dumps(data, ensure_ascii=False)
    return "".join(
        f"\\u{ord(ch):04x}" if ch in _BIDI or 0x7F <= ord(ch) <= 0x9F or ch in "\u2028\u2029" else ch
        for ch in text
    )


def format_answer(answer: Answer, *, show_understood: bool = True) -> str:
    """The readable form: the answer with its markers, then each quote once with where it stands.

    An answer whose text carries its quotes inline ("Belavia [1]. “…” [1]") is shown as its lead
    ("Belavia [1].") and the numbered quotes below it, so no quote is printed twice.
    """
    lines = []
    if show_understood and answer.resolved_question and answer.resolved_question != answer.question:
        lines.append(f"Understood as: {printable(answer.resolved_question, newlines=False)}")
    lead = _lead(answer)
    if lead:
        lines.append(printable(lead))
    if answer.citations:
        lines.append("")
        for i, c in enumerate(answer.citations, 1):
            lines.append(f"[{i}] “{printable(c.quote)}”")
            lines.append(f"    {printable(c.doc_id, newlines=False)}, characters {c.start}-{c.end}")
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
    lead = " ".join(lead.split())
    if not lead or _BARE_LEAD.match(lead):  # "The article says:" with the quotes taken out
        return "From the documents:" if lead else ""
    return lead

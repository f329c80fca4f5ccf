"""Text from documents and file names made safe to show: control and bidi characters neutralised.

A document may hold terminal escape sequences (`\\x1b[2J` clears a screen, `\\x1b]8;;` makes links),
carriage returns that overwrite a line, or Unicode direction overrides (U+202E turns
`exe.txt` into what looks like `txt.exe`). `printable` writes each of them as a visible escape
(`\\x1b`, `\\u202e`), so what is shown is what the text holds, with nothing hidden or reordered.
It is for showing only: quotes and offsets are checked against the text as stored.

>>> printable("red \\x1b[31malert\\x1b[0m")
'red \\\\x1b[31malert\\\\x1b[0m'
>>> printable("abc\\u202etxt.exe")
'abc\\\\u202etxt.exe'
>>> printable("two\\nlines"), printable("two\\nlines", newlines=False)
('two\\nlines', 'two\\\\nlines')
"""

from __future__ import annotations

import re

# Unicode's explicit direction controls (embeddings, overrides, isolates, marks), as a regex class body.
BIDI_CONTROLS = r"\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
_OTHER = r"\x7f-\x9f\u2028\u2029" + BIDI_CONTROLS  # DEL, C1 controls, line/paragraph separators
_ANY_UNSAFE = re.compile(r"[\x00-\x1f" + _OTHER + "]")
_UNSAFE_KEEPING_LINES = re.compile(r"\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f" + _OTHER + "]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str, *, newlines: bool = True) -> str:
    """`text` with every control character, line or paragraph separator and bidi control written as
    a visible escape; all other text unchanged. With `newlines`, line breaks (LF, CRLF) and tabs stay."""
    return (_UNSAFE_KEEPING_LINES if newlines else _ANY_UNSAFE).sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

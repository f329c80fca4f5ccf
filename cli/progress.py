"""What the CLI shows on a terminal while an answer is being written: a spinner on stderr from the
first moment (loading the model, retrieving, the LLM reading its prompt), then the LLM's draft as it
comes (dim), then the verified answer on stdout as usual.

Nothing is drawn when stderr is not a terminal (pipes, logs, `--json`): `live=False`.

    >>> import io
    >>> err = io.StringIO()
    >>> show_progress(iter(["Two ", "boats.", 42]), live=False, stderr=err), err.getvalue()
    (42, '')
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO, TypeVar

from cli.terminal import printable

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
TICK_S = 0.1
SPINNER_TEXT = "reading the passages and writing the answer…"
CLEAR_LINE = "\r\x1b[K"

T = TypeVar("T")


class Spinner:
    """A one-line spinner on `stderr`, drawn by a thread until `stop()`; the line is cleared after."""

    def __init__(self, stderr: TextIO, text: str = SPINNER_TEXT) -> None:
        self.stderr, self.text = stderr, text
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="rag-spinner", daemon=True)

    def start(self) -> Spinner:
        self._draw(0)  # at once, before the thread's first tick
        self._thread.start()
        return self

    def _draw(self, i: int, seconds: float = 0.0) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            shown = f" {seconds:.0f}s" if seconds >= 1 else ""
            self.stderr.write(f"{CLEAR_LINE}\x1b[2m{FRAMES[i % len(FRAMES)]} {self.text}{shown}\x1b[0m")
            self.stderr.flush()

    def _run(self) -> None:
        t0 = time.monotonic()
        i = 1
        while not self._stop.wait(TICK_S):
            self._draw(i, time.monotonic() - t0)
            i += 1

    def stop(self) -> None:
        with self._lock:
            if self._stop.is_set():
                return
            self._stop.set()
            self.stderr.write(CLEAR_LINE)
            self.stderr.flush()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=1)


def show_progress(pieces: Iterator[str | T], *, live: bool, stderr: TextIO = sys.stderr) -> T:
    """Consume a reader's stream (text pieces, then the final item, e.g. the Answer) and return that
    final item; when `live`, a spinner until the first words, then the words themselves (dim)."""
    spinner = Spinner(stderr).start() if live else None
    wrote = False
    final: T | None = None
    try:
        for piece in pieces:
            if not isinstance(piece, str):
                final = piece
                continue
            if live and piece:
                if spinner is not None:
                    spinner.stop()
                stderr.write(f"\x1b[2m{printable(piece)}\x1b[0m")  # the model's text, shown safely
                stderr.flush()
                wrote = True
    finally:
        if spinner is not None:
            spinner.stop()
    if wrote:
        stderr.write("\n\n")
        stderr.flush()
    if final is None:
        raise RuntimeError("the answer's stream ended without an answer")
    return final

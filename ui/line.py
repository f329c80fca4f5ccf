"""The line questions wait in: first come, first served, `width` answered at once, each waiter told
how many questions are ahead of it.

Gradio's own queue answers one chat question at a time but shows nothing while a question waits, so
the chat queues its questions here instead (the event itself runs at once): while it waits, the chat
shows "2 questions ahead of yours", updated as the line moves. The OpenAI-compatible API waits in
the same line, so the two faces of one server take turns at the model.

A question leaves the line when its answer is done or when its client goes away (the generator is
closed), so a closed tab never holds a place. A question that has waited `max_wait_s` is told so in
words (`LineFull`), never dropped silently.

>>> line = Line(width=1)
>>> first, second = line.join(), line.join()
>>> line.ahead(first), line.ahead(second)
(0, 1)
>>> line.leave(first)
>>> line.ahead(second)
0
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rag.errors import RagError

MAX_WAIT_S = 600.0


class LineFull(RagError):
    """A question waited longer than the line allows."""


class Line:
    def __init__(self, width: int = 1, max_wait_s: float = MAX_WAIT_S) -> None:
        if width < 1:
            raise ValueError(f"a line answers at least one question at a time, not {width}")
        self.width = width
        self.max_wait_s = max_wait_s
        self._tickets: list[int] = []  # in arrival order; the first `width` are being answered
        self._numbers = itertools.count()
        self._moved = threading.Condition()

    def join(self) -> int:
        """A place at the end of the line (its ticket)."""
        with self._moved:
            ticket = next(self._numbers)
            self._tickets.append(ticket)
            return ticket

    def ahead(self, ticket: int) -> int:
        """How many questions must finish before this one starts (0: it is being answered)."""
        with self._moved:
            return max(0, self._tickets.index(ticket) - self.width + 1)

    def leave(self, ticket: int) -> None:
        with self._moved:
            if ticket in self._tickets:
                self._tickets.remove(ticket)
                self._moved.notify_all()

    def __len__(self) -> int:
        with self._moved:
            return len(self._tickets)

    def wait(self, ticket: int, poll_s: float = 1.0) -> Iterator[int]:
        """Yields the number of questions ahead each time it changes (at least every `poll_s`
        seconds), until the ticket's turn comes; raises LineFull after `max_wait_s`."""
        deadline = time.monotonic() + self.max_wait_s
        last = -1
        while True:
            with self._moved:
                ahead = max(0, self._tickets.index(ticket) - self.width + 1)
                if ahead and ahead == last:
                    self._moved.wait(timeout=poll_s)
                    ahead = max(0, self._tickets.index(ticket) - self.width + 1)
            if ahead == 0:
                return
            if time.monotonic() > deadline:
                raise LineFull(
                    f"the server is busy: {ahead} question{'s' if ahead != 1 else ''} still ahead of yours "
                    f"after {self.max_wait_s:.0f} s; please ask again in a minute"
                )
            if ahead != last:
                last = ahead
                yield ahead

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for a turn (blocking, for callers that show nothing while waiting), then hold it."""
        ticket = self.join()
        try:
            for _ in self.wait(ticket):
                pass
            yield
        finally:
            self.leave(ticket)


def ahead_text(ahead: int) -> str:
    """The words the chat shows while a question waits.

    >>> ahead_text(2)
    'Waiting: 2 questions ahead of yours…'
    """
    return f"Waiting: {ahead} question{'s' if ahead != 1 else ''} ahead of yours…"

"""The line chat questions wait in (ui/line.py): first come first served, each told its place, a
closed tab gives its place up, a wait too long is said in words; and the chat shows the place."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator
from typing import Any, cast

import pytest

from rag.types import Answer
from ui.app import ChatApp, Served
from ui.line import Line, LineFull, ahead_text
from ui.render import Conversation, chat_html


def test_places_are_first_come_first_served_and_move_up() -> None:
    line = Line(width=2)
    tickets = [line.join() for _ in range(5)]
    assert [line.ahead(t) for t in tickets] == [0, 0, 1, 2, 3]
    line.leave(tickets[1])
    assert [line.ahead(t) for t in tickets if t != tickets[1]] == [0, 0, 1, 2]
    line.leave(tickets[1])  # leaving twice is harmless
    assert len(line) == 4


def test_wait_reports_each_new_place_then_returns_on_its_turn() -> None:
    line = Line(width=1)
    first, second, third = line.join(), line.join(), line.join()
    seen: list[int] = []
    done = threading.Event()

    def waiter() -> None:
        seen.extend(line.wait(third, poll_s=0.05))
        done.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.2)
    assert seen == [2] and not done.is_set()
    line.leave(first)
    time.sleep(0.2)
    assert seen == [2, 1] and not done.is_set()
    line.leave(second)
    assert done.wait(5)
    thread.join(5)
    assert seen == [2, 1]


def test_a_wait_too_long_is_said_in_words() -> None:
    line = Line(width=1, max_wait_s=0.1)
    line.join()
    late = line.join()
    with pytest.raises(LineFull, match="1 question still ahead of yours"):
        list(line.wait(late, poll_s=0.02))


def test_turn_holds_the_place_until_done_even_on_error() -> None:
    line = Line(width=1)
    with pytest.raises(RuntimeError), line.turn():
        assert len(line) == 1
        raise RuntimeError("boom")
    assert len(line) == 0


class SlowEngine:
    """Stands in for the engine behind the chat: each answer takes until `release` is set."""

    def __init__(self) -> None:
        self.documents: dict[str, object] = {}
        self.release = threading.Event()

    def stream(self, question: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        self.release.wait(10)
        yield Answer(question=question, answer="done", abstained=False)


def slow_chat() -> tuple[ChatApp, SlowEngine]:
    """The chat's handlers alone, over a slow engine (no model needed)."""
    app = ChatApp.__new__(ChatApp)
    engine = SlowEngine()
    app.default_k = 3
    app.line = Line(width=1)
    app.live = Served(engine, ())  # type: ignore[arg-type]
    return app, engine


def test_the_chat_shows_how_many_questions_are_ahead() -> None:
    app, engine = slow_chat()
    busy = [app.line.join(), app.line.join()]  # two questions already in line
    turn = app.chat_turn("Who?", 3, None, Conversation())
    next(turn)  # the question's bubble, at once
    waiting = next(turn)[0]
    assert ahead_text(2) in waiting
    app.line.leave(busy[0])
    assert ahead_text(1) in next(turn)[0]
    app.line.leave(busy[1])
    engine.release.set()
    rest = list(turn)
    assert "Waiting" not in rest[0][0]  # its turn: the bubble says it is being answered
    assert len(app.line) == 0


def test_a_closed_tab_gives_up_its_place() -> None:
    app, engine = slow_chat()
    app.line.join()
    turn = cast(Generator[Any, None, None], app.chat_turn("Who?", 3, None, Conversation()))
    next(turn), next(turn)
    assert len(app.line) == 2
    turn.close()  # Gradio closes the generator when the client goes away
    assert len(app.line) == 1
    engine.release.set()


def test_a_model_that_timed_out_is_said_under_the_answer() -> None:
    note = "the LLM server at http://127.0.0.1:8080/v1 did not answer in time; check RAG_LLM_URL"
    answer = Answer("Who?", "The article says: nothing.", False, reader="extractive", reader_note=note)
    page = chat_html(Conversation().add("Who?", answer), {})
    assert f"Answered by quoting: {note}." in page
    plain = chat_html(Conversation().add("Who?", Answer("Who?", "Mara.", False)), {})
    assert "Answered by quoting" not in plain

"""The chat UI end to end: the real Gradio server (real model, real FAISS over the article) driven
in headless Chromium (Debian's /usr/bin/chromium through Playwright's sync API).

A reader asks, finds the answer and a verbatim quote, asks follow-ups, clicks a citation marker
and lands on the highlighted quote in the article; HTML in a question is shown as text and runs
nothing; the answer is readable at phone width.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ARTICLE
from ui.screenshots import CHROMIUM as CHROMIUM_PATH
from ui.screenshots import CHROMIUM_ARGS

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path(CHROMIUM_PATH)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WAIT_MS = 30_000

if not CHROMIUM.exists():  # pragma: no cover - CI installs it (`make browser`)
    pytest.skip(
        "Debian's chromium is not installed at /usr/bin/chromium (run `make browser`)",
        allow_module_level=True,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(article_settings: Any, engine: Any) -> Iterator[str]:
    """The app of `rag serve`, on a free localhost port, over the session's real engine."""
    from ui.app import build_app, launch

    app = build_app(article_settings, engine=engine)
    url = launch(app, "127.0.0.1", free_port(), block=False)
    try:
        yield url
    finally:
        app.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page_for(browser: Any, server_url: str) -> Iterator[Any]:
    """open(viewport) -> a page on the app with every JavaScript dialog recorded in page.dialogs."""
    pages: list[Any] = []

    def open_page(viewport: dict[str, int]) -> Any:
        page = browser.new_page(viewport=viewport)
        page.set_default_timeout(WAIT_MS)
        page.dialogs = []
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        page.goto(server_url)
        page.wait_for_selector("#rag-question textarea")
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        page.close()


def ask(page: Any, question: str) -> Any:
    """Type `question`, press Enter, wait for its turn; returns the turn's locator."""
    n = page.locator(".rag-chat .turn").count()
    page.fill("#rag-question textarea", question)
    page.press("#rag-question textarea", "Enter")
    page.wait_for_function(f"document.querySelectorAll('.rag-chat .turn').length > {n}")
    return page.locator(".rag-chat .turn").nth(n)


def quotes(turn: Any) -> list[str]:
    return [q.strip().strip("“”") for q in turn.locator("blockquote").all_inner_texts()]


def test_answer_quotes_followups_and_citation_click(page_for: Any) -> None:
    article = ARTICLE.read_text(encoding="utf-8")
    page = page_for(DESKTOP)

    first = ask(page, "How many political prisoners did Belarus free?")
    assert first.get_attribute("data-kind") == "answer"
    assert "52" in first.locator(".msg.bot").inner_text()
    shown = quotes(first)
    assert shown and all(q in article for q in shown), shown  # verbatim from the article
    marker = first.locator("a.cite").first
    assert marker.get_attribute("title") in shown  # hovering a marker shows its quote

    country = ask(page, "Which country closed its borders with Belarus?")
    assert "Poland" in country.locator(".msg.bot").inner_text()
    gift = ask(page, "Why did it close them?")  # "it" is Poland, from the turn before
    gift_quotes = quotes(gift)
    assert any("citing security concerns" in q for q in gift_quotes), gift_quotes
    assert all(q in article for q in gift_quotes)

    # numbers run 1, 2, 3 in order of first use across the turns, each resolving to a highlight
    used = [
        int(n) for n in page.locator(".rag-chat a.cite").evaluate_all("els => els.map(e => e.dataset.cite)")
    ]
    assert list(dict.fromkeys(used)) == list(range(1, max(used) + 1))
    for n in set(used):
        assert page.locator(f"#rag-mark-{n}").count() == 1

    # clicking a marker brings its highlighted quote into view in the article panel
    n = gift.locator(".lead a.cite").first.get_attribute("data-cite")
    mark = page.locator(f"#rag-mark-{n}")
    panel = page.locator(".rag-article")
    panel.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    assert not is_visible_in(panel, mark)
    gift.locator(".lead a.cite").first.click()
    page.wait_for_function(
        """n => { const m = document.getElementById('rag-mark-' + n), p = m.closest('.rag-article');
                  const r = m.getBoundingClientRect(), q = p.getBoundingClientRect();
                  return r.top >= q.top && r.bottom <= q.bottom
                         && r.top >= 0 && r.bottom <= innerHeight; }""",
        arg=n,
    )
    assert any(mark.inner_text() in q for q in gift_quotes)  # the highlight is the quoted text
    assert {"cited", "flash"} <= set((mark.get_attribute("class") or "").split())  # flashed by ui/chat.js

    page.click("#rag-clear")  # a new conversation forgets the turns and the highlights
    page.wait_for_function("document.querySelectorAll('.rag-chat .turn').length === 0")
    assert page.locator(".rag-article mark").count() == 0


def is_visible_in(panel: Any, element: Any) -> bool:
    p, e = panel.bounding_box(), element.bounding_box()
    return bool(e["y"] >= p["y"] and e["y"] + e["height"] <= p["y"] + p["height"])


def test_html_in_a_question_is_shown_as_text_and_runs_nothing(page_for: Any) -> None:
    page = page_for(DESKTOP)
    attacks = [
        "<img src=x onerror=alert(1)>",
        "<script>alert('script')</script> Who is the US special envoy?",
        '"><svg onload=alert(2)> What did Belarus get in return?',
    ]
    for question in attacks:
        turn = ask(page, question)
        assert turn.locator(".msg.user .bubble").inner_text() == question
    page.wait_for_timeout(500)
    assert page.dialogs == []
    assert page.locator(".rag-chat img, .rag-chat script, .rag-chat svg").count() == 0

    # a refused question says why, and the abstention is styled apart from answers
    assert ask(page, "   ").get_attribute("data-kind") == "error"
    assert "empty" in page.locator(".turn[data-kind=error]").last.inner_text()
    too_long = ask(page, "why " * 300)
    assert too_long.get_attribute("data-kind") == "error" and "limit" in too_long.inner_text()
    assert page.input_value("#rag-question textarea").startswith("why why")  # kept, to be shortened


def test_abstention_shows_the_closest_passages(page_for: Any) -> None:
    page = page_for(DESKTOP)
    turn = ask(page, "What is the capital of France?")
    assert turn.get_attribute("data-kind") == "abstain"
    assert "does not say" in turn.locator(".notice").inner_text()
    passages = turn.locator("details.passages[open] li")
    assert passages.count() >= 1
    assert re.search(r"score \d\.\d{4}", passages.first.inner_text())


def test_phone_width_shows_the_answer(page_for: Any) -> None:
    page = page_for(PHONE)
    turn = ask(page, "Which airline did the US ease sanctions on?")
    answer = turn.locator(".msg.bot")
    answer.scroll_into_view_if_needed()
    box = answer.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert "Belavia" in answer.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

"""The chat as a screen reader and a keyboard user meet it, in headless Chromium against the real
server (real model, real index over the article): the live region says the answer's own words (read
in the browser), markers are heard as "source n" apart from the words, the latest sources are two or
three keys from the question box, Escape on a marker keeps focus there, and a reload after five
turns restores five."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests import test_ui_browser as shared
from tests.test_ui_browser import DESKTOP, ask, quotes

# the browser, the server over the article and fresh pages, as in tests/test_ui_browser.py
browser, server_url, page_for = shared.browser, shared.server_url, shared.page_for

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def live_text(page: Any) -> str:
    return str(page.evaluate("document.getElementById('rag-live').textContent")).strip()


def wait_live(page: Any, before: str) -> str:
    page.wait_for_function(
        "b => { const t = document.getElementById('rag-live').textContent.trim(); return t && t !== b; }",
        arg=before,
    )
    return live_text(page)


def focused(page: Any) -> str:
    """What has focus: the tag, class and data-cite / id of document.activeElement."""
    return str(
        page.evaluate(
            "() => { const e = document.activeElement; return [e.tagName, e.className, "
            "e.dataset.cite || '', e.id || ''].join('|'); }"
        )
    )


def test_the_live_region_says_the_answer_in_its_own_words(page_for: Any) -> None:
    page = page_for(DESKTOP)
    turn = ask(page, "What did Lukashenko receive in return?")
    said = wait_live(page, "")
    first_quote = quotes(turn)[0]
    assert said.startswith("Answer: ")
    assert " ".join(first_quote.split())[:60] in said, said  # the words, not "The article says: 1"
    assert not re.search(r"(:|says)\s*\d+\s*$", said), said  # no marker digits standing for the words
    assert "source" not in said

    refused = ask(page, "What is the capital of France?")
    assert refused.get_attribute("data-kind") == "abstain"
    said = wait_live(page, said)
    assert said.startswith("Not found in the article.") and "No answer was found" in said


def test_markers_are_heard_apart_from_the_words(page_for: Any) -> None:
    page = page_for(DESKTOP)
    turn = ask(page, "How many political prisoners were released?")
    lead = turn.locator(".lead").evaluate(  # the text a screen reader reads, popovers aside
        "e => { const c = e.cloneNode(true); c.querySelectorAll('.pop').forEach(p => p.remove()); "
        "return c.textContent.replace(/\\s+/g, ' ').trim(); }"
    )
    assert "source 1" in lead  # the visually hidden words of the marker, for a screen reader
    assert not re.search(r"[^\s(]source \d", lead), lead  # never run into a word or another marker
    marker = turn.locator(".lead button.cite").first
    assert marker.get_attribute("aria-label") == f"source {marker.get_attribute('data-cite')}"


def test_sources_are_three_keys_from_the_question_box_and_escape_stays_on_the_marker(
    page_for: Any,
) -> None:
    page = page_for(DESKTOP)
    turn = ask(page, "Who is the US envoy?")
    first_marker = turn.locator(".quotes button.cite").first
    n = first_marker.get_attribute("data-cite")

    # the box is empty after an answer (Ask disabled): Tab, Enter
    page.focus("#rag-question textarea")
    page.keyboard.press("Tab")
    assert "rag-skip" in focused(page)
    page.keyboard.press("Enter")
    assert focused(page).startswith("BUTTON|cite") and f"|{n}|" in focused(page)
    assert first_marker.locator(".pop").is_visible()  # its quote shows while focused

    # Escape hides the quote and keeps focus on its marker
    page.keyboard.press("Escape")
    assert focused(page).startswith("BUTTON|cite") and f"|{n}|" in focused(page)
    assert not first_marker.locator(".pop").is_visible()

    # with a question typed (Ask enabled): Tab, Tab, Enter
    page.fill("#rag-question textarea", "Which airline?")
    page.focus("#rag-question textarea")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert focused(page).startswith("BUTTON|cite") and f"|{n}|" in focused(page)


def test_a_reload_after_five_turns_restores_five(page_for: Any) -> None:
    page = page_for(DESKTOP)
    asked = [
        "Who is the US envoy?",
        "What did he give Lukashenko?",
        "hello",
        "What is the capital of France?",
        "Which airline had sanctions eased?",
    ]
    for question in asked:
        ask(page, question)
    page.wait_for_function(
        "JSON.parse(localStorage.getItem('rag-conversation') || '{\"turns\": []}').turns.length === 5"
    )
    page.reload()
    page.wait_for_function("document.querySelectorAll('.rag-chat .turn').length === 5")
    shown = page.locator(".rag-chat .turn .msg.user").all_inner_texts()
    assert [" ".join(s.split()) for s in shown] == asked


def test_a_question_left_unanswered_by_a_reload_returns_to_the_box(page_for: Any) -> None:
    page = page_for(DESKTOP)
    ask(page, "Who is the US envoy?")
    question = "Which airline had sanctions eased?"
    page.fill("#rag-question textarea", question)
    page.press("#rag-question textarea", "Enter")
    # kept with the conversation while it is answered ...
    page.wait_for_function(
        "q => (JSON.parse(localStorage.getItem('rag-conversation') || '{}').pending === q)"
        " || document.querySelectorAll('.rag-chat .turn:not([data-kind=pending])').length === 2",
        arg=question,
    )
    page.reload()  # ... so a reload at that moment loses nothing
    page.wait_for_function("document.querySelectorAll('.rag-chat .turn').length >= 1")
    page.wait_for_timeout(1000)
    turns = [" ".join(t.split()) for t in page.locator(".rag-chat .turn .msg.user").all_inner_texts()]
    box = page.input_value("#rag-question textarea")
    assert turns[0] == "Who is the US envoy?"
    assert turns[1:] == [question] or (turns[1:] == [] and box == question), (turns, box)


def test_remove_says_at_once_when_the_only_document_cannot_go(page_for: Any) -> None:
    page = page_for(DESKTOP)
    page.locator("#rag-docs .label-wrap").first.click()
    page.locator("#rag-remove-choice input").click()
    page.get_by_role("option").first.click()
    page.click("#rag-remove")
    page.wait_for_function("document.querySelector('#rag-doc-status').innerText.includes('only document')")
    assert not page.locator("#rag-remove-question").is_visible()  # nothing to confirm

"""The LLM reader's text reaches the browser while it is written, and the verified answer replaces
it: the real Gradio app in headless Chromium, answering through llama-cpp-python's OpenAI-compatible
server running SmolLM2 on a loopback port (the fixture of tests/test_llm_reader.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from rag.pipeline import Engine
from tests.conftest import free_port
from tests.test_llm_reader import ALWAYS, llm_engine, llm_server  # noqa: F401 (a fixture)
from tests.test_ui_browser import CHROMIUM, CHROMIUM_ARGS, WAIT_MS

pytestmark = [pytest.mark.slow, pytest.mark.browser]

# Every draft the page shows, recorded as it appears: the stream is over before a poll could see it.
WATCH_DRAFTS = """() => {
  window.ragDrafts = [];
  new MutationObserver(() => {
    for (const d of document.querySelectorAll('.turn[data-kind=pending] .draft')) {
      const text = d.innerText.trim();
      if (text && window.ragDrafts[window.ragDrafts.length - 1] !== text) window.ragDrafts.push(text);
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def llm_url(engine: Engine, llm_server: str) -> Iterator[str]:  # noqa: F811
    from ui.app import build_app, launch

    settings = engine.settings.replace(llm_url=llm_server)
    app = build_app(settings, llm_engine(engine, settings, calibration=ALWAYS))
    url = launch(app, "127.0.0.1", free_port(), block=False)
    try:
        yield url
    finally:
        app.close()


def test_the_answer_streams_into_the_chat_then_the_verified_answer_replaces_it(llm_url: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page: Any = browser.new_page()
            page.set_default_timeout(4 * WAIT_MS)  # a small model on 2 shared cores
            page.goto(llm_url)
            page.wait_for_selector("#rag-question textarea")
            page.evaluate(WATCH_DRAFTS)
            page.fill("#rag-question textarea", "Which airline did the US ease sanctions on?")
            page.press("#rag-question textarea", "Enter")
            page.wait_for_function(
                "document.querySelectorAll('.rag-chat .turn:not([data-kind=pending])').length"
            )
            drafts: list[str] = page.evaluate("window.ragDrafts")
            final = page.locator(".rag-chat .turn").first
            assert drafts, "no draft of the model's text was shown before the answer"
            assert len(drafts) >= 2 and drafts[-1].startswith(drafts[0][:10])  # it grew piece by piece
            assert page.locator(".turn[data-kind=pending]").count() == 0  # the draft is gone
            assert final.locator("blockquote").count() >= 1  # the verified answer, with its quotes
        finally:
            browser.close()

"""The chat UI end to end: the real Gradio server (real model, real FAISS over the article) driven
in headless Chromium (Debian's /usr/bin/chromium through Playwright's sync API).

A reader asks, finds the answer and a verbatim quote, asks follow-ups (shown as understood),
focuses or clicks a citation marker to read its quote and lands on the highlighted quote; HTML in a
question is shown as text and runs nothing; Ask is disabled while the box is empty or a question
is running; the conversation survives a reload and exports as Markdown; every text has 4.5:1
contrast in the light and dark themes (computed in the browser) and the controls have the roles
and names of the accessibility tree; on a phone a "Back to answer" button returns from the quote.
A second server over its own index takes uploads: upload -> ask -> cite -> remove.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag.config import Settings
from tests.conftest import ARTICLE, free_port
from ui.screenshots import CHROMIUM as CHROMIUM_PATH
from ui.screenshots import CHROMIUM_ARGS

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = Path(CHROMIUM_PATH)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WAIT_MS = 30_000
CONTRAST_JS = (Path(__file__).parent / "browser_contrast.js").read_text(encoding="utf-8")
AA = 4.5

if not CHROMIUM.exists():  # pragma: no cover - CI installs it (`make browser`)
    pytest.skip(
        "Debian's chromium is not installed at /usr/bin/chromium (run `make browser`)",
        allow_module_level=True,
    )


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
    """open(viewport, url=server_url) -> a page in a fresh browser context (its own localStorage),
    with every JavaScript dialog and page error recorded in page.dialogs / page.errors."""
    contexts: list[Any] = []

    def open_page(viewport: dict[str, int], url: str = server_url, context: Any = None) -> Any:
        if context is None:
            context = browser.new_context(viewport=viewport, accept_downloads=True)
            contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.dialogs, page.errors = [], []
        page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.goto(url)
        page.wait_for_selector("#rag-question textarea")
        return page

    yield open_page
    for context in contexts:
        context.close()


def ask(page: Any, question: str) -> Any:
    """Type `question`, press Enter, wait for its verified answer; returns the turn's locator."""
    n = page.locator(".rag-chat .turn").count()
    page.fill("#rag-question textarea", question)
    page.press("#rag-question textarea", "Enter")
    page.wait_for_function(
        f"document.querySelectorAll('.rag-chat .turn:not([data-kind=pending])').length > {n}"
    )
    return page.locator(".rag-chat .turn").nth(n)


def quotes(turn: Any) -> list[str]:
    return [q.strip().strip("“”") for q in turn.locator("blockquote").all_inner_texts()]


def ax_nodes(page: Any) -> list[dict[str, Any]]:
    """Chromium's own accessibility tree (CDP), not the DOM: what a screen reader is given."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes: list[dict[str, Any]] = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    return [n for n in nodes if not n.get("ignored")]


def ax(node: dict[str, Any], field: str) -> str:
    return str((node.get(field) or {}).get("value", ""))


def test_answer_quotes_followups_and_citation_click(page_for: Any) -> None:
    article = ARTICLE.read_text(encoding="utf-8")
    page = page_for(DESKTOP)
    assert page.locator("#rag-header h1").inner_text() == "Ask the article"

    first = ask(page, "How many political prisoners did Belarus free?")
    assert first.get_attribute("data-kind") == "answer"
    assert "52" in first.locator(".msg.bot").inner_text()  # in the short answer, or in the quote alone
    shown = quotes(first)
    assert shown and all(q in article for q in shown), shown  # verbatim from the article
    marker = first.locator(".lead button.cite").first
    marker.hover()  # hovering a marker shows its quote
    popover = first.locator(".lead .pop").first
    assert popover.is_visible() and popover.inner_text().strip("“”") in shown

    country = ask(page, "Which country closed its borders with Belarus?")
    assert "Poland" in country.locator(".msg.bot").inner_text()
    why = ask(page, "Why did it close them?")  # "it" is Poland, or the country the turn before asked about
    understood = why.locator(".understood")
    assert understood.count() == 1  # shown as understood
    assert any(s in understood.inner_text() for s in ("Poland", "the country that closed its borders"))
    why_quotes = quotes(why)
    assert any("citing security concerns" in q for q in why_quotes), why_quotes
    assert all(q in article for q in why_quotes)

    # numbers run 1, 2, 3 in order of first use across the turns, each resolving to a highlight
    used = [
        int(n) for n in page.locator(".rag-chat .cite").evaluate_all("els => els.map(e => e.dataset.cite)")
    ]
    assert list(dict.fromkeys(used)) == list(range(1, max(used) + 1))
    for n in set(used):
        assert page.locator(f"#rag-mark-{n}").count() == 1

    # clicking a marker brings its highlighted quote into view in the article panel
    n = why.locator(".lead button.cite").first.get_attribute("data-cite")
    mark = page.locator(f"#rag-mark-{n}")
    panel = page.locator(".rag-article")
    panel.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    assert not is_visible_in(panel, mark)
    why.locator(".lead button.cite").first.click()
    page.wait_for_function(
        """n => { const m = document.getElementById('rag-mark-' + n), p = m.closest('.rag-article');
                  const r = m.getBoundingClientRect(), q = p.getBoundingClientRect();
                  return r.top >= q.top && r.bottom <= q.bottom
                         && r.top >= 0 && r.bottom <= innerHeight; }""",
        arg=n,
    )
    assert any(mark.inner_text() in q for q in why_quotes)  # the highlight is the quoted text
    assert {"cited", "flash"} <= set((mark.get_attribute("class") or "").split())  # flashed by ui/chat.js

    page.click("#rag-clear")  # a new conversation forgets the turns and the highlights
    page.wait_for_function("document.querySelectorAll('.rag-chat .turn').length === 0")
    assert page.locator(".rag-article mark").count() == 0
    assert page.errors == []


def is_visible_in(panel: Any, element: Any) -> bool:
    p, e = panel.bounding_box(), element.bounding_box()
    return bool(e["y"] >= p["y"] and e["y"] + e["height"] <= p["y"] + p["height"])


def test_keyboard_focus_on_a_citation_shows_its_quote(page_for: Any) -> None:
    page = page_for(DESKTOP)
    turn = ask(page, "Who is the US special envoy?")
    pop = turn.locator(".lead .pop").first
    assert not pop.is_visible()
    page.locator("#rag-question textarea").focus()
    for _ in range(60):  # Shift+Tab back from the box until a citation marker has the focus
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.classList.contains('cite')"):
            break
    focused = page.evaluate("document.activeElement.getAttribute('aria-describedby')")
    assert focused, "no citation marker took the keyboard focus"
    shown = page.locator(f"#{focused}")
    assert shown.is_visible() and "John Coale" in shown.inner_text()
    page.keyboard.press("Enter")  # a button: Enter jumps to the quote in the article
    n = page.evaluate("document.activeElement.dataset.cite")
    page.wait_for_function("n => document.getElementById('rag-mark-' + n).classList.contains('flash')", arg=n)


def test_ask_is_disabled_while_empty_and_a_quick_second_submit_is_ignored(page_for: Any) -> None:
    page = page_for(DESKTOP)
    button = page.locator("#rag-ask")
    page.wait_for_function("document.querySelector('#rag-ask').disabled")
    page.press("#rag-question textarea", "Enter")  # an empty box: nothing happens, no bubble
    page.fill("#rag-question textarea", "   ")
    page.press("#rag-question textarea", "Enter")
    page.wait_for_timeout(500)
    assert page.locator(".rag-chat .turn").count() == 0 and button.is_disabled()

    page.fill("#rag-question textarea", "Which airline did the US ease sanctions on?")
    page.wait_for_function("!document.querySelector('#rag-ask').disabled")
    page.press("#rag-question textarea", "Enter")
    button.click(force=True)  # Enter then a quick click: one question, one answer
    page.wait_for_function("document.querySelectorAll('.rag-chat .turn:not([data-kind=pending])').length > 0")
    page.wait_for_timeout(1000)
    assert page.locator(".rag-chat .turn").count() == 1
    assert "Belavia" in page.locator(".rag-chat .turn .msg.bot").inner_text()
    assert page.input_value("#rag-question textarea") == "" and button.is_disabled()


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

    too_long = ask(page, "why " * 300)  # a refused question says why and stays in the box
    assert too_long.get_attribute("data-kind") == "error" and "limit" in too_long.inner_text()
    assert page.input_value("#rag-question textarea").startswith("why why")


def test_not_found_says_so_and_lists_passages_that_may_help(page_for: Any) -> None:
    page = page_for(DESKTOP)
    turn = ask(page, "What is the capital of France?")
    assert turn.get_attribute("data-kind") == "abstain"
    assert "Not found in the article" in turn.locator(".notice").inner_text()
    helping = turn.locator(".may-help li")
    assert turn.locator(".may-help-title").inner_text() == "These passages may help" and helping.count() >= 1
    assert re.search(r"¶ \d+ · characters", helping.first.inner_text())
    assert not turn.locator(".details").first.evaluate("d => d.open")  # scores and ids folded away
    turn.locator(".details summary").click()
    assert re.search(r"score \d\.\d{4}", turn.locator(".details").inner_text())


def test_reload_keeps_the_conversation_and_it_exports_as_markdown(page_for: Any) -> None:
    page = page_for(DESKTOP)
    first = ask(page, "Who is the US special envoy?")
    said = first.locator(".msg.bot .lead").inner_text()
    ask(page, "What is the population of Minsk?")
    page.reload()
    page.wait_for_function("document.querySelectorAll('.rag-chat .turn').length === 2")
    assert page.locator(".rag-chat .turn .lead").first.inner_text() == said
    assert "John Coale" in page.locator(".rag-article mark").first.inner_text()  # highlights came back

    with page.expect_download() as download:
        page.click("#rag-export")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert "**You:** Who is the US special envoy?" in text and "**You:** What is the population" in text
    quote = quotes(first)[0]
    assert f"“{quote}”" in text and "¶" in text

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    first.locator("button.copy").click()
    page.wait_for_function("document.querySelector('.rag-chat button.copy').textContent === 'Copied'")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert quote in copied and "characters" in copied


def test_contrast_and_accessibility_tree_in_light_and_dark(page_for: Any, server_url: str) -> None:
    page = page_for(DESKTOP)
    ask(page, "How many political prisoners did Belarus free?")
    ask(page, "What is the capital of France?")
    live = page.locator("#rag-live")
    assert live.get_attribute("aria-live") == "polite" and "Not found in the article" in live.inner_text()

    failing: dict[str, list[dict[str, Any]]] = {}
    for theme in ("light", "dark"):
        if theme == "dark":
            page = page_for(DESKTOP, server_url + "?__theme=dark", context=page.context)
            page.wait_for_function("document.querySelectorAll('.rag-chat .turn').length === 2")
            assert page.evaluate("document.body.classList.contains('dark')")
        for accordion in ("#rag-docs", "#rag-details"):
            page.locator(f"{accordion} .label-wrap").first.click()
        page.locator(".rag-chat .turn").last.locator(".details summary").click()
        page.locator(".rag-chat button.cite").first.focus()  # its popover is visible text too
        page.wait_for_timeout(300)
        rows = page.evaluate(CONTRAST_JS)
        assert len(rows) > 80, f"only {len(rows)} text nodes measured in the {theme} theme"
        assert any(r["text"].startswith("“") for r in rows)  # the popover was measured
        failing[theme] = [r for r in rows if r["ratio"] < AA]
    assert failing == {"light": [], "dark": []}

    nodes = ax_nodes(page)
    named = {(ax(n, "role"), ax(n, "name")) for n in nodes}
    assert ("textbox", "Your question") in named
    assert ("button", "Ask") in named and ("button", "Export as Markdown") in named
    markers = [n for n in nodes if ax(n, "role") == "button" and ax(n, "name").startswith("source ")]
    assert markers and all(ax(n, "description").startswith("“") for n in markers)  # the quote
    live_regions = [
        n
        for n in nodes
        if any(p["name"] == "live" and p["value"]["value"] == "polite" for p in n.get("properties", []))
    ]
    assert any(ax(n, "role") == "status" for n in live_regions)


def test_phone_shows_the_answer_and_a_way_back_from_the_quote(page_for: Any) -> None:
    page = page_for(PHONE)
    turn = ask(page, "Which airline did the US ease sanctions on?")
    answer = turn.locator(".msg.bot")
    answer.scroll_into_view_if_needed()
    box = answer.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert "Belavia" in answer.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    marker = turn.locator(".lead button.cite").first
    marker.click()  # the article is far below the answer on a phone: the page jumps there
    back = page.locator("button.rag-back")
    back.wait_for(state="visible")
    assert page.locator(".rag-article mark.flash").first.is_visible()
    y = marker.bounding_box()["y"]
    assert y < 0 or y > PHONE["height"]  # the answer is out of sight
    back.click()
    page.wait_for_function("document.activeElement && document.activeElement.classList.contains('cite')")
    y = marker.bounding_box()["y"]
    assert 0 <= y <= PHONE["height"] and back.is_hidden()


# ---------------------------------------------------------------- own documents


NOTES_MD = """# Garden notes

## Orchard

The orchard has 40 apple trees. Ada Lovelace planted the first row in the spring of 2019.

## Bees

Three hives stand behind the greenhouse. The bees are checked every Tuesday morning.
"""


@pytest.fixture(scope="module")
def own_server(
    tmp_path_factory: pytest.TempPathFactory, real_embedder: Any
) -> Iterator[tuple[str, Settings]]:
    """A server over its own index of the article (so uploads do not touch the session's index)."""
    from rag.index.indexer import update_index
    from rag.pipeline import Engine
    from ui.app import build_app, launch

    root = tmp_path_factory.mktemp("own")
    seeds = root / "seeds"
    seeds.mkdir()
    shutil.copy(ARTICLE, seeds / ARTICLE.name)
    settings = Settings(seeds_dir=seeds, index_dir=root / "index")
    update_index(settings, lambda: real_embedder, [seeds])
    app = build_app(settings, Engine.load(settings, real_embedder))
    url = launch(app, "127.0.0.1", free_port(), block=False)
    try:
        yield url, settings
    finally:
        app.close()


def test_upload_ask_cite_choose_and_remove(
    page_for: Any, own_server: tuple[str, Settings], tmp_path: Path
) -> None:
    url, settings = own_server
    notes = tmp_path / "garden notes.md"
    notes.write_text(NOTES_MD, encoding="utf-8")
    page = page_for(DESKTOP, url)
    page.locator("#rag-docs .label-wrap").first.click()
    with page.expect_file_chooser() as chooser:
        page.click("#rag-upload")
    chooser.value.set_files(str(notes))
    page.wait_for_function("document.querySelector('#rag-header h1').innerText === 'Ask the documents'")
    assert "Added garden_notes.md" in page.locator("#rag-doc-status").inner_text()
    assert "garden_notes.md" in page.locator("#rag-doc-list").inner_text()
    stored = settings.index_dir / "uploads" / "garden_notes.md"
    assert stored.read_text(encoding="utf-8") == NOTES_MD
    assert "the documents" in page.get_attribute("#rag-question textarea", "placeholder")

    turn = ask(page, "How many apple trees are in the orchard?")
    assert "40" in turn.inner_text()
    assert any("40 apple trees" in q for q in quotes(turn))
    assert "garden_notes.md" in turn.locator(".where").first.inner_text()
    turn.locator(".lead button.cite").first.click()
    mark = page.locator(".rag-article mark.flash")
    mark.wait_for(state="visible")
    assert "40 apple trees" in mark.inner_text()
    assert page.locator(".rag-article .doc-title", has_text="garden_notes.md").count() == 1

    # searching only the article, the garden question finds nothing about apple trees
    page.locator("#rag-scope label", has_text="garden_notes.md").click()
    only_article = ask(page, "How many apple trees are in the orchard?")
    assert "apple" not in " ".join(quotes(only_article))
    assert all("garden_notes.md" not in w for w in only_article.locator(".where").all_inner_texts())

    page.locator("#rag-remove-choice input").click()
    page.get_by_role("option", name="garden_notes.md").click()
    page.click("#rag-remove")  # asks first: nothing is deleted until the user says yes
    question = page.locator("#rag-remove-question")
    question.wait_for(state="visible")
    assert "Remove garden_notes.md from the index?" in question.inner_text()
    assert "uploaded copy will be deleted" in question.inner_text()
    page.click("#rag-remove-no")
    question.wait_for(state="hidden")
    assert stored.exists() and "garden_notes.md" in page.locator("#rag-doc-list").inner_text()
    page.click("#rag-remove")
    page.click("#rag-remove-yes")
    page.wait_for_function("document.querySelector('#rag-header h1').innerText === 'Ask the article'")
    assert "Removed garden_notes.md" in page.locator("#rag-doc-status").inner_text()
    assert not stored.exists() and notes.exists()  # the upload is gone; the user's own file is not touched
    examples = page.locator("#rag-examples button:visible").all_inner_texts()
    assert examples and not any("apple" in e.lower() or "garden" in e.lower() for e in examples)

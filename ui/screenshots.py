"""Screenshots of the chat for the README: `python -m ui.screenshots [--out docs]`.

Starts the app in this process on a free localhost port over the configured index (RAG_INDEX_DIR,
default index/) with the reader `make run` serves (`auto`: the LLM reader where its model is set up;
RAG_READER chooses another), asks a few questions in headless Chromium (Debian's /usr/bin/chromium, through
Playwright) and saves docs/screenshot-desktop.png (1280x900, a follow-up shown as understood and a
clicked citation highlighted in the article), docs/screenshot-phone.png (390x844) and
docs/screenshot-abstain.png (a question the article does not answer). Then it indexes the sample
documents of docs/sample-documents/ (a Markdown handbook and an HTML travel policy) into a
temporary index and saves docs/screenshot-own-documents.png: the page as it names and lists them.

`--llm` instead serves the article with the LLM reader (the local model of `rag llm-setup`, or
RAG_LLM_URL) and saves docs/screenshot-llm-streaming.png, the draft as the model writes it, and
docs/screenshot-llm-answer.png, the verified answer with its citations that replaced it.
"""

from __future__ import annotations

import argparse
import socket
import tempfile
from pathlib import Path
from typing import Any

from rag.config import PROJECT_ROOT, Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CONVERSATION = (
    "How many political prisoners did Belarus free?",
    "Which country closed its borders with Belarus?",
    "Why did it close them?",
)
UNANSWERABLE = "What is the population of Minsk?"
LLM_QUESTION = "Which airline did the US ease sanctions on, and why does it matter?"
SAMPLES = PROJECT_ROOT / "docs" / "sample-documents"
OWN_QUESTIONS = ("How many days of paid holiday do employees get?", "Who books the flights?")
VIEWPORTS: dict[str, Any] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 390, "height": 844},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs")
    parser.add_argument("--llm", action="store_true", help="only the LLM reader's streamed answer")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.llm:
        return shoot_llm(args.out)

    from playwright.sync_api import sync_playwright

    settings = Settings.from_env().served()  # the reader `make run` serves
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with serving(settings) as url:
            for name, viewport in VIEWPORTS.items():
                page = open_page(browser, url, viewport)
                shoot(page, name, args.out / f"screenshot-{name}.png")
                page.context.close()
            page = open_page(browser, url, VIEWPORTS["desktop"])
            ask(page, UNANSWERABLE)
            page.locator("#rag-chat").screenshot(path=str(args.out / "screenshot-abstain.png"))
            print(f"wrote {args.out / 'screenshot-abstain.png'}")
            page.context.close()
        with tempfile.TemporaryDirectory() as tmp:
            own = settings.replace(seeds_dir=SAMPLES, index_dir=Path(tmp) / "index")
            with serving(own, build=True) as url:
                page = open_page(browser, url, {"width": 1280, "height": 1100})
                page.locator("#rag-docs .label-wrap").first.click()
                for question in OWN_QUESTIONS:
                    ask(page, question)
                page.locator(".rag-chat .turn").last.locator(".lead button.cite").first.click()
                page.wait_for_timeout(600)
                page.locator("#rag-question textarea").focus()
                page.mouse.move(5, 5)
                path = args.out / "screenshot-own-documents.png"
                page.screenshot(path=str(path))
                print(f"wrote {path}")
                page.context.close()
        browser.close()
    return 0


def shoot_llm(out: Path) -> int:
    """The LLM reader's answer while it is written (a draft), then as verified."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p, serving(Settings.from_env().replace(reader="llm")) as url:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = open_page(browser, url, VIEWPORTS["desktop"])
        page.fill("#rag-question textarea", LLM_QUESTION)
        page.press("#rag-question textarea", "Enter")
        # a few words of the draft, so the picture shows the text growing, not only its first word
        grown = "(document.querySelector('.turn[data-kind=pending] .draft')?.innerText || '').length > 60"
        page.wait_for_function(grown, timeout=600_000, polling=100)
        page.screenshot(path=str(out / "screenshot-llm-streaming.png"))
        answered = "document.querySelectorAll('.rag-chat .turn:not([data-kind=pending])').length > 0"
        page.wait_for_function(answered, timeout=600_000)
        page.mouse.move(5, 5)
        page.wait_for_timeout(300)
        page.screenshot(path=str(out / "screenshot-llm-answer.png"))
        browser.close()
    print(f"wrote {out / 'screenshot-llm-streaming.png'} and {out / 'screenshot-llm-answer.png'}")
    return 0


class serving:
    """The app over `settings` on a free localhost port, closed on exit; `build` indexes first."""

    def __init__(self, settings: Settings, *, build: bool = False) -> None:
        self.settings, self.build = settings, build

    def __enter__(self) -> str:
        from rag.pipeline import Engine
        from ui.app import build_app, launch

        # a new index folder is built from settings.seeds_dir when the engine loads
        self.app = build_app(self.settings, Engine.load(self.settings) if self.build else None)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        return launch(self.app, "127.0.0.1", port, block=False)

    def __exit__(self, *exc: object) -> None:
        self.app.close()


def open_page(browser: Any, url: str, viewport: dict[str, int]) -> Any:
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(url)
    page.wait_for_selector("#rag-question textarea")
    return page


def shoot(page: Any, name: str, path: Path) -> None:
    questions = CONVERSATION if name == "desktop" else CONVERSATION[:2]
    for question in questions:
        ask(page, question)
    if name == "desktop":  # the follow-up's citation, clicked: highlighted in the article, its quote shown
        marker = page.locator(".rag-chat .turn").nth(2).locator(".lead button.cite").first
        marker.click()
        page.wait_for_timeout(600)
        page.locator("#rag-question textarea").focus()  # the quote is listed: no popover over it
        page.mouse.move(5, 5)
    else:  # the newest answer, at the top of the phone's screen
        page.locator(".rag-chat .turn").last.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))
    print(f"wrote {path}")


def ask(page: Any, question: str) -> None:
    """Type `question`, press Enter and wait until its verified answer is shown."""
    n = page.locator(".rag-chat .turn").count()
    page.fill("#rag-question textarea", question)
    page.press("#rag-question textarea", "Enter")
    page.wait_for_function(
        f"document.querySelectorAll('.rag-chat .turn:not([data-kind=pending])').length > {n}",
        timeout=600_000,  # the LLM reader on a busy 2-core machine
    )
    page.wait_for_timeout(400)


if __name__ == "__main__":
    raise SystemExit(main())

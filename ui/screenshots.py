"""Screenshots of the chat for the README: `python -m ui.screenshots [--out docs]`.

Starts the app in this process on a free localhost port over the configured index (RAG_INDEX_DIR,
default index/), asks a few questions in headless Chromium (Debian's /usr/bin/chromium, through
Playwright) and saves docs/screenshot-desktop.png (1280x900, a clicked citation),
docs/screenshot-phone.png (390x844) and docs/screenshot-abstain.png (a question the article does
not answer).
"""

from __future__ import annotations

import argparse
import socket
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
VIEWPORTS: dict[str, Any] = {
    "desktop": {"width": 1280, "height": 900},
    "phone": {"width": 390, "height": 844},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from ui.app import build_app, launch

    app = build_app(Settings.from_env())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    url = launch(app, "127.0.0.1", port, block=False)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, viewport in VIEWPORTS.items():
                page = browser.new_page(viewport=viewport)
                page.goto(url)
                page.wait_for_selector("#rag-question textarea")
                shoot(page, name, args.out / f"screenshot-{name}.png")
                page.close()
            page = browser.new_page(viewport=VIEWPORTS["desktop"])
            page.goto(url)
            page.wait_for_selector("#rag-question textarea")
            ask(page, UNANSWERABLE, 0)
            page.wait_for_timeout(400)
            page.locator("#rag-chat").screenshot(path=str(args.out / "screenshot-abstain.png"))
            print(f"wrote {args.out / 'screenshot-abstain.png'}")
            browser.close()
    finally:
        app.close()
    return 0


def shoot(page: Any, name: str, path: Path) -> None:
    questions = CONVERSATION if name == "desktop" else CONVERSATION[:2]
    for i, question in enumerate(questions):
        ask(page, question, i)
    page.wait_for_timeout(400)
    if name == "desktop":  # show a clicked citation: the third turn's marker, highlighted in the article
        page.locator(".rag-chat .turn").nth(2).locator(".lead a.cite").first.click()
        page.wait_for_timeout(400)
    else:  # the newest answer, at the top of the phone's screen
        page.locator(".rag-chat .turn").last.scroll_into_view_if_needed()
    page.screenshot(path=str(path))
    print(f"wrote {path}")


def ask(page: Any, question: str, turns_before: int) -> None:
    page.fill("#rag-question textarea", question)
    page.press("#rag-question textarea", "Enter")
    page.wait_for_function(f"document.querySelectorAll('.rag-chat .turn').length > {turns_before}")


if __name__ == "__main__":
    raise SystemExit(main())

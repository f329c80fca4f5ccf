"""The chat UI: Gradio only; every answer comes from the shared pipeline (`Engine.ask`).

    rag serve [--host 127.0.0.1] [--port 7860] [--index-dir DIR]

Layout: the conversation and the question box on the left, the article on the right (stacked on
phones). The HTML of both panels is made by `ui/render.py` from the conversation, with every
question and document text escaped; `ui/chat.js` makes citation markers scroll the article.

The named endpoint `/ask` returns the JSON answer of `rag ask --json`:

    >>> from gradio_client import Client                                      # doctest: +SKIP
    >>> Client("http://127.0.0.1:7860/").predict("Who is the US envoy?", api_name="/ask")  # doctest: +SKIP
    {'question': 'Who is the US envoy?', 'answer': ..., 'citations': [...], ...}
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

# Offline by design: no usage analytics or update checks leave the machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from rag.config import Settings
from rag.errors import ServerError
from rag.pipeline import Engine, get_engine
from ui import server
from ui.render import Conversation, article_html, chat_html

HERE = Path(__file__).resolve().parent
CSS = (HERE / "style.css").read_text(encoding="utf-8")
CHAT_JS = (HERE / "chat.js").read_text(encoding="utf-8")
ARTICLE_JS = (HERE / "article.js").read_text(encoding="utf-8")

# System fonts: the bundled Source Sans Pro SemiBold lacks some capitals (they fall back to another font).
THEME = gr.themes.Default(
    primary_hue="blue",
    font=["Segoe UI", "Roboto", "Helvetica Neue", "Arial", "Liberation Sans", "system-ui", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"],
)
MAX_K = 10
EXAMPLES = (
    "How many political prisoners did Belarus free?",
    "Which airline did the US ease sanctions on?",
    "Who is the US special envoy?",
    "When was Mikalai Khilo arrested?",
    "Why did Poland close its border?",
    "What is the population of Minsk?",
)


def build_app(settings: Settings, engine: Engine | None = None) -> gr.Blocks:
    """The Gradio app over `engine` (default: the process's engine for `settings`, loaded now)."""
    engine = engine or get_engine(settings)
    documents = engine.retriever.store.documents
    default_k = max(1, min(MAX_K, settings.top_k))

    def chat_turn(question: str, k: float, conv: Conversation) -> tuple[str, str, Conversation, Any]:
        question = question if isinstance(question, str) else ""
        answer = engine.ask(question, conv.history(), k=_clamp_k(k, default_k))
        conv = conv.add(question, answer)
        keep_typed = gr.skip() if answer.error else ""  # a refused question stays in the box to be fixed
        return chat_html(conv, documents), article_html(conv, documents), conv, keep_typed

    def clear() -> tuple[str, str, Conversation, str]:
        empty = Conversation()
        return chat_html(empty, documents), article_html(empty, documents), empty, ""

    def ask_api(question: str, k: int = default_k) -> dict[str, Any]:
        """Answer one question about the article; the same JSON as `rag ask --json`."""
        return engine.ask(question, k=_clamp_k(k, default_k)).to_dict()

    with gr.Blocks(title="Ask the article", analytics_enabled=False) as app:
        conv = gr.State(Conversation())
        gr.HTML(_header(list(documents)), elem_id="rag-header")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
                chat = gr.HTML(
                    chat_html(Conversation(), documents),
                    elem_id="rag-chat",
                    js_on_load=CHAT_JS,
                    apply_default_css=False,
                )
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        placeholder="Ask a question about the article, e.g. Who is the US special envoy?",
                        show_label=False,
                        lines=1,
                        max_lines=4,
                        scale=5,
                        min_width=200,
                        autofocus=True,
                        elem_id="rag-question",
                    )
                    ask_button = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="rag-ask")
                with gr.Row(elem_id="rag-examples"):
                    examples = [gr.Button(q, size="sm", min_width=60, scale=0) for q in EXAMPLES]
                with gr.Row(equal_height=True):
                    k = gr.Slider(
                        1,
                        MAX_K,
                        value=default_k,
                        step=1,
                        label="Passages to retrieve (k)",
                        elem_id="rag-k",
                        scale=4,
                    )
                    clear_button = gr.Button("New conversation", size="sm", scale=1, elem_id="rag-clear")
            with gr.Column(scale=2, min_width=300):
                article = gr.HTML(
                    article_html(Conversation(), documents),
                    elem_id="rag-article",
                    js_on_load=ARTICLE_JS,
                    apply_default_css=False,
                )

        outputs = [chat, article, conv, question]
        common: dict[str, Any] = {"api_visibility": "private", "show_progress": "minimal"}
        question.submit(chat_turn, [question, k, conv], outputs, **common)
        ask_button.click(chat_turn, [question, k, conv], outputs, **common)
        for button in examples:
            button.click(chat_turn, [button, k, conv], outputs, **common)
        clear_button.click(clear, None, outputs, **common)
        gr.api(ask_api, api_name="ask")
    app.queue()
    return app


def launch(
    app: gr.Blocks,
    host: str = "127.0.0.1",
    port: int = 7860,
    *,
    block: bool = True,
    auth_token: str = "",
    engine: Engine | None = None,
) -> str:
    """Serve `app` on host:port (never a public share link), behind the guard of ui/server.py
    (body and upload caps, optional token, bounded sessions, short logs, index reloads)."""
    try:
        _, url, _ = app.launch(
            server_name=host,
            server_port=port,
            share=False,
            prevent_thread_lock=not block,
            css=CSS,
            theme=THEME,
            footer_links=["api", "gradio"],
            ssr_mode=False,
            mcp_server=False,
            quiet=not block,
            **server.launch_options(app, auth_token, engine),
        )
    except OSError as exc:  # Gradio's advice would name launch(); ours names the flag
        raise ServerError(f"cannot listen on {host}:{port} ({exc}); choose another --port") from None
    return str(url)


def serve(
    settings: Settings, host: str = "127.0.0.1", port: int = 7860, auth_token: str | None = None
) -> None:
    """`rag serve`: check the address, load the model and index (so the first answer is fast), serve."""
    token = server.auth_token(auth_token)
    server.check_port(host, port)
    warning = server.bind_warning(host, port, token)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    print(f"loading the model and the index in {settings.index_dir} …", file=sys.stderr, flush=True)
    engine = get_engine(settings)
    if engine.index.warning:
        print(f"warning: {engine.index.warning}", file=sys.stderr, flush=True)
    app = build_app(settings, engine)
    launch(app, host, port, block=True, auth_token=token, engine=engine)


def _clamp_k(k: object, default: int) -> int:
    try:
        value = int(float(k))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):  # "abc", None, "inf"
        return default
    return max(1, min(MAX_K, value))


def _header(doc_ids: list[str]) -> str:
    from ui.render import esc

    names = ", ".join(doc_ids[:3]) + (f" and {len(doc_ids) - 3} more" if len(doc_ids) > 3 else "")
    return (
        "<h1>Ask the article</h1>"
        f"<p>Answers come only from <code>{esc(names)}</code>, quoted word for word. "
        "Click a number to see its quote in the article.</p>"
    )

"""The chat UI: Gradio only; every answer comes from the shared pipeline (`Engine.stream`).

    rag serve [--host 127.0.0.1] [--port 7860] [--index-dir DIR]

Layout: the conversation and the question box on the left, the documents on the right (stacked on
phones); below the box, the documents panel (add, remove, choose what a question searches) and
the details (how many passages to retrieve). The HTML of the conversation and the documents is
made by `ui/render.py`, every text escaped; `ui/chat.js` makes citation markers show their quote
and scroll to it, keeps the Ask button honest and the conversation in the browser (localStorage).

The page names what it answers from: "the article" for the demo article alone, else the one
file's name or "the documents"; its example questions are drawn from the documents themselves
(`ui/suggest.py`) and kept only when the pipeline answers them.

The named endpoint `/ask` returns the JSON answer of `rag ask --json`:

    >>> from gradio_client import Client                                      # doctest: +SKIP
    >>> Client("http://127.0.0.1:7860/").predict("Who is the US envoy?", api_name="/ask")  # doctest: +SKIP
    {'question': 'Who is the US envoy?', 'answer': ..., 'citations': [...], ...}
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

# Offline by design: no usage analytics or update checks leave the machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from rag.config import Settings
from rag.errors import RagError, ServerError
from rag.index import library
from rag.pipeline import Embedder, Engine, get_engine
from rag.types import Answer, Document
from ui import connections, naming, openai_api, saved, server
from ui.indexing import Job, ReportingEmbedder
from ui.line import Line, LineFull, ahead_text
from ui.render import Conversation, article_html, chat_html, conversation_markdown, esc
from ui.suggest import examples as draw_examples

HERE = Path(__file__).resolve().parent
CSS = (HERE / "style.css").read_text(encoding="utf-8")
CHAT_JS = (HERE / "chat.js").read_text(encoding="utf-8")
ARTICLE_JS = (HERE / "article.js").read_text(encoding="utf-8")

# System fonts: the bundled Source Sans Pro SemiBold lacks some capitals (they fall back to another font).
THEME = gr.themes.Default(
    primary_hue="blue",
    font=["Segoe UI", "Roboto", "Helvetica Neue", "Arial", "Liberation Sans", "system-ui", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"],
).set(
    # WCAG AA (4.5:1) for secondary text and the primary button, in both themes
    body_text_color_subdued="#4b5563",
    body_text_color_subdued_dark="#c4c9d2",
    button_primary_background_fill="#1d4ed8",
    button_primary_background_fill_hover="#1e40af",
    button_primary_background_fill_dark="#1d4ed8",
    button_primary_background_fill_hover_dark="#1e40af",
    button_primary_text_color="#ffffff",
    button_primary_text_color_dark="#ffffff",
    input_placeholder_color="#6b7280",
    input_placeholder_color_dark="#a3aab5",
)
MAX_K = 10
MAX_EXAMPLES = 4
CONVERSATION_TTL_S = 6 * 3600  # a conversation untouched this long is let go (the browser keeps a copy)
QUEUE_MAX = 64  # questions waiting in the chat's queue; one more is told the queue is full
EXAMPLES_WAIT_S = 30.0  # an upload's status waits this long at most for the new example questions
PROGRESS_EVERY_S = 0.5  # how often an upload or removal in progress says how far it has come
# what documents_view outputs: header, box, the examples, list, scope, removal, known, chat, article
VIEW_OUTPUTS = MAX_EXAMPLES + 8
UPLOAD_LABEL = (
    f"Add documents (.txt, .md, .html, .csv, .pdf, .docx, {library.MAX_UPLOAD_BYTES // 2**20} MB "
    "each at most)"
)
SAVED_KEY = "rag-conversation"
SAVE_JS = f"(v) => {{ try {{ localStorage.setItem('{SAVED_KEY}', v || ''); }} catch (e) {{}} }}"
RESTORE_JS = (
    f"(v) => {{ try {{ return [localStorage.getItem('{SAVED_KEY}') || '']; }} catch (e) {{ return ['']; }} }}"
)
EXPORT_JS = """(v) => {
  let text = "";
  try { text = JSON.parse(v || "{}").markdown || ""; } catch (e) {}
  if (!text) return;
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type: "text/markdown" }));
  a.download = "conversation.md";
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}"""


@dataclasses.dataclass
class Served:
    """What the server answers from now; replaced as a whole after an upload or a removal."""

    engine: Engine
    examples: tuple[str, ...]

    @property
    def documents(self) -> dict[str, Document]:
        return self.engine.documents

    @property
    def subject(self) -> str:
        return naming.subject(self.documents)


class ChatApp:
    """The handlers behind the page; `live` is what every session answers from now."""

    def __init__(self, engine: Engine) -> None:
        self.settings = engine.settings
        self.default_k = max(1, min(MAX_K, self.settings.top_k))
        self.changing = threading.Lock()  # one upload or removal at a time
        self.line = Line(width=self.settings.chat_concurrency)  # questions wait here, told their place
        self._swap = threading.Lock()  # guards replacing `live`
        self.examples_ready = threading.Event()  # set when the examples of `live` are drawn
        self.live = Served(engine, ())
        self._suggest(self.live)

    def _suggest(self, served: Served) -> None:
        """Draw `served`'s example questions in the background (asking each takes a while on a long
        document): the server listens at once, and the examples join the page when they are ready."""
        self.examples_ready.clear()

        def draw() -> None:
            found: tuple[str, ...] = ()
            try:
                # asked of the extractive reader: cheap, and no LLM kept busy (or its server's replies
                # interrupted) by questions nobody asked
                quoting = served.engine.with_settings(served.engine.settings.replace(reader="extractive"))
                found = tuple(draw_examples(served.documents, quoting.ask))
            except Exception as exc:  # examples are a nicety: the page works without them
                print(f"warning: no example questions ({type(exc).__name__})", file=sys.stderr, flush=True)
            with self._swap:
                if self.live is served:
                    self.live = dataclasses.replace(served, examples=found)
                    self.examples_ready.set()

        threading.Thread(target=draw, daemon=True, name="rag-suggest").start()

    def page(self, conv: Conversation) -> tuple[str, str]:
        live = self.live
        return chat_html(conv, live.documents, subject=live.subject), article_html(conv, live.documents)

    def chat_turn(
        self,
        question: str,
        k: float,
        scope: list[str] | None,
        conv: Conversation,
        known: list[str] | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """One question: a provisional bubble while the answer is written, then the verified answer.
        It searches the documents of the index now (`known`: those the tab listed; any added since
        are searched too) and says so when a document it needs went away.

        Outputs: chat, article, conversation, question box, saved conversation, scope, known."""
        question = question if isinstance(question, str) else ""
        if not question.strip():  # nothing to ask: no bubble, no message
            yield (gr.skip(),) * 7
            return
        live = self.live
        bubble = partial(chat_html, conv, live.documents, subject=live.subject)
        # kept with the conversation until answered: a reload meanwhile puts the question back in the box
        yield (
            bubble(pending=(question, "")),
            gr.skip(),
            conv,
            "",
            _saved(conv, live.documents, question),
            *(gr.skip(),) * 2,
        )
        chosen, gone = _scope(scope, live.documents, known)
        answer: Answer | None = None
        if chosen is not None and not chosen:
            message = "no document is chosen to search; tick at least one under Documents"
            if gone:
                message = f"{_names(gone)} {_is_gone(gone)}; choose among the documents listed now"
            answer = Answer(question=question, answer=message, abstained=True, error=message)
        else:
            ticket = self.line.join()  # left when answered, or when the tab closes (the generator is closed)
            try:
                waited = False
                for ahead in self.line.wait(ticket):
                    waited = True
                    yield bubble(pending=(question, ""), waiting=ahead_text(ahead)), *(gr.skip(),) * 6
                if waited:
                    yield bubble(pending=(question, "")), *(gr.skip(),) * 6
                pieces: list[str] = []
                k_used = _clamp_k(k, self.default_k)
                for item in live.engine.stream(question, conv.history(), k=k_used, doc_ids=chosen):
                    if isinstance(item, Answer):
                        answer = item
                        break
                    pieces.append(item)
                    yield bubble(pending=(question, "".join(pieces))), *(gr.skip(),) * 6
            except LineFull as exc:
                answer = Answer(question=question, answer=str(exc), abstained=True, error=str(exc))
            finally:
                self.line.leave(ticket)
        assert answer is not None  # Engine.stream always ends with the Answer
        answer = self._still_there(answer)
        conv = conv.add(question, answer)
        keep_typed = question if answer.error else gr.skip()  # a refused question returns to the box
        now = self.live
        names = sorted(now.documents)
        ticked = (
            names
            if chosen is None
            else sorted((set(chosen) | (set(names) - set(known or names))) & set(names))
        )
        yield (
            *self.page(conv),
            conv,
            keep_typed,
            _saved(conv, now.documents),
            gr.update(choices=names, value=ticked),
            names,
        )

    def _still_there(self, answer: Answer) -> Answer:
        """The answer, or what to say instead when a document it quotes was removed meanwhile."""
        gone = sorted({c.doc_id for c in answer.citations} - set(self.live.documents))
        if not gone:
            return answer
        message = f"{_names(gone)} {_is_gone(gone)} while this question was answered; ask again"
        return Answer(question=answer.question, answer=message, abstained=True, error=message)

    def clear(self) -> tuple[Any, ...]:
        empty = Conversation()
        return (*self.page(empty), empty, "", _saved(empty, self.live.documents))

    def restore(self, text: str) -> tuple[Any, ...]:
        """The conversation the browser kept; a question still unanswered when the page was left
        (reloaded while it was being answered) returns to the question box.

        Outputs: chat, article, conversation, saved conversation, question box."""
        conv = saved.loads(text, self.live.documents)
        unanswered = saved.pending(text)
        return (*self.page(conv), conv, _saved(conv, self.live.documents), unanswered or gr.skip())

    def ask_api(self, question: str, k: int | None = None) -> dict[str, Any]:
        """Answer one question about the indexed documents; the same JSON as `rag ask --json`."""
        return self.live.engine.ask(question, k=_clamp_k(k, self.default_k)).to_dict()

    def examples_api(self) -> list[str]:
        """The example questions the page offers now ([] while they are being drawn)."""
        return list(self.live.examples)

    def add(self, files: Sequence[Any] | None, conv: Conversation) -> Iterator[tuple[Any, ...]]:
        """Index uploaded files (Gradio's temporary copies, removed afterwards: the index keeps its own),
        in a job of their own; this reports its progress until it is done."""
        paths = [Path(f if isinstance(f, str) else getattr(f, "name", str(f))) for f in files or []]

        def run(embedder: Embedder) -> library.Change:
            try:
                return self.live.engine.add_files(paths, embedder=embedder)
            finally:
                for path in paths:
                    path.unlink(missing_ok=True)

        names = ", ".join(p.name for p in paths) or "nothing"
        yield from self._change(run, f"Adding {names}", conv)

    def ask_to_remove(self, doc_id: str | None) -> tuple[Any, ...]:
        """The question asked before a removal: what goes, and whether a file is deleted.

        Outputs: the confirmation row, its text, the status line."""
        doc = self.live.documents.get(doc_id or "")
        if doc is None:
            return (
                gr.update(visible=False),
                gr.skip(),
                _status("Choose a document to remove first.", error=True),
            )
        if len(self.live.documents) == 1:  # nothing to ask: the removal would be refused
            message = f"{doc.doc_id} is the only document; add another before removing it."
            return gr.update(visible=False), gr.skip(), _status(message, error=True)
        if library.is_upload(doc, self.settings):
            what = "Its uploaded copy will be deleted; to search it again, upload it again."
        else:
            what = "The file itself stays where it is; only the index forgets it."
        question = f"<p><strong>Remove {esc(doc.doc_id)} from the index?</strong> {esc(what)}</p>"
        return gr.update(visible=True), question, ""

    def remove_confirmed(self, doc_id: str | None, conv: Conversation) -> Iterator[tuple[Any, ...]]:
        for outputs in self.remove(doc_id, conv):
            yield (*outputs, gr.update(visible=False))

    def remove(self, doc_id: str | None, conv: Conversation) -> Iterator[tuple[Any, ...]]:
        if not doc_id:
            yield (*(gr.skip(),) * VIEW_OUTPUTS, _status("Choose a document to remove first.", error=True))
            return

        def run(embedder: Embedder) -> library.Change:
            return self.live.engine.remove_document(doc_id, embedder=embedder)

        yield from self._change(run, f"Removing {doc_id}", conv)

    def _change(
        self, run: Callable[[Embedder], library.Change], name: str, conv: Conversation
    ) -> Iterator[tuple[Any, ...]]:
        """Run an upload or removal in a job (one at a time; the engine answers from the new index),
        then show its documents. Yields the job's progress every PROGRESS_EVERY_S until it is done."""

        def job_body(report: Callable[[str], None]) -> library.Change:
            with self.changing:
                report("reading the documents")
                change = run(ReportingEmbedder(self.live.engine.embedder, report))
                self._refresh()
                return change

        job = Job.start(job_body, name)
        while not job.wait(PROGRESS_EVERY_S):
            yield (*(gr.skip(),) * VIEW_OUTPUTS, _status(job.status()))
        if isinstance(job.error, (RagError, OSError)):
            yield (*(gr.skip(),) * VIEW_OUTPUTS, _status(self._shown(str(job.error)), error=True))
            return
        if job.error is not None:
            raise job.error
        message = self._shown(job.result.message)
        deadline = time.monotonic() + EXAMPLES_WAIT_S  # the page shows the new documents' examples
        while not self.examples_ready.wait(PROGRESS_EVERY_S) and time.monotonic() < deadline:
            yield (*(gr.skip(),) * VIEW_OUTPUTS, _status(f"{message} Choosing example questions…"))
        yield (*self.documents_view(conv), _status(message))

    def _shown(self, message: str) -> str:
        """A message as the page shows it: files named relative to the index, no server folders."""
        return server.client_text(message, self.settings.index_dir)

    def reload(self) -> str:
        """Serve the index generation now committed on disk (`rag index` rebuilt it while the server
        ran); the notice for the server's log, '' when nothing changed."""
        with self.changing:
            message = self.live.engine.reload()
            if message.startswith("notice"):
                self._refresh()
        return message

    def _refresh(self) -> None:
        """The engine answers from a new index: serve it at once, its example questions drawn anew
        in the background."""
        served = Served(self.live.engine, ())
        with self._swap:
            self.live = served
        self._suggest(served)

    def documents_view(self, conv: Conversation) -> tuple[Any, ...]:
        """Everything that names or lists the documents, for the current index.

        Outputs: header, question box, the example buttons, document list, scope, removal choice,
        chat, article."""
        return (*self.library_view(), *self.page(conv))

    def library_view(self) -> tuple[Any, ...]:
        """What names or lists the documents, as they are now (a tab gets it on load, so a tab opened
        after an upload or a `rag index` sees the documents it answers from).

        Outputs: header, question box, the example buttons, document list, scope, removal choice, known."""
        live = self.live
        names = sorted(live.documents)
        return (
            _header(live),
            gr.update(placeholder=_placeholder(live)),
            *[
                gr.update(value=q, visible=True) if q else gr.update(visible=False)
                for q in _example_slots(live)
            ],
            documents_html(live, self.settings),
            gr.update(choices=names, value=names),
            gr.update(choices=names, value=None),
            names,
        )


def build_app(settings: Settings, engine: Engine | None = None) -> gr.Blocks:
    """The Gradio app over `engine` (default: the process's engine for `settings`, loaded now)."""
    handlers = ChatApp(engine or get_engine(settings))
    live = handlers.live
    with gr.Blocks(title=naming.title(live.documents), analytics_enabled=False) as app:
        conv = gr.State(Conversation(), time_to_live=CONVERSATION_TTL_S)  # a forgotten tab frees its own
        known = gr.State(sorted(live.documents))  # the documents this tab has listed
        header = gr.HTML(_header(live), elem_id="rag-header")
        gr.HTML(
            '<div id="rag-live" class="sr-only" role="status" aria-live="polite" aria-atomic="true"></div>',
            elem_id="rag-live-box",
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
                chat = gr.HTML(
                    chat_html(Conversation(), live.documents, subject=live.subject),
                    elem_id="rag-chat",
                    js_on_load=CHAT_JS,
                    apply_default_css=False,
                )
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        label="Your question",
                        placeholder=_placeholder(live),
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
                    example_buttons = [
                        gr.Button(q or "-", size="sm", min_width=60, scale=0, visible=bool(q))
                        for q in _example_slots(live)
                    ]
                with gr.Row(elem_id="rag-conv-tools"):
                    clear_button = gr.Button("New conversation", size="sm", scale=0, elem_id="rag-clear")
                    export_button = gr.Button("Export as Markdown", size="sm", scale=0, elem_id="rag-export")
                with gr.Accordion("Documents", open=False, elem_id="rag-docs"):
                    docs_list = gr.HTML(documents_html(live, handlers.settings), elem_id="rag-doc-list")
                    names = sorted(live.documents)
                    scope = gr.CheckboxGroup(names, value=names, label="Search in", elem_id="rag-scope")
                    upload = gr.UploadButton(
                        UPLOAD_LABEL,
                        file_types=list(library.UPLOAD_SUFFIXES),
                        file_count="multiple",
                        size="sm",
                        elem_id="rag-upload",
                    )
                    with gr.Row(equal_height=True):
                        to_remove = gr.Dropdown(
                            names,
                            value=None,
                            label="Document to remove",
                            scale=3,
                            elem_id="rag-remove-choice",
                        )
                        remove_button = gr.Button(
                            "Remove from index", size="sm", scale=1, elem_id="rag-remove"
                        )
                    with gr.Group(visible=False, elem_id="rag-remove-confirm") as confirm_box:
                        confirm_text = gr.HTML("", elem_id="rag-remove-question")
                        with gr.Row(equal_height=True):
                            confirm_yes = gr.Button(
                                "Yes, remove it",
                                size="sm",
                                variant="primary",
                                scale=0,
                                elem_id="rag-remove-yes",
                            )
                            confirm_no = gr.Button("Keep it", size="sm", scale=0, elem_id="rag-remove-no")
                    status = gr.HTML("", elem_id="rag-doc-status")
                with gr.Accordion("Details", open=False, elem_id="rag-details"):
                    k = gr.Slider(
                        1,
                        MAX_K,
                        value=handlers.default_k,
                        step=1,
                        label="Passages to retrieve (k)",
                        elem_id="rag-k",
                    )
            with gr.Column(scale=2, min_width=300):
                article = gr.HTML(
                    article_html(Conversation(), live.documents),
                    elem_id="rag-article",
                    js_on_load=ARTICLE_JS,
                    apply_default_css=False,
                )
        saved_box = gr.Textbox(visible="hidden", elem_id="rag-saved", label="Saved conversation")

        common: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
        turn_outputs = [chat, article, conv, question, saved_box, scope, known]
        # questions start at once and wait in handlers.line, which tells each how many are ahead
        turns: dict[str, Any] = {"trigger_mode": "once", "concurrency_limit": None, **common}
        gr.on(
            [question.submit, ask_button.click],
            handlers.chat_turn,
            [question, k, scope, conv, known],
            turn_outputs,
            **turns,
        )
        for button in example_buttons:
            button.click(handlers.chat_turn, [button, k, scope, conv, known], turn_outputs, **turns)
        clear_button.click(handlers.clear, None, [chat, article, conv, question, saved_box], **common)
        export_button.click(None, saved_box, None, js=EXPORT_JS, **common)
        saved_box.change(None, saved_box, None, js=SAVE_JS, **common)
        restored = [chat, article, conv, saved_box, question]
        app.load(handlers.restore, saved_box, restored, js=RESTORE_JS, **common)

        listing = [header, question, *example_buttons, docs_list, scope, to_remove, known]
        app.load(handlers.library_view, None, listing, **common)
        view = [*listing, chat, article, status]
        upload.upload(handlers.add, [upload, conv], view, **common)
        remove_button.click(handlers.ask_to_remove, to_remove, [confirm_box, confirm_text, status], **common)
        confirm_yes.click(handlers.remove_confirmed, [to_remove, conv], [*view, confirm_box], **common)
        confirm_no.click(lambda: gr.update(visible=False), None, confirm_box, **common)
        to_remove.change(lambda: gr.update(visible=False), None, confirm_box, **common)
        gr.api(handlers.ask_api, api_name="ask")
        gr.api(handlers.examples_api, api_name="examples")
    app.queue(max_size=QUEUE_MAX)
    app.rag_chat = handlers  # what launch() hands the guard (index reloads) and the OpenAI-compatible API
    return app


def launch(
    app: gr.Blocks,
    host: str = "127.0.0.1",
    port: int = 7860,
    *,
    block: bool = True,
    auth_token: str = "",
) -> str:
    """Serve `app` on host:port (never a public share link), behind the guard of ui/server.py
    (body and upload caps, optional token, bounded sessions, short logs, index reloads), with the
    OpenAI-compatible routes of ui/openai_api.py in front of Gradio's own."""
    chat: ChatApp | None = getattr(app, "rag_chat", None)
    options = server.launch_options(
        app,
        auth_token,
        index_dir=chat.settings.index_dir if chat else None,
        index_changed=chat.live.engine.index_changed if chat else None,
        reload=chat.reload if chat else None,
    )
    if chat is not None:
        options["app_kwargs"]["routes"] = openai_api.routes(lambda: chat.live.engine, line=chat.line)
    connections.raise_open_files_limit()
    connections.bound_repeated_logs()
    try:
        with connections.guarded_servers(connections.Limits.from_env()):
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
                **options,
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
    server.stop_on_signals()
    warning = server.bind_warning(host, port, token)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    print(f"loading the model and the index in {settings.index_dir} …", file=sys.stderr, flush=True)
    engine = get_engine(settings)
    if engine.index.warning:
        print(f"warning: {engine.index.warning}", file=sys.stderr, flush=True)
    reader, missing = engine.reader_choice()
    why = f" (the LLM reader cannot run here: {missing})" if missing else ""
    print(f"answers are written by the {reader} reader{why}", file=sys.stderr, flush=True)
    app = build_app(settings, engine)
    launch(app, host, port, block=True, auth_token=token)


def documents_html(live: Served, settings: Settings) -> str:
    """The indexed documents, each with its size and whether it was uploaded here."""
    rows = []
    for doc_id, doc in sorted(live.documents.items()):
        words = len(doc.text.split())
        origin = "uploaded" if library.is_upload(doc, settings) else "indexed from disk"
        rows.append(
            f"<li><code>{esc(doc_id)}</code> <span class='meta'>{words:,} words · {origin}</span></li>"
        )
    count = len(rows)
    return (
        f"<p class='doc-count'>{count} document{'s' if count != 1 else ''} in the index</p>"
        f"<ul class='doc-list'>{''.join(rows)}</ul>"
    )


def _example_slots(live: Served) -> list[str]:
    """The example questions, padded with "" (a hidden button) to MAX_EXAMPLES."""
    return [*live.examples, *[""] * MAX_EXAMPLES][:MAX_EXAMPLES]


def _scope(
    chosen: list[str] | None, documents: dict[str, Document], known: list[str] | None = None
) -> tuple[frozenset[str] | None, list[str]]:
    """The documents a question searches (None: all of them), and those chosen that are gone.

    A document the tab did not list (`known`: added since, by another tab or `rag index`) is searched."""
    if chosen is None:
        return None, []
    current = frozenset(documents)
    gone = sorted(set(chosen) - current)
    new = current - set(known) if known is not None else frozenset()
    picked = frozenset(c for c in chosen if c in current) | new
    return (None if picked == current else picked), gone


def _names(doc_ids: list[str]) -> str:
    return ", ".join(doc_ids)


def _is_gone(doc_ids: list[str]) -> str:
    verb = "were" if len(doc_ids) > 1 else "was"
    return f"{verb} removed from the index (in another tab, or by `rag index`)"


def _saved(conv: Conversation, documents: dict[str, Document], pending: str = "") -> str:
    """The conversation for the browser to keep, with its Markdown for the export button and the
    question being answered now, if any."""
    markdown = conversation_markdown(conv, documents, f"Conversation with {naming.subject(documents)}")
    return saved.dumps(conv, markdown=markdown, **({"pending": pending} if pending else {}))


def _status(message: str, *, error: bool = False) -> str:
    return f'<p class="doc-status{" error" if error else ""}" role="status">{esc(message)}</p>'


def _placeholder(live: Served) -> str:
    example = f", e.g. {live.examples[0]}" if live.examples else ""
    return f"Ask a question about {live.subject}{example}"


def _clamp_k(k: object, default: int) -> int:
    try:
        value = int(float(k))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):  # "abc", None, "inf"
        return default
    return max(1, min(MAX_K, value))


def _header(live: Served) -> str:
    doc_ids = sorted(live.documents)
    names = ", ".join(doc_ids[:3]) + (f" and {len(doc_ids) - 3} more" if len(doc_ids) > 3 else "")
    return (
        f"<h1>{esc(naming.title(doc_ids))}</h1>"
        f"<p>Answers come only from <code>{esc(names)}</code>, quoted word for word. "
        f"Click a number to see its quote in {esc(live.subject)}.</p>"
    )

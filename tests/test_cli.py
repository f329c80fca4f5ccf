"""The CLI as a user runs it: a real subprocess, real model and index; exit codes and JSON shape."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import Settings
from tests.conftest import ARTICLE

RAG = [sys.executable, "-m", "cli.main"]


def _run(args: list[str], settings: Settings, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "RAG_INDEX_DIR": str(settings.index_dir),
        "RAG_SEEDS_DIR": str(settings.seeds_dir),
        **env,
    }
    return subprocess.run(RAG + args, capture_output=True, text=True, env=full_env, timeout=300)


@pytest.mark.slow
def test_index_then_ask_json(article_settings: Settings, engine) -> None:  # type: ignore[no-untyped-def]
    done = _run(["index"], article_settings)
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout or "indexed 1 document " in done.stdout
    out = _run(["ask", "Which airline did the US ease sanctions on?", "--json"], article_settings)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)  # exactly one JSON object
    assert data["abstained"] is False and "Belavia" in data["answer"]
    text = ARTICLE.read_text(encoding="utf-8")
    assert all(text[c["start"] : c["end"]] == c["quote"] for c in data["citations"])
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_ask_readable_output_and_k(article_settings: Settings, engine) -> None:  # type: ignore[no-untyped-def]
    out = _run(["ask", "Why did Belarus free 100 prisoners?", "-k", "3"], article_settings)
    assert out.returncode == 0, out.stderr
    assert "does not say" in out.stdout and "Closest passages" in out.stdout
    out = _run(["ask", "How many political prisoners were freed?", "--json", "-k", "2"], article_settings)
    assert len(json.loads(out.stdout)["passages"]) == 2


def test_user_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    settings = Settings(seeds_dir=tmp_path / "nothing", index_dir=tmp_path / "idx")
    cases = [
        (["ask", ""], 2, "empty"),
        (["ask", "x" * 1001], 2, "limit is 1,000"),
        (["ask", "?", "-k", "0"], 2, "expected 1 to 100"),
        (["index", str(tmp_path / "missing")], 1, "does not exist"),
    ]
    for args, code, message in cases:
        out = _run(args, settings)
        assert out.returncode == code, (args, out.stderr)
        assert message in out.stderr
        assert "Traceback" not in out.stderr


def test_index_with_no_documents_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blank.txt").write_text("   \n", encoding="utf-8")
    out = _run(["index", str(empty)], Settings(seeds_dir=empty, index_dir=tmp_path / "idx"))
    assert out.returncode == 1
    assert out.stderr.startswith("error: nothing to index") and "blank.txt" in out.stderr


def test_help_is_fast_and_lists_commands() -> None:
    out = subprocess.run([*RAG, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for command in ("index", "ask", "eval", "serve"):
        assert command in out.stdout


# ---------------------------------------------------------------- CLI habits (issue 12, item 7)


def test_version_and_every_flag_has_help() -> None:
    from cli.main import build_parser

    out = subprocess.run([*RAG, "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.startswith("rag ") and out.stdout.strip() != "rag"
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert "chat" in subparsers.choices
    for name, sub in [("rag", parser), *subparsers.choices.items()]:
        for action in sub._actions:
            assert action.help and action.help != argparse.SUPPRESS, (
                name,
                action.option_strings or action.dest,
            )


@pytest.mark.parametrize(
    "args, message",
    [
        (["ask", "", "--json"], "empty"),
        (["ask", "   ", "--json"], "empty"),
        (["ask", "x" * 1001, "--json"], "limit is 1,000"),
        (["ask", "why?", "-k", "0", "--json"], "expected 1 to 100"),
        (["ask", "--json"], "required"),
    ],
)
def test_json_errors_are_one_json_object(tmp_path: Path, args: list[str], message: str) -> None:
    settings = Settings(seeds_dir=tmp_path / "nothing", index_dir=tmp_path / "idx")
    out = _run(args, settings)
    assert out.returncode == 2, out.stderr
    data = json.loads(out.stdout)  # exactly one JSON object, nothing else on stdout
    assert message in data["error"] and data["kind"] == "error"
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_each_quote_is_printed_once(article_settings: Settings, engine) -> None:  # type: ignore[no-untyped-def]
    out = _run(["ask", "Why did Poland close its border?"], article_settings)
    assert out.returncode == 0, out.stderr
    data = json.loads(_run(["ask", "Why did Poland close its border?", "--json"], article_settings).stdout)
    assert data["citations"]
    for c in data["citations"]:
        assert out.stdout.count(c["quote"]) == 1, out.stdout
    # the lead names what answers ("The article says:", as the JSON's answer does), once, then each quote
    lead = "The article says:"
    assert out.stdout.count(lead) == (1 if data["answer"].startswith(lead) else 0)
    assert "From the documents" not in out.stdout  # one article is not "the documents"
    assert "Batches" not in out.stderr and "%|" not in out.stderr  # no progress bars off a terminal


@pytest.mark.slow
def test_terminal_output_has_no_control_characters(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    evil_name = "keeper\nnotes.txt"
    text = (
        "The lighthouse keeper, Oskar \x1b[2J\x1b]0;pwned\x07Lind, retired on Friday after forty years.\n"
        "His \u202eniatpac\u202c friend took over the lamp.\n"
    )
    (docs / evil_name).write_text(text, encoding="utf-8")
    settings = Settings(seeds_dir=docs, index_dir=tmp_path / "idx")
    done = _run(["index", str(docs)], settings)
    assert done.returncode == 0, done.stderr
    question = "Who retired on Friday after forty years?"
    raw_json = _run(["ask", question, "--json"], settings).stdout
    out = _run(["ask", question], settings)
    assert out.returncode == 0, out.stderr
    for shown in (out.stdout, out.stderr, raw_json):
        assert not any(ch in shown for ch in "\x1b\x07\u202e\u202c"), shown
    data = json.loads(raw_json)  # the JSON keeps the exact text, escaped
    assert data["citations"]
    for c in data["citations"]:  # the readable form shows control characters as escapes
        if "\n" in c["doc_id"]:
            assert "keeper\\nnotes.txt" in out.stdout  # the file name's line break
        if "\x1b" in c["quote"]:
            assert "\\x1b[2J" in out.stdout  # the document's escape sequence, shown, not obeyed
    lamp = _run(["ask", "Who took over the lamp?", "--json"], settings).stdout
    assert not any(ch in lamp for ch in "\x1b\u202e\u202c") and json.loads(lamp)


def test_chat_session_commands_with_a_fake_pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from cli import chat as cli_chat
    from rag.types import Answer

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    seen: list[list[tuple[str, str]]] = []

    def ask(question: str, history: list[tuple[str, str | Answer]]) -> Answer:
        # the history carries Answers; compare what they said
        seen.append([(q, a.answer if isinstance(a, Answer) else a) for q, a in history])
        return Answer(question=question, answer=f"answer to {question}", abstained=False)

    settings = Settings(index_dir=tmp_path / "idx")
    stdin = io.StringIO("first?\n\nsecond?\n/new\nthird?\n/help\n")  # ends without /quit: Ctrl-D
    stdout = io.StringIO()
    assert cli_chat.run(settings, resume=False, ask=ask, stdin=stdin, stdout=stdout) == 0
    assert seen == [[], [("first?", "answer to first?")], []]  # /new forgot the first two turns
    assert "(a new conversation)" in stdout.getvalue() and "/quit" in stdout.getvalue()
    # --continue picks up the saved session: only "third?" is left after /new
    cli_chat.run(settings, resume=True, ask=ask, stdin=io.StringIO("fourth?\n/quit\nnever?\n"), stdout=stdout)
    assert seen[-1] == [("third?", "answer to third?")] and len(seen) == 4


@pytest.mark.slow
def test_rag_chat_follow_ups_and_continue(article_settings: Settings, engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    state = str(tmp_path / "state")
    first = subprocess.run(
        [*RAG, "chat"],
        input="Who led the talks in Minsk?\nWhat did he give Lukashenko?\n/quit\n",
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "RAG_INDEX_DIR": str(article_settings.index_dir), "XDG_STATE_HOME": state},
    )
    assert first.returncode == 0, first.stderr
    assert "Understood as: What did John Coale give Lukashenko?" in first.stdout
    assert "[1] “" in first.stdout and "Traceback" not in first.stderr
    # a new process with --continue knows the conversation: "he" still resolves
    again = subprocess.run(
        [*RAG, "chat", "--continue"],
        input="Who led the talks in Minsk?\nWhere did he meet Lukashenko?\n",
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "RAG_INDEX_DIR": str(article_settings.index_dir), "XDG_STATE_HOME": state},
    )
    assert again.returncode == 0, again.stderr
    assert "continuing a conversation of 2 turns" in again.stdout
    assert "Understood as: Where did John Coale meet Lukashenko?" in again.stdout


@pytest.mark.slow
def test_by_default_ask_uses_the_llm_reader_when_it_can_run_and_says_why_not_when_it_cannot(
    article_settings: Settings,
    engine,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    from tests.test_llm_reader import smollm2_path

    question = ["ask", "Which airline did the US ease sanctions on?", "--json"]
    missing = tmp_path / "no-model.gguf"
    out = _run(question, article_settings, RAG_READER="", RAG_LLM_URL="", RAG_LLM_MODEL_PATH=str(missing))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["reader"] == "extractive" and "Belavia" in data["answer"]
    assert str(missing) in data["reader_note"] and "make llm-model" in data["reader_note"]
    assert "make llm-model" in out.stderr  # the note is shown, not only recorded
    # the same without a model file, but the extractive reader chosen: no note
    chosen = _run(question, article_settings, RAG_READER="extractive", RAG_LLM_MODEL_PATH=str(missing))
    assert json.loads(chosen.stdout)["reader_note"] == ""
    # with a model file (SmolLM2, small and fast), the LLM reader reads the passages: the judge ran
    small = _run(
        question, article_settings, RAG_READER="", RAG_LLM_URL="", RAG_LLM_MODEL_PATH=str(smollm2_path())
    )
    assert small.returncode == 0, small.stderr
    data = json.loads(small.stdout)
    assert "answerability" in data["timings_ms"] and "p_yes" in data["signals"]
    assert "cannot run here" not in data["reader_note"]

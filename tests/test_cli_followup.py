"""Follow-ups from the shell and progress on a terminal, through the real CLI (a subprocess, the real
model and index over the article): `rag ask --history FILE` and `rag ask --continue` carry the
conversation between calls; with the LLM reader (a real llama-cpp-python server running SmolLM2) a
spinner shows on the terminal at once, then the draft, then the verified answer."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cli.progress import FRAMES, SPINNER_TEXT, show_progress
from rag.config import Settings
from tests import test_llm_reader

RAG = [sys.executable, "-m", "cli.main"]
llm_server = test_llm_reader.llm_server  # llama-cpp-python's server with SmolLM2 on a loopback port


def _env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RAG_INDEX_DIR": str(settings.index_dir),
        "RAG_SEEDS_DIR": str(settings.seeds_dir),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(RAG + args, capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow
def test_ask_history_file_carries_a_follow_up(article_settings: Settings, engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    env = _env(article_settings, tmp_path)
    conversation = tmp_path / "talks.json"
    first = _run(["ask", "--history", str(conversation), "Who led the talks in Minsk?"], env)
    assert first.returncode == 0, first.stderr
    assert len(json.loads(conversation.read_text(encoding="utf-8"))["turns"]) == 1
    follow = _run(["ask", "--history", str(conversation), "What did he give Lukashenko?", "--json"], env)
    assert follow.returncode == 0, follow.stderr
    assert json.loads(follow.stdout)["resolved_question"] == "What did John Coale give Lukashenko?"
    turns = json.loads(conversation.read_text(encoding="utf-8"))["turns"]
    assert [t["question"] for t in turns] == ["Who led the talks in Minsk?", "What did he give Lukashenko?"]

    # without the history the same words are not read as a follow-up
    alone = _run(["ask", "What did he give Lukashenko?", "--json"], env)
    assert json.loads(alone.stdout)["resolved_question"] != "What did John Coale give Lukashenko?"


@pytest.mark.slow
def test_ask_continue_shares_the_conversation_with_chat(
    article_settings: Settings, engine, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    env = _env(article_settings, tmp_path)
    assert _run(["ask", "--continue", "Who led the talks in Minsk?"], env).returncode == 0
    follow = _run(["ask", "--continue", "What did he give Lukashenko?", "--json"], env)
    assert json.loads(follow.stdout)["resolved_question"] == "What did John Coale give Lukashenko?"
    chat = subprocess.run(
        [*RAG, "chat", "--continue"], input="/quit\n", capture_output=True, text=True, env=env, timeout=300
    )
    assert "(continuing a conversation of 2 turns)" in chat.stdout


def test_a_history_file_that_is_not_a_conversation_is_never_overwritten(tmp_path: Path) -> None:
    settings = Settings(seeds_dir=tmp_path / "seeds", index_dir=tmp_path / "index")
    env = _env(settings, tmp_path)
    mine = tmp_path / "notes.json"
    mine.write_text('{"shopping": ["milk"]}', encoding="utf-8")
    out = _run(["ask", "--history", str(mine), "Who?"], env)
    assert out.returncode == 1 and "is not a conversation saved by `rag ask --history`" in out.stderr
    assert mine.read_text(encoding="utf-8") == '{"shopping": ["milk"]}'
    both = _run(["ask", "--history", str(mine), "--continue", "Who?"], env)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr


def test_progress_shows_a_spinner_then_the_words_then_clears() -> None:
    err = io.StringIO()

    def pieces():  # type: ignore[no-untyped-def]
        time.sleep(0.35)  # the model reading its prompt: only the spinner is seen
        yield "Fifty-two "
        yield "prisoners."
        yield 42

    assert show_progress(pieces(), live=True, stderr=err) == 42
    shown = err.getvalue()
    spin = shown.index(SPINNER_TEXT)
    assert spin < shown.index("Fifty-two") < shown.index("prisoners.")
    assert shown.count(SPINNER_TEXT) >= 2  # it turned while waiting
    assert SPINNER_TEXT not in shown[shown.index("Fifty-two") :]  # gone once the words come


QUESTION = "How many political prisoners were released?"


@pytest.mark.slow
@pytest.mark.parametrize("command", ["ask", "chat"])
def test_the_llm_reader_shows_a_spinner_at_once_then_the_draft(
    article_settings: Settings,
    engine,  # type: ignore[no-untyped-def]
    llm_server: str,
    tmp_path: Path,
    command: str,
) -> None:
    env = _env(article_settings, tmp_path)
    master, slave = pty.openpty()  # stderr is a terminal, as when a person runs it
    args = [command, "--reader", "llm", "--llm-url", llm_server, *([QUESTION] if command == "ask" else [])]
    t0 = time.monotonic()
    proc = subprocess.Popen(
        RAG + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=slave, env=env, text=True
    )
    os.close(slave)
    seen: list[tuple[float, str]] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            seen.append((time.monotonic() - t0, data.decode("utf-8", "replace")))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    stdout, _ = proc.communicate(QUESTION + "\n/quit\n" if command == "chat" else "", timeout=300)
    reader.join(timeout=5)
    os.close(master)
    assert proc.returncode == 0
    stderr = "".join(text for _, text in seen)
    first_spin = next(t for t, text in seen if any(f in text for f in FRAMES))
    assert SPINNER_TEXT in stderr
    assert "political prisoners" in stdout.lower() or "52" in stdout  # the verified answer on stdout
    assert stderr.rfind("\x1b[K") > stderr.index(SPINNER_TEXT)  # the spinner's line is cleared after
    print(f"rag {command}: first spinner frame {first_spin:.2f}s after start")

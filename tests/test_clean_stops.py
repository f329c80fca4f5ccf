"""Clean stops and small things (issue 18, item 7), through the real server and CLI.

SIGTERM, SIGHUP and SIGINT all leave no temporary files of `rag serve`; a damaged `rag chat
--continue` history is one line, not a traceback; a conversation's memory is bounded.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from cli.chat import Session, session_file
from rag.config import PROJECT_ROOT, Settings
from rag.types import Answer, Citation
from tests.conftest import free_port
from ui.render import MAX_TURNS, Conversation

CLI = [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]


def env_for(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    return {**env, "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1", **extra}


def upload(port: int, data: bytes) -> int:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="notes.txt"\r\n'
            f"Content-Type: text/plain\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(
            "POST", "/gradio_api/upload", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )
        return conn.getresponse().status
    finally:
        conn.close()


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_every_stop_signal_removes_the_servers_temporary_files(
    stop: str, tmp_path: Path, article_settings: Settings, engine: Any
) -> None:
    index = tmp_path / "index"
    shutil.copytree(article_settings.index_dir, index)
    temp = tmp_path / "tmp"
    temp.mkdir()
    port = free_port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--index-dir", str(index), "--port", str(port)],
        env=env_for(TMPDIR=str(temp), RAG_SEEDS_DIR=str(article_settings.seeds_dir)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        # as a terminal's Ctrl-C finds it: a test run started in the background (`cmd &` in a script) has
        # SIGINT ignored, and a child that inherits that never sees the SIGINT sent below
        preexec_fn=_default_sigint,
    )
    try:
        deadline = time.monotonic() + 300
        status = 0
        while time.monotonic() < deadline and proc.poll() is None and status != 200:
            try:
                status = upload(port, b"A note that stays in the server's temporary folder.\n")
            except OSError:
                time.sleep(0.5)
        assert status == 200
        held = [p for p in temp.iterdir() if p.name.startswith("rag-serve-uploads-")]
        assert held and any(f.is_file() for f in held[0].rglob("*"))
        proc.send_signal(getattr(signal, stop))
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    left = list(temp.iterdir())
    assert left == [], left


@pytest.mark.slow
@pytest.mark.parametrize("content", ['{"turns": 5}', '{"turns": null}'])
def test_a_bad_history_file_is_one_line(
    content: str, tmp_path: Path, article_settings: Settings, engine: Any
) -> None:
    state = tmp_path / "state"
    saved = state / "rag" / session_file(article_settings).name
    saved.parent.mkdir(parents=True)
    saved.write_text(content, encoding="utf-8")
    done = subprocess.run(
        [*CLI, "chat", "--continue", "--index-dir", str(article_settings.index_dir)],
        input="/quit\n",
        capture_output=True,
        text=True,
        timeout=300,
        env=env_for(XDG_STATE_HOME=str(state)),
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    notes = [line for line in done.stderr.splitlines() if "cannot be read" in line]
    assert len(notes) == 1 and notes[0].startswith("note: the saved conversation")


@pytest.mark.parametrize(
    "content", ['{"turns": 5}', '{"turns": null}', "[1, 2]", "{not json", "[" * 100_000, '"x"']
)
def test_every_damaged_history_starts_a_new_conversation(content: str, tmp_path: Path) -> None:
    import io

    saved = tmp_path / "chat.json"
    saved.write_text(content, encoding="utf-8")
    warn = io.StringIO()
    session = Session.resume(saved, warn=warn)
    assert session.turns == [] and warn.getvalue().count("\n") == 1


def test_a_conversation_keeps_a_bounded_number_of_turns() -> None:
    conv = Conversation()
    text = "Ships come and go. " * 20
    for i in range(3 * MAX_TURNS):
        cite = Citation(doc_id="d.txt", start=i, end=i + 10, quote=text[i : i + 10])
        conv = conv.add(
            f"Question {i}?",
            Answer(question=f"Question {i}?", answer="A.", abstained=False, citations=(cite,)),
        )
    assert len(conv.turns) == MAX_TURNS
    assert len(conv.numbers) == MAX_TURNS
    numbers = [conv.number(c) for t in conv.turns for c in t.answer.citations]
    assert len(set(numbers)) == len(numbers) and numbers == sorted(numbers)  # still distinct, in order
    assert json.dumps(sorted(conv.numbers.values()))  # plain numbers

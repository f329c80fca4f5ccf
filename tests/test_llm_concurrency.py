"""Several users at once through `rag serve --reader llm` on a shared llama.cpp server (real servers:
llama-cpp-python's OpenAI-compatible server running SmolLM2-135M, a real `rag serve` process with the
real embedding model and index): every question gets an answer, none an error, and the LLM server
was reached for each (no fallback because it failed or timed out). And a reply the server cuts short
(llama-cpp-python's server does when another request arrives, unless --interrupt_requests False) is an
error the reader falls back on, not a truncated answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from rag.readers.llm.backends import LLMError, OpenAIBackend
from tests.conftest import free_port, stop_process
from tests.test_llm_reader import smollm2_path
from ui.token_count import ServerTokens, estimate

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "How many political prisoners were released?",
    "Who is the US special envoy?",
    "Which airline did the US ease sanctions on?",
    "Why did Poland close its border?",
]


def start(cmd: list[str], env: dict[str, str], ready: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as sink:  # a file, not a pipe: the servers log a lot while loading
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    deadline = time.monotonic() + 300
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[2]} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(ready, timeout=5):
                return proc
        except OSError:
            if time.monotonic() > deadline:
                stop_process(proc)
                raise
            time.sleep(0.5)


@pytest.fixture(scope="module")
def shared_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A llama.cpp server and one `rag serve --reader llm` using it; the chat server's URL."""
    folder = tmp_path_factory.mktemp("shared-llm")
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_path()), "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--n_ctx", "2048", "--interrupt_requests", "False"]
    cmd += ["--flash_attn", "True", "--cache", "True"]
    llm_url = f"http://127.0.0.1:{port}/v1"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", RAG_INDEX_DIR=str(folder / "index"))
    subprocess.run([sys.executable, "-m", "cli.main", "index"], env=env, cwd=ROOT, check=True, timeout=300)
    llm = start(cmd, env, f"{llm_url}/models", folder / "llm.log")
    rag_port = free_port()
    env.update(RAG_READER="llm", RAG_LLM_URL=llm_url, RAG_CHAT_CONCURRENCY="2", RAG_LLM_TIMEOUT="300")
    rag_cmd = [sys.executable, "-m", "cli.main", "serve", "--port", str(rag_port)]
    url = f"http://127.0.0.1:{rag_port}"
    try:
        rag = start(rag_cmd, env, f"{url}/v1/models", folder / "rag.log")
    except BaseException:
        stop_process(llm)
        raise
    try:
        yield url
    finally:
        stop_process(rag)
        stop_process(llm)


def ask(url: str, question: str) -> tuple[int, dict[str, Any]]:
    body = json.dumps({"model": "rag", "messages": [{"role": "user", "content": question}]}).encode()
    request = urllib.request.Request(f"{url}/v1/chat/completions", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as resp:
        return resp.status, json.loads(resp.read())


def test_four_questions_at_once_all_get_answers(shared_deployment: str) -> None:
    with ThreadPoolExecutor(len(QUESTIONS)) as pool:
        replies = list(pool.map(lambda q: ask(shared_deployment, q), QUESTIONS))
    for question, (status, data) in zip(QUESTIONS, replies, strict=True):
        assert status == 200, (question, data)
        assert data["choices"][0]["message"]["content"].strip(), (question, data)
        rag = data["rag"]
        assert not rag.get("error"), (question, rag)
        assert rag["question"] == question
        # the model was asked and answered: no fallback because the LLM server failed or timed out
        assert "LLM server" not in (rag.get("reader_note") or ""), (question, rag["reader_note"])
        assert rag["reader"] == "llm" or rag.get("reader_note"), (question, rag)


@pytest.fixture(scope="module")
def interrupting_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's server as it starts by default: a new request cuts the reply being streamed."""
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_path()), "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--n_ctx", "2048"]
    url = f"http://127.0.0.1:{port}/v1"
    proc = start(cmd, dict(os.environ), f"{url}/models", tmp_path_factory.mktemp("llm") / "llm.log")
    try:
        yield url
    finally:
        stop_process(proc)


def test_a_reply_cut_short_by_the_server_is_an_error_not_an_answer(interrupting_server: str) -> None:
    writer = OpenAIBackend(interrupting_server)
    other = OpenAIBackend(interrupting_server)
    story = [{"role": "user", "content": "Tell a long story about a cat who sails around the world."}]
    pieces = writer.stream(story, 400)
    next(pieces)  # the reply has started
    other.yes_probability([{"role": "user", "content": "Is the sky blue? Answer yes or no."}])
    with pytest.raises(LLMError, match="interrupt_requests False"):
        list(pieces)


def test_a_tokenizer_that_does_not_answer_gives_the_estimate() -> None:
    """A busy shared server makes /extras/tokenize wait behind other users' replies: the usage
    count falls back to the estimate instead of failing the request."""
    gone = ServerTokens(f"http://127.0.0.1:{free_port()}/v1", "/extras/tokenize")
    assert gone.count("Who is the US special envoy?") == estimate("Who is the US special envoy?")

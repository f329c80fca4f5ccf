"""`rag serve` as a user starts it, called through `gradio_client` on the named endpoint `/ask`.

The server is a subprocess with RAG_INDEX_DIR / RAG_SEEDS_DIR in a temp folder (real model, real
FAISS over the article); the answer must be the JSON contract of `rag ask --json`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ARTICLE, free_port, stop_process

pytestmark = pytest.mark.slow

ANSWER_KEYS = {
    "question": str,
    "answer": str,
    "abstained": bool,
    "citations": list,
    "passages": list,
    "direct_answer": str,
    "confidence": float,
    "resolved_question": str,
    "error": str,
}
CITATION_KEYS = {"doc_id": str, "start": int, "end": int, "quote": str}
PASSAGE_KEYS = {"chunk_id": str, "doc_id": str, "start": int, "end": int, "score": float}
START_TIMEOUT_S = 240


@pytest.fixture(scope="module")
def served_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`rag serve --port N` over a temp index of the article; stopped after the module."""
    root = tmp_path_factory.mktemp("serve")
    seeds = root / "seeds"
    seeds.mkdir()
    shutil.copy(ARTICLE, seeds / ARTICLE.name)
    port = free_port()
    env = {
        **os.environ,
        "RAG_INDEX_DIR": str(root / "index"),
        "RAG_SEEDS_DIR": str(seeds),
        "HF_HUB_OFFLINE": "1",
    }
    log = (root / "serve.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parent.parent,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, proc, log)
        yield url
    finally:
        stop_process(proc)
        log.close()


def wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Any) -> None:
    import urllib.request

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"`rag serve` exited with {proc.returncode}:\n{log.read()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"`rag serve` did not answer at {url} within {START_TIMEOUT_S}s")


@pytest.fixture(scope="module")
def client(served_url: str) -> Any:
    from gradio_client import Client

    return Client(served_url, verbose=False)


def check_contract(result: Any) -> dict[str, Any]:
    assert isinstance(result, dict), f"/ask returned {type(result).__name__}, expected a dict"
    for name, kind in ANSWER_KEYS.items():
        assert isinstance(result[name], kind), f"{name}: {result[name]!r} is not {kind.__name__}"
    for c in result["citations"]:
        assert {k: type(c[k]) for k in CITATION_KEYS} == CITATION_KEYS
    for p in result["passages"]:
        assert all(isinstance(p[k], t) for k, t in PASSAGE_KEYS.items()), p
    return result


def test_ask_endpoint_returns_the_json_contract_with_verbatim_quotes(client: Any) -> None:
    article = ARTICLE.read_text(encoding="utf-8")
    result = check_contract(client.predict("Who is the US special envoy?", api_name="/ask"))
    assert not result["abstained"] and not result["error"]
    assert result["citations"], "an answer must quote the article"
    for c in result["citations"]:
        assert c["doc_id"] == ARTICLE.name
        assert article[c["start"] : c["end"]] == c["quote"]
    assert any("John Coale" in c["quote"] for c in result["citations"])
    assert len(result["passages"]) == 5  # the default k


def test_ask_endpoint_takes_k_and_reports_bad_questions(client: Any) -> None:
    assert len(check_contract(client.predict("Which airline?", 2, api_name="/ask"))["passages"]) == 2
    empty = check_contract(client.predict("   ", api_name="/ask"))
    assert empty["error"] and empty["abstained"] and not empty["citations"]
    too_long = check_contract(client.predict("why " * 400, api_name="/ask"))
    assert "limit" in too_long["error"]


def test_concurrent_requests_are_all_answered(served_url: str) -> None:
    from gradio_client import Client

    questions = ["Which airline did the US ease sanctions on?", "Who is the US special envoy?"] * 3

    def one(question: str) -> dict[str, Any]:
        result: dict[str, Any] = Client(served_url, verbose=False).predict(question, api_name="/ask")
        return result

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(one, questions))
    assert [r["question"] for r in results] == questions
    assert all(not r["error"] for r in results)

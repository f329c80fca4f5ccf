"""The OpenAI-compatible API behaves as its clients expect, called with the official `openai` client
against the real server (ui.app.launch): `usage` counts tokens (the estimate with the extractive
reader; the LLM's own tokenizer, through a real llama-cpp-python server, with the LLM reader), an
abstention is a `refusal` whose words stand alone, `max_tokens` cuts the answer (finish_reason
"length"), and `n` or `temperature` it cannot honour get a 400 naming the parameter."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from rag.config import Settings
from rag.pipeline import Engine
from tests import test_llm_reader, test_openai_api
from tests.conftest import free_port
from tests.test_openai_api import _client
from ui.token_count import ESTIMATE_RULE, estimate

openai = pytest.importorskip("openai")
tiny_server = test_openai_api.tiny_server  # the real app over a tiny document (fake embedder)
llm_server = test_llm_reader.llm_server  # llama-cpp-python's server with SmolLM2 on a loopback port

ANSWERED = [{"role": "user", "content": "Who was the captain of the winning crew?"}]
UNANSWERED = [{"role": "user", "content": "What is the price of a ticket to the moon?"}]


def test_usage_counts_the_messages_and_the_answer(tiny_server: tuple[str, Engine]) -> None:
    client = _client(tiny_server[0])
    messages = [{"role": "system", "content": "Be brief."}, *ANSWERED]
    reply = client.chat.completions.create(model="rag", messages=messages)
    usage = reply.usage
    assert usage is not None
    content = reply.choices[0].message.content or ""
    assert usage.prompt_tokens == estimate("Be brief.\n" + ANSWERED[0]["content"]) > 0
    assert usage.completion_tokens == estimate(content) > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert (usage.model_extra or {})["counted_by"] == ESTIMATE_RULE


def test_an_abstention_is_a_refusal_that_stands_alone(tiny_server: tuple[str, Engine]) -> None:
    client = _client(tiny_server[0])
    reply = client.chat.completions.create(model="rag", messages=UNANSWERED)
    message = reply.choices[0].message
    rag = (reply.model_extra or {})["rag"]
    assert rag["abstained"] and "below" in rag["answer"]  # the chat's text points at its passage list
    assert message.refusal and "below" not in message.refusal and "No answer was found" in message.refusal
    assert message.content == message.refusal  # for clients that only show content
    chunks = list(client.chat.completions.create(model="rag", messages=UNANSWERED, stream=True))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == message.refusal
    assert chunks[-1].choices[0].delta.refusal == message.refusal

    answered = client.chat.completions.create(model="rag", messages=ANSWERED).choices[0].message
    assert answered.refusal is None and answered.content and "[1]" in answered.content


def test_max_tokens_cuts_the_answer_and_says_so(tiny_server: tuple[str, Engine]) -> None:
    client = _client(tiny_server[0])
    whole = client.chat.completions.create(model="rag", messages=ANSWERED)
    full = whole.choices[0].message.content or ""
    assert whole.choices[0].finish_reason == "stop"
    cut = client.chat.completions.create(model="rag", messages=ANSWERED, max_tokens=4)
    content = cut.choices[0].message.content or ""
    assert cut.choices[0].finish_reason == "length"
    assert content and full.startswith(content) and len(content) < len(full)
    assert cut.usage is not None and cut.usage.completion_tokens <= 4
    cites = (cut.choices[0].message.model_extra or {})["citations"]
    assert all(f"[{c['index']}]" in content for c in cites)
    roomy = client.chat.completions.create(model="rag", messages=ANSWERED, max_completion_tokens=10_000)
    assert roomy.choices[0].message.content == full and roomy.choices[0].finish_reason == "stop"

    stream = client.chat.completions.create(
        model="rag", messages=ANSWERED, max_tokens=4, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == cut.usage.completion_tokens


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"n": 2}, "n"),
        ({"temperature": 0.7}, "temperature"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": "many"}, "max_tokens"),
    ],
)
def test_parameters_it_cannot_honour_get_a_clear_400(
    tiny_server: tuple[str, Engine],
    extra: dict[str, Any],
    param: str,
) -> None:
    client = _client(tiny_server[0])
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="rag", messages=ANSWERED, **extra)
    body = caught.value.body
    assert isinstance(body, dict) and body["param"] == param and param in body["message"]
    fine = client.chat.completions.create(model="rag", messages=ANSWERED, n=1, temperature=0)
    assert fine.choices[0].message.content


# ---------------------------------------------------------------- the LLM reader's own tokenizer


@pytest.fixture(scope="module")
def llm_api(llm_server: str, engine: Engine, article_settings: Settings) -> Iterator[tuple[str, str]]:
    """The app over the article with the LLM reader writing through a real llama-cpp-python server."""
    from ui.app import build_app, launch

    settings = article_settings.replace(llm_url=llm_server)
    llm = test_llm_reader.llm_engine(engine, settings, calibration=test_llm_reader.ALWAYS)
    app = build_app(settings, llm)
    url = launch(app, "127.0.0.1", free_port(), block=False)
    try:
        yield url, llm_server
    finally:
        app.close()


def _server_tokens(llm_url: str, text: str) -> int:
    root = llm_url.removesuffix("/v1")
    request = urllib.request.Request(
        f"{root}/extras/tokenize",
        data=json.dumps({"input": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return len(json.loads(reply.read())["tokens"])


@pytest.mark.slow
def test_with_the_llm_reader_usage_is_counted_by_its_tokenizer(llm_api: tuple[str, str]) -> None:
    url, llm_url = llm_api
    question = "How many political prisoners were released?"
    reply = _client(url).chat.completions.create(
        model="rag", messages=[{"role": "user", "content": question}]
    )
    usage = reply.usage
    assert usage is not None
    content = reply.choices[0].message.content or ""
    assert (usage.model_extra or {})["counted_by"] == "the LLM server's tokenizer"
    assert usage.prompt_tokens == _server_tokens(llm_url, question)
    assert usage.completion_tokens == _server_tokens(llm_url, content) > 0


@pytest.mark.slow
def test_the_local_llm_reader_counts_with_its_own_tokenizer() -> None:
    pytest.importorskip("llama_cpp")
    from rag.readers.extractive import ExtractiveReader
    from rag.readers.llm import LLMReader
    from rag.readers.llm.backends import LlamaCppBackend
    from ui.token_count import counter_for

    backend = LlamaCppBackend(test_llm_reader.smollm2_path(), threads=1)
    counter = counter_for(LLMReader(Settings(), backend=backend))
    text = "The US envoy, John Coale, met Lukashenko."
    assert counter.name == "the LLM reader's tokenizer (llama-cpp-python)"
    assert counter.count(text) == len(backend._load().tokenize(text.encode(), add_bos=False))
    assert counter_for(ExtractiveReader(Settings())).name == ESTIMATE_RULE

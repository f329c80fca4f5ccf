"""An OpenAI-compatible API on `rag serve`, so any OpenAI SDK or chat front end can use the grounded bot.

    POST /v1/chat/completions   messages in, the verified answer out (also `stream: true`, as SSE)
    GET  /v1/models             the one model, "rag"

The last user message is the question; the earlier user/assistant turns are the history (follow-ups
resolve as in the chat). The assistant message is the answer as the chat shows it, with its quotes
and [n] markers; `message.citations` lists the quotes as structured fields (doc_id, start, end,
quote, each verified: document.text[start:end] == quote), and a top-level `rag` object carries the
full `Answer.to_dict()` (the JSON of `rag ask --json`). System messages are accepted and ignored:
the answer comes from the documents, not from a prompt.

When the documents do not answer, `message.refusal` holds the abstention, in words that stand alone
(no pointer to passages "listed below": the closest passages are in `rag.passages`), and `content`
holds the same text, for clients that do not read `refusal`.

`usage` counts tokens (ui/token_count.py): with the LLM reader by its model's tokenizer, else by a
documented estimate; `usage.counted_by` says which. Parameters are honoured or refused with a 400:
`max_tokens` (or `max_completion_tokens`) cuts the content after that many tokens (finish_reason
"length"; only the quotes still cited are listed); `n` must be 1 and `temperature` 0 or left out
(the answers are quoted from the documents, not sampled); `stream_options.include_usage` adds the
usage chunk to a stream.

Streaming sends the verified answer only: a reader's preview text may still lose sentences in
verification, and text already sent to a client cannot be taken back. Errors use OpenAI's shape,
{"error": {"message", "type", "param", "code"}}. When the server has a token (RAG_AUTH_TOKEN), every
call needs `Authorization: Bearer <token>`.

    >>> from openai import OpenAI                                              # doctest: +SKIP
    >>> client = OpenAI(base_url="http://127.0.0.1:7860/v1", api_key="unused")  # doctest: +SKIP
    >>> question = {"role": "user", "content": "Who is the US envoy?"}                  # doctest: +SKIP
    >>> client.chat.completions.create(model="rag", messages=[question]).choices[0].message  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import os
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute

from rag.pipeline import Engine
from rag.types import Answer
from ui.line import Line, LineFull
from ui.token_count import ESTIMATE, TokenCounter, counter_for

MODEL_ID = "rag"
MAX_BODY_BYTES = 256 * 1024  # a conversation of questions; answers are short
MAX_MESSAGES = 200
QUESTION_WORKERS = 2  # the pipeline is bound by the CPU: more at once only share the cores
QUESTIONS_WAITING = 32
DISCONNECT_CHECK_S = 0.5
_WORDS = re.compile(r"\S+\s*")
_PIECES = re.compile(r"\w+\s*|[^\w\s]\s*|\s+")  # words and marks: where a cut answer may end
_POINTS_BELOW = re.compile(r"[^.!?]*\b(?:listed|shown) below\b[^.!?]*[.!?]\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Options:
    """The request's parameters this server acts on (after `_options` checked them)."""

    max_tokens: int | None = None
    include_usage: bool = False


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        kind: str = "invalid_request_error",
        param: str = "",
        code: str = "",
    ):
        super().__init__(message)
        self.status, self.kind, self.param, self.code = status, kind, param, code

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": str(self),
                "type": self.kind,
                "param": self.param or None,
                "code": self.code or None,
            }
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


def routes(
    engine: Engine | Callable[[], Engine], *, token: str | None = None, line: Line | None = None
) -> list[BaseRoute]:
    """The API's routes, to put in front of the Gradio app's (FastAPI `routes=`).

    `engine` is the engine, or a function returning the one serving now (the app swaps engines when
    documents are added or removed, or the index is rebuilt).

    `line`: the line the chat's questions wait in (ui/line.py), so API calls take their turn with the
    chat's; a call that waits too long gets HTTP 503 with the reason.

    `token` (default: $RAG_AUTH_TOKEN when set) is required as a Bearer token on every call."""
    router = APIRouter()
    questions = Questions()
    current: Callable[[], Engine] = engine if callable(engine) else (lambda: engine)
    turn: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext if line is None else line.turn

    counters: dict[int, tuple[object, TokenCounter]] = {}

    def counter(engine: Engine) -> TokenCounter:
        """The token counter of the engine's reader, found once per reader."""
        reader = engine.reader
        if reader is None:  # no question answered yet
            return ESTIMATE
        known = counters.get(id(reader))
        if known is None or known[0] is not reader:
            known = counters[id(reader)] = (reader, counter_for(reader))
        return known[1]

    def expected_token() -> str:
        return token if token is not None else os.environ.get("RAG_AUTH_TOKEN", "")

    @router.get("/v1/models")
    async def models(request: Request) -> JSONResponse:
        try:
            _authorise(request, expected_token())
        except ApiError as exc:
            return exc.response()
        return JSONResponse(
            {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "rag"}]}
        )

    @router.post("/v1/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
        try:
            _authorise(request, expected_token())
            body = await _read_json(request)
            question, history = _conversation(body.get("messages"))
            options = _options(body)
            model = str(body.get("model") or MODEL_ID)
            engine = current()
            prompt = _prompt_text(body.get("messages"))
            questions.admit()
            if body.get("stream"):
                counting = lambda: counter(engine)  # noqa: E731 - read when the answer is written
                events = _sse(questions, engine, question, history, model, options, prompt, counting, turn)
                return StreamingResponse(events, media_type="text/event-stream")
            answer = await _answer_or_busy(questions, request, engine, question, history, turn)
            if answer is None:  # the client left: nobody to answer
                return JSONResponse({"error": {"message": "the client went away"}}, status_code=499)
            if answer.error:
                raise ApiError(400, answer.error, param="messages", code="invalid_question")
            tokens = await run_in_threadpool(counter, engine)
            return JSONResponse(await run_in_threadpool(completion, answer, model, options, prompt, tokens))
        except ApiError as exc:
            return exc.response()

    return list(router.routes)


async def _answer_or_busy(
    questions: Questions,
    request: Request,
    engine: Engine,
    question: str,
    history: list[tuple[str, str]],
    turn: Callable[[], AbstractContextManager[None]],
) -> Answer | None:
    """The answer while the client stays (None when it left); HTTP 503 when its turn did not come."""
    try:
        return await questions.answer_while_connected(request, engine, question, history, turn)
    except LineFull as exc:
        raise ApiError(503, str(exc), kind="server_error", code="server_busy") from None


def completion(
    answer: Answer,
    model: str,
    options: Options | None = None,
    prompt: str = "",
    tokens: TokenCounter = ESTIMATE,
) -> dict[str, Any]:
    """The `chat.completion` object for a verified answer."""
    options = options or Options()
    content, finish = shown(answer, options.max_tokens, tokens)
    refused = refusal(answer)
    message = {
        "role": "assistant",
        "content": content,
        "refusal": content if refused else None,
        "citations": citations(answer, content),
    }
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage(prompt, content, tokens),
        "rag": answer.to_dict(),
    }


def refusal(answer: Answer) -> str:
    """An abstention's words that stand alone ('' for an answer): without the sentence pointing at
    passages "listed below", which a chat client does not show.

    >>> refusal(Answer("q", "No answer was found: the article does not say. The closest passages are "
    ...                "listed below; they may help.", True))
    'No answer was found: the article does not say.'
    """
    if not answer.abstained or answer.error or answer.reply_kind() != "abstain":
        return ""
    return _POINTS_BELOW.sub("", answer.answer).strip() or answer.answer


def shown(answer: Answer, max_tokens: int | None, tokens: TokenCounter) -> tuple[str, str]:
    """(content, finish_reason): the answer (an abstention in words that stand alone), cut after
    `max_tokens` tokens with finish_reason "length" when it is longer."""
    text = refusal(answer) or answer.answer
    if max_tokens is None or tokens.count(text) <= max_tokens:
        return text, "stop"
    pieces = _PIECES.findall(text)
    low, high = 0, len(pieces)  # the longest run of whole pieces within max_tokens: binary search
    while low < high:
        mid = (low + high + 1) // 2
        if tokens.count("".join(pieces[:mid])) <= max_tokens:
            low = mid
        else:
            high = mid - 1
    return "".join(pieces[:low]).rstrip(), "length"


def usage(prompt: str, content: str, tokens: TokenCounter) -> dict[str, Any]:
    """OpenAI's usage object, plus `counted_by`: the tokenizer, or the estimate's rule."""
    asked, said = tokens.count(prompt), tokens.count(content)
    return {
        "prompt_tokens": asked,
        "completion_tokens": said,
        "total_tokens": asked + said,
        "counted_by": tokens.name,
    }


def citations(answer: Answer, content: str | None = None) -> list[dict[str, Any]]:
    """The quotes, numbered as the answer's [n] markers (only those still in `content`, when the
    content was cut by max_tokens)."""
    return [
        {"index": i, **c.to_dict()}
        for i, c in enumerate(answer.citations, 1)
        if content is None or content == answer.answer or f"[{i}]" in content
    ]


class Questions:
    """The API's questions run on threads of their own, not on Starlette's shared pool (which also
    serves the page: 60 questions waiting for the LLM made the page take 47 s), at most
    QUESTION_WORKERS at once and QUESTIONS_WAITING more waiting; one more is told the server is busy
    (503). A question whose client leaves is stopped: before it starts, or between two pieces of
    what the LLM writes (closing the stream stops the generation)."""

    def __init__(self, workers: int = QUESTION_WORKERS, waiting: int = QUESTIONS_WAITING) -> None:
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="rag-api-question")
        self.capacity = workers + waiting
        self.admitted = 0  # touched on the event loop only

    def admit(self) -> None:
        if self.admitted >= self.capacity:
            raise ApiError(
                503,
                f"the server is answering {self.capacity} questions already; try again in a moment",
                kind="server_error",
                code="busy",
            )

    async def answer(
        self,
        engine: Engine,
        question: str,
        history: list[tuple[str, str]],
        turn: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
    ) -> Answer | None:
        """The answer, or None when the question was stopped (its task was cancelled); LineFull when
        its turn in the line (shared with the chat) did not come in time."""
        self.admitted += 1
        stop = threading.Event()
        try:
            future = self.pool.submit(_answer_unless_stopped, engine, question, history, stop, turn)
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            stop.set()
            raise
        finally:
            self.admitted -= 1

    async def answer_while_connected(
        self,
        request: Request,
        engine: Engine,
        question: str,
        history: list[tuple[str, str]],
        turn: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
    ) -> Answer | None:
        task = asyncio.ensure_future(self.answer(engine, question, history, turn))
        while True:
            done, _ = await asyncio.wait({task}, timeout=DISCONNECT_CHECK_S)
            if done:
                return task.result()
            if await request.is_disconnected():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return None


def _answer_unless_stopped(
    engine: Engine,
    question: str,
    history: list[tuple[str, str]],
    stop: threading.Event,
    turn: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
) -> Answer | None:
    with turn():  # the question's place in the line the chat's questions wait in
        return _answer_in_turn(engine, question, history, stop)


def _answer_in_turn(
    engine: Engine, question: str, history: list[tuple[str, str]], stop: threading.Event
) -> Answer | None:
    if stop.is_set():
        return None
    stream = engine.stream(question, history)
    try:
        for item in stream:
            if isinstance(item, Answer):
                return item
            if stop.is_set():
                return None
    finally:
        close = getattr(stream, "close", None)  # a generator: closing it stops the LLM's generation
        if close is not None:
            close()
    return None


async def _sse(
    questions: Questions,
    engine: Engine,
    question: str,
    history: list[tuple[str, str]],
    model: str,
    options: Options,
    prompt: str,
    counter: Callable[[], TokenCounter],
    turn: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
) -> AsyncIterator[str]:
    """`chat.completion.chunk` events: the role, the verified answer in pieces, then the citations
    (and an abstention's `refusal`) and the full answer with its finish_reason, the usage chunk when
    asked for (stream_options.include_usage), then [DONE]. A client that leaves cancels it
    (Starlette watches for the disconnect), which stops the question."""
    head = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
    }
    head["model"] = model

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        chunk = {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    try:
        final = await questions.answer(engine, question, history, turn)
    except LineFull as exc:
        final, busy = None, str(exc)
    else:
        busy = ""
    if final is None or final.error:
        message = final.error if final is not None else busy or "no answer was produced"
        status, code = (400, "invalid_question") if final is not None or not busy else (503, "server_busy")
        error = ApiError(status, message, param="messages", code=code)
        yield f"data: {json.dumps(error.body(), ensure_ascii=False)}\n\n"
        yield "data: [DONE]\n\n"
        return
    tokens = counter()
    content, finish = shown(final, options.max_tokens, tokens)
    for piece in _WORDS.findall(content):
        yield event({"content": piece})
    last: dict[str, Any] = {"citations": citations(final, content)}
    if refusal(final):
        last["refusal"] = content
    yield event(last, finish, rag=final.to_dict())
    if options.include_usage:
        chunk = {**head, "choices": [], "usage": usage(prompt, content, tokens)}
        yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def _authorise(request: Request, token: str) -> None:
    if not token:
        return
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
        raise ApiError(
            401,
            "this server needs an API key: send `Authorization: Bearer <token>` with the server's "
            "RAG_AUTH_TOKEN (in the OpenAI client: api_key=...)",
            code="invalid_api_key",
        )


async def _read_json(request: Request) -> dict[str, Any]:
    size = request.headers.get("content-length")
    if size and size.isdigit() and int(size) > MAX_BODY_BYTES:
        raise ApiError(413, f"the request is {int(size):,} bytes; the limit is {MAX_BODY_BYTES:,}")
    data = b""
    async for part in request.stream():
        data += part
        if len(data) > MAX_BODY_BYTES:
            raise ApiError(413, f"the request is over the limit of {MAX_BODY_BYTES:,} bytes")
    try:
        body = json.loads(data)
    except ValueError:
        raise ApiError(
            400, 'the request body is not JSON; send {"model": "rag", "messages": [...]}'
        ) from None
    except RecursionError:
        raise ApiError(400, "the request body is JSON nested too deeply; a chat is a flat list") from None
    if not isinstance(body, dict):
        raise ApiError(400, f"the request body must be a JSON object, got {type(body).__name__}")
    return body


def _options(body: dict[str, Any]) -> Options:
    """The parameters acted on, checked; a 400 that says what to send for any this server cannot honour."""
    n = body.get("n")
    if n is not None and (not _is_int(n) or n != 1):
        raise ApiError(
            400,
            f"n must be 1, got {n!r}: this server gives one answer, quoted from the documents, not "
            "sampled; ask again for the same answer"[:300],
            param="n",
            code="unsupported_value",
        )
    temperature = body.get("temperature")
    if temperature is not None and (isinstance(temperature, bool) or temperature != 0):
        raise ApiError(
            400,
            f"temperature must be 0 or left out, got {temperature!r}: answers are quoted from the "
            "documents, never sampled, so there is no temperature to set"[:300],
            param="temperature",
            code="unsupported_value",
        )
    limit = None
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if not _is_int(value) or value < 1:
            raise ApiError(
                400, f"{name} must be a whole number of 1 or more, got {value!r}"[:300], param=name
            )
        limit = value if limit is None else min(limit, value)
    stream_options = body.get("stream_options")
    if stream_options is not None and not isinstance(stream_options, dict):
        raise ApiError(
            400, 'stream_options must be an object, e.g. {"include_usage": true}', param="stream_options"
        )
    include = bool((stream_options or {}).get("include_usage"))
    return Options(max_tokens=limit, include_usage=include)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _prompt_text(messages: object) -> str:
    """The text of every message, in order: what `usage.prompt_tokens` counts."""
    if not isinstance(messages, list):
        return ""
    return "\n".join(_text(m, i) for i, m in enumerate(messages) if isinstance(m, dict))


def _conversation(messages: object) -> tuple[str, list[tuple[str, str]]]:
    """(question, history) from OpenAI messages: the last user message, and earlier user/assistant pairs."""
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, '`messages` must be a non-empty list of {"role", "content"}', param="messages")
    if len(messages) > MAX_MESSAGES:
        raise ApiError(400, f"{len(messages)} messages; the limit is {MAX_MESSAGES}", param="messages")
    turns = [(_role(m, i), _text(m, i)) for i, m in enumerate(messages)]
    turns = [(role, text) for role, text in turns if role in ("user", "assistant")]
    if not turns or turns[-1][0] != "user":
        raise ApiError(400, 'the last message must be the user\'s question (role "user")', param="messages")
    history: list[tuple[str, str]] = []
    pending = ""
    for role, text in turns[:-1]:
        if role == "user":
            pending = text
        elif pending:
            history.append((pending, text))
            pending = ""
    return turns[-1][1], history


def _role(message: object, i: int) -> str:
    if not isinstance(message, dict):
        raise ApiError(
            400, f"messages[{i}] must be an object, got {type(message).__name__}", param=f"messages[{i}]"
        )
    role = message.get("role")
    if role not in ("system", "developer", "user", "assistant", "tool", "function"):
        raise ApiError(
            400,
            f"messages[{i}].role must be user, assistant or system, got {role!r}"[:300],
            param=f"messages[{i}].role",
        )
    return str(role)


def _text(message: dict[str, Any], i: int) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    content = message.get("content")
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    raise ApiError(
        400,
        f"messages[{i}].content must be text, got {type(content).__name__}",
        param=f"messages[{i}].content",
    )

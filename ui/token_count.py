"""Token counts for the OpenAI-compatible API's `usage`: counted by the LLM's own tokenizer when the
LLM reader answers, else estimated by a documented rule. `usage.counted_by` says which.

1. The LLM reader in this process (llama-cpp-python, `LlamaCppBackend`): its model's tokenizer.
2. The LLM reader through a server (`RAG_LLM_URL`): the server's tokenizer, asked over HTTP
   (`POST /tokenize` of llama.cpp's server, or `POST /extras/tokenize` of llama-cpp-python's);
   when neither answers, the estimate, and `counted_by` says so.
3. The extractive reader has no tokenizer (it writes no tokens: it quotes), so the count is an
   estimate in the style of GPT-style BPE tokenizers on English text: every word of up to
   `LETTERS_PER_TOKEN` letters or digits is one token, a longer one one more token per further
   `LETTERS_PER_TOKEN` characters, and every other visible character (punctuation, quotes) is one.

What is counted: `prompt_tokens` are the tokens of the messages' text as the client sent them (not
the passages and instructions the server adds for its own reader); `completion_tokens` those of the
assistant message's content.

>>> estimate("The US envoy, John Coale, met Lukashenko.")
11
>>> ESTIMATE.count("")
0
"""

from __future__ import annotations

import json
import math
import re
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

LETTERS_PER_TOKEN = 6
ESTIMATE_RULE = (
    f"estimate: 1 token per word of up to {LETTERS_PER_TOKEN} letters, 1 more per further "
    f"{LETTERS_PER_TOKEN}, 1 per punctuation mark"
)
_PIECES = re.compile(r"\w+|[^\w\s]")
SERVER_TIMEOUT_S = 5.0


class TokenCounter(Protocol):
    """Counts the tokens of a text; `name` is what `usage.counted_by` says."""

    @property
    def name(self) -> str: ...

    def count(self, text: str) -> int: ...


def estimate(text: str) -> int:
    """Tokens by the documented rule (see the module's docstring)."""
    return sum(
        math.ceil(len(p) / LETTERS_PER_TOKEN) if p[0].isalnum() or p[0] == "_" else 1
        for p in _PIECES.findall(text)
    )


@dataclass(frozen=True)
class Estimate:
    name: str = ESTIMATE_RULE

    def count(self, text: str) -> int:
        return estimate(text)


ESTIMATE = Estimate()


@dataclass(frozen=True)
class LlamaTokens:
    """The tokenizer of a model loaded by llama-cpp-python (`llama_cpp.Llama`)."""

    llm: Any
    name: str = "the LLM reader's tokenizer (llama-cpp-python)"

    def count(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)) if text else 0


@dataclass(frozen=True)
class ServerTokens:
    """The tokenizer of the LLM server at `url` (its OpenAI base URL, e.g. http://host:8080/v1)."""

    url: str
    path: str  # "/tokenize" (llama.cpp) or "/extras/tokenize" (llama-cpp-python)
    name: str = "the LLM server's tokenizer"

    def count(self, text: str) -> int:
        """The server's count; the estimate when it does not answer in time (a server answering one
        request at a time makes this call wait behind the replies it is writing for other users)."""
        if not text:
            return 0
        try:
            return len(_post(self.url, self.path, text))
        except (OSError, ValueError):
            return estimate(text)


def _root(url: str) -> str:
    return url.rstrip("/").removesuffix("/v1")


def _post(url: str, path: str, text: str) -> list[Any]:
    """The token list the server returns for `text`; OSError/ValueError when it does not."""
    body = {"content": text} if path == "/tokenize" else {"input": text}
    request = urllib.request.Request(
        _root(url) + path,
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=SERVER_TIMEOUT_S) as reply:
        tokens = json.loads(reply.read()).get("tokens")
    if not isinstance(tokens, list):
        raise ValueError(f"{url}{path} answered without a token list")
    return tokens


def server_counter(url: str) -> TokenCounter | None:
    """The server's tokenizer, when it offers one of the two known endpoints."""
    for path in ("/tokenize", "/extras/tokenize"):
        try:
            _post(url, path, "a")
        except (OSError, ValueError):
            continue
        return ServerTokens(url, path)
    return None


def counter_for(reader: object) -> TokenCounter:
    """The tokenizer of `reader`'s language model; the estimate when it has none or cannot be reached."""
    backend_of = getattr(reader, "backend", None)
    if not callable(backend_of) or getattr(reader, "name", "llm") == "extractive":
        return ESTIMATE
    try:
        backend = backend_of()
    except Exception:
        return ESTIMATE
    load = getattr(backend, "_load", None)
    if callable(load):  # in this process
        try:
            return LlamaTokens(load())
        except Exception:
            return ESTIMATE
    url = getattr(backend, "url", "")
    found = server_counter(url) if url else None
    if found is None:
        return Estimate(f"{ESTIMATE_RULE} (the LLM server at {url} offers no tokenizer endpoint)")
    return found

"""One frozen Settings object: defaults that work, then the environment, then CLI flags.

>>> s = Settings.from_env({"RAG_INDEX_DIR": "/tmp/idx"})
>>> str(s.index_dir)
'/tmp/idx'
>>> s.replace(top_k=3).top_k
3
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from rag.errors import RagError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

RetrievalMode = Literal["hybrid", "dense", "bm25"]
ReaderName = Literal["extractive", "llm", "auto"]  # who writes the answer (auto: llm when it can run here)

MODEL_NAME = "all-MiniLM-L6-v2"
# the demo article in seeds/: answers call it "the article" when it is the only document
SEED_ARTICLE = "belarus-prisoner-release-2025.txt"


@dataclass(frozen=True)
class Settings:
    # where things live
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    index_dir: Path = PROJECT_ROOT / "index"
    # chunking: sentences are packed into chunks of at most `chunk_chars` characters,
    # the last `overlap_sentences` sentences of a chunk open the next one
    chunk_chars: int = 400
    overlap_sentences: int = 1
    # embedding
    model_name: str = MODEL_NAME
    batch_size: int = 64
    # retrieval
    top_k: int = 5
    retrieval: RetrievalMode = "hybrid"
    rrf_k: int = 60
    candidates: int = 20  # how many each retriever contributes before fusion
    # answering
    reader: ReaderName = "extractive"
    max_quotes: int = 2
    # minimum P(answerable) to answer rather than abstain; None: the threshold fitted with the reader model
    abstain_threshold: float | None = None
    max_question_chars: int = 1000
    # the LLM reader (rag/readers/llm/): an OpenAI-compatible server when llm_url is set, else a local GGUF
    llm_url: str = ""  # e.g. http://127.0.0.1:8080/v1 (llama.cpp, Ollama, vLLM, OpenAI)
    llm_model: str = ""  # model name the server expects; empty: the server's first model
    llm_api_key: str = field(default="", repr=False)
    llm_model_path: Path | None = None  # a .gguf file; default: the model `rag llm-setup` assembles
    llm_timeout: float = 60.0  # seconds to wait for the server before answering extractively
    llm_threads: int = 0  # threads for the local model; 0: one per core (1 is faster on a busy machine)
    # questions the chat server answers at once (the rest wait in line, told how many are ahead):
    # 1 for a model in process; up to the server's parallel slots when RAG_LLM_URL names a shared server
    chat_concurrency: int = 1
    # documents, and the cost budget of each one (rag/index/budget.py): a document with more sentences or
    # chunks than this is not indexed (a 5 MB upload of one-word lines would be 500,000 of each)
    max_document_bytes: int = 20_000_000
    max_document_sentences: int = 20_000
    max_document_chunks: int = 20_000
    # ... and of an upload of the chat panel, indexed while its user waits: embedding ran at 41-200
    # sentences a second on 2 cores (busy to idle), so 4,000 sentences take 20-100 s
    max_upload_sentences: int = 4_000
    max_upload_chunks: int = 4_000
    # an approximate (HNSW) index is used at and above this many sentence vectors, flat search below:
    # measured by benchmarks/run.py on 2 cores, exact search 0.27 ms / HNSW 0.33 ms at 10,000, then
    # 0.40 / 0.37 ms at 15,000 (HNSW recall@10 0.997) and 0.53 / 0.42 ms at 20,000
    hnsw_min_chunks: int = 15_000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        changes: dict[str, Any] = {}
        if env.get("RAG_INDEX_DIR"):
            changes["index_dir"] = Path(env["RAG_INDEX_DIR"]).expanduser()
        if env.get("RAG_SEEDS_DIR"):
            changes["seeds_dir"] = Path(env["RAG_SEEDS_DIR"]).expanduser()
        if env.get("RAG_TOP_K"):
            changes["top_k"] = _from_env(env, "RAG_TOP_K", int, "a whole number from 1 to 100", 1, 100)
        if env.get("RAG_RETRIEVAL"):
            if env["RAG_RETRIEVAL"] not in get_args(RetrievalMode):
                raise ConfigError(f"RAG_RETRIEVAL={env['RAG_RETRIEVAL']!r}: expected hybrid, dense or bm25")
            changes["retrieval"] = env["RAG_RETRIEVAL"]
        if env.get("RAG_READER"):
            if env["RAG_READER"] not in get_args(ReaderName):
                raise ConfigError(f"RAG_READER={env['RAG_READER']!r}: expected extractive, llm or auto")
            changes["reader"] = env["RAG_READER"]
        changes.update(_llm_from_env(env))
        changes.update(_budget_from_env(env))
        if env.get("RAG_ABSTAIN_THRESHOLD"):
            threshold = _from_env(env, "RAG_ABSTAIN_THRESHOLD", float, "a number from 0 to 1", 0, 1)
            changes["abstain_threshold"] = threshold
        return cls(**changes)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

    def served(self, env: Mapping[str, str] | None = None) -> Settings:
        """These settings as `rag ask`, `rag chat` and `rag serve` use them when no reader is named: the
        LLM reader where it can run (`auto`), unless RAG_READER names one.

        >>> Settings().served({}).reader, Settings().served({"RAG_READER": "extractive"}).reader
        ('auto', 'extractive')
        """
        env = os.environ if env is None else env
        return self if env.get("RAG_READER") else self.replace(reader="auto")


class ConfigError(RagError):
    """A setting from the environment has a value that cannot be used."""

    exit_code = 2


def _llm_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name, key in (
        ("RAG_LLM_URL", "llm_url"),
        ("RAG_LLM_MODEL", "llm_model"),
        ("RAG_LLM_API_KEY", "llm_api_key"),
    ):
        if env.get(name):
            changes[key] = env[name]
    if env.get("RAG_LLM_MODEL_PATH"):
        changes["llm_model_path"] = Path(env["RAG_LLM_MODEL_PATH"]).expanduser()
    if env.get("RAG_LLM_THREADS"):
        changes["llm_threads"] = _from_env(
            env, "RAG_LLM_THREADS", int, "a whole number from 0 to 256", 0, 256
        )
    if env.get("RAG_CHAT_CONCURRENCY"):
        changes["chat_concurrency"] = _from_env(
            env, "RAG_CHAT_CONCURRENCY", int, "a whole number from 1 to 64", 1, 64
        )
    if env.get("RAG_LLM_TIMEOUT"):
        changes["llm_timeout"] = _from_env(env, "RAG_LLM_TIMEOUT", float, "seconds from 1 to 3600", 1, 3600)
    return changes


def _budget_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name, key in (
        ("RAG_MAX_DOCUMENT_SENTENCES", "max_document_sentences"),
        ("RAG_MAX_DOCUMENT_CHUNKS", "max_document_chunks"),
        ("RAG_MAX_UPLOAD_SENTENCES", "max_upload_sentences"),
        ("RAG_MAX_UPLOAD_CHUNKS", "max_upload_chunks"),
    ):
        if env.get(name):
            changes[key] = _from_env(env, name, int, "a whole number from 1 to 10,000,000", 1, 10_000_000)
    return changes


def _from_env(env: Mapping[str, str], name: str, kind: type, expected: str, low: float, high: float) -> Any:
    try:
        value = kind(env[name])
    except ValueError:
        raise ConfigError(f"{name}={env[name]!r}: expected {expected}; fix or unset it") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={env[name]!r}: expected {expected}; fix or unset it")
    return value

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

PROJECT_ROOT = Path(__file__).resolve().parent.parent

RetrievalMode = Literal["hybrid", "dense", "bm25"]

MODEL_NAME = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    # where things live
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    index_dir: Path = PROJECT_ROOT / "index"
    # chunking: sentences are packed into chunks of at most `chunk_chars` characters,
    # the last `overlap_sentences` sentences of a chunk open the next one
    chunk_chars: int = 600
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
    max_quotes: int = 2
    abstain_threshold: float = 0.40  # minimum evidence score to answer rather than abstain
    max_question_chars: int = 1000
    # documents
    max_document_bytes: int = 20_000_000
    # an approximate (HNSW) index is used at and above this many chunks, flat search below
    hnsw_min_chunks: int = 20_000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        changes: dict[str, Any] = {}
        if env.get("RAG_INDEX_DIR"):
            changes["index_dir"] = Path(env["RAG_INDEX_DIR"]).expanduser()
        if env.get("RAG_SEEDS_DIR"):
            changes["seeds_dir"] = Path(env["RAG_SEEDS_DIR"]).expanduser()
        if env.get("RAG_TOP_K"):
            changes["top_k"] = int(env["RAG_TOP_K"])
        if env.get("RAG_RETRIEVAL"):
            changes["retrieval"] = env["RAG_RETRIEVAL"]
        if env.get("RAG_ABSTAIN_THRESHOLD"):
            changes["abstain_threshold"] = float(env["RAG_ABSTAIN_THRESHOLD"])
        return cls(**changes)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

"""Shared fixtures: a tiny document, a deterministic fake embedder for fast unit tests, and the
real model with a real FAISS index over the article for integration tests (marked `slow`)."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from rag.config import PROJECT_ROOT, Settings

# `rag ask`, `rag chat` and `rag serve` default to the LLM reader when its model is set up here (it is on CI's
# machine): the commands the tests run answer extractively unless a test asks for another reader
os.environ.setdefault("RAG_READER", "extractive")

ARTICLE = PROJECT_ROOT / "seeds" / "belarus-prisoner-release-2025.txt"

TINY_TEXT = (
    "The river town of Elmford held its annual boat race on Sunday. Forty-two crews took part.\n"
    "The winning crew came from the village of Lower Brook. "
    "Their captain, Mara Quill, has rowed for ten years.\n"
    "Rain delayed the final by an hour. The mayor praised the volunteers who kept the course safe.\n"
)


class FakeEmbedder:
    """Deterministic bag-of-words vectors: same words, same direction. Fast, no model needed."""

    name = "all-MiniLM-L6-v2"  # pretends to be the real model so manifests match in unit tests
    dim = 64

    def __init__(self) -> None:
        self.calls = 0
        self.texts_encoded = 0

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        self.calls += 1
        self.texts_encoded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                h = int(hashlib.md5(word.strip(".,?!").encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0
            norm = np.linalg.norm(out[i]) or 1.0
            out[i] /= norm
        return out


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "boat-race.txt").write_text(TINY_TEXT, encoding="utf-8")
    return folder


@pytest.fixture
def tiny_settings(tmp_path: Path, tiny_corpus: Path) -> Settings:
    return Settings(seeds_dir=tiny_corpus, index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    from rag.index.embed import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def article_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for an index of the real article, built once per test session in a temp folder."""
    root = tmp_path_factory.mktemp("article")
    seeds = root / "seeds"
    seeds.mkdir()
    shutil.copy(ARTICLE, seeds / ARTICLE.name)
    return Settings(seeds_dir=seeds, index_dir=root / "index")


@pytest.fixture(scope="session")
def engine(article_settings: Settings, real_embedder):  # type: ignore[no-untyped-def]
    """The real pipeline: real model, real FAISS, real BM25, over the article."""
    from rag.pipeline import Engine

    return Engine.load(article_settings, real_embedder)


@pytest.fixture
def fresh_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("RAG_INDEX_DIR", "RAG_SEEDS_DIR", "RAG_TOP_K", "RAG_RETRIEVAL", "RAG_ABSTAIN_THRESHOLD"):
        monkeypatch.delenv(name, raising=False)
    yield


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on now, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server a test started: politely, then by force if it has not gone within 20 s."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

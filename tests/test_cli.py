"""The CLI as a user runs it: a real subprocess, real model and index; exit codes and JSON shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.config import Settings
from tests.conftest import ARTICLE

RAG = [sys.executable, "-m", "rag.cli"]


def _run(args: list[str], settings: Settings, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "RAG_INDEX_DIR": str(settings.index_dir),
        "RAG_SEEDS_DIR": str(settings.seeds_dir),
        **env,
    }
    return subprocess.run(RAG + args, capture_output=True, text=True, env=full_env, timeout=300)


@pytest.mark.slow
def test_index_then_ask_json(article_settings: Settings, engine) -> None:  # type: ignore[no-untyped-def]
    done = _run(["index"], article_settings)
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout or "indexed 1 document " in done.stdout
    out = _run(["ask", "Which airline did the US ease sanctions on?", "--json"], article_settings)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)  # exactly one JSON object
    assert data["abstained"] is False and "Belavia" in data["answer"]
    text = ARTICLE.read_text(encoding="utf-8")
    assert all(text[c["start"] : c["end"]] == c["quote"] for c in data["citations"])
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_ask_readable_output_and_k(article_settings: Settings, engine) -> None:  # type: ignore[no-untyped-def]
    out = _run(["ask", "Why did Belarus free 100 prisoners?", "-k", "3"], article_settings)
    assert out.returncode == 0, out.stderr
    assert "does not say" in out.stdout and "Closest passages" in out.stdout
    out = _run(["ask", "How many political prisoners were freed?", "--json", "-k", "2"], article_settings)
    assert len(json.loads(out.stdout)["passages"]) == 2


def test_user_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    settings = Settings(seeds_dir=tmp_path / "nothing", index_dir=tmp_path / "idx")
    cases = [
        (["ask", ""], 2, "empty"),
        (["ask", "x" * 1001], 2, "limit is 1,000"),
        (["ask", "?", "-k", "0"], 2, "expected 1 to 100"),
        (["index", str(tmp_path / "missing")], 1, "does not exist"),
    ]
    for args, code, message in cases:
        out = _run(args, settings)
        assert out.returncode == code, (args, out.stderr)
        assert message in out.stderr
        assert "Traceback" not in out.stderr


def test_index_with_no_documents_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "blank.txt").write_text("   \n", encoding="utf-8")
    out = _run(["index", str(empty)], Settings(seeds_dir=empty, index_dir=tmp_path / "idx"))
    assert out.returncode == 1
    assert out.stderr.startswith("error: nothing to index") and "blank.txt" in out.stderr


def test_help_is_fast_and_lists_commands() -> None:
    out = subprocess.run([*RAG, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for command in ("index", "ask", "eval", "serve"):
        assert command in out.stdout

"""The folders are the architecture: these arrows between packages must not exist (checked on every
import statement, inside functions too, with `ast`).

- the library (rag/) never imports its users: cli, ui, evals, benchmarks;
- the UI never reaches into the index internals or the retriever: it asks the engine (rag.pipeline);
- the two readers share only the readers' entrance and base (rag.readers, .base, .overview);
- the question side (rag.query) and the language layer (rag.text) never import a reader.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from rag.config import PROJECT_ROOT


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every import in the file, relative imports resolved."""
    package = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.append((node.lineno, base))
            # `from rag.readers import llm` imports the module rag.readers.llm
            found += [(node.lineno, f"{base}.{a.name}") for a in node.names]
    return found


def files(folder: str) -> list[Path]:
    return sorted((PROJECT_ROOT / folder).rglob("*.py"))


def offending(folders: list[str], forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    out = []
    for folder in folders:
        for path in files(folder):
            for line, module in imports(path):
                hit = any(module == f or module.startswith(f + ".") for f in forbidden)
                if hit and not any(module == a or module.startswith(a + ".") for a in allowed):
                    out.append(f"{path.relative_to(PROJECT_ROOT)}:{line} imports {module}")
    return out


def test_the_scan_sees_every_package() -> None:
    assert len(files("rag")) >= 30 and files("cli") and files("ui") and files("evals")
    assert "rag.index.store" in {m for _, m in imports(PROJECT_ROOT / "rag" / "pipeline.py")}


def test_the_library_never_imports_its_users() -> None:
    assert offending(["rag"], ("cli", "ui", "evals", "benchmarks", "tests")) == []


def test_the_ui_asks_the_engine_not_the_index_internals() -> None:
    internals = (
        "rag.retrieve",
        "rag.index.indexer",
        "rag.index.store",
        "rag.index.ingest",
        "rag.index.chunk",
    )
    assert offending(["ui"], (*internals, "rag.index.embed", "rag.readers")) == []


@pytest.mark.parametrize(("reader", "other"), [("extractive", "llm"), ("llm", "extractive")])
def test_the_readers_share_only_their_base(reader: str, other: str) -> None:
    assert offending([f"rag/readers/{reader}"], (f"rag.readers.{other}",)) == []


def test_the_question_side_never_imports_a_reader() -> None:
    assert offending(["rag/query"], ("rag.readers", "rag.retrieve", "rag.index")) == []
    assert offending(["rag/text.py"], ("rag.",)) == []


def test_the_scan_finds_a_forbidden_arrow(tmp_path: Path) -> None:
    # the check itself can fail: a file that imports the UI from the library is caught
    bad = PROJECT_ROOT / "rag" / "_arrow_probe.py"
    bad.write_text("def f():\n    from ui.app import serve\n", encoding="utf-8")
    try:
        assert offending(["rag"], ("ui",)) == [
            "rag/_arrow_probe.py:2 imports ui.app",
            "rag/_arrow_probe.py:2 imports ui.app.serve",
        ]
    finally:
        bad.unlink()

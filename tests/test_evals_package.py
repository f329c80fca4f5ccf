"""The evaluation is its own package: `rag` never imports `evals` (only `rag eval` reaches in, lazily),
and the report does not import the runner (the shared types live in evals.results)."""

from __future__ import annotations

import ast
import subprocess
import sys

from rag.config import PROJECT_ROOT


def _imports_of_evals(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, enclosing function) of every `import evals...` / `from evals... import` in a module."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else function
            modules = []
            if isinstance(child, ast.Import):
                modules = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom):
                modules = [child.module or ""]
            if any(m == "evals" or m.startswith("evals.") for m in modules):
                found.append((child.lineno, function))
            visit(child, name)

    visit(tree, "")
    return found


def test_the_library_never_imports_the_evaluation() -> None:
    for path in sorted((PROJECT_ROOT / "rag").rglob("*.py")):
        for line, function in _imports_of_evals(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(PROJECT_ROOT)}:{line}"
            assert (path.name, function) == ("cli.py", "cmd_eval"), (
                f"{where} imports evals outside `rag eval`"
            )


def test_report_modules_do_not_import_the_runners() -> None:
    code = (
        "import sys, evals.report, evals.squad_report; "
        "print(sorted(m for m in sys.modules if m in ('evals.runner', 'evals.squad_runner', 'rag.pipeline')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"

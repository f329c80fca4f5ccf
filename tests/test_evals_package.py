"""The evaluation's report does not import the runner (the shared types live in evals.results); that
the library never imports the evaluation is checked with the other arrows in test_architecture.py."""

from __future__ import annotations

import subprocess
import sys

from rag.config import PROJECT_ROOT


def test_report_modules_do_not_import_the_runners() -> None:
    code = (
        "import sys, evals.report, evals.squad.report; "
        "print(sorted(m for m in sys.modules if m in ('evals.runner', 'evals.squad.runner', 'rag.pipeline')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"

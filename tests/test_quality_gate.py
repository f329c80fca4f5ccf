"""The quality gate: the real evaluation (real model, real FAISS, the article in a temp index) must not
fall below the committed baseline, evals/baseline.json, by more than its tolerance.

After an improvement, raise the bar: `rag eval --write-baseline`, and commit the new baseline.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from evals.datasets import dataset_sha256, load_dataset
from evals.runner import BASELINE, DEFAULT_DATASET, evaluate, regressions, settings_record

pytestmark = pytest.mark.slow

REFRESH = "run `rag eval --write-baseline` and commit evals/baseline.json"


@pytest.fixture(scope="module")
def baseline() -> dict[str, Any]:
    assert BASELINE.exists(), f"no baseline at {BASELINE}; {REFRESH}"
    data: dict[str, Any] = json.loads(BASELINE.read_text(encoding="utf-8"))
    return data


def test_baseline_is_for_this_question_set(baseline: dict[str, Any]) -> None:
    assert baseline["dataset_sha256"] == dataset_sha256(DEFAULT_DATASET), (
        f"evals/questions.jsonl changed since the baseline was written; {REFRESH}"
    )


def test_no_metric_falls_below_the_baseline(engine: Any, baseline: dict[str, Any]) -> None:
    run = evaluate(engine, load_dataset(DEFAULT_DATASET), k=baseline["k"], mode=baseline["mode"])
    problems = regressions(run.metrics, baseline)
    if problems:
        now = settings_record(engine.settings)
        changed = {k: (v, now.get(k)) for k, v in baseline.get("settings", {}).items() if now.get(k) != v}
        hint = f" Settings changed since the baseline (baseline, now): {changed}." if changed else ""
        failures = "; ".join(f"{p.item.id}" for p, _ in run.failures(10))
        pytest.fail(
            "quality fell below the baseline:\n  " + "\n  ".join(problems) + f"\n{hint}"
            f"\nworst failures now: {failures}. See them with `rag eval` (evals/out/report.md). "
            f"If the drop is intended, {REFRESH}."
        )
    # an invariant, not just a baseline: every quote shown is the source's text at its offsets
    assert run.metrics["quote_verbatim"] == 1.0

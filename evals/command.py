"""`rag eval`: run the set named by --dataset with the runner for its format; hold the run to its targets.

A `.json` file is read as SQuAD v2.0 (evals.squad.runner); anything else as our JSON Lines set
(evals.runner). Every missed target is printed with how far it is from its goal; with `--strict`
a miss makes the command fail (exit 1), so CI can gate on it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from evals.datasets import DatasetError
from evals.results import TargetCheck
from rag.config import Settings

EXIT_MISSED = 1


@dataclass(frozen=True)
class EvalOptions:
    dataset: Path | None = None
    out: Path | None = None
    compare: bool = False
    k: int | None = None
    write_baseline: bool = False
    limit: int | None = None  # the first N questions: of the set, or of each SQuAD article
    articles: tuple[str, ...] = ()  # SQuAD article titles to keep (all when empty)
    strict: bool = False


def is_squad_path(path: Path | None) -> bool:
    return path is not None and Path(path).suffix.lower() == ".json"


def run_eval(settings: Settings, options: EvalOptions) -> int:
    """Run, report, print each missed target; 1 when a target missed under --strict, else 0."""
    checks = _run(settings, options)
    misses = [c for c in checks if not c.met]
    for miss in misses:
        print(miss.miss_line())
    if misses and options.strict:
        print(f"error: {len(misses)} target(s) missed (--strict)", file=sys.stderr)
        return EXIT_MISSED
    return 0


def _run(settings: Settings, o: EvalOptions) -> Sequence[TargetCheck]:
    if is_squad_path(o.dataset):
        if o.compare or o.write_baseline:
            raise DatasetError("--compare and --write-baseline work on JSON Lines sets, not on SQuAD files")
        from evals.squad.runner import run_squad_cli

        assert o.dataset is not None
        return run_squad_cli(settings, o.dataset, o.out, k=o.k, limit=o.limit, articles=o.articles)
    if o.articles:
        raise DatasetError("--articles picks articles of a SQuAD .json file; the JSON Lines set has none")
    from evals.runner import run_cli

    return run_cli(settings, o.dataset, o.out, o.compare, o.k, o.write_baseline, limit=o.limit)

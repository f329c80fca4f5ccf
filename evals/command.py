"""`rag eval`: run the set named by --dataset with the runner for its format; hold the run to its targets.

A `.json` file is read as SQuAD v2.0 (evals.squad.runner); anything else as our JSON Lines set
(evals.runner). Every missed target is printed with how far it is from its goal; with `--strict`
a miss makes the command fail (exit 1), so CI can gate on it.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from evals.datasets import DatasetError
from evals.results import TargetCheck
from rag.config import Settings
from rag.readers import resolve_reader

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
    """Run, report, print each missed target; 1 when a target missed under --strict, else 0.

    With the LLM reader, the extractive reader answers the same questions first (its report in the
    output folder's `extractive/`; it takes seconds), and the two readers' figures are printed side by
    side: a reader is judged against the one it would replace."""
    beside: Sequence[TargetCheck] = ()
    settings, missing = resolve_reader(settings)  # --reader auto: the reader that runs here, named
    if missing:
        print(f"the LLM reader cannot run here, so the extractive reader is evaluated: {missing}")
    if settings.reader == "llm":
        print("the extractive reader on the same questions, to stand beside the LLM reader:")
        beside = _run(settings.replace(reader="extractive"), replace(options, out=_beside_folder(options)))
        print()
    checks = _run(settings, options)
    if beside:
        print(side_by_side(checks, beside))
    misses = [c for c in checks if not c.met]
    for miss in misses:
        print(miss.miss_line())
    if misses and options.strict:
        print(f"error: {len(misses)} target(s) missed (--strict)", file=sys.stderr)
        return EXIT_MISSED
    return 0


def _beside_folder(options: EvalOptions) -> Path:
    if options.out is not None:
        return Path(options.out) / "extractive"
    if is_squad_path(options.dataset):
        from evals.squad.runner import DEFAULT_SQUAD_OUT

        return DEFAULT_SQUAD_OUT / "extractive"
    from evals.runner import DEFAULT_OUT

    return DEFAULT_OUT / "extractive"


def side_by_side(llm: Sequence[TargetCheck], extractive: Sequence[TargetCheck]) -> str:
    """The two readers' figures on each target, one line each.

    >>> print(side_by_side([TargetCheck("f1", ">=", 70, 61.2)], [TargetCheck("f1", ">=", 70, 46.9)]))
    metric                    llm  extractive  target
    f1                     61.200      46.900  >= 70
    """
    other = {c.name: c.value for c in extractive}
    lines = [f"{'metric':20} {'llm':>8} {'extractive':>11}  target"]
    for c in llm:
        theirs = other.get(c.name, float("nan"))
        lines.append(f"{c.name:20} {c.value:8.3f} {theirs:11.3f}  {c.op} {c.goal:g}")
    return "\n".join(lines)


class Benchmark(Protocol):
    """What `rag eval` runs: a question set with its own format, metrics and report. Each one runs
    every question through the same `ask()`, writes its predictions, metrics.json and report into
    the output folder (evals.results writes the files) and returns its targets, checked."""

    def accepts(self, options: EvalOptions) -> str:
        """'' when this benchmark can run with these options, else why not (a DatasetError's text)."""
        ...

    def run(self, settings: Settings, options: EvalOptions) -> Sequence[TargetCheck]: ...


class OurSet:
    """The hand-written JSON Lines set about the article (evals.runner)."""

    def accepts(self, options: EvalOptions) -> str:
        if options.articles:
            return "--articles picks articles of a SQuAD .json file; the JSON Lines set has none"
        return ""

    def run(self, settings: Settings, o: EvalOptions) -> Sequence[TargetCheck]:
        from evals.runner import run_cli

        return run_cli(settings, o.dataset, o.out, o.compare, o.k, o.write_baseline, limit=o.limit)


class Squad:
    """A SQuAD v2.0 .json file, each article indexed alone, scored by the official metrics (evals.squad)."""

    def accepts(self, options: EvalOptions) -> str:
        if options.compare or options.write_baseline:
            return "--compare and --write-baseline work on JSON Lines sets, not on SQuAD files"
        return ""

    def run(self, settings: Settings, o: EvalOptions) -> Sequence[TargetCheck]:
        from evals.squad.runner import run_squad_cli

        assert o.dataset is not None
        return run_squad_cli(settings, o.dataset, o.out, k=o.k, limit=o.limit, articles=o.articles)


def benchmark_for(options: EvalOptions) -> Benchmark:
    """The benchmark that reads --dataset's format."""
    return Squad() if is_squad_path(options.dataset) else OurSet()


def _run(settings: Settings, o: EvalOptions) -> Sequence[TargetCheck]:
    benchmark = benchmark_for(o)
    problem = benchmark.accepts(o)
    if problem:
        raise DatasetError(problem)
    return benchmark.run(settings, o)

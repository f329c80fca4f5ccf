"""Fit the LLM reader's answerability model from a benchmark run; write rag/readers/llm/answerability.json.

    python benchmarks/llm_reader.py run        # records each question's signals and whether it is answerable
    python -m evals.fit.answerability     # fits, reports held-out figures, writes the file

Features (rag.readers.llm.answerability): logit of the model's P(yes), the best quote's cosine similarity
to the question, and the share of the question's words in it. A logistic regression (scikit-learn,
C=1) predicts "answerable"; the threshold is the highest one whose false abstention on the fitting
rows stays at or below `--max-false-abstention`. Held-out figures come from 2 folds: SQuAD rows split
by article, evals rows by question id; each fold is decided with weights fitted on the other fold.
The written file holds the weights fitted on every row, with the held-out figures beside them.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.metrics import auroc
from rag.readers.llm.answerability import CALIBRATION, FEATURES, FORMAT, Calibration, Signals

MAX_FALSE_ABSTENTION = 0.05


def usable(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["llm"].get("signals")]


def fit(rows: Sequence[dict[str, Any]], max_false: float = MAX_FALSE_ABSTENTION) -> Calibration:
    from sklearn.linear_model import LogisticRegression

    rows = usable(rows)
    x = [Signals(**r["llm"]["signals"]).vector() for r in rows]
    y = [int(r["answerable"]) for r in rows]
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    weights = tuple(float(w) for w in model.coef_[0])
    cal = Calibration(weights, float(model.intercept_[0]), 0.5)
    probs = sorted(cal.probability(Signals(**r["llm"]["signals"])) for r in rows if r["answerable"])
    # the highest threshold that abstains on at most max_false of the answerable rows
    allowed = int(max_false * len(probs))
    threshold = probs[allowed] if allowed < len(probs) else 0.5
    return Calibration(weights, cal.bias, threshold if probs else 0.5)


def folds(rows: Sequence[dict[str, Any]]) -> list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Two folds: SQuAD rows by article, evals rows by question id (a stable hash)."""

    def side(r: dict[str, Any]) -> int:
        return zlib.crc32((r["doc"] or r["id"]).encode()) % 2

    halves = ([r for r in rows if side(r) == 0], [r for r in rows if side(r) == 1])
    return [(halves[1], halves[0]), (halves[0], halves[1])]


def heldout(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    scored: list[tuple[float, float, int, bool]] = []
    for train, test in folds(usable(rows)):
        cal = fit(train)
        for r in test:
            s = Signals(**r["llm"]["signals"])
            p = cal.probability(s)
            scored.append((p, s.p_yes, int(r["answerable"]), p >= cal.threshold))
    ans = [t for t in scored if t[2]]
    una = [t for t in scored if not t[2]]
    return {
        "rows": len(scored),
        "auroc_combined": auroc([t[0] for t in scored], [t[2] for t in scored]),
        "auroc_p_yes_alone": auroc([t[1] for t in scored], [t[2] for t in scored]),
        "false_abstention": sum(not t[3] for t in ans) / max(len(ans), 1),
        "correct_abstention": sum(not t[3] for t in una) / max(len(una), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=Path, nargs="+", default=[Path("benchmarks/out/llm_reader.jsonl")])
    parser.add_argument("--out", type=Path, default=CALIBRATION)
    parser.add_argument("--dry-run", action="store_true", help="print, do not write")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for run in args.runs for line in run.read_text().splitlines() if line.strip()]
    cal = fit(rows)
    figures = heldout(rows)
    data = {
        "format": FORMAT,
        "features": list(FEATURES),
        "weights": [round(w, 6) for w in cal.weights],
        "bias": round(cal.bias, 6),
        "threshold": round(cal.threshold, 6),
        "fitted_on": {
            "rows": len(usable(rows)),
            "sets": sorted({r["set"] for r in rows}),
            "model": "Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            "max_false_abstention": MAX_FALSE_ABSTENTION,
        },
        "heldout_2fold": {k: round(v, 4) for k, v in figures.items()},
    }
    print(json.dumps(data, indent=2))
    if not args.dry_run:
        args.out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Fit the LLM reader's answerability model from a benchmark run; write rag/readers/llm/answerability.json.

    python benchmarks/llm_reader.py run        # records each question's signals and whether it is answerable
    python -m evals.fit.answerability     # fits, reports held-out figures, writes the file

or from `rag eval --reader llm` runs, whose items keep each question's signals (Answer.signals):

    rag eval --reader llm --out runs/evals
    rag eval --reader llm --dataset ../shared/benchmarks/squad2/dev-v2.0-public.json --limit 38 \
        --out runs/squad
    python -m evals.fit.answerability --eval-runs runs/evals runs/squad

Features (rag.readers.llm.answerability): logit of the model's P(yes) that the numbered passages answer the
question, the closest sentence's cosine similarity to the question, the largest share of the question's
words in one sentence, and whether the model's short answer was verbatim in a sentence it cited. A
logistic regression (scikit-learn, C=1) predicts "answerable"; the threshold is the highest one whose
false abstention on the fitting rows stays at or below `--max-false-abstention`; the gate (below it the
reply is not written) is the P(yes) under which at most 2% of the fitting rows' answerable questions lie.
Held out: each group (a SQuAD article, or an evals question family: factoid, numeric, unanswerable,
false_premise, ...) is decided by weights fitted on the other groups. The written file holds the weights
fitted on every row, with the held-out figures and the held-out risk-coverage curve beside them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evals.metrics import auroc
from rag.readers.llm.answerability import CALIBRATION, FEATURES, FORMAT, Calibration, Signals

MAX_FALSE_ABSTENTION = 0.05


GATE_SHARE = 0.02


def eval_run_rows(out: Path) -> list[dict[str, Any]]:
    """The rows of a `rag eval --reader llm` output folder, in the benchmark's shape: an evaluation set's
    items.jsonl (held out by question type) or a SQuAD run's squad_items.jsonl (held out by article)."""
    known = {f.name for f in dataclasses.fields(Signals)}
    rows = []
    squad = out / "squad_items.jsonl"
    for line in (squad if squad.is_file() else out / "items.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        signals = {k: v for k, v in (item.get("signals") or {}).items() if k in known}
        if squad.is_file():
            row = {"set": "squad", "doc": item["article"], "answerable": bool(item["gold"])}
        else:
            row = {"set": "evals", "family": item["type"], "answerable": item["answerable"]}
        rows.append({"id": f"{out.name}:{item['id']}", **row, "llm": {"signals": signals or None}})
    return rows


def usable(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in rows if r["llm"].get("signals")]


def group(row: dict[str, Any]) -> str:
    """What a row is held out by: its SQuAD article, or its evals question family."""
    return f"squad:{row['doc']}" if row["set"] == "squad" else f"evals:{row.get('family', '')}"


def fit(rows: Sequence[dict[str, Any]], max_false: float = MAX_FALSE_ABSTENTION) -> Calibration:
    from sklearn.linear_model import LogisticRegression

    rows = usable(rows)
    x = [Signals(**r["llm"]["signals"]).vector() for r in rows]
    y = [int(r["answerable"]) for r in rows]
    if len(set(y)) < 2:  # nothing to fit from: P(yes) alone at 0.5
        return Calibration((1.0, 0.0, 0.0, 0.0), 0.0, 0.5, 0.0)
    model = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
    weights = tuple(float(w) for w in model.coef_[0])
    yes = sorted(r["llm"]["signals"]["p_yes"] for r in rows if r["answerable"])
    gate = min(yes[int(GATE_SHARE * len(yes))], 0.5) if yes else 0.0
    cal = Calibration(weights, float(model.intercept_[0]), 0.5, gate)
    probs = sorted(
        cal.probability(Signals(**r["llm"]["signals"]))
        for r in rows
        if r["answerable"] and r["llm"]["signals"]["p_yes"] >= gate
    )
    # the highest threshold that abstains on at most max_false of the answerable rows (gate included)
    allowed = int(max_false * len(yes)) - (len(yes) - len(probs))
    threshold = probs[max(allowed, 0)] if probs else 0.5
    return Calibration(weights, cal.bias, threshold, gate)


def heldout_calibrations(rows: Sequence[dict[str, Any]]) -> dict[str, Calibration]:
    """Each row's calibration, fitted on the rows of every other group."""
    rows = usable(rows)
    out: dict[str, Calibration] = {}
    for g in sorted({group(r) for r in rows}):
        cal = fit([r for r in rows if group(r) != g])
        out.update({r["id"]: cal for r in rows if group(r) == g})
    return out


def heldout(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    rows = usable(rows)
    cals = heldout_calibrations(rows)
    scored: list[tuple[float, float, int, bool]] = []
    for r in rows:
        cal, s = cals[r["id"]], Signals(**r["llm"]["signals"])
        p = cal.probability(s)
        scored.append((p, s.p_yes, int(r["answerable"]), p >= cal.threshold and s.p_yes >= cal.gate))
    out: dict[str, Any] = {}
    for name, part in (
        ("all", scored),
        *((n, [t for t, r in zip(scored, rows, strict=True) if r["set"] == n]) for n in ("evals", "squad")),
    ):
        ans = [t for t in part if t[2]]
        una = [t for t in part if not t[2]]
        if not part:
            continue
        out[name] = {
            "rows": len(part),
            "auroc_combined": round(auroc([t[0] for t in part], [t[2] for t in part]), 4),
            "auroc_p_yes_alone": round(auroc([t[1] for t in part], [t[2] for t in part]), 4),
            "false_abstention": round(sum(not t[3] for t in ans) / max(len(ans), 1), 4),
            "correct_abstention": round(sum(not t[3] for t in una) / max(len(una), 1), 4),
            "risk_coverage": curve([(t[0], t[2]) for t in part]),
        }
    return out


def curve(scored: Sequence[tuple[float, int]], points: int = 10) -> list[list[float]]:
    """[coverage, risk, p]: answering the share `coverage` of questions with the highest held-out p, the
    share of those answered that have no answer in the documents."""
    ranked = sorted(scored, key=lambda t: -t[0])
    out = []
    for k in range(1, points + 1):
        n = max(1, round(k / points * len(ranked)))
        risk = sum(1 - y for _, y in ranked[:n]) / n
        out.append([round(n / len(ranked), 3), round(risk, 4), round(ranked[n - 1][0], 4)])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=Path, nargs="+", default=[Path("benchmarks/out/llm_reader.jsonl")])
    parser.add_argument(
        "--eval-runs", type=Path, nargs="*", default=[], help="rag eval --reader llm --out folders"
    )
    parser.add_argument("--out", type=Path, default=CALIBRATION)
    parser.add_argument("--dry-run", action="store_true", help="print, do not write")
    args = parser.parse_args(argv)
    if args.eval_runs:
        rows = [row for out in args.eval_runs for row in eval_run_rows(out)]
    else:
        rows = [
            json.loads(line) for run in args.runs for line in run.read_text().splitlines() if line.strip()
        ]
    cal = fit(rows)
    figures = heldout(rows)
    data = {
        "format": FORMAT,
        "features": list(FEATURES),
        "weights": [round(w, 6) for w in cal.weights],
        "bias": round(cal.bias, 6),
        "threshold": round(cal.threshold, 6),
        "gate": round(cal.gate, 6),
        "fitted_on": {
            "rows": len(usable(rows)),
            "sets": sorted({r["set"] for r in rows}),
            "model": "Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            "max_false_abstention": MAX_FALSE_ABSTENTION,
            "held_out_by": "SQuAD article; evals question family",
        },
        "heldout": figures,
    }
    print(json.dumps(data, indent=2))
    if not args.dry_run:
        args.out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

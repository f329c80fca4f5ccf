"""How well the claim check (rag/readers/llm/claims.py) tells true claims from false ones made of true words.

The claim set, evals/claims.jsonl, holds one claim a line: the quotes it is checked against (verbatim
sentences of its source document), the claim, whether the quotes state it (`label`) and its family
(paraphrase, attribute_moved, role_reversed, number_swapped, date_swapped, stitched,
nationality_or_title_moved, negation, word_substitution). Its documents are the seed article and small
documents in evals/claim_docs/.

Held out by document: the check was developed on DEVELOPMENT (the article and the board minutes); the
other documents count as held out, and were measured before being looked at:
- the leaflet, handbook and bank page, first measured after development: false claims passed 5/78,
  true claims dropped 8/64; general faults they showed were then fixed;
- the school-trip letter, written before those fixes: first measured at false 1/19, true dropped
  2/17; two general faults it showed (a verb's conjunct tagged as a noun, "this year" for "last year")
  were then fixed;
- the tenancy terms (FRESH), written after those changes: first measured at false 0/22 passed, true
  dropped 4/21; one general fault it showed (a role test that fired when a word matched both the agent
  and the object) was then fixed (true dropped 3/21). The rest of its misses are the small parser's
  tagging errors ("Peter Novak rents" read as a noun phrase).

Usage: python -m evals.claims [--out evals/out/claims.json]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CLAIMS = ROOT / "evals" / "claims.jsonl"
OUT = ROOT / "evals" / "out" / "claims.json"
DEVELOPMENT = frozenset(
    {"seeds/belarus-prisoner-release-2025.txt", "evals/claim_docs/library-board-minutes.txt"}
)
FRESH = frozenset({"evals/claim_docs/flat-tenancy-terms.txt"})
FAMILIES = (
    "paraphrase",
    "attribute_moved",
    "role_reversed",
    "number_swapped",
    "date_swapped",
    "stitched",
    "nationality_or_title_moved",
    "negation",
    "word_substitution",
)


@dataclass(frozen=True)
class Outcome:
    id: str
    source: str
    family: str
    label: bool
    supported: bool
    reason: str
    seconds: float

    @property
    def wrong(self) -> bool:
        return self.label != self.supported


def load_claims(path: Path = CLAIMS) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        missing = {"id", "source", "quotes", "claim", "label", "family"} - row.keys()
        if missing:
            raise ValueError(f"{path}: claim {row.get('id', '?')} lacks {sorted(missing)}; add them")
        if row["family"] not in FAMILIES:
            raise ValueError(f"{path}: claim {row['id']} has family {row['family']!r}; use one of {FAMILIES}")
    return rows


def run(rows: list[dict[str, Any]]) -> list[Outcome]:
    from rag.readers.llm.claims import check_claim, parser

    parser()  # the model load is not part of the time per claim
    out = []
    for row in rows:
        start = time.perf_counter()
        verdict = check_claim(row["claim"], row["quotes"])
        seconds = time.perf_counter() - start
        out.append(
            Outcome(
                row["id"],
                row["source"],
                row["family"],
                row["label"],
                verdict.supported,
                verdict.reason,
                seconds,
            )
        )
    return out


def rates(outcomes: list[Outcome]) -> dict[str, Any]:
    """False claims passed and true claims dropped, overall and per family."""
    false = [o for o in outcomes if not o.label]
    true = [o for o in outcomes if o.label]
    per_family = {}
    for family in FAMILIES:
        f = [o for o in false if o.family == family]
        t = [o for o in true if o.family == family]
        if f or t:
            per_family[family] = {
                "false_passed": sum(o.supported for o in f),
                "false": len(f),
                "true_dropped": sum(not o.supported for o in t),
                "true": len(t),
            }
    passed, dropped = sum(o.supported for o in false), sum(not o.supported for o in true)
    return {
        "false_passed": passed,
        "false": len(false),
        "false_rejected_rate": round(1 - passed / len(false), 4) if false else None,
        "true_dropped": dropped,
        "true": len(true),
        "true_kept_rate": round(1 - dropped / len(true), 4) if true else None,
        "per_family": per_family,
    }


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    times = sorted(o.seconds for o in outcomes)
    return {
        "overall": rates(outcomes),
        "development": rates([o for o in outcomes if o.source in DEVELOPMENT]),
        "held_out": rates([o for o in outcomes if o.source not in DEVELOPMENT]),
        "fresh": rates([o for o in outcomes if o.source in FRESH]),
        "ms_per_claim_median": round(1000 * times[len(times) // 2], 1),
        "ms_per_claim_mean": round(1000 * sum(times) / len(times), 1),
        "wrong": [
            {"id": o.id, "family": o.family, "label": o.label, "reason": o.reason}
            for o in outcomes
            if o.wrong
        ],
    }


def _print_rates(name: str, r: dict[str, Any]) -> None:
    print(
        f"{name:<12} false claims passed {r['false_passed']}/{r['false']} "
        f"(rejected {r['false_rejected_rate']:.1%}), true claims dropped {r['true_dropped']}/{r['true']} "
        f"(kept {r['true_kept_rate']:.1%})"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.claims", description=__doc__.split("\n")[0])
    ap.add_argument("--claims", type=Path, default=CLAIMS)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    outcomes = run(load_claims(args.claims))
    result = summary(outcomes)
    for name in ("overall", "development", "held_out", "fresh"):
        _print_rates(name, result[name])
    print("per family (overall): false passed / false, true dropped / true")
    for family, f in result["overall"]["per_family"].items():
        print(f"  {family:<28} {f['false_passed']:>2}/{f['false']:<3} {f['true_dropped']:>2}/{f['true']}")
    print(f"time per claim: median {result['ms_per_claim_median']} ms, mean {result['ms_per_claim_mean']} ms")
    for w in result["wrong"]:
        kind = "true claim dropped" if w["label"] else "false claim passed"
        print(f"  {kind}: {w['id']} ({w['family']}) {w['reason']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

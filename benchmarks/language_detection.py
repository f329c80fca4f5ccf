"""How well `rag.query.smalltalk.looks_foreign` tells English questions from others, on short questions.

English: every question of the SQuAD 2.0 dev split (/work/shared/benchmarks/squad2 or --squad) and of
evals/questions.jsonl; none should be taken for foreign. Foreign: benchmarks/questions-foreign.txt
(short questions in German, Spanish, French, Italian, Portuguese, Dutch, Russian, Polish, Ukrainian,
Swedish, Turkish, Chinese, Japanese, Arabic). Prints counts, the misses, and the detector's cost.

    python benchmarks/language_detection.py
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from rag.query.smalltalk import looks_foreign

HERE = Path(__file__).resolve().parent
SQUAD = Path("/work/shared/benchmarks/squad2/dev-v2.0-public.json")


def english_questions(squad: Path) -> list[str]:
    questions = []
    if squad.exists():
        data = json.loads(squad.read_text(encoding="utf-8"))
        questions += [q["question"] for a in data["data"] for p in a["paragraphs"] for q in p["qas"]]
    evals = HERE.parent / "evals" / "questions.jsonl"
    questions += [
        json.loads(line)["question"] for line in evals.read_text(encoding="utf-8").splitlines() if line
    ]
    return questions


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--squad", type=Path, default=SQUAD, help="SQuAD 2.0 JSON for English questions")
    args = parser.parse_args()
    english = english_questions(args.squad)
    foreign = [
        line
        for line in (HERE / "questions-foreign.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    t0 = time.perf_counter()
    wrong_english = [q for q in english if looks_foreign(q)]
    missed_foreign = [q for q in foreign if not looks_foreign(q)]
    seconds = time.perf_counter() - t0
    print(
        f"English questions taken for foreign: {len(wrong_english)} of {len(english):,} {wrong_english[:10]}"
    )
    print(
        f"foreign questions caught: {len(foreign) - len(missed_foreign)} of {len(foreign)}; "
        f"missed: {missed_foreign}"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{seconds:.2f} s for {len(english) + len(foreign):,} questions (detector load included), "
        f"peak RSS {rss:.0f} MB"
    )


if __name__ == "__main__":
    main()

"""How well `rag.query.smalltalk.looks_foreign` tells English questions from others, on short questions.

English: every question of the SQuAD 2.0 dev split (/work/shared/benchmarks/squad2 or --squad), of
evals/questions.jsonl and of evals/new_user.jsonl; none should be taken for foreign. Each question is read
with the names of its documents (its SQuAD article; the seed article for ours and for the foreign
questions, which ask about it), as the pipeline reads it. Foreign: benchmarks/questions-foreign.txt
(short questions in German, Spanish, French, Italian, Portuguese, Dutch, Russian, Polish, Ukrainian,
Swedish, Turkish, Chinese, Japanese, Arabic). Prints counts, the misses, and the detector's cost.

    python benchmarks/language_detection.py
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from functools import lru_cache
from pathlib import Path

from rag.config import PROJECT_ROOT, SEED_ARTICLE
from rag.query.smalltalk import looks_foreign
from rag.query.spelling import Vocabulary

HERE = Path(__file__).resolve().parent
SQUAD = Path("/work/shared/benchmarks/squad2/dev-v2.0-public.json")


@lru_cache(maxsize=1)
def seed_names() -> frozenset[str]:
    return Vocabulary.of([(PROJECT_ROOT / "seeds" / SEED_ARTICLE).read_text(encoding="utf-8")]).names


def english_questions(squad: Path) -> list[tuple[str, frozenset[str]]]:
    """Each English question with the names of the documents it is asked of."""
    questions = []
    if squad.exists():
        data = json.loads(squad.read_text(encoding="utf-8"))
        for a in data["data"]:
            names = Vocabulary.of(p["context"] for p in a["paragraphs"]).names
            questions += [(q["question"], names) for p in a["paragraphs"] for q in p["qas"]]
    for name in ("questions.jsonl", "new_user.jsonl"):
        lines = (HERE.parent / "evals" / name).read_text(encoding="utf-8").splitlines()
        questions += [(json.loads(line)["question"], seed_names()) for line in lines if line]
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
    wrong_english = [q for q, names in english if looks_foreign(q, names)]
    missed_foreign = [q for q in foreign if not looks_foreign(q, seed_names())]
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

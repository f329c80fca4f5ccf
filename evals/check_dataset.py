#!/usr/bin/env python3
"""Check evals/questions.jsonl against the article: the rules live in evals/datasets.py.

Usage (from the repository root):
    .venv/bin/python evals/check_dataset.py [questions.jsonl] [article.txt]

Exits 0 when the set is valid, 1 otherwise (every problem is printed). From Python:
`validate(load_items(path), load_article()) == []`. tests/test_dataset.py runs the same check.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from evals.datasets import TYPES, DatasetError, check_dataset, read_jsonl  # noqa: E402

DEFAULT_QUESTIONS = ROOT / "evals" / "questions.jsonl"
ARTICLE = ROOT / "seeds" / "belarus-prisoner-release-2025.txt"


def load_article(path: str | Path | None = None) -> str:
    return Path(path or ARTICLE).read_text(encoding="utf-8")


def load_items(path: str | Path = DEFAULT_QUESTIONS) -> list[Any]:
    return read_jsonl(Path(path))


def validate(items: list[Any], article: str) -> list[str]:
    return check_dataset(items, article)


def main(argv: list[str]) -> int:
    try:
        items = load_items(argv[1] if len(argv) > 1 else DEFAULT_QUESTIONS)
    except DatasetError as exc:
        print(exc)
        return 1
    errors = validate(items, load_article(argv[2] if len(argv) > 2 else None))
    counts = Counter(it.get("type") for it in items if isinstance(it, dict))
    unanswerable = sum(1 for it in items if isinstance(it, dict) and it.get("answerable") is False)
    print(f"{len(items)} items; answerable=false: {unanswerable} ({unanswerable / max(len(items), 1):.1%})")
    for t in sorted(TYPES):
        print(f"  {t:15s} {counts.get(t, 0)}")
    if errors:
        print(f"\n{len(errors)} problem(s):")
        for e in errors:
            print("  -", e)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Validate evals/questions.jsonl against the source article.

Standard library only. Usage:
    python3 evals/check_dataset.py [questions.jsonl] [article.txt]

Exits 0 when the dataset is valid, 1 otherwise (every problem is printed).
The functions `load_items`, `load_article` and `validate` can be imported
from a pytest test: `assert validate(load_items(p), load_article(a)) == []`.
"""
import json
import os
import re
import string
import sys
import unicodedata
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_QUESTIONS = os.path.join(HERE, "questions.jsonl")
ARTICLE_CANDIDATES = [
    os.path.join(HERE, "..", "seeds", "belarus-prisoner-release-2025.txt"),
    "/work/shared/seeds/000_044ddb33746cd367.txt",
]

ALLOWED_TYPES = {
    "factoid", "paraphrase", "numeric", "list", "multi_sentence", "why_how",
    "follow_up", "entity", "unanswerable", "false_premise",
}
UNANSWERABLE_TYPES = {"unanswerable", "false_premise"}
REQUIRED_KEYS = ["id", "question", "history", "answerable", "answers", "evidence", "type"]
MIN_ITEMS = 80
MIN_UNANSWERABLE_FRACTION = 0.15
ID_RE = re.compile(r"^q\d{3,}$")


def normalize(text):
    """SQuAD-style normalisation: lowercase, drop punctuation (ASCII and
    Unicode, e.g. curly quotes and em dashes), drop articles, squash spaces."""
    text = text.lower()
    text = "".join(
        ch for ch in text
        if ch not in string.punctuation and not unicodedata.category(ch).startswith("P")
    )
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def contains_span(answer, evidence_text):
    """True if the normalised answer occurs in the normalised evidence on
    whole-token boundaries (checked once as-is, once with hyphens/dashes
    turned into spaces)."""
    for dehyphen in (False, True):
        ans, ev = answer, evidence_text
        if dehyphen:  # also accept "69" inside "69-year-old"
            ans, ev = (re.sub(r"[-\u2010-\u2015]", " ", x) for x in (ans, ev))
        a = normalize(ans)
        if a and f" {a} " in f" {normalize(ev)} ":
            return True
    return False


def load_article(path=None):
    paths = [path] if path else ARTICLE_CANDIDATES
    for p in paths:
        if p and os.path.exists(p):
            with open(p, encoding="utf-8") as f:
                return f.read()
    raise FileNotFoundError(f"article not found in {paths}")


def load_items(path=DEFAULT_QUESTIONS):
    items, errors = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                errors.append(f"line {n}: blank line")
                continue
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError as e:
                errors.append(f"line {n}: invalid JSON: {e}")
    if errors:
        raise ValueError("\n".join(errors))
    return items


def _is_str_list(x):
    return isinstance(x, list) and all(isinstance(s, str) for s in x)


def validate(items, article):
    errors = []
    ids = Counter(it.get("id") for it in items if isinstance(it, dict))
    for dup, c in ids.items():
        if c > 1:
            errors.append(f"duplicate id {dup!r} ({c}x)")

    questions = Counter(
        (it.get("question", "").strip().lower(), json.dumps(it.get("history", [])))
        for it in items if isinstance(it, dict)
    )
    for (q, _), c in questions.items():
        if c > 1:
            errors.append(f"duplicate question {q!r} ({c}x)")

    for idx, it in enumerate(items, 1):
        if not isinstance(it, dict):
            errors.append(f"item {idx}: not an object")
            continue
        iid = it.get("id", f"<item {idx}>")
        keys = list(it.keys())
        if sorted(keys) != sorted(REQUIRED_KEYS):
            errors.append(f"{iid}: keys {keys} != {REQUIRED_KEYS}")
            continue
        if not isinstance(iid, str) or not ID_RE.match(iid):
            errors.append(f"{iid}: bad id format")
        if not isinstance(it["question"], str) or not it["question"].strip():
            errors.append(f"{iid}: empty question")
        t = it["type"]
        if t not in ALLOWED_TYPES:
            errors.append(f"{iid}: unknown type {t!r}")
        if not isinstance(it["answerable"], bool):
            errors.append(f"{iid}: answerable must be a bool")
        if not _is_str_list(it["answers"]):
            errors.append(f"{iid}: answers must be a list of strings")
            continue
        if not _is_str_list(it["evidence"]):
            errors.append(f"{iid}: evidence must be a list of strings")
            continue

        # history shape
        h = it["history"]
        if not isinstance(h, list):
            errors.append(f"{iid}: history must be a list")
        elif t == "follow_up":
            if not 1 <= len(h) <= 2:
                errors.append(f"{iid}: follow_up needs 1-2 history turns, has {len(h)}")
            for turn in h:
                if (not isinstance(turn, dict) or sorted(turn) != ["answer", "question"]
                        or not all(isinstance(turn[k], str) and turn[k].strip() for k in turn)):
                    errors.append(f"{iid}: bad history turn {turn!r}")
        elif h:
            errors.append(f"{iid}: history must be [] for type {t}")

        # evidence: verbatim substrings of the article
        for ev in it["evidence"]:
            if not ev.strip():
                errors.append(f"{iid}: empty evidence string")
            elif ev not in article:
                errors.append(f"{iid}: evidence not verbatim in article: {ev[:70]!r}")

        # answerability consistency
        if t in UNANSWERABLE_TYPES:
            if it["answerable"] is not False:
                errors.append(f"{iid}: type {t} must have answerable=false")
            if it["answers"]:
                errors.append(f"{iid}: unanswerable item must have answers=[]")
            if t == "unanswerable" and it["evidence"]:
                errors.append(f"{iid}: unanswerable item must have evidence=[]")
        else:
            if it["answerable"] is not True:
                errors.append(f"{iid}: type {t} must have answerable=true")
            if not it["answers"]:
                errors.append(f"{iid}: answerable item has no answers")
            if not it["evidence"]:
                errors.append(f"{iid}: answerable item has no evidence")
            if t == "multi_sentence" and len(it["evidence"]) < 2:
                errors.append(f"{iid}: multi_sentence needs 2+ evidence sentences")
            for ans in it["answers"]:
                if not ans.strip():
                    errors.append(f"{iid}: empty answer")
                elif not any(contains_span(ans, ev) for ev in it["evidence"]):
                    errors.append(f"{iid}: answer {ans!r} not found in its evidence")

    n = len(items)
    if n < MIN_ITEMS:
        errors.append(f"only {n} items, need >= {MIN_ITEMS}")
    n_false = sum(1 for it in items if isinstance(it, dict) and it.get("answerable") is False)
    if n and n_false / n < MIN_UNANSWERABLE_FRACTION:
        errors.append(f"answerable=false fraction {n_false}/{n} < {MIN_UNANSWERABLE_FRACTION:.0%}")
    return errors


def main(argv):
    qpath = argv[1] if len(argv) > 1 else DEFAULT_QUESTIONS
    article = load_article(argv[2] if len(argv) > 2 else None)
    try:
        items = load_items(qpath)
    except ValueError as e:
        print(e)
        return 1
    errors = validate(items, article)
    counts = Counter(it.get("type") for it in items)
    n_false = sum(1 for it in items if it.get("answerable") is False)
    print(f"{len(items)} items; answerable=false: {n_false} ({n_false / max(len(items), 1):.1%})")
    for t in sorted(ALLOWED_TYPES):
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

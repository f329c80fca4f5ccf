"""How often the LLM reader's short-answer checks reject right answers, and how often they catch wrong
ones, on data they were not written from. Prints figures.

The checks (rag.readers.llm.short_answer.fit_answer): the span has the question's shape
(rag.readers.llm.answer_shape), goes with the question's verb (claims.answer_verb_mismatch), does not
only describe someone the question names (claims.answer_within_named), is not a person the question
names itself (claims.answer_names_asked) nor the one on the receiving end where the question asks who
did it (claims.answer_role_swapped), counts what a "how many" question counts (claims.count_mismatch)
and is not said of someone else (claims.check_answer).

    python benchmarks/answer_check.py [--squad FILE] [--limit N]

Each question is first read as the reader reads it (rag.query.make_query: typos and chat shorthand as the
documents' words, lower-case names capitalised), with the vocabulary of its whole article.

- Right answers: every answerable SQuAD 2.0 question of the public dev split (its first gold span, in the
  sentence of the paragraph that holds it, the paragraph as context), and every answerable single-turn
  question of `evals/questions.jsonl`, `evals/new_user.jsonl` and `evals/tempting.jsonl` whose gold answer
  is verbatim in its evidence sentence (the article as context; each place the answer occurs is tried, as
  the reader does). A rejection here is a right answer the LLM reader would no longer show.
- Wrong answers: for each SQuAD question, the other spans of the same kind in the gold sentence (numbers
  for a numeric gold answer, runs of capitalised words for a named one), which are not the answer. A
  rejection here is a wrong answer caught; most wrong spans carry no sign the parse can see, so this rate
  is a floor of what the check adds, not a recall.
- Tempting answers to unanswerable questions: every unanswerable SQuAD 2.0 question's plausible answer (the
  span its writer meant to tempt a reader with, in its sentence, the paragraph as context). A rejection here
  is a wrong answer to a question the paragraph does not answer withheld; it is reported by article, since
  the rules were written while reading the first four.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.config import PROJECT_ROOT, SEED_ARTICLE
from rag.query import make_query
from rag.query.spelling import Vocabulary
from rag.readers.llm.short_answer import Fit, fit_answer

SQUAD = PROJECT_ROOT.parent / "shared" / "benchmarks" / "squad2" / "dev-v2.0-public.json"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])")
NAME = re.compile(r"\b[A-Z][\w’'-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w’'-]*)*")
NUMBER = re.compile(r"\b\d[\d,.]*\b")


class Tally:
    """Right answers kept and rejected (with reasons), per source; wrong spans caught."""

    def __init__(self) -> None:
        self.counts: collections.Counter[tuple[str, bool]] = collections.Counter()
        self.reasons: dict[str, list[str]] = collections.defaultdict(list)
        self.caught = self.wrong = 0
        self.refused: collections.Counter[str] = collections.Counter()
        self.tempting: collections.Counter[tuple[str, str]] = collections.Counter()  # (article, outcome)
        self.withheld: list[str] = []

    def right(self, source: str, question: str, answer: str, fit: Fit) -> None:
        self.counts[source, fit.span is not None] += 1
        self.refused[source] += fit.refuses
        if fit.span is None:
            outcome = "refused" if fit.refuses else "quotes instead"
            self.reasons[source].append(f"{question} -> {answer!r}: {outcome}: {fit.reason}")

    def unanswerable(self, article: str, question: str, answer: str, fit: Fit) -> None:
        outcome = "shown" if fit.span is not None else "refused" if fit.refuses else "quotes instead"
        self.tempting[article, outcome] += 1
        if fit.span is None:
            self.withheld.append(f"{question} -> {answer!r}: {outcome}: {fit.reason}")

    def print(self) -> None:
        for source in ("squad", "questions.jsonl", "new_user.jsonl", "tempting.jsonl"):
            kept, rejected = self.counts[source, True], self.counts[source, False]
            share = kept / max(1, kept + rejected)
            refused = self.refused[source]
            print(
                f"{source:16} right answers kept {kept}/{kept + rejected} ({share:.1%}); of those rejected, "
                f"{refused} refused and {rejected - refused} given the quotes instead"
            )
            for line in self.reasons[source][:12]:
                print("   ", line)
        share = self.caught / max(1, self.wrong)
        print(
            f"SQuAD wrong spans of the gold answer's kind in its sentence: caught {self.caught}/{self.wrong} "
            f"({share:.1%})"
        )
        articles = list(dict.fromkeys(a for a, _ in self.tempting))
        for part, names in (("first four articles", articles[:4]), ("last four articles", articles[4:])):
            outcomes = ("shown", "refused", "quotes instead")
            counts = {o: sum(self.tempting[a, o] for a in names) for o in outcomes}
            total = sum(counts.values())
            print(
                f"SQuAD unanswerable, plausible answer withheld ({part}): "
                f"{total - counts['shown']}/{total} ({(total - counts['shown']) / max(1, total):.1%}; "
                f"{counts['refused']} refused, {counts['quotes instead']} given the quotes instead)"
            )
        for line in self.withheld[:12]:
            print("   ", line)


def sentences(text: str) -> Iterator[tuple[int, str]]:
    at = 0
    for part in SENTENCE_END.split(text):
        start = text.index(part, at)
        yield start, part
        at = start + len(part)


def span_in_sentence(context: str, answer: dict[str, Any]) -> tuple[str, int] | None:
    """The sentence of `context` holding a SQuAD answer span, and the span's start in it; None when the
    span runs over a sentence end."""
    at = answer["answer_start"]
    found = [(o, s) for o, s in sentences(context) if o <= at < o + len(s)]
    if not found or at - found[0][0] + len(answer["text"]) > len(found[0][1]):
        return None
    offset, sentence = found[0]
    return sentence, at - offset


def as_read(question: str, vocabulary: Vocabulary) -> str:
    """The question as the reader gets it (`Query.text`): typos and shorthand read as the documents'
    words ("prisners", "ppl"), lower-case names capitalised."""
    return make_query(question, (), vocabulary).text


def squad(path: Path, limit: int, tally: Tally) -> None:
    data = json.loads(path.read_text())["data"]
    vocabularies = {a["title"]: Vocabulary.of(p["context"] for p in a["paragraphs"]) for a in data}
    rows = [(a["title"], p["context"], q) for a in data for p in a["paragraphs"] for q in p["qas"]]
    for title, context, q in rows[: limit or None]:
        if not q["answers"]:
            tempting = (q.get("plausible_answers") or [None])[0]
            located = span_in_sentence(context, tempting) if tempting else None
            if located is not None:
                sentence, start = located
                question = as_read(q["question"], vocabularies[title])
                fit = fit_answer(question, sentence, start, start + len(tempting["text"]), context)
                tally.unanswerable(title, question, tempting["text"], fit)
            continue
        gold = q["answers"][0]
        located = span_in_sentence(context, gold)
        if located is None:
            continue
        sentence, start = located
        question = as_read(q["question"], vocabularies[title])
        fit = fit_answer(question, sentence, start, start + len(gold["text"]), context)
        tally.right("squad", question, gold["text"], fit)
        text = gold["text"].strip()
        pattern = NUMBER if NUMBER.fullmatch(text) else NAME if text[:1].isupper() else None
        for m in pattern.finditer(sentence) if pattern else ():
            if m.group().lower() in text.lower() or text.lower() in m.group().lower():
                continue
            tally.wrong += 1
            tally.caught += fit_answer(question, sentence, m.start(), m.end(), context).span is None


def ours(name: str, context: str, tally: Tally) -> None:
    vocabulary = Vocabulary.of([context])
    for line in (PROJECT_ROOT / "evals" / name).read_text().splitlines():
        row: dict[str, Any] = json.loads(line)
        if not row.get("answerable") or row.get("history"):
            continue
        question = as_read(row["question"], vocabulary)
        for sentence in row.get("evidence", []):
            answer = next((a for a in row.get("answers", []) if a in sentence), None)
            if answer is None:
                continue
            starts = [m.start() for m in re.finditer(re.escape(answer), sentence)]
            fits = [fit_answer(question, sentence, s, s + len(answer), context) for s in starts]
            tally.right(name, question, answer, next((f for f in fits if f.span), fits[0]))
            break


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--limit", type=int, default=0, help="the first N SQuAD questions only")
    args = parser.parse_args()
    tally = Tally()
    t0 = time.perf_counter()
    squad(args.squad, args.limit, tally)
    article = (PROJECT_ROOT / "seeds" / SEED_ARTICLE).read_text(encoding="utf-8")
    for name in ("questions.jsonl", "new_user.jsonl", "tempting.jsonl"):
        ours(name, article, tally)
    tally.print()
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()

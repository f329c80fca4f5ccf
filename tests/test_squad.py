"""SQuAD 2.0 in `rag eval`: the official metrics against hand-computed cases, the loader on a tiny file
in the official format, the prediction and na_prob of an answer, `--strict`, and (slow) a slice of
the public split through the real CLI when ../shared holds it."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

from evals.command import EvalOptions, run_eval
from evals.datasets import DatasetError
from evals.results import TargetCheck
from evals.squad.dataset import load_squad, select
from evals.squad.metrics import (
    Scored,
    always_abstain,
    best_threshold,
    exact_score,
    f1_score,
    normalize_answer,
    precision_coverage,
    score_question,
    selective_metrics,
    squad_metrics,
)
from evals.squad.runner import SquadAnswer, na_probability, prediction_text
from rag.config import PROJECT_ROOT, Settings
from rag.types import Answer, Chunk, Citation, Passage

# CI clones the repository beside shared/; RAG_SQUAD_FILE points elsewhere (a git worktree, say)
SQUAD_PUBLIC = Path(
    os.environ.get("RAG_SQUAD_FILE")
    or PROJECT_ROOT.parent / "shared" / "benchmarks" / "squad2" / "dev-v2.0-public.json"
)

# --- the official metrics --------------------------------------------------------------------------


def test_normalisation_follows_the_official_script() -> None:
    assert normalize_answer("The  Cat's hat!") == "cats hat"
    assert normalize_answer("An apple, a day") == "apple day"
    assert normalize_answer("theatre") == "theatre"  # articles only as whole words


def test_exact_and_f1_by_hand() -> None:
    assert exact_score("the Normans", "Normans") == 1
    assert f1_score("red car", "the red") == pytest.approx(2 / 3)  # P 1/2, R 1/1
    assert f1_score("in 1066", "1066 AD") == pytest.approx(0.5)  # P 1/2, R 1/2
    assert f1_score("", "") == 1 and f1_score("x", "") == 0 and f1_score("", "x") == 0


def test_the_best_gold_answer_counts_and_unanswerable_gold_is_empty() -> None:
    q = score_question("q", ("10th century", "the 10th and 11th centuries"), "10th century", 0.2)
    assert q.has_answer and q.exact == 1 and q.f1 == 1
    no = score_question("n", (), "", 0.9)
    assert not no.has_answer and no.exact == 1 and no.f1 == 1
    assert score_question("n", (), "Rollo", 0.9).f1 == 0  # any answer to an unanswerable question is wrong
    assert not score_question("p", ("!",), "", 0.9).has_answer  # empty after normalisation: gold is [""]


def _four() -> list[Scored]:
    """Two answerable, two unanswerable questions, scored by hand:
    a: right (1, 1)   b: "red car" for "the red" (EM 0, F1 2/3)
    c: abstained on an unanswerable (1, 1)   d: answered an unanswerable (0, 0)"""
    return [
        score_question("a", ("x",), "x", 0.1),
        score_question("b", ("the red",), "red car", 0.6),
        score_question("c", (), "", 0.8),
        score_question("d", (), "blue", 0.7),
    ]


def test_official_metrics_by_hand() -> None:
    m = squad_metrics(_four())
    assert m["total"] == 4 and m["HasAns_total"] == 2 and m["NoAns_total"] == 2
    assert m["exact"] == pytest.approx(100 * 2 / 4)
    assert m["f1"] == pytest.approx(100 * (1 + 2 / 3 + 1 + 0) / 4)
    assert m["HasAns_exact"] == pytest.approx(50) and m["HasAns_f1"] == pytest.approx(100 * (1 + 2 / 3) / 2)
    assert m["NoAns_exact"] == pytest.approx(50) and m["NoAns_f1"] == pytest.approx(50)


def test_best_threshold_sweeps_na_prob_like_the_official_script() -> None:
    """Start abstaining on all (2 right of 4), admit by rising na_prob: a (+1 -> 3 at 0.1), b (+0 EM,
    +2/3 F1 at 0.6), d (-1: an answer to an unanswerable one), c (0: it has no answer to admit)."""
    qs = _four()
    assert best_threshold(qs, "exact") == (pytest.approx(75.0), 0.1)
    assert best_threshold(qs, "f1") == (pytest.approx(100 * (3 + 2 / 3) / 4), 0.6)
    m = squad_metrics(qs)
    assert m["best_f1"] == pytest.approx(100 * (3 + 2 / 3) / 4) and m["best_f1_thresh"] == 0.6
    # when answering nothing is best the threshold is 0.0, and the score is the NoAns share
    wrong = [score_question("a", ("x",), "y", 0.1), score_question("n", (), "z", 0.2)]
    assert best_threshold(wrong, "f1") == (50.0, 0.0)


def test_always_abstain_scores_the_noans_share() -> None:
    floor = squad_metrics(always_abstain(_four()))
    assert floor["exact"] == floor["f1"] == 50.0
    assert floor["HasAns_f1"] == 0.0 and floor["NoAns_exact"] == 100.0


def test_short_answer_precision_coverage_and_curve() -> None:
    s = selective_metrics(_four())
    # shown: a (F1 1), b (F1 2/3 >= 0.5), d (an answer to an unanswerable question: wrong)
    assert s["short_answers"] == 3 and s["coverage"] == 0.75
    assert s["short_answer_precision"] == pytest.approx(2 / 3)
    curve = [(p.threshold, p.coverage, p.precision) for p in precision_coverage(_four())]
    assert curve == [(0.1, 0.25, 1.0), (0.6, 0.5, 1.0), (0.7, 0.75, pytest.approx(2 / 3))]
    assert math.isnan(selective_metrics([score_question("c", (), "", 0.9)])["short_answer_precision"])


# --- the loader ------------------------------------------------------------------------------------

TINY_SQUAD = {
    "version": "v2.0",
    "data": [
        {
            "title": "Rivers",
            "paragraphs": [
                {
                    "context": "The Vistula is the longest river in Poland.",
                    "qas": [
                        {
                            "id": "r1",
                            "question": "What is the longest river in Poland?",
                            "is_impossible": False,
                            "answers": [
                                {"text": "The Vistula", "answer_start": 0},
                                {"text": "Vistula", "answer_start": 4},
                            ],
                        }
                    ],
                },
                {
                    "context": "It flows through Warsaw and Kraków.",
                    "qas": [
                        {
                            "id": "r2",
                            "question": "Which city lies on the Vistula?",
                            "is_impossible": False,
                            "answers": [{"text": "Kraków", "answer_start": 99}],  # a wrong offset
                        },
                        {
                            "id": "r3",
                            "question": "How long is the Oder?",
                            "is_impossible": True,
                            "answers": [],
                            "plausible_answers": [{"text": "longest", "answer_start": 15}],
                        },
                    ],
                },
            ],
        },
        {
            "title": "Force (physics)",
            "paragraphs": [{"context": "A force is a push or a pull.", "qas": []}],
        },
    ],
}


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "tiny-squad.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_loader_joins_paragraphs_and_places_answers_in_the_document(tmp_path: Path) -> None:
    rivers, force = load_squad(_write(tmp_path, TINY_SQUAD))
    assert rivers.title == "Rivers" and force.file_name == "Force_physics.txt"
    assert (
        rivers.document_text
        == "The Vistula is the longest river in Poland.\n\nIt flows through Warsaw and Kraków."
    )
    r1, r2, r3 = rivers.questions
    assert r1.answers == ("The Vistula", "Vistula") and not r1.is_impossible
    for q in (r1, r2):
        for text, start in zip(q.answers, q.answer_starts, strict=True):
            assert rivers.document_text[start : start + len(text)] == text  # a wrong offset is found again
    assert r3.is_impossible and r3.answers == () and r3.answer_starts == ()
    assert force.questions == ()


def test_select_by_title_and_limit_per_article(tmp_path: Path) -> None:
    articles = load_squad(_write(tmp_path, TINY_SQUAD))
    (only,) = select(articles, ["Rivers"], limit=2)
    assert [q.id for q in only.questions] == ["r1", "r2"]
    assert [len(a.questions) for a in select(articles)] == [3, 0]
    with pytest.raises(
        DatasetError, match=r"no article titled Warsaw; the file has: Rivers, Force \(physics\)"
    ):
        select(articles, ["Warsaw"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"version": "v2.0", "data": []}', "non-empty `data` list"),
        ('[{"title": "x"}]', "found list"),
        ('{"data": [{"title": "x"}]}', "paragraphs"),
        ('{"id": "q1"}\n{"id": "q2"}\n', "JSON Lines set must end in .jsonl"),
    ],
)
def test_loader_says_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetError, match=message):
        load_squad(path)


# --- predictions and na_prob -----------------------------------------------------------------------


def test_prediction_is_the_short_answer_or_empty() -> None:
    assert prediction_text(Answer("q", "It was Rollo.", False, direct_answer=" Rollo ")) == "Rollo"
    assert prediction_text(Answer("q", "The article says: ...", False, direct_answer="")) == ""  # quote only
    assert prediction_text(Answer("q", "Not in the article.", True, direct_answer="Rollo")) == ""


def test_na_prob_is_one_minus_the_readers_p_answerable() -> None:
    assert na_probability(Answer("q", "a", False, confidence=0.2, p_answerable=0.9)) == pytest.approx(0.1)
    assert na_probability(Answer("q", "a", False, p_answerable=1.7)) == 0.0  # clipped to [0, 1]
    assert na_probability(Answer("q", "a", True, p_answerable=-0.3)) == 1.0
    assert na_probability(Answer("q", "a", True, p_answerable=float("nan"))) == 1.0


def test_gold_answer_inside_quotes_and_passages(tmp_path: Path) -> None:
    (rivers,) = select(load_squad(_write(tmp_path, TINY_SQUAD)), ["Rivers"])
    text = rivers.document_text
    second = text.index("It flows")
    chunk = Chunk("Rivers.txt#c1", "Rivers.txt", second, len(text), text[second:])
    quote = Citation("Rivers.txt", 0, 11, text[0:11])  # "The Vistula"
    answer = Answer("q", "a", False, citations=(quote,), passages=(Passage(chunk, 1.0),))
    r1, r2, r3 = (SquadAnswer("Rivers", q, answer, 1.0) for q in rivers.questions)
    assert r1.in_quotes() is True and r1.in_passages() is False
    assert r2.in_quotes() is False and r2.in_passages() is True
    assert r3.in_quotes() is None and r3.in_passages() is None  # unanswerable: not counted


# --- --strict --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("strict", "code"), [(False, 0), (True, 1)])
def test_strict_fails_on_a_missed_target_and_says_by_how_much(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], strict: bool, code: int
) -> None:
    checks = [TargetCheck("f1", ">=", 60.0, 45.5), TargetCheck("answer_hit", ">=", 0.85, 0.9)]
    monkeypatch.setattr("evals.command._run", lambda settings, options: checks)
    assert run_eval(Settings(), EvalOptions(strict=strict)) == code
    out = capsys.readouterr()
    assert "missed target f1 >= 60: 45.500, short by 14.500" in out.out
    assert "answer_hit" not in out.out
    assert ("2 target" not in out.err) and (("1 target(s) missed" in out.err) == strict)


def test_strict_through_the_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main

    seen: list[tuple[Settings, EvalOptions]] = []

    def fake_run(settings: Settings, options: EvalOptions) -> list[TargetCheck]:
        seen.append((settings, options))
        return [TargetCheck("NoAns_exact", ">=", 70.0, math.nan)]

    monkeypatch.setattr("evals.command._run", fake_run)
    argv = ["eval", "--strict", "--reader", "llm", "--limit", "3", "--articles", "Normans, Warsaw"]
    assert main(argv) == 1
    (beside, beside_options), (settings, options) = seen  # the extractive reader first, to stand beside
    assert beside.reader == "extractive" and beside_options.out is not None
    assert beside_options.out.name == "extractive" and beside_options.limit == 3
    assert settings.reader == "llm" and options.limit == 3 and options.articles == ("Normans", "Warsaw")
    assert "missed target NoAns_exact >= 70: the run has no value for it" in capsys.readouterr().out
    assert main(["eval"]) == 0  # the same miss without --strict


def test_articles_only_apply_to_squad_files(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="--articles"):
        run_eval(Settings(index_dir=tmp_path), EvalOptions(articles=("Normans",)))


# --- the public split through the real CLI (slow) --------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(
    not SQUAD_PUBLIC.exists(), reason=f"the SQuAD 2.0 public split is not at {SQUAD_PUBLIC} (../shared)"
)
def test_squad_slice_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """2 articles x 15 questions through `rag eval --dataset`: the files, metrics that the files
    reproduce, and always-abstain equal to the share of unanswerable questions."""
    from cli.main import main

    out = tmp_path / "out"
    argv = ["eval", "--dataset", str(SQUAD_PUBLIC), "--articles", "Normans,Force", "--limit", "15"]
    assert main([*argv, "--out", str(out)]) == 0
    assert "always-abstain" in capsys.readouterr().out
    for name in (
        "squad_predictions.json",
        "squad_na_probs.json",
        "predictions.jsonl",
        "report.md",
        "report.html",
    ):
        assert (out / name).stat().st_size > 0
    doc = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    predictions = json.loads((out / "squad_predictions.json").read_text(encoding="utf-8"))
    na_probs = json.loads((out / "squad_na_probs.json").read_text(encoding="utf-8"))
    questions = [q for a in select(load_squad(SQUAD_PUBLIC), ["Normans", "Force"], 15) for q in a.questions]
    assert list(predictions) == list(na_probs) == [q.id for q in questions] and len(questions) == 30
    assert all(0.0 <= p <= 1.0 for p in na_probs.values())
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(predictions[r["id"]] == "" for r in rows if r["abstained"])
    # the official figures, recomputed from the two files written, are the ones in metrics.json
    scored = [
        score_question(q.id, () if q.is_impossible else q.answers, predictions[q.id], na_probs[q.id])
        for q in questions
    ]
    again = squad_metrics(scored)
    for key in ("exact", "f1", "HasAns_f1", "NoAns_exact", "best_f1"):
        assert doc["metrics"][key] == pytest.approx(again[key], abs=1e-6), key
    no_answer_share = 100 * sum(q.is_impossible for q in questions) / len(questions)
    assert doc["always_abstain"]["f1"] == pytest.approx(no_answer_share)
    assert set(doc["by_article"]) == {"Normans", "Force"}
    assert sum(a["bot"]["total"] for a in doc["by_article"].values()) == 30
    assert 0 <= doc["metrics"]["answer_in_quotes"] <= 1 and 0 <= doc["metrics"]["answer_in_passages"] <= 1
    assert set(doc["targets"]) == {"f1", "NoAns_exact", "short_answer_precision"}

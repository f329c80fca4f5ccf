"""The extractive reader: question parsing, candidate short answers, the fitted model file, and the
real pipeline on questions the rules used to answer wrongly with confidence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evals.metrics import contains_answer
from rag.pipeline import Engine
from rag.query import make_query
from rag.query.parse import parse
from rag.readers.extractive.features import read
from rag.readers.extractive.model import MODEL_PATH, ReaderModelError, load_model, unanswered
from rag.readers.extractive.scoring import digits_for_words, premise_problem
from rag.readers.extractive.spans import candidates
from rag.text import fold
from tests.conftest import ARTICLE

ARTICLE_TEXT = ARTICLE.read_text(encoding="utf-8")


# --- question parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many political prisoners were released?", "number"),
        ("How old is the philosopher?", "number"),
        ("When will the US embassy reopen?", "date"),
        ("In what year did the Normans arrive?", "date"),
        ("What century did the Normans conquer England?", "date"),
        ("Who was freed?", "person"),
        ("Who is John Coale?", "description"),
        ("What is the Warsaw Pact?", "description"),
        ("Where did Nauseda post it?", "place"),
        ("Which countries had citizens among the freed prisoners?", "place"),
        ("Which airline was sanctioned?", "entity"),
        ("Which state news agency quoted him?", "entity"),
        ("What did the US agree to ease?", "thing"),
        ("Why did Poland close its border?", "reason"),
        ("Is the future settled?", "none"),
        ("What is the population of Minsk?", "number"),
        ("What is the GDP of Belarus?", "number"),
        ("What was the year of the coup?", "date"),
        ("What is the capital of Lithuania?", "place"),
    ],
)
def test_question_kind(question: str, kind: str) -> None:
    assert parse(question).kind == kind


def test_question_is_read_once_into_its_parts() -> None:
    q = parse("How many of the freed prisoners were not Belarusian citizens in 2025?")
    assert q.wh == "how many"
    assert q.negated
    assert q.figures == ("2025",)
    assert q.names == ("Belarusian",)
    assert {"belarusian", "citizen"} <= q.focus
    assert not parse("Which entity developed the plan?").negated
    assert parse("Which entity did not develop the plan?").negated
    assert parse("Which entity didn't develop the plan?").negated
    assert parse("When will it reopen?").future and not parse("When did it close?").future


def test_the_focus_after_a_copula_is_the_noun_asked_about() -> None:
    assert parse("What is the population of Minsk?").focus == frozenset({"popul"})
    assert parse("What is the GDP of Belarus?").focus == frozenset({"gdp"})
    assert parse("What did Lukashenko discuss?").focus == frozenset()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "lacking"),
    [
        ("How many aircraft does Belavia operate?", True),  # no number counts aircraft
        ("What is the population of Minsk?", True),  # the article never speaks of a population
        ("How many political prisoners were released?", False),  # "52 political prisoners"
        ("How many Latvians were freed?", False),
        ("When did Trump take office?", False),
    ],
)
def test_unanswered_when_the_evidence_lacks_what_an_answer_holds(
    engine: Engine, question: str, lacking: bool
) -> None:
    qvec = engine.embedder.encode([question])[0]
    evidence = engine.retriever.evidence(make_query(question), qvec, engine.settings.top_k)
    assert unanswered(read(evidence)) is lacking


def test_names_are_capitalised_runs_but_not_question_words() -> None:
    assert parse("Why did it close them? (Which country closed its borders?)").names == ()
    assert parse("Why did Kaja Kallas praise Putin?").names == ("Kaja Kallas", "Putin")
    assert parse("Was it in The Guardian?").names == ("Guardian",)


def test_accents_fold() -> None:
    assert fold("Ögedei") == fold("Ogedei") == "ogedei"
    assert parse("Who succeeded Ögedei Khan?").words >= {"ogedei", "khan"}


# --- candidate short answers -------------------------------------------------------------------------


def _texts(sentence: str, kind: str) -> list[str]:
    return [c.text for c in candidates(sentence) if c.type == kind]


def test_years_of_any_length_centuries_and_decades_are_dates() -> None:
    sentence = (
        "In 911 Rollo got land; in 1066 they took England, by the 1050s Italy, in the 16th century more."
    )
    dates = _texts(sentence, "date")
    assert {"911", "1066", "the 1050s", "the 16th century"} <= set(dates)
    assert "September 11, 2025" in _texts("It happened on September 11, 2025, at dawn.", "date")
    assert "1914–1918" in _texts("The war of 1914–1918 ended it.", "date")


def test_numbers_percentages_money_and_what_they_count() -> None:
    numbers = _texts(
        "Belarus freed 52 political prisoners, about 1,000 remain; prices rose 12% to $3.5 million.", "number"
    )
    assert {"52", "52 political prisoners", "about 1,000", "12%", "$3.5 million"} <= set(numbers)
    assert "1066" not in _texts("in 1066 they came", "number")  # a year is a date, not a count


def test_ordinals_in_digits_and_words() -> None:
    assert {"4th", "fourth"} <= set(_texts("The 4th army, also called the fourth, marched.", "ordinal"))
    assert digits_for_words("the fourth of four") == "the 4th of 4"


def test_names_accented_hyphenated_and_joined() -> None:
    names = _texts("Ögedei Khan met Jean-Paul Sartre at the University of Notre Dame.", "name")
    assert {"Ögedei Khan", "Jean-Paul Sartre", "University of Notre Dame"} <= set(names)
    assert "The" not in " ".join(_texts("The Normans came.", "name")).split()


def test_candidates_are_verbatim_spans() -> None:
    for line in ARTICLE_TEXT.splitlines():
        for c in candidates(line):
            assert line[c.start : c.end] == c.text and c.text.strip() == c.text


def test_premise_check_ignores_accents_ordinals_and_hyphens() -> None:
    text = "Ögedei led the fourth army in the Belarus-Russia drills."
    assert premise_problem(parse("Did the 4th army follow Ogedei?"), [text], [text]) == ""
    assert premise_problem(parse("Why did Russia hold the drills?"), [text], [text]) == ""
    assert "100" in premise_problem(parse("Why did 100 people go?"), [text], [text])


# --- the model file ---------------------------------------------------------------------------------


def test_model_file_loads_and_scores_with_numpy() -> None:
    model = load_model()
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert data["trained"]["data_sha256"]["questions.jsonl"]
    assert 0 < model.answerable_threshold < 1 and 0 < model.short_threshold <= 1
    assert len(model.span.names) == len(model.span.coef) > 10
    p = model.span.predict([{"bias": 1.0}, {"bias": 1.0, "in_q": 1.0}])
    assert p.shape == (2,) and np.all((p > 0) & (p < 1))
    assert p[1] < p[0], "a span the question already holds is a worse answer"


def test_a_bad_model_file_says_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ReaderModelError, match="no reader model"):
        load_model(tmp_path / "missing.json")
    bad = tmp_path / "old.json"
    bad.write_text(json.dumps({"format_version": 0}), encoding="utf-8")
    with pytest.raises(ReaderModelError, match="refit"):
        load_model(bad)


# --- the real pipeline ------------------------------------------------------------------------------

# (question, gold answers): the rules once gave a confident wrong short answer to each
ONCE_WRONG = [
    ("How many political prisoners were released?", ["52"]),
    ("When will the US embassy reopen?", ["in the very near future"]),
    ("Which countries had citizens among the freed prisoners?", ["Lithuanians", "Germans", "Latvians"]),
    (
        "Who was freed?",
        ["Vladimir Matskevich", "Igor Losik", "Mikola Statkevich", "Julia Fenner", "Mikalai Khilo"],
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("question", "golds"), ONCE_WRONG)
def test_no_confident_wrong_short_answer(engine: Engine, question: str, golds: list[str]) -> None:
    answer = engine.ask(question)
    if answer.direct_answer:
        assert any(
            contains_answer(answer.direct_answer, g) or contains_answer(g, answer.direct_answer)
            for g in golds
        ), answer.answer
    for c in answer.citations:
        assert ARTICLE_TEXT[c.start : c.end] == c.quote
    assert 0.0 <= answer.p_answerable <= 1.0 and 0.0 <= answer.p_short <= 1.0
    assert answer.confidence == answer.p_answerable


@pytest.mark.slow
def test_answers_name_the_article_and_refusals_offer_passages(engine: Engine) -> None:
    refusal = engine.ask("Why did Belarus free 100 prisoners?")
    assert refusal.abstained
    assert refusal.answer.startswith("No answer was found: the article does not say that: it never mentions")
    assert "may help" in refusal.answer
    assert "none of them" not in refusal.answer
    data = refusal.to_dict()
    assert {"p_answerable", "p_short"} <= set(data)


def test_answers_name_their_source() -> None:
    from types import SimpleNamespace

    from rag.readers.base import Source

    def source(*ids: str) -> Source:
        return Source.of(SimpleNamespace(documents=dict.fromkeys(ids)))  # type: ignore[arg-type]

    assert source(ARTICLE.name).says() == "The article says"
    assert source("notes/trip.md").says() == "trip.md says"
    assert source("notes/trip.md").does_not_say() == "trip.md does not say"
    assert source("a.txt", ARTICLE.name).says() == "The documents say"
    assert source("a.txt", "b.txt").does_not_say() == "the documents do not say"

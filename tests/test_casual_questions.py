"""Questions as new users type them, through the real pipeline (real model, FAISS, BM25, article):
typos, contractions without apostrophes, "what is this about?" in any wording, nationalities the
article states by country. Each test applies a rule to many questions, never one wording."""

from __future__ import annotations

import json
import re

import pytest

from rag.config import PROJECT_ROOT
from rag.pipeline import Engine
from rag.query import make_query
from rag.query.parse import parse
from rag.query.spelling import Vocabulary, correct, is_common_word, is_english
from rag.text import stopwords, terms

pytestmark = pytest.mark.slow

QUESTIONS = [json.loads(line) for line in (PROJECT_ROOT / "evals" / "questions.jsonl").open(encoding="utf-8")]
SINGLE_TURN = [q["question"] for q in QUESTIONS if q["answerable"] and not q["history"]]


def _typo(word: str) -> str:
    """The word with its second-to-last letter dropped ("prisoners" -> "prisonrs")."""
    return word[:-2] + word[-1]


def _typed_badly(question: str, vocabulary: Vocabulary) -> tuple[str, str] | None:
    """The question with its longest document word mistyped, and that word; None when no word qualifies."""
    words = [w for w in re.findall(r"[A-Za-z]+", question) if len(w) >= 6 and w in vocabulary]
    for word in sorted(words, key=len, reverse=True):
        bad = _typo(word)
        if not is_english(bad.lower()) and bad not in vocabulary:
            return re.sub(rf"\b{word}\b", bad, question, count=1), word
    return None


def test_a_mistyped_document_word_is_read_as_that_word(engine: Engine) -> None:
    """Every answerable question of the set, its longest document word mistyped: understood as the
    question was written, and answered (or not) exactly as the question without the typo."""
    vocabulary = engine.retriever.vocabulary
    tried = 0
    for question in SINGLE_TURN[:40]:
        typed = _typed_badly(question, vocabulary)
        if typed is None:
            continue
        bad, word = typed
        clean, answer = engine.ask(question), engine.ask(bad)
        tried += 1
        assert word in answer.resolved_question, (bad, answer.resolved_question)
        assert answer.abstained == clean.abstained, (bad, answer.answer)
        assert [c.start for c in answer.citations] == [c.start for c in clean.citations], bad
    assert tried >= 20


def test_english_words_the_documents_lack_are_never_changed(engine: Engine) -> None:
    """A question about something the documents do not have stays that question (and is refused)."""
    vocabulary = engine.retriever.vocabulary
    lacking = ["population", "birthday", "weather", "aircraft", "salary", "ambassador", "soldiers"]
    for word in lacking:
        assert word not in vocabulary and is_english(word)
        question = f"What is the {word} of Minsk?"
        assert correct(question, vocabulary) == question
    answer = engine.ask("What is the populaton of Minsk?")  # a typo of a word no document has
    assert "populaton" in answer.resolved_question or "population" in answer.resolved_question
    assert answer.abstained, answer.answer


@pytest.mark.parametrize("word", ["what", "who", "where", "when", "how"])
def test_a_contraction_without_its_apostrophe_is_the_same_question(word: str) -> None:
    with_apostrophe = parse(f"{word}'s the airline called?")
    bare = make_query(f"{word}s the airline called?").parsed
    assert (bare.wh, bare.kind, bare.terms) == (
        with_apostrophe.wh,
        with_apostrophe.kind,
        with_apostrophe.terms,
    )


OVERVIEW_FORMS = [
    "what is {} about?",
    "what's {} about",
    "whats {} about",
    "summarize {}",
    "summarise {} for me",
    "tell me about {}",
    "what does {} say?",
]


@pytest.mark.parametrize("form", OVERVIEW_FORMS)
@pytest.mark.parametrize("pointer", ["this", "it", "that", "this article", "the text"])
def test_what_is_this_about_in_any_wording(engine: Engine, form: str, pointer: str) -> None:
    """An overview asked with a bare pointer ("this", "it") is the same as with "this article"."""
    question = form.format(pointer)
    answer = engine.ask(question)
    assert not answer.abstained, (question, answer.answer)
    assert answer.citations
    lead = engine.ask("What is this article about?").citations
    assert [c.start for c in answer.citations] == [c.start for c in lead], question


def test_a_pointer_after_an_earlier_turn_is_not_an_overview(engine: Engine) -> None:
    """'What is it about?' after a question about a thing points at that thing, not the document."""
    query = make_query("What was it about?", [("Which airline had sanctions eased?", "Belavia [1].")])
    assert not query.overview


def test_a_describing_nationality_is_not_a_word_the_documents_must_hold() -> None:
    q = parse("Who was the American envoy who met Lukashenko?")
    assert "american" not in q.terms and "American" not in q.names
    assert "lukashenko" in q.terms
    counted = parse("How many Lithuanians were released?")  # what is counted stays a required word
    assert "lithuanian" in counted.terms and "lithuanian" in counted.focus


def test_the_country_stated_for_a_nationality_asked(engine: Engine) -> None:
    """The article says "US embassy", "US envoy": asked with "American", the same answer."""
    pattern = re.compile(r"\bthe US (?=embassy|envoy|special envoy)")
    pairs = [(q, pattern.sub("the American ", q)) for q in SINGLE_TURN if pattern.search(q)]
    pairs.append(
        ("Who was the US envoy who met Lukashenko?", "Who was the American envoy who met Lukashenko?")
    )
    answered = 0
    for us, american in pairs:
        clean = engine.ask(us)
        if clean.abstained:
            continue
        answer = engine.ask(american)
        answered += 1
        assert not answer.abstained, (american, answer.answer)
        assert {c.start for c in answer.citations} & {c.start for c in clean.citations}, american
    assert answered >= 2


def test_no_word_of_a_question_is_dropped_by_correction() -> None:
    """Correction replaces words one for one: stop words and numbers stay as typed."""
    vocabulary = Vocabulary.of(["Belarus released 52 political prisoners on September 11, 2025."])
    for question in SINGLE_TURN:
        fixed = correct(question, vocabulary)
        assert len(fixed.split()) == len(question.split()), (question, fixed)
        kept = [w for w in question.split() if w.lower() in stopwords() or not terms(w)]
        assert all(w in fixed.split() for w in kept), (question, fixed)


@pytest.mark.parametrize(("short", "word"), [("ppl", "people"), ("govt", "government"), ("yrs", "years")])
def test_chat_shorthand_is_read_as_its_word(short: str, word: str) -> None:
    assert make_query(f"how many {short} were there").text == f"how many {word} were there"


@pytest.mark.parametrize("generic", ["people", "persons", "individuals"])
def test_a_count_of_people_is_not_a_count_of_what_the_documents_lack(engine: Engine, generic: str) -> None:
    """'How many people were freed?' asks how many, of whatever the documents count: the rule that
    refuses a count whose noun the evidence never names ('how many aircraft') does not apply."""
    from rag.readers.extractive.features import read
    from rag.readers.extractive.model import unanswered

    query = make_query(f"How many {generic} were freed?", (), engine.retriever.vocabulary)
    assert query.parsed.kind == "number" and not query.parsed.focus
    vector = engine.embedder.encode([query.text])[0]
    assert not unanswered(read(engine.retriever.evidence(query, vector, engine.settings.top_k)))
    lacking = make_query("How many aircraft were freed?", (), engine.retriever.vocabulary)
    vector = engine.embedder.encode([lacking.text])[0]
    assert unanswered(read(engine.retriever.evidence(lacking, vector, engine.settings.top_k)))


def test_a_question_typed_in_lower_case_keeps_its_names(engine: Engine) -> None:
    """Every single-turn question of the set, typed in lower case: the documents' names in it (but
    words common in English too) are read as names again, and it is answered or refused as the
    question typed with capitals."""
    vocabulary = engine.retriever.vocabulary
    compared = 0
    for row in QUESTIONS:
        question = row["question"]
        if row["history"]:
            continue
        lower = question[0] + question[1:].lower()
        understood = make_query(lower, (), vocabulary)
        words = [w for n in parse(question).names for w in n.split()]
        restored = [w for w in words if w.lower() in vocabulary.names and not is_common_word(w.lower())]
        for word in restored:
            assert re.search(rf"\b{word}\b", understood.text), (lower, understood.text)
        if compared < 30 and words and restored == words:
            assert engine.ask(lower).abstained == engine.ask(question).abstained, lower
            compared += 1
    assert compared >= 20


def test_the_cli_shows_the_question_as_understood(article_settings, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    """`rag ask` with typos answers and says how it read the question."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "RAG_INDEX_DIR": str(article_settings.index_dir)}
    question = "which airlne did the us ease sanctons on"
    out = subprocess.run(
        [sys.executable, "-m", "cli.main", "ask", question],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "Understood as: which airline did the us ease sanctions on" in out.stdout, out.stdout
    assert "does not say" not in out.stdout and "Belavia" in out.stdout

"""Greetings, thanks and questions in other languages get a reply of their own kind, not "does not say";
real questions, short ones full of names included, go through to the pipeline."""

from __future__ import annotations

import pytest

from rag.query.smalltalk import looks_foreign, small_talk
from rag.types import Answer

DOCS = ["belarus-prisoner-release-2025.txt"]


@pytest.mark.parametrize(
    "text", ["hello", "Hi there!", "hey", "Good morning", "hello again :)", "Hi 👋", "HELLO!!!"]
)
def test_greetings_get_a_friendly_reply_naming_the_documents(text: str) -> None:
    reply = small_talk(text, DOCS)
    assert reply is not None and reply.kind == "smalltalk"
    assert DOCS[0] in reply.answer and "question" in reply.answer
    assert "does not say" not in reply.answer and not reply.citations


@pytest.mark.parametrize(
    "text", ["thanks!", "Thank you", "thank you very much.", "Thanks a lot", "thx", "ok"]
)
def test_thanks_get_a_reply(text: str) -> None:
    reply = small_talk(text, ["a.txt", "b.md"])
    assert reply is not None and reply.kind == "smalltalk"
    assert "welcome" in reply.answer and "2 documents" in reply.answer


@pytest.mark.parametrize(
    "text",
    [
        "Wie viele politische Gefangene wurden freigelassen?",
        "¿Cuántos presos políticos fueron liberados?",
        "Pourquoi la Pologne a-t-elle fermé sa frontière ?",
        "Quantos presos políticos foram libertados?",
        "Сколько политических заключённых освободили?",
        "释放了多少政治犯？",
        "Gracias por la ayuda",
    ],
)
def test_other_languages_are_asked_for_english(text: str) -> None:
    reply = small_talk(text, DOCS)
    assert reply is not None and reply.kind == "language"
    assert "English" in reply.answer
    assert reply.to_dict()["kind"] == "language"


@pytest.mark.parametrize(
    "text",
    [
        "Who is Igor Losik?",
        "Minsk?",
        "Belavia?",
        "Who was Warsz?",
        "When was Mikalai Khilo arrested?",
        "hello, who led the talks in Minsk?",
        "Is Siarhei Tsikhanouski free?",
        "Thanks. Who is the US envoy?",
        "Lukashenko's pardon",
        "prisoners freed",
    ],
)
def test_questions_are_not_small_talk(text: str) -> None:
    assert small_talk(text, DOCS) is None
    assert not looks_foreign(text)


def test_a_typo_beside_a_document_name_typed_in_lower_case_is_english() -> None:
    # "wat is" is Dutch too; with the document's name set aside, what is left is English words
    assert not looks_foreign("wat is zapad 2025", {"zapad"})
    assert looks_foreign("wat is zapad 2025")  # without the documents' names, lingua reads Dutch
    assert looks_foreign("Wie is de speciale gezant van de VS?", {"zapad"})


def test_kind_is_read_from_the_answer_when_not_set() -> None:
    assert Answer("q", "a", abstained=False).to_dict()["kind"] == "answer"
    assert Answer("q", "a", abstained=True).to_dict()["kind"] == "abstain"
    assert Answer("q", "a", abstained=True, error="empty").to_dict()["kind"] == "error"


@pytest.mark.slow
def test_the_pipeline_replies_to_small_talk_and_answers_questions(engine) -> None:  # type: ignore[no-untyped-def]
    hello = engine.ask("hello")
    assert hello.reply_kind() == "smalltalk" and "does not say" not in hello.answer
    assert "belarus-prisoner-release-2025.txt" in hello.answer
    german = engine.ask("Wie viele politische Gefangene wurden freigelassen?")
    assert german.reply_kind() == "language" and not german.citations
    answer = engine.ask("Which airline did the US ease sanctions on?")
    assert answer.reply_kind() == "answer" and "Belavia" in answer.answer
    missing = engine.ask("Why did Belarus free 100 prisoners?")  # the article never mentions 100
    assert missing.reply_kind() == "abstain"
    typed = engine.ask("wat is zapad 2025")  # the article's name in lower case, beside a typo
    assert typed.reply_kind() != "language"

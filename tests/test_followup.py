"""Follow-ups bind pronouns to the right antecedent, complete bare question words, and never glue the
earlier question on; the real pipeline shows the question as understood in `resolved_question`."""

from __future__ import annotations

import pytest

from rag.pipeline import Engine
from rag.query.followup import needs_context, resolve

# (earlier question, earlier answer as shown, follow-up, expected question as understood)
CASES = [
    # a boat race
    (
        "Who captained the winning crew?",
        "Mara Quill [1]. “Their captain, Mara Quill, has rowed for ten years.” [1]",
        "How long has she rowed?",
        "How long has Mara Quill rowed?",
    ),
    (
        "Which village did the winning crew come from?",
        "Lower Brook [1]. “The winning crew came from the village of Lower Brook.” [1]",
        "How far is it from Elmford?",
        "How far is Lower Brook from Elmford?",
    ),
    (
        "When was the final held?",
        "Sunday [1]. “The river town of Elmford held its annual boat race on Sunday.” [1]",
        "Why was it delayed?",
        "Why was the final delayed?",  # "it" is not the day but the earlier question's subject
    ),
    (
        "When was the final held?",
        "Sunday [1]. “The river town of Elmford held its annual boat race on Sunday.” [1]",
        "Who won it?",
        "Who won the final?",
    ),
    # "her" before a noun is possessive; "that"/"those" before a noun are determiners, left alone
    (
        "Who captained the winning crew?",
        "Mara Quill, the captain of Lower Brook.",
        "What is her boat's name?",
        "What is Mara Quill’s boat's name?",
    ),
    (
        "Who rang the bell?",
        "The mayor [1].",
        "Why did the mayor praise those volunteers?",
        "Why did the mayor praise those volunteers?",
    ),
    (
        "Which crew won?",
        "Lower Brook [1].",
        "How did the papers describe that win?",
        "How did the papers describe that win?",
    ),
    # a bakery
    (
        "Who is the baker?",
        "Tomas Reed [1]. “The baker, Tomas Reed, learned the trade from his grandmother.” [1]",
        "Who taught him?",
        "Who taught Tomas Reed?",
    ),
    (
        "Who is the baker?",
        "Tomas Reed [1]. “The baker, Tomas Reed, learned the trade from his grandmother.” [1]",
        "What is his shop called?",
        "What is Tomas Reed’s shop called?",
    ),
    # the short answer is named in the follow-up itself: the pronoun is someone else from the turn
    (
        "Who met the envoy?",
        "Lukashenko [1]. “A face-to-face meeting in Minsk between Lukashenko and US envoy John Coale.” [1]",
        "What did he give Lukashenko?",
        "What did John Coale give Lukashenko?",
    ),
    (
        "When was Mikalai Khilo arrested?",
        "April 2024 [1]. “Khilo had been arrested in April 2024.” [1]",
        "Why was he arrested?",
        "Why was Mikalai Khilo arrested?",
    ),
    # bare question words take the earlier clause
    (
        "When was Mikalai Khilo arrested?",
        "April 2024 [1]. “Khilo had been arrested in April 2024.” [1]",
        "And why?",
        "Why was Mikalai Khilo arrested?",
    ),
    (
        "Which airline did the US ease sanctions on?",
        "Belavia [1]. “… ease sanctions on Belarus’s national airline, Belavia.” [1]",
        "Why?",
        "Why did the US ease sanctions on Belavia?",
    ),
    (
        "Who freed the prisoners?",
        "Lukashenko [1]. “…” [1]",
        "Why?",
        "Why?",  # no auxiliary to carry the clause over: left as asked
    ),
    # a refusal has no short answer: names from the earlier question stand in
    (
        "What did Tomas Reed bake on Sunday?",
        "The documents do not say. The closest passages may help.",
        "Where did he learn it?",
        "Where did Tomas Reed learn it?",
    ),
    # questions that stand alone are left alone
    (
        "Who is the baker?",
        "Tomas Reed [1].",
        "Which crew won the race?",
        "Which crew won the race?",
    ),
    (
        "Who is the baker?",
        "Tomas Reed [1].",
        "What did Lukashenko say he wants?",
        "What did Lukashenko say he wants?",
    ),
]


@pytest.mark.parametrize("prev_q, prev_a, question, expected", CASES)
def test_follow_ups_are_understood(prev_q: str, prev_a: str, question: str, expected: str) -> None:
    resolved = resolve(question, [(prev_q, prev_a)])
    assert resolved == expected
    assert "(" not in resolved  # nothing glued on in brackets


def test_a_chain_of_follow_ups_keeps_its_person() -> None:
    history = [
        ("Who is the festival's director?", "Ines Varga."),
        ("What did she say about Tomas Reed?", "That he baked the best bread in town."),
    ]
    assert resolve("Which paper did she say that to?", history) == "Which paper did Ines Varga say that to?"
    history = [
        ("Who is Tomas Reed?", "The baker on Mill Street."),
        ("Was he at the race?", "Yes, he was among the crowd."),
    ]
    assert resolve("What did he sell there?", history) == "What did Tomas Reed sell there?"


def test_only_the_last_turn_counts_and_no_history_changes_nothing() -> None:
    history = [
        ("Who is the baker?", "Tomas Reed [1]."),
        ("Who captained the winning crew?", "Mara Quill [1]."),
    ]
    assert resolve("What did she win?", history) == "What did Mara Quill win?"
    assert resolve("What did she win?", []) == "What did she win?"
    assert needs_context("Why?") and not needs_context("Why did Poland close its border?")


@pytest.mark.slow
@pytest.mark.parametrize(
    "first, follow_up, understood",
    [
        (
            "Who led the talks in Minsk?",
            "What did he give Lukashenko?",
            "What did John Coale give Lukashenko?",
        ),
        ("When was Mikalai Khilo arrested?", "Why was he arrested?", "Why was Mikalai Khilo arrested?"),
        (
            "Which country closed its borders with Belarus?",
            "Why did it close them?",
            "Why did Poland close them?|Why did the country that closed its borders with Belarus close them?",
        ),
        (
            "Which airline did the US ease sanctions on?",
            "Why?",
            "Why did the US ease sanctions on Belavia?|Why did the US ease sanctions on the airline?",
        ),
    ],
)
def test_the_real_pipeline_understands_follow_ups(
    engine: Engine, first: str, follow_up: str, understood: str
) -> None:
    """`understood` is "with the short answer|without one": the earlier answer's short answer fills
    the pronoun or the gap; when the reader withheld it, what the question asked about does."""
    earlier = engine.ask(first)
    answer = engine.ask(follow_up, [(first, earlier.answer)])
    with_short, _, without = understood.partition("|")
    expected = with_short if earlier.direct_answer or not without else without
    assert answer.question == follow_up
    assert answer.resolved_question == expected
    assert answer.to_dict()["resolved_question"] == expected
    text = engine.retriever.store.documents
    for c in answer.citations:
        assert text[c.doc_id].text[c.start : c.end] == c.quote

"""Small things a user noticed, fast: example questions make sense out of context, and a saved
conversation comes back whole (an LLM answer with dropped sentences too; a question left
unanswered returns to the box)."""

from __future__ import annotations

from rag.types import Answer, Citation, Document, Dropped
from ui import saved
from ui.render import Conversation
from ui.suggest import candidates

DOC = Document("a.txt", "The meeting lasted 45 minutes. Some 52 political prisoners were freed.", "0")
CITE = Citation("a.txt", 31, 71, "Some 52 political prisoners were freed.")


def test_example_questions_say_what_they_count() -> None:
    asked = candidates(DOC)
    assert "How many political prisoners?" in asked
    assert not any(q in asked for q in ("How many minutes?", "How many people?"))


def test_a_saved_llm_answer_with_dropped_sentences_comes_back_and_saves_again() -> None:
    assert DOC.text[CITE.start : CITE.end] == CITE.quote
    answer = Answer(
        "How many?",
        "52 were freed [1].",
        False,
        (CITE,),
        reader="llm",
        dropped=(Dropped("Paris is nice.", "not in the cited quotes: paris"),),
    )
    conv = Conversation().add("How many?", answer)
    back = saved.loads(saved.dumps(conv), {"a.txt": DOC})
    assert len(back.turns) == 1 and back.turns[0].answer.dropped == answer.dropped
    assert saved.loads(saved.dumps(back), {"a.txt": DOC}).turns == back.turns  # saving again works


def test_a_question_being_answered_is_kept_until_its_answer_comes() -> None:
    conv = Conversation().add("How many?", Answer("How many?", "52 [1].", False, (CITE,)))
    text = saved.dumps(conv, pending="And who freed them?")
    assert saved.pending(text) == "And who freed them?"
    assert len(saved.loads(text, {"a.txt": DOC}).turns) == 1
    assert saved.pending(saved.dumps(conv)) == ""

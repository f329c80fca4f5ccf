"""The conversation as JSON for the browser to keep (localStorage), and read back with every quote
checked again against the documents now indexed.

What comes back from a browser is not trusted: a turn whose quote is not `document.text[start:end]`
of a document in the index (edited, or the index changed since) is dropped, as is a passage whose
text is not where it says; the number of turns and the size are capped.

Why a reload could show one turn fewer than the page did: the last question was still being
answered (the LLM reader takes ~20 s), so it had no verified answer to keep. Such a question is now
kept as `pending` and returns to the question box after the reload, one Enter away.

>>> from rag.types import Answer, Citation, Document
>>> doc = Document("a.txt", "Ten boats raced. Mara won.", "0")
>>> cite = Citation("a.txt", 17, 26, "Mara won.")
>>> conv = Conversation().add("Who won?", Answer("Who won?", "Mara [1].", False, (cite,)))
>>> len(loads(dumps(conv), {"a.txt": doc}).turns), len(loads(dumps(conv), {}).turns)
(1, 0)
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from rag.types import Answer, Chunk, Citation, Document, Dropped, Passage
from ui.render import Conversation

MAX_TURNS = 50
MAX_CHARS = 2_000_000
MAX_QUESTION_CHARS = 10_000  # a pending question put back in the box; the pipeline refuses long ones anyway
_ANSWER_FIELDS = {f.name for f in dataclasses.fields(Answer)} - {
    "citations",
    "passages",
    "timings_ms",
    "dropped",
    "signals",
}


def dumps(conv: Conversation, **extra: str) -> str:
    """The turns as JSON (each answer as `Answer.to_dict()`), plus any `extra` string fields."""
    turns = [{"question": t.question, "answer": t.answer.to_dict()} for t in conv.turns[-MAX_TURNS:]]
    return json.dumps({"version": 1, "turns": turns, **extra}, ensure_ascii=False)


def loads(text: object, documents: Mapping[str, Document]) -> Conversation:
    """The saved conversation, keeping only turns whose quotes still verify; empty when unreadable."""
    conv = Conversation()
    if not isinstance(text, str) or not text or len(text) > MAX_CHARS:
        return conv
    try:
        data = json.loads(text)
    except ValueError:
        return conv
    turns = data.get("turns") if isinstance(data, dict) else None
    for turn in (turns if isinstance(turns, list) else [])[-MAX_TURNS:]:
        try:
            question, answer = str(turn["question"]), answer_from(turn["answer"], documents)
        except (KeyError, TypeError, ValueError):
            continue
        if answer is not None:
            conv = conv.add(question, answer)
    return conv


def pending(text: object) -> str:
    """The question that was being answered when the conversation was saved ('' when none): the
    page was left (reloaded) before its answer came, so it goes back to the question box.

    >>> pending(dumps(Conversation(), pending="Who won?")), pending(dumps(Conversation())), pending("{")
    ('Who won?', '', '')
    """
    if not isinstance(text, str) or not text or len(text) > MAX_CHARS:
        return ""
    try:
        data = json.loads(text)
    except ValueError:
        return ""
    question = data.get("pending") if isinstance(data, dict) else None
    return question[:MAX_QUESTION_CHARS] if isinstance(question, str) else ""


def answer_from(data: dict[str, Any], documents: Mapping[str, Document]) -> Answer | None:
    """An Answer from its `to_dict()`, or None when a quote does not verify against `documents`."""
    citations = tuple(
        Citation(str(c["doc_id"]), int(c["start"]), int(c["end"]), str(c["quote"])) for c in data["citations"]
    )
    if not all(_verifies(c.doc_id, c.start, c.end, c.quote, documents) for c in citations):
        return None
    passages = tuple(
        Passage(
            Chunk(str(p["chunk_id"]), str(p["doc_id"]), int(p["start"]), int(p["end"]), str(p["text"])),
            float(p["score"]),
            float(p.get("dense_score", 0.0)),
            float(p.get("lexical_score", 0.0)),
        )
        for p in data.get("passages", [])
        if _verifies(str(p["doc_id"]), int(p["start"]), int(p["end"]), str(p["text"]), documents)
    )
    fields = {k: data[k] for k in _ANSWER_FIELDS if k in data}
    dropped = tuple(Dropped(str(d["sentence"]), str(d["reason"])) for d in data.get("dropped") or ())
    answer = Answer(**{**fields, "citations": citations, "passages": passages, "dropped": dropped})
    if not isinstance(answer.answer, str) or not isinstance(answer.question, str):
        return None
    return answer


def _verifies(doc_id: str, start: int, end: int, text: str, documents: Mapping[str, Document]) -> bool:
    doc = documents.get(doc_id)
    return doc is not None and 0 <= start < end and doc.text[start:end] == text

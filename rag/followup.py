"""Follow-up questions: bring the earlier turn's subject into a question that only points at it.

"What did he bring?" after "Who is the US envoy?" / "John Coale [1]. …" becomes
"What did he bring? (Who is the US envoy? John Coale)" for retrieval and scoring; a question
that stands on its own is left as it is.

>>> resolve("What did he bring?", [("Who is the US envoy?", "John Coale [1]. “…” [1]")])
'What did he bring? (Who is the US envoy? John Coale)'
>>> resolve("How many prisoners were freed?", [("Who is the US envoy?", "John Coale [1].")])
'How many prisoners were freed?'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.retrieve import terms

_POINTERS = re.compile(
    r"\b(he|she|him|her|his|hers|they|them|their|theirs|it|its|this|that|these|those|there|then|"
    r"the (deal|agreement|man|woman|group|country|city|event|release|move|same))\b",
    re.IGNORECASE,
)
_MARKER = re.compile(r"\s*\[\d+\]")
_MAX_CONTEXT_CHARS = 300


def needs_context(question: str) -> bool:
    """Does the question point at something said before, or say too little to stand alone?"""
    return bool(_POINTERS.search(question)) or len(terms(question)) <= 1


def resolve(question: str, history: Sequence[tuple[str, str]]) -> str:
    if not history or not needs_context(question):
        return question
    prev_question, prev_answer = history[-1]
    context = f"{prev_question.strip()} {_gist(prev_answer)}".strip()
    return f"{question} ({context[:_MAX_CONTEXT_CHARS]})"


def _gist(answer: str) -> str:
    """The short answer of an earlier reply: what stands before its first quote or marker."""
    head = re.split(r"“|\[\d+\]", answer, maxsplit=1)[0]
    head = _MARKER.sub("", head).strip(" .")
    if head.lower().startswith(("the article does not say", "the article says")):
        return ""
    return head[:_MAX_CONTEXT_CHARS]

"""A short answer that restates the question, cut to what it adds.

The model is asked for the shortest words that answer, and often copies more: the question's own subject
and verb ("Supplementary sources of European Union law include case law ..." for "What are some
supplementary sources of European Union law?"), its verb and object after the answer ("Aristotle
provided a philosophical discussion of" for "Who provided a philosophical discussion of force?"), or
the question's preposition ("on the Vistula River" for "On what river does Warsaw stand?"). The span
stays verbatim: it is only cut, on the sentence's parse (claims.parse), to

1. without a leading clause subject made only of the question's words, its verb and what stands
   between them ("... include" above);
2. the subject alone, when everything after it in the span is the question's words ("Aristotle"),
   for a "who", "what", "which" or "whose" question;
3. when the span has no subject of its own, without a leading run of the question's words that ends
   with the question's verb ("separate religion from politics" for "What do moderates seek to
   separate?"), that verb's preposition ("listed as a UNESCO World Heritage Site") or a preposition
   the question asks with ("the seat of a Roman Catholic archdiocese" for "What archdiocese is Warsaw
   the seat of?");
4. without a leading preposition: one the question asks with ("on what river", "by whom"); "in", "on"
   or "at" before a name or figure for a "when" or "where" question, or one for a year, date or
   century ("in 1596" -> "1596", not "in the near future"); one that goes with the verb cut in 1 ("is
   composed of"); never one that changes the meaning ("before 1998").

A cut is kept only when what is left holds a word that is not the question's.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from rag.readers.llm.claims import SUBJECTS, parse
from rag.text import stopwords

_PLACE_TIME = frozenset({"in", "on", "at"})
_MEANING = frozenset(
    {"before", "after", "since", "until", "without", "against", "except", "near", "over", "under"}
)
_TIMES = frozenset({"year", "years", "century", "decade", "date", "month", "day"})  # "what year"
_WHO = frozenset({"who", "what", "which", "whose"})  # questions a subject can answer
_WH = _WHO | {"whom", "when", "where", "how"}


def restated(question: str, text: str, start: int, end: int) -> tuple[int, int]:
    """text[start:end] cut to what it adds to `question` (see the module docstring); the same span when
    there is nothing to cut.

    >>> s = "Aristotle provided a philosophical discussion of the concept of a force."
    >>> q = "Who provided a philosophical discussion of force?"
    >>> s[slice(*restated(q, s, 0, s.index(" the concept")))]
    'Aristotle'
    >>> s = "Supplementary sources of law include case law and general principles."
    >>> s[slice(*restated("What are some supplementary sources of law?", s, 0, len(s) - 1))]
    'case law and general principles'
    >>> s = "Warsaw stands on the Vistula River."
    >>> s[slice(*restated("On what river does Warsaw stand?", s, s.index("on"), len(s) - 1))]
    'the Vistula River'
    >>> s[slice(*restated("Where does Warsaw stand?", s, s.index("on"), len(s) - 1))]
    'the Vistula River'
    >>> s = "It will reopen in the near future."
    >>> s[slice(*restated("When will the embassy in Minsk reopen?", s, s.index("in"), len(s) - 1))]
    'in the near future'
    >>> s[slice(*restated("When will it reopen?", s, s.index("in"), len(s) - 1))]
    'in the near future'
    >>> s = "The legislature is composed of the Parliament and the Council."
    >>> s[slice(*restated("What makes up the legislature?", s, 0, len(s) - 1))]
    'the Parliament and the Council'
    >>> s = "The Old Town was listed as a UNESCO World Heritage Site in 1980."
    >>> q = "What was the Old Town listed as in 1980?"
    >>> s[slice(*restated(q, s, s.index("listed"), s.index(" in 1980")))]
    'a UNESCO World Heritage Site'
    >>> s[slice(*restated("What year was the Old Town listed?", s, s.index("in 1980"), len(s) - 1))]
    '1980'
    >>> s = "The bridge opened before 1998."
    >>> s[slice(*restated("When did the bridge open?", s, s.index("before"), len(s) - 1))]
    'before 1998'
    """
    doc = parse(text)
    tokens = [t for t in doc if t.idx >= start and t.idx + len(t.text) <= end]
    if len(tokens) < 2:
        return start, end
    echoes = _repeats_question(question)
    words = [w.strip("?,.!").lower() for w in question.split()]
    subject = _leading_subject(tokens)
    after = _after_subject(tokens, subject, echoes)
    asks_who = bool(words) and words[0] in _WHO
    kept = (
        after
        or (asks_who and _subject_only(tokens, subject, echoes))
        or (subject is None and _after_echo(tokens, echoes, question, words))
        or tokens
    )
    kept = _without_preposition(kept, words, bool(after))
    if kept is tokens or not any(not echoes(t) for t in kept):
        return start, end
    return kept[0].idx, kept[-1].idx + len(kept[-1].text)


def _repeats_question(question: str) -> Any:
    """Whether a token only repeats the question: one of its words (or their lemma), a function word, or
    punctuation."""
    q = parse(question)
    asked = {t.lower_ for t in q} | {t.lemma_.lower() for t in q}
    stop = stopwords()

    def echoes(t: Any) -> bool:
        return t.is_punct or t.lower_ in stop or t.lower_ in asked or t.lemma_.lower() in asked

    return echoes


def _leading_subject(tokens: Sequence[Any]) -> Any | None:
    """The subject whose phrase opens the span, if one does."""
    return next((t for t in tokens if t.dep_ in SUBJECTS and tokens[0] in t.subtree), None)


def _after_subject(tokens: Sequence[Any], subject: Any | None, echoes: Any) -> list[Any] | None:
    """What follows the span's leading subject and its verb, when that subject is the question's words."""
    if subject is None or not all(echoes(t) for t in subject.subtree):
        return None
    verb = subject.head
    inside = [t for t in tokens if t.i > max(t2.i for t2 in subject.subtree)]
    rest = [t for t in inside if t.i > verb.i] if verb in inside else []  # its auxiliaries go with it
    return rest if rest and any(not echoes(t) for t in rest) else None


def _subject_only(tokens: Sequence[Any], subject: Any | None, echoes: Any) -> list[Any] | None:
    """The span's leading subject, when everything after it is the question's words."""
    if subject is None:
        return None
    last = max(t.i for t in subject.subtree)
    head = [t for t in tokens if t.i <= last]
    tail = [t for t in tokens if t.i > last]
    if not tail or not all(echoes(t) for t in tail) or all(echoes(t) for t in head):
        return None
    if not any(t.pos_ in ("VERB", "AUX") for t in tail):
        return None  # "the Treaty on European Union" cut at "on": not a clause after a subject
    return head


def _after_echo(tokens: Sequence[Any], echoes: Any, question: str, words: Sequence[str]) -> list[Any] | None:
    """What follows a leading run of the question's words that ends with its verb ("separate" religion
    from politics), the verb's preposition ("listed as" a UNESCO site) or a preposition the question asks
    with ("the seat of" a Roman Catholic archdiocese, for "what is Warsaw the seat of?"), when the run
    holds a content word of the question; never at a preposition that changes the meaning."""
    run = list(itertools.takewhile(echoes, tokens))
    while run and run[-1].pos_ in ("DET", "PUNCT"):  # "the seat of a ...": the object's article stays
        run.pop()
    if not run or len(run) == len(tokens) or run[-1].lower_ in _MEANING:
        return None
    # a verb of the question's, as the question has it (not "articles" parsed as a verb)
    verbs = {t.lemma_.lower() for t in parse(question) if t.pos_ in ("VERB", "AUX")}
    last, before = run[-1], run[-2] if len(run) > 1 else None

    def its_verb(t: Any) -> bool:
        return t.pos_ in ("VERB", "AUX") and t.dep_ not in ("amod", "compound") and t.lemma_.lower() in verbs

    preposition = last.pos_ == "ADP" and (
        last.lower_ in _asked_prepositions(words) or (before is not None and its_verb(before))
    )
    stop = stopwords()
    if not (its_verb(last) or preposition) or all(t.is_punct or t.lower_ in stop for t in run):
        return None
    return list(tokens[len(run) :])


def _without_preposition(tokens: list[Any], words: Sequence[str], after_verb: bool) -> list[Any]:
    """Without a leading preposition the question already has (or in/on/at for when and where, or any
    that goes with the verb just cut: "composed of")."""
    first = tokens[0]
    if first.pos_ != "ADP" or len(tokens) < 2 or first.dep_ not in ("prep", "agent"):
        return tokens
    if after_verb and first.lower_ not in _MEANING:
        return tokens[1:]
    asks_place_or_time = bool(set(words) & {"when", "where"}) or any(
        a in ("what", "which") and b in _TIMES for a, b in itertools.pairwise(words)
    )
    # "in 1596", not "in the future"
    named = any(t.like_num or t.pos_ in ("PROPN", "NUM") for t in tokens[1:])
    if first.lower_ in _asked_prepositions(words) or (
        first.lower_ in _PLACE_TIME and asks_place_or_time and named
    ):
        return tokens[1:]
    return tokens


def _asked_prepositions(words: Sequence[str]) -> set[str]:
    """The prepositions the question asks with: before its wh-word ("on what river", "by whom") or left
    at its end ("protects organisms against what", "what is it made of"), not any it holds ("in Minsk")."""
    asked = {a for a, b in itertools.pairwise(words) if b in _WH}
    if words:
        asked.add(words[-1])  # "what is it made of"
    if len(words) >= 2 and words[-1] in _WH:
        asked.add(words[-2])  # "protects organisms against what"
    return asked

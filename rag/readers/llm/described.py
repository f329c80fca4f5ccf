"""The answer to "Who is X?" or "What is X?": the words the documents describe X with.

Asked who someone is, the 1.5B model replies with the name itself ("ANSWER: Igor Losik [2]"), which the
reader cannot show (it only repeats the question). A person asking wants the description the text gives:
"Igor Losik, a journalist" -> "a journalist". The dependency parse (spaCy's `en_core_web_sm`, as in
claims.py) finds it, in this order, in the first numbered sentence that names X and describes it:

1. an apposition set off right after the name by a comma, a bracket or a dash ("Kaja Kallas, the EU's
   foreign policy chief, told ..."; not a table row's "Mei Lin · Backup: Ana Ruiz");
2. such a noun phrase that the parser attached elsewhere ("Zapad-2025, a series of joint military
   exercises ...", where "a series" hangs on the sentence's subject);
3. the noun the name is in apposition to, right before it or before a comma ("the philosopher Vladimir
   Matskevich", "Belarus's national airline, Belavia"), but not one a "whose" ties to someone else
   ("Tikhanovskaya, … whose husband Sergei Tikhanovsky …");
4. the title run just before the name ("US special envoy John Coale", "Russian President Vladimir
   Putin"): nouns, adjectives and proper nouns, back to the first determiner, preposition, conjunction or
   punctuation, ending on a noun, with a common noun, an adjective or a common word among them
   ("President Alexander Lukashenko"; not "Mikola" of "Mikola Statkevich", not "Primary" of "Primary
   European Union law");
5. what a copula says the name is ("Matskevich is a philosopher").

The shown answer is the document's own characters, and the sentence holding it is quoted beside it, as
for any short answer. A relative clause ("Coale, who presented ...") tells what someone did, not who they
are, and is not taken.

>>> asked_name("Who is Igor Losik?"), asked_name("what's Zapad-2025"), asked_name("Who is the envoy?")
('Igor Losik', 'Zapad-2025', None)
>>> s = "Vladimir Matskevich, a 69-year-old philosopher; Igor Losik, a journalist; and others were freed."
>>> text_of = lambda d: d and s[d[0]:d[1]]
>>> text_of(description("Igor Losik", s)), text_of(description("Vladimir Matskevich", s))
('a journalist', 'a 69-year-old philosopher')
>>> s = "Week: 2 · Primary on-call: Mei Lin · Backup: Ana Ruiz"  # a table row describes no one
>>> description("Mei Lin", s) is None
True
>>> s = "The government of President Alexander Lukashenko released them."
>>> text_of(description("Lukashenko", s))  # the name's own first word is not its title
'President'
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from rag.query.spelling import is_common_word
from rag.readers.llm.claims import parse
from rag.readers.llm.short_answer import ShortAnswer
from rag.text import person_words

# "who is X", "who was X", "who's X", "what is X" ... with X the rest of the question
_IDENTITY = re.compile(r"^\s*(?:who|what)(?:\s+(?:is|was|are|were)\b|[’']s\b)\s*(?P<name>.+?)[\s?.!]*$", re.I)
_NAME_POS = frozenset({"PROPN", "NUM"})
_TITLE_POS = frozenset({"NOUN", "PROPN", "ADJ"})
_MAX_WORDS = 25  # as a short answer's (short_answer.MAX_SHORT_WORDS)
_SET_OFF = frozenset({",", "(", "–", "—"})


def asked_name(question: str) -> str | None:
    """The name a "Who is X?"/"What is X?" question asks about, when X is a name (its words are proper
    nouns or figures, "the" aside); None for any other question."""
    m = _IDENTITY.match(question)
    if m is None:
        return None
    name = re.sub(r"^the\s+", "", m.group("name"), flags=re.I)
    words = [t for t in parse(name) if not t.is_punct]
    if not words or len(words) > 6 or not all(t.pos_ in _NAME_POS or t.text[:1].isupper() for t in words):
        return None
    return name


def _places(name: str, text: str) -> Iterator[tuple[int, int]]:
    """Where `name` stands in `text` (case folded; "Zapad 2025" as "Zapad-2025"), else its last word
    ("Coale" for "John Coale") where the name it ends has no word the asked name lacks (not "Wola" of
    "Żelazowa Wola" for "Fredderic Wola")."""
    for form in dict.fromkeys((name, name.replace(" ", "-"))):
        found = [m.span() for m in re.finditer(rf"(?<![\w-]){re.escape(form)}(?![\w-])", text, re.I)]
        if found:
            yield from found
            return
    last, words = name.split()[-1], {w.lower() for w in name.split()}
    doc = parse(text)
    for m in re.finditer(rf"(?<![\w-]){re.escape(last)}(?![\w-])", text, re.I):
        token = next((t for t in doc if t.idx == m.start()), None)
        if token is not None and all(c.text.lower() in words for c in token.children if c.dep_ == "compound"):
            yield m.span()


def _extent(tokens: Sequence[Any]) -> tuple[int, int]:
    """The characters from the first token to the end of the last, without punctuation at the ends."""
    words = [t for t in tokens if not t.is_punct]
    if not words:
        return 0, 0
    return words[0].idx, words[-1].idx + len(words[-1])


def _subtree(t: Any) -> tuple[int, int]:
    doc = t.doc
    return _extent(doc[t.left_edge.i : t.right_edge.i + 1])


def _described(doc: Any, first: int, last: int) -> tuple[int, int] | None:
    """The description of the name doc[first:last + 1], by the five rules of the module's docstring."""
    inside = set(range(first, last + 1))
    head = next((doc[i] for i in inside if doc[i].head.i not in inside or doc[i].head.i == i), doc[last])
    after = last + 1  # an apposition is set off by a comma, a bracket or a dash, not by a table's "·" or ":"
    if after < len(doc) - 1 and doc[after].text in _SET_OFF:
        appos = [c for c in head.children if c.dep_ == "appos" and c.left_edge.i == after + 1]
        following = appos or [t for t in doc[after + 1 :] if t.dep_ == "appos" and t.left_edge.i == after + 1]
        if following:
            return _subtree(following[0])
    start = first  # the name's first words the question left out ("Alexander" for "Who is Lukashenko?")
    persons = person_words(doc.text)  # "John" of "John Coale" is a name, though a common word too
    while (
        start > 0
        and doc[start - 1].pos_ == "PROPN"
        and (not _is_title_word(doc[start - 1]) or doc[start - 1].lower_ in persons)
    ):
        start -= 1
    next_to = start > 0 and (doc[start - 1].i == head.head.i or doc[start - 1].text == ",")
    if head.dep_ == "appos" and head.head.pos_ == "NOUN" and head.head.i < start and next_to:
        described = doc[head.head.left_edge.i : start]
        # "whose husband Sergei Tikhanovsky" says whose he is, not who
        return None if described[0].tag_ == "WP$" else _extent(described)
    run: list[Any] = []
    for t in reversed(doc[:start]):
        if t.pos_ not in _TITLE_POS or t.is_punct:
            break
        run.insert(0, t)
    before = doc[run[0].i - 1] if run and run[0].i > 0 else None
    owned = before is not None and before.tag_ == "WP$"
    # a title, not a run of names alone ("Mikola" of "Mikola Statkevich") nor a lone adjective ("Primary")
    if run and not owned and run[-1].pos_ != "ADJ" and any(_is_title_word(t) for t in run):
        return _extent(run)
    if head.dep_ == "nsubj" and head.head.lemma_ == "be":
        attr = [c for c in head.head.children if c.dep_ == "attr"]
        if attr:
            return _subtree(attr[0])
    return None


def _is_title_word(t: Any) -> bool:
    """A common noun or adjective, or a capitalised common word ("President"), not a name ("Mikola")."""
    return t.pos_ in ("NOUN", "ADJ") or (t.pos_ == "PROPN" and is_common_word(t.lower_))


def description(name: str, text: str) -> tuple[int, int] | None:
    """Where in `text` (a sentence) the words describing `name` are; None when it names no such words."""
    doc = parse(text)
    for start, end in _places(name, text):
        tokens = [t for t in doc if t.idx < end and t.idx + len(t) > start]
        if not tokens:
            continue
        found = _described(doc, tokens[0].i, tokens[-1].i)
        if found and found[1] > found[0] and len(text[found[0] : found[1]].split()) <= _MAX_WORDS:
            return found
    return None


def described_short(
    question: str, order: Sequence[int], sentences: Sequence[tuple[int, str, int]]
) -> ShortAnswer | None:
    """For a "Who is X?"/"What is X?" question, X's description in the first sentence of `order` (numbers
    of `sentences`: (number, text, document offset)) that gives one, as a short answer; None otherwise.

    >>> s = [(1, "Coale, who met him, spoke.", 0), (2, "Kaja Kallas, the EU's policy chief, spoke.", 30)]
    >>> described_short("Who is Kaja Kallas?", [1, 2], s)
    ShortAnswer(text="the EU's policy chief", number=2, start=43, end=64)
    >>> described_short("Who is Coale?", [1, 2], s) is None  # what he did is not who he is
    True
    """
    name = asked_name(question)
    if name is None:
        return None
    by_number = {n: (text, offset) for n, text, offset in sentences}
    for n in order:
        if n not in by_number:
            continue
        text, offset = by_number[n]
        found = description(name, text)
        if found is not None:
            start, end = found
            return ShortAnswer(text[start:end], n, offset + start, offset + end)
    return None

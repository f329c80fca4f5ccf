"""A question read once into a value that sentence scoring, extraction and the premise check all share.

1. The question word ("how many", "when", "who", "which", "what", ...) and the words after it say
   what kind of answer is wanted: a number, a date, a person, a place, a named entity, a thing (a
   noun phrase), a description ("Who is X?"), a reason or manner ("why", "how"), or none of these.
2. The focus is the noun the question asks about: "How many political prisoners ..." counts
   prisoners, "Which countries ..." wants countries.
3. Terms (stemmed content words; a nationality that only describes, "the American envoy", set
   aside), folded words (lowercase, accents removed), names (capitalised runs
   after the first word), figures (runs of digits) and negation ("did not", "never") are read once.

>>> q = parse("Which countries had citizens among the freed prisoners?")
>>> q.kind, q.wh, sorted(q.focus)
('place', 'which', ['countri'])
>>> parse("How many political prisoners were released?").focus == frozenset({"polit", "prison"})
True
>>> parse("Which entity did not develop the Ögedei plan in 1066?").negated
True
>>> parse("Which entity did not develop the Ögedei plan in 1066?").names, parse("In 1066?").figures
(('Ögedei',), ('1066',))
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from rag.text import folded_words, nationality_words, stopwords, terms

Kind = Literal["number", "date", "person", "place", "entity", "thing", "description", "reason", "none"]
KINDS: tuple[Kind, ...] = (
    "number",
    "date",
    "person",
    "place",
    "entity",
    "thing",
    "description",
    "reason",
    "none",
)

_WH = re.compile(
    r"\b(how (?:many|much|old|long|far|large|big|tall|high)|how|why|when|whom|whose|who|where|which|what)\b",
    re.IGNORECASE,
)
_AUXILIARIES = frozenset(
    [
        "did",
        "do",
        "does",
        "were",
        "was",
        "are",
        "is",
        "had",
        "has",
        "have",
        "will",
        "would",
        "can",
        "could",
        "should",
        "shall",
        "may",
        "might",
        "must",
    ]
)
# "what is the population of ...", "which year": a copula and an article may stand before the noun
_LEAD = r"\s+(?:(?:is|was|are|were)\s+)?(?:(?:the|an?)\s+)?"
_NUMBER_NOUNS = re.compile(
    _LEAD + r"(?:\w+\s+)?(number|percentage|percent|age|share|amount|size|population|total|gdp|cost|price|"
    r"budget|revenue|income|salary|rate|height|length|distance|weight|area|value|count)\b"
)
_DATE_NOUNS = re.compile(
    _LEAD + r"(?:exact\s+|specific\s+)?(year|date|month|day|decade|century|time|period|era)\b"
)
_PERSON_NOUNS = re.compile(
    _LEAD + r"(?:\w+\s+)?(person|people|man|woman|leader|king|queen|president|emperor|author|scientist|"
    r"player|ruler|general|official|envoy|minister|diplomat|journalist|philosopher|member)\b"
)
_PLACE_NOUNS = re.compile(
    _LEAD + r"(?:\w+\s+)?(country|countries|city|cities|capital|town|border|region|place|province|continent)"
    r"\b(?!\s+\w+\s+agency)"
)
_DESCRIPTION = re.compile(
    r"^\s*(?i:who|what)\s+(?i:is|was|are|were)\s+(?:an?\s+|the\s+)?[A-Z][\w’'-]*(?:\s+(?:of\s+)?[A-Z][\w’'-]*)*\W*$"
)
_NAMED = re.compile(r"\b(?:called|named)\W*$")
# nouns that name no kind of thing: "how many people were freed" asks "how many", of whatever the
# documents count ("52 political prisoners")
_GENERIC = frozenset(terms("people persons individuals ones things"))
_COPULAS = frozenset(["is", "was", "are", "were"])
_NEGATION = re.compile(r"\b(?:not|never|no|none|neither|nor|without)\b|n[’']t\b", re.IGNORECASE)
_FUTURE = re.compile(r"\b(?:will|going to|shall|plan(?:s|ned)? to|expected to|next|future|upcoming)\b", re.I)
_FIGURE = re.compile(r"\d[\d,.]*\d|\d")
_WORD = re.compile(r"[\w’'-]+")


@dataclass(frozen=True)
class Question:
    text: str
    wh: str  # the question word, lowercased: "how many", "which", ... ("" for none)
    kind: Kind
    terms: tuple[str, ...]  # stemmed content words, in order
    focus: frozenset[str]  # stemmed words of the noun the question asks about
    names: tuple[str, ...]  # capitalised runs after the first word, as written
    figures: tuple[str, ...]  # runs of digits as written
    negated: bool
    future: bool  # "when will ...", "what is planned ..."
    words: frozenset[str]  # every word, folded (lowercase, no accents)
    polar: bool = False  # a yes/no question: "Did Latvia close its borders?", "were any brits released"

    @property
    def term_set(self) -> frozenset[str]:
        return frozenset(self.terms)

    @property
    def wants_span(self) -> bool:
        """Is a short answer (a span of a sentence) what the question asks for?"""
        return self.kind not in ("reason", "description", "none")


def parse(text: str) -> Question:
    m = _WH.search(text)
    wh = " ".join(m.group(1).lower().split()) if m else ""
    rest = text[m.end() :] if m else text
    focus = _focus(wh, rest)
    # a nationality describing something ("the American envoy") need not be a word of the documents,
    # which may say "US envoy"; when it is what is asked about ("how many Lithuanians"), it stays
    nationals = {t for w in nationality_words(text) for t in terms(w)} - focus
    return Question(
        text=text,
        wh=wh,
        kind=_kind(text, wh, rest),
        terms=tuple(t for t in terms(text) if t not in nationals),
        focus=focus,
        names=tuple(n for n in _names(text) if not set(terms(n)) <= nationals),
        figures=tuple(sorted({f.group() for f in _FIGURE.finditer(text)})),
        negated=bool(_NEGATION.search(text)),
        future=bool(_FUTURE.search(text)),
        words=frozenset(folded_words(text)),
        polar=is_polar(text),
    )


_LEADING = re.compile(r"^\W*(?:(?:and|so|but|also|then|ok|okay|well)\b\W*)*", re.IGNORECASE)


def is_polar(text: str) -> bool:
    """Is `text` a yes/no question: it opens with an auxiliary or modal verb (after a leading "and" or
    "so"), not with a question word?

    >>> [is_polar(q) for q in ("Did Latvia close its borders?", "and were any brits released", "Who did?")]
    [True, True, False]
    >>> is_polar("Is it known when the embassy will reopen?"), is_polar("Was the deal brokered, and by whom?")
    (False, False)
    """
    lead = _LEADING.match(text)
    rest = text[lead.end() :] if lead else text
    first = re.match(r"[\w’']+", rest)
    return first is not None and first.group(0).lower() in _AUXILIARIES and not _WH.search(rest)


def _kind(text: str, wh: str, rest: str) -> Kind:
    low = rest.lower()
    if wh in ("why", "how"):
        return "reason"
    if wh.startswith("how "):
        return "number"
    if wh == "when":
        return "date"
    if wh in ("who", "whom", "whose"):
        return "description" if _DESCRIPTION.match(text) else "person"
    if wh == "where":
        return "place"
    if wh in ("what", "which"):
        for pattern, kind in (
            (_NUMBER_NOUNS, "number"),
            (_DATE_NOUNS, "date"),
            (_PERSON_NOUNS, "person"),
            (_PLACE_NOUNS, "place"),
        ):
            if pattern.match(low):
                return kind  # type: ignore[return-value]  # "what is the GDP of Belarus" asks a number
        if _DESCRIPTION.match(text):
            return "description"
        if _NAMED.search(low):
            return "entity"  # "what is the airline called?" asks for a name
        return "entity" if wh == "which" else "thing"
    if wh == "whose":
        return "person"
    return "none"


def _focus(wh: str, rest: str) -> frozenset[str]:
    """The stemmed noun words right after 'how many' / 'which' / 'what' (up to an auxiliary verb).

    "How many of the prisoners were Latvians" counts Latvians: after "of", the words past the verb.
    """
    if wh == "how old":
        return frozenset({"year", "old", "age"})
    if wh == "how long":
        return frozenset({"year", "month", "week", "day", "hour", "minut", "decad", "centuri"})
    if wh not in ("how many", "how much", "which", "what"):
        return frozenset()
    words = _WORD.findall(rest.lower())
    if wh == "what" and len(words) > 2 and words[0] in _COPULAS and words[1] in ("the", "a", "an"):
        words = words[2:]  # "what is the population of Minsk": the noun after the copula and article,
        cut = next((i for i, w in enumerate(words) if w in ("of", "in", "for", "on", "at")), len(words))
        words = words[:cut]  # up to its preposition
    of = bool(words) and words[0] == "of"
    taken: list[str] = []
    for i, word in enumerate(words[1:5] if of else words[:3]):
        if word in _AUXILIARIES:
            if of:
                taken += words[i + 2 : i + 5]
            break
        taken.append(word)
    return frozenset(terms(" ".join(taken))) - _GENERIC


_NAME = re.compile(r"[^\W\d_][\w’'-]*")


def _names(text: str) -> list[str]:
    """Runs of capitalised words after the first word: 'Why did Kaja Kallas praise Putin?' -> 2 names."""
    runs: list[list[str]] = []
    in_name = False
    stop = stopwords()
    for i, m in enumerate(_NAME.finditer(text)):
        word = m.group()
        is_name = (
            i > 0
            and word[0].isupper()
            and (len(word) > 1)
            and (word[1:2].islower() or word.isupper())
            and not (word.lower() in stop and not in_name)  # "(Which country ...)": not a name
        )
        if is_name and in_name:
            runs[-1].append(word)
        elif is_name:
            runs.append([word])
        in_name = is_name
    return [" ".join(r) for r in runs]


_DOC = r"(?:article|text|document|story|piece|page|report|post|essay|file|passage|source|news|it)"
# the document named, or pointed at with a bare "this", "that" or "it" when nothing came before
_THIS = rf"(?:(?:(?:this|the|that|your)\s+)?{_DOC}|this|that)"
_PATTERNS = [
    rf"^what(?:'s|’s| is| was)\s+{_THIS}\s+(?:all\s+)?about$",
    rf"^(?:tell\s+me|talk\s+me\s+through|fill\s+me\s+in)(?:\s+(?:about|on)\s+{_THIS})?$",
    rf"^what(?:'s|’s| is| was)?\s+(?:happened|happening|going\s+on)(?:\s+(?:in|here|there|with)\s+{_THIS})?$",
    rf"^what\s+(?:does|did)\s+{_THIS}\s+(?:say|cover|discuss|describe|report|tell\s+(?:me|us))$",
    rf"^(?:what\s+is|what's|give\s+(?:me\s+)?|tell\s+me)\s*(?:an?\s+|the\s+)?(?:short\s+|brief\s+|quick\s+)?"
    rf"(?:summary|overview|gist|tl;?dr)(?:\s+of\s+{_THIS})?$",
    rf"^(?:summari[sz]e|sum\s+up|recap|outline)(?:\s+{_THIS})?(?:\s+for\s+me)?(?:\s+briefly)?$",
    rf"^(?:(?:what\s+are|list|give\s+(?:me\s+)?)\s*)?(?:the\s+)?(?:main|key|most\s+important)\s+"
    rf"(?:points|ideas|takeaways|topics|facts|events|themes)(?:\s+(?:of|in)\s+{_THIS})?$",
    r"^tl;?dr$",
]
_OVERVIEW = [re.compile(p, re.IGNORECASE) for p in _PATTERNS]
_POLITE = re.compile(r"^(?:(?:please|can you|could you|would you|kindly)\s+)+|(?:\s+please)$", re.IGNORECASE)


def is_overview(question: str) -> bool:
    """Does the question ask about the document as a whole? Its form decides, never a topic.

    >>> is_overview("What is this article about?"), is_overview("Summarise the text please")
    (True, True)
    >>> is_overview("What are the main points?"), is_overview("What does the article say about Poland?")
    (True, False)
    >>> is_overview("what is this about?"), is_overview("tell me about it"), is_overview("What happened?")
    (True, True, True)
    >>> is_overview("What happened to Khilo?"), is_overview("What is this deal about?")
    (False, False)
    """
    text = " ".join(re.sub(r"(?<=\w)[,:]|;(?=\s)", " ", question).strip().rstrip("?!. ").split())
    text = _POLITE.sub("", text).strip().rstrip("?!. ")
    return any(p.match(text) for p in _OVERVIEW)

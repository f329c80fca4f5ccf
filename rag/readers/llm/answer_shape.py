"""Does a short answer have the shape its question asks for? "How many ...?" wants a count, "When ...?" a
time, and "Why ...?" or "Who ...?" is not answered by a bare date or number.

The 1.5B model sometimes copies the right sentence's wrong words: "Why was Mikalai Khilo arrested?" ->
"in April 2024", "Whose arrest was connected to those sanctions?" -> "2021". Such a span is verbatim and
cited, so only its shape gives it away. The checks are on words alone (no parse) and reject only what no
answer of that kind can be; measured on every answerable SQuAD 2.0 public question's gold answer
(benchmarks/answer_check.py), they keep all 1,510 of them.

>>> shape_mismatch("Why was Mikalai Khilo arrested?", "in April 2024")
"a 'why' question is not answered by a date or a number alone"
>>> shape_mismatch("How many Latvians were freed?", "two"), shape_mismatch("How many lakes?", "several")
('', '')
>>> shape_mismatch("How many people were freed?", "political prisoners")
"a 'how many' question needs a number or an amount"
>>> shape_mismatch("When did Warsaw start to rebuild?", "After liberation")
''
>>> shape_mismatch("When was he arrested?", "Viasna")
"a 'when' question needs a time"
>>> shape_mismatch("When will it reopen?", "in the very near future")
''
>>> shape_mismatch("Why was it notable?", "on the eve of Zapad-2025")
''
>>> shape_mismatch("On what exact date will it reopen?", "in the very near future")
'a question for a date needs a date'
>>> shape_mismatch("when exactly will the embassy open again", "in the very near future")
'a question for a date needs a date'
>>> shape_mismatch("How long did Poland keep its border closed?", "six")
"a 'how long' question needs a duration or a length with its unit"
>>> shape_mismatch("Who presented John Coale with a letter?", "Coale")
"the answer only repeats the question's words"
>>> shape_mismatch("Which restrictions on Belavia were lifted?", "2021")
"a 'which restrictions' question is not answered by a year alone"
>>> shape_mismatch("In what country was the first railway built?", "1804")
"'in what ...?' names no time, so a year alone does not answer it"
>>> shape_mismatch("What treaty was signed?", "in 911"), shape_mismatch("In what year was it?", "in 911")
("'what ...?' names no time, so a year alone does not answer it", '')
>>> shape_mismatch("when did this happen", "in the very near future")
"'when did ...?' asks about the past, not the future"
>>> shape_mismatch("When did Coale say it would happen?", "in the very near future")
''
"""

from __future__ import annotations

import re

from rag.text import LARGE_NUMBERS, MONTHS, SMALL_NUMBERS, SMALL_ORDINALS, WEEKDAYS, stopwords

_WORD = re.compile(r"[\w’'.,]+")  # hyphens and slashes split: "four-course", "Zapad-2025", "12th/13th"
_NUMBER = re.compile(r"\d[\d,.]*(?:s|st|nd|rd|th|m|bn|k)?")
_NUMBER_WORDS = frozenset(SMALL_NUMBERS + SMALL_ORDINALS + LARGE_NUMBERS)
_MONTHS = frozenset(m.lower() for m in MONTHS.split("|"))
_WEEKDAYS = frozenset(d.lower() for d in WEEKDAYS.split("|"))
# words that give an amount without a figure ("several", "none", "twice", "a dozen", "all")
_AMOUNTS = frozenset(
    "none nothing no several few many much single once twice thrice all most some half both "  # noqa: SIM905
    "couple handful majority minority little less more fewer numerous countless multiple".split()
)
# words that give a time without a date ("after liberation", "during the war", "at dawn", "annually")
_TIMES = (
    frozenset(
        "after before following during since until till upon while when once prior later earlier ago soon "  # noqa: SIM905
        "now then early late recently today yesterday tomorrow year years month months week weeks day days "
        "century centuries decade decades era age period time times morning evening night noon dawn dusk "
        "spring summer autumn fall winter season annually daily weekly monthly yearly hour hours minute "
        "minutes eve beginning end start middle dynasty reign war bc ad bce ce future past present".split()
    )
    | _WEEKDAYS
)
_AUX = r"(?:did|does|do|was|were|is|are|will|would|has|have|had|can|could|should|might)"
_HOW_MANY = re.compile(r"\bhow (?:many|much)\b")
_WHEN = re.compile(
    rf"^(?:when {_AUX}\b|(?:in |on |by |since )?(?:what|which) (?:year|date|day|month|century|decade|time)\b)"
)
_NOT_A_DATE = re.compile(r"^(?:why|who|whom|whose|where)\b")
# a person or a place is not a stretch of the calendar either: "Where had she been detained?" is not
# answered by "last year" ("why" may be: "during the war")
_NOT_A_TIME = re.compile(r"^(?:who|whom|whose|where)\b")
_CALENDAR = frozenset(
    "year years month months week weeks day days century centuries decade decades hour hours minute minutes "  # noqa: SIM905
    "today yesterday tomorrow ago morning evening night weekend".split()
)
_RELATIVE = frozenset({"last", "next", "previous", "past", "coming", "same", "this", "that"})
_WHAT_DID = re.compile(r"^what (?:did|does|do)\b")
# "what"/"which" (after a preposition too: "in what country") in a question that names no time: of the
# SQuAD 2.0 public split's 44 gold answers that are a bare year for such a question, every question names one
_WHAT_ANY = re.compile(r"^(?:[a-z]+ )?(?:what|which)\b")
_TIME_ASKED = re.compile(
    r"\b(?:years?|dates?|times?|centur(?:y|ies)|decades?|periods?|eras?|ages?|days?|weeks?|months?|seasons?"
    r"|hours?|when|long|old|ago|anniversary|birthday)\b"
)
# a question about the past ("when did it happen?") is not answered by a time to come, unless it asks
# about a prediction or a plan ("when did he say it would reopen?"); no SQuAD 2.0 public question starting
# "when did/was/were/had" has a gold or plausible answer with "future" in it
_PAST_WHEN = re.compile(r"^when (?:did|was|were|had)\b")
_FORESEEN = re.compile(
    r"\b(?:will|would|shall|going to|expect\w*|plann?\w*|schedul\w*|intend\w*|predict\w*|say|said|announc\w*"
    r"|promis\w*|hop\w*|forecast\w*|due|set to)\b"
)
_OLD_YEAR = re.compile(r"[1-9]\d{2}")  # "in 911": a year when a preposition of time comes before it
# a question that offers its answers ("X or Y?") or asks yes or no may be answered in its own words
_CHOICE = re.compile(rf"\bor\b|^{_AUX}\b")
# "on what exact date", "which day", "when exactly": a calendar date, not "in the very near future"
_DATE = re.compile(
    r"\b(?:what|which) (?:exact |specific |precise )?(?:date|day)\b|^(?:when exactly|exactly when)\b"
)
# "how long": a duration, with its unit ("four years", "almost a month"), not a bare "six"
_HOW_LONG = re.compile(r"\bhow long\b")
# "what restrictions ...?", "which airline ...?": a thing, not a bare year; the nouns that ask for a
# year or a count are excluded
_WHAT_NOUN = re.compile(r"^(?:what|which) (?:kind of |type of |specific |exact )?([a-z]+)\b")
_COUNTING_NOUNS = frozenset(
    "year years date day month time century decade period era age number percentage percent amount total "  # noqa: SIM905
    "population figure score count price cost sum value size rate temperature".split()
)


_LENGTHS = frozenset(
    "mile miles km kilometre kilometres kilometer kilometers metre metres meter meters m ft foot feet "  # noqa: SIM905
    "inch inches cm mm yard yards long length pages page words".split()
)
_YEAR = re.compile(r"1\d{3}|20\d{2}")


def is_unit(word: str) -> bool:
    """Is `word` a unit of time or length ("years", "km") that a bare figure may lack?"""
    low = word.lower()
    return low in _LENGTHS or (low in _TIMES and low not in _MONTHS)


def _is_bare_year(words: list[str]) -> bool:
    """A year, perhaps with its month, day and function words ("in 2021", "April 2024")."""
    content = [w for w in words if w not in stopwords()]
    return (
        bool(content)
        and any(_YEAR.fullmatch(w) for w in content)
        and all(_YEAR.fullmatch(w) or w in _MONTHS or _NUMBER.fullmatch(w) for w in content)
    )


def _words(span: str) -> list[str]:
    words = (w.lower().strip("’'.,") for w in _WORD.findall(span))
    return [w for w in words if w]


def _is_number(word: str) -> bool:
    return bool(_NUMBER.fullmatch(word)) or word in _NUMBER_WORDS


def _is_time(word: str) -> bool:
    return _is_number(word) or word in _MONTHS or word in _TIMES


def _question(text: str) -> str:
    """The question folded, without a leading "and"/"so"/"but" and spaces."""
    return re.sub(r"^(?:and|so|but|then|ok|okay)\b[\s,]*", "", " ".join(text.lower().split()))


def shape_mismatch(question: str, span: str) -> str:
    """Why `span` cannot be the answer to `question` by its shape alone; '' when it can."""
    q, words = _question(question), _words(span)
    if not words:
        return ""
    if _HOW_MANY.search(q) and not any(_is_number(w) or w in _AMOUNTS for w in words):
        return f"a '{_HOW_MANY.search(q).group()}' question needs a number or an amount"  # type: ignore[union-attr]
    if _WHEN.match(q) and not any(_is_time(w) for w in words):
        return "a 'when' question needs a time"
    if _DATE.search(q) and not any(_is_number(w) or w in _MONTHS or w in _WEEKDAYS for w in words):
        return "a question for a date needs a date"
    past = _PAST_WHEN.match(q)
    if past and "future" in words and not _FORESEEN.search(q):
        return f"'{past.group()} ...?' asks about the past, not the future"
    content = [w for w in words if w not in stopwords()]
    if _HOW_LONG.search(q) and content and all(_is_number(w) and not _YEAR.fullmatch(w) for w in content):
        return (
            "a 'how long' question needs a duration or a length with its unit"  # "six"; "since 1994" is one
        )
    bare_year = _is_bare_year(words)
    what = _WHAT_NOUN.match(q)
    noun = what.group(1) if what else ""
    if noun and not re.fullmatch(_AUX, noun) and noun not in _COUNTING_NOUNS and bare_year:
        return f"a '{what.group(0)}' question is not answered by a year alone"  # type: ignore[union-attr]
    if _WHAT_DID.match(q) and bare_year:  # "What did Kallas tell Reuters?" -> "2024"
        return "a 'what did' question is not answered by a year alone"
    asks_what = _WHAT_ANY.match(q)
    old_year = len(words) == 2 and words[0] in ("in", "by", "circa") and _OLD_YEAR.fullmatch(words[1])
    if asks_what and not _TIME_ASKED.search(q) and (bare_year or old_year):
        return f"'{asks_what.group(0)} ...?' names no time, so a year alone does not answer it"
    asked = set(_words(q))
    if content and all(w in asked for w in content) and not _CHOICE.search(q):
        return "the answer only repeats the question's words"  # "Who presented Coale ...?" -> "Coale"
    return _time_for_other(q, content)


def _time_for_other(q: str, content: list[str]) -> str:
    """Why a span of only time words (`content`, its content words) cannot answer question `q`."""
    m = _NOT_A_DATE.match(q)
    if (
        m
        and content
        and all(_is_time(w) for w in content)
        and any(_is_number(w) or w in _MONTHS for w in content)
    ):
        return f"a '{m.group()}' question is not answered by a date or a number alone"
    m = _NOT_A_TIME.match(q)
    calendar = bool(content) and all(_is_time(w) or w in _RELATIVE for w in content)
    if m and calendar and any(w in _CALENDAR or w in _WEEKDAYS for w in content):
        return f"a '{m.group()}' question is not answered by a time alone"
    return ""

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
"""

from __future__ import annotations

import re

from rag.text import LARGE_NUMBERS, MONTHS, SMALL_NUMBERS, SMALL_ORDINALS, stopwords

_WORD = re.compile(r"[\w’'.,]+")  # hyphens and slashes split: "four-course", "Zapad-2025", "12th/13th"
_NUMBER = re.compile(r"\d[\d,.]*(?:s|st|nd|rd|th|m|bn|k)?")
_NUMBER_WORDS = frozenset(SMALL_NUMBERS + SMALL_ORDINALS + LARGE_NUMBERS)
_MONTHS = frozenset(m.lower() for m in MONTHS.split("|"))
# words that give an amount without a figure ("several", "none", "twice", "a dozen", "all")
_AMOUNTS = frozenset(
    "none nothing no several few many much single once twice thrice all most some half both "  # noqa: SIM905
    "couple handful majority minority little less more fewer numerous countless multiple".split()
)
# words that give a time without a date ("after liberation", "during the war", "at dawn", "annually")
_TIMES = frozenset(
    "after before following during since until till upon while when once prior later earlier ago soon "  # noqa: SIM905
    "now then early late recently today yesterday tomorrow year years month months week weeks day days "
    "century centuries decade decades era age period time times morning evening night noon dawn dusk "
    "spring summer autumn fall winter season annually daily weekly monthly yearly hour hours minute "
    "minutes eve beginning end start middle dynasty reign war age monday tuesday wednesday thursday "
    "friday saturday sunday bc ad bce ce future past present".split()
)
_AUX = r"(?:did|does|do|was|were|is|are|will|would|has|have|had|can|could|should|might)"
_HOW_MANY = re.compile(r"\bhow (?:many|much)\b")
_WHEN = re.compile(
    rf"^(?:when {_AUX}\b|(?:in |on |by |since )?(?:what|which) (?:year|date|day|month|century|decade|time)\b)"
)
_NOT_A_DATE = re.compile(r"^(?:why|who|whom|whose|where)\b")


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
    m = _NOT_A_DATE.match(q)
    if m:
        content = [w for w in words if w not in stopwords()]
        if (
            content
            and all(_is_time(w) for w in content)
            and any(_is_number(w) or w in _MONTHS for w in content)
        ):
            return f"a '{m.group()}' question is not answered by a date or a number alone"
    return ""

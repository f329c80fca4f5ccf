"""Spelling as people type it: a question's misspelt words read as the documents' words, once.

1. Contractions typed without their apostrophe ("whats", "wouldnt", "whos") get it back, so the
   question word is seen ("whats the airline called" asks "what"); chat shorthand ("ppl", "govt",
   "yrs") is read as the words it stands for.
2. A word of the question that is in no indexed document and is not an English word either
   ("releasd", "prisners", "Lukashenkp") is a typo: it is read as the nearest word of the
   documents, by edit distance (letters inserted, dropped, changed or swapped; one edit for words of
   up to five letters, two for longer ones), with the same first letter; among equally near words the
   one whose ending matches more letters ("releasd": "released", not "release"), then the most
   frequent in the documents. An English word the documents do not use ("population", "birthday") is never
   changed: asking about something the documents lack must stay that question.

3. A word typed in lower case that the documents write only as a name ("minsk", "nauseda"), and that
   is not a common English word as well ("president", "west"), is capitalised, so the question's
   names are seen as names (and checked as names). So is a country's name the documents do not use
   ("why did germany close its border": "Germany").

The corrected question is the one searched, read and shown as understood (`Query.text`).

>>> vocab = Vocabulary.of(["In 2025 Belarus released 52 political prisoners. The release was a deal."])
>>> correct("how many prisners were releasd", vocab)
'how many prisoners were released'
>>> correct("whats the population of Minsk", vocab)
"what's the population of Minsk"
>>> correct("when did belarus free them", vocab)
'when did Belarus free them'
>>> correct("did u see what the U.S. agreed to", vocab)
'did you see what the U.S. agreed to'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from rag.text import country_code, fold, stopwords

MIN_CHARS = 4  # shorter words have too many neighbours to correct safely
LONG_CHARS = 6  # words this long may be two edits away
COMMON_WORD = 5000  # a document name this frequent in the English list is as often a word ("House")
_WORD = re.compile(r"[^\W\d_]+")
# a word alone or before a possessive "'s"; never a part of "didn't" or "O'Brien"
_BARE_WORD = re.compile(r"(?<![\w'’])[^\W\d_]+(?=['’]s\b|(?![\w'’]))")
_CONTRACTIONS = {
    **{f"{w}s": f"{w}'s" for w in ("what", "who", "where", "when", "how", "that", "there", "it")},
    **{
        f"{w}nt": f"{w}n't"
        for w in ("is", "was", "are", "were", "do", "does", "did", "has", "have", "had", "could", "would")
    },
    "shouldnt": "shouldn't",
    "cant": "can't",
    "dont": "don't",
    "doesnt": "doesn't",
}
# chat shorthand for common words, read as the words
_SHORTHAND = {
    "ppl": "people",
    "govt": "government",
    "u": "you",
    "ur": "your",
    "abt": "about",
    "bc": "because",
    "cuz": "because",
    "pls": "please",
    "plz": "please",
    "yrs": "years",
    "yr": "year",
    "approx": "approximately",
    "wat": "what",
}
# "its", "whats" (a noun), "wont" and "cant" are words of their own; in a question "whats" and "cant" are
# almost always the contraction, "its" and "wont" not
del _CONTRACTIONS["its"]


@dataclass(frozen=True)
class Vocabulary:
    """The words of the indexed documents, folded, with how often each occurs, and which of them are
    names: written capitalised inside a sentence and never in lower case ("Minsk", not "Yet")."""

    counts: Counter[str]
    names: frozenset[str] = frozenset()
    acronyms: frozenset[str] = frozenset()  # names written in capitals ("EU", "NATO")

    @classmethod
    def of(cls, texts: Iterable[str]) -> Vocabulary:
        counts: Counter[str] = Counter()
        capitalised: set[str] = set()
        lower: set[str] = set()
        mixed: set[str] = set()  # written other than all capitals at least once
        for text in texts:
            for m in _WORD.finditer(text):
                word = m.group()
                folded = fold(word)
                counts[folded] += 1
                if not word.isupper():
                    mixed.add(folded)
                if word[0].islower():
                    lower.add(folded)
                elif _inside_sentence(text, m.start()):
                    capitalised.add(folded)
        names = frozenset(capitalised - lower)
        return cls(counts, names, frozenset(n for n in names if n not in mixed and len(n) > 1))

    def __contains__(self, word: str) -> bool:
        return fold(word) in self.counts

    def nearest(self, word: str) -> str:
        """The document word nearest to `word` (see the module's rule 2), or '' when none is near."""
        w = fold(word)
        limit = 1 if len(w) < LONG_CHARS else 2
        best: tuple[tuple[int, int, int], str] | None = None
        for cand, count in self.counts.items():
            if cand[:1] != w[:1] or abs(len(cand) - len(w)) > limit or len(cand) < MIN_CHARS:
                continue
            d = edit_distance(w, cand, limit)
            key = (d, -_common_end(w, cand), -count)
            if d <= limit and (best is None or key < best[0]):
                best = (key, cand)
        return best[1] if best else ""


def _in_abbreviation(m: re.Match[str]) -> bool:
    """Is the word matched a letter of a dotted abbreviation ("U" of "U.S.", "s" of "u.s.")?"""
    text, start, end = m.string, m.start(), m.end()
    before, after = text[start - 1 : start], text[end : end + 2]
    return before == "." or (after[:1] == "." and after[1:].isalpha())


def correct(text: str, vocabulary: Vocabulary | None) -> str:
    """`text` with contractions given their apostrophe and typos read as document words."""

    def fix(m: re.Match[str]) -> str:
        word = m.group()
        low = word.lower()
        if low in _CONTRACTIONS or (low in _SHORTHAND and not _in_abbreviation(m)):
            return _cased(_CONTRACTIONS.get(low) or _SHORTHAND[low], word)
        if vocabulary is None or len(word) < 2 or low in stopwords():
            return word
        if word in vocabulary:
            if fold(low) not in vocabulary.names or is_common_word(low) or not word.islower():
                return word
            return word.upper() if fold(low) in vocabulary.acronyms else _as_name(word)
        if word.islower() and not is_common_word(low) and country_code(word):
            return _as_name(word)  # a country the documents do not name ("germany"): still a name
        if len(word) < MIN_CHARS:
            return word
        if is_english(low):
            return word
        near = vocabulary.nearest(word)
        if near:
            return _as_name(near) if near in vocabulary.names else _cased(near, word)
        near = nearest_english(low)
        return _cased(near, word) if near else word

    return _BARE_WORD.sub(fix, text)


def _inside_sentence(text: str, at: int) -> bool:
    """Does a word at `at` follow another word of its sentence (a letter, digit, comma, dash before it)?"""
    before = text[:at].rstrip()
    return bool(before) and (before[-1].isalnum() or before[-1] in ",;:(-–—")


def is_common_word(word: str) -> bool:
    """Is `word` common in English (written often in lower case: 'house', 'president', 'west')?"""
    return _english_frequency().get(word, 0) >= COMMON_WORD


def _as_name(word: str) -> str:
    """A name typed in lower case, capitalised ("minsk": "Minsk"); as typed otherwise."""
    return word[:1].upper() + word[1:] if word.islower() else word


def _common_end(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


def _cased(new: str, old: str) -> str:
    """`new` written the way `old` was: capitalised, all capitals or as it is."""
    if old.isupper() and len(old) > 1:
        return new.upper()
    if old[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


def _english() -> dict[str, int]:
    """The English word list of pyspellchecker (about 160,000 words, from subtitles and books)."""
    return _english_frequency()


def is_english(word: str) -> bool:
    """Is `word` (lowercase) an English word, or a regular plural, past or -ing form of one?"""
    words = _english()
    if word in words:
        return True
    for suffix, stems in (("s", ("",)), ("es", ("",)), ("ed", ("", "e")), ("ing", ("", "e"))):
        if word.endswith(suffix) and any(word[: -len(suffix)] + s in words for s in stems):
            return True
    return False


def nearest_english(word: str) -> str:
    """The most frequent English word one edit from `word` ("populaton": "population"), or ''."""
    frequency = _english_frequency()
    letters = "abcdefghijklmnopqrstuvwxyz"
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = {a + b[1:] for a, b in splits if b}
    edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    edits |= {a + c + b[1:] for a, b in splits if b for c in letters}
    edits |= {a + c + b for a, b in splits for c in letters}
    known = [w for w in edits if w[:1] == word[:1] and len(w) >= MIN_CHARS and w in frequency]
    return max(known, key=lambda w: frequency[w], default="")


@lru_cache(maxsize=1)
def _english_frequency() -> dict[str, int]:
    from spellchecker import SpellChecker

    return dict(SpellChecker().word_frequency.dictionary)


def edit_distance(a: str, b: str, limit: int) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`; limit + 1 once past it.

    >>> edit_distance("releasd", "released", 2), edit_distance("prisnoer", "prisoner", 2)
    (1, 1)
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        prev2, prev = prev, row
    return prev[-1]

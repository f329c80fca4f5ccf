"""Check every sentence a model wrote against the quotes it cites; drop the ones they do not support.

A sentence is kept only when each thing it states is found in the quotes it cites:
1. figures: every number (digits, or number words up to twenty) must occur in a cited quote, compared
   after folding number formats ("1,000" = "1000", "52" = "fifty-two" is not assumed: digits only
   match digits, words match digits through a small table);
2. names: every capitalised word (after the sentence's first word) must occur in a cited quote;
3. content words: every other word that is not a function word must occur in a cited quote,
   compared by stem, so inflections pass ("released" ~ "release", "prisoners" ~ "prisoner") and by a
   shared prefix for names' adjectives ("Lithuania" ~ "Lithuanian");
4. negation: "not", "never", "no" in the sentence must be in a cited quote too (so a model cannot
   turn a quote around); a leading answer word ("Yes, ...", "No, ...") is not part of what is checked
   here;
5. the claim (claims.py): one cited quote must state each clause of the sentence, with every number,
   title, nationality and date attached to the same person or thing as in the sentence, the verb's
   agent and object in place and the same negation; "No, S" needs S negative and "Yes, S" S affirmative.
Case and accents are folded everywhere. A sentence whose words are all in the quotes, but not in
the ones it cites (or that cites none), cites the fewest quotes that hold them instead: what it says
is still checked word by word against the quotes shown with it. The reason for each dropped sentence
is recorded.

>>> quotes = ["Belarus freed 52 political prisoners on September 11.", "Lithuania closed its border."]
>>> verify_sentence("Belarus released 52 prisoners [1].", quotes).reason
'not in the cited quotes: released'
>>> verify_sentence("Belarus freed 52 political prisoners [1].", quotes).cites
(1,)
>>> verify_sentence("It freed 100 prisoners [1].", quotes).reason
'not in the cited quotes: 100'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rag.readers.llm.claims import ANSWER, check_claim
from rag.text import SMALL_NUMBERS, fold, stemmer, stopwords

PREFIX = 5  # "Lithuania" ~ "Lithuanian", "Belarus" ~ "Belarusian": names and their adjectives
_MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’-][^\W\d_]+)*")
_SENTENCE_END = re.compile(
    r"(?<=[.!?])(?<!\b[A-Z]\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)\s+(?=[A-Z“\"(\[])"
)
NEGATIONS = frozenset({"not", "no", "never", "neither", "nor", "none", "nothing", "without", "cannot"})
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(SMALL_NUMBERS)}
# words a reply uses to frame what the quotes say; they state nothing about the world
FRAMING = frozenset(
    """article text passage passages quote quotes source sources say says said state states stated mention
    mentions mentioned report reports reported according also include includes including main point points
    summary summarise summarize overall describe describes described discuss discusses explain explains
    however therefore thus yes from among into onto upon within during via per those these this that there
    here while whereas""".split()  # noqa: SIM905 - a word list reads better as text
)


@dataclass(frozen=True)
class Verdict:
    sentence: str  # as written, citation markers included
    text: str  # without its citation markers
    cites: tuple[int, ...]  # 1-based quote numbers it rests on
    reason: str = ""  # why it is not supported; empty when it is

    @property
    def supported(self) -> bool:
        return not self.reason


def split_sentences(reply: str) -> list[str]:
    """The reply's sentences, each with the citation markers that follow it.

    >>> split_sentences("It was 52 [1]. They left [2][3]. Done")
    ['It was 52 [1].', 'They left [2][3].', 'Done']
    >>> split_sentences("The U.S. agreed [1]. [1] It was 52. [2] They left.")[1:]
    ['[1] It was 52.', '[2] They left.']
    """
    text = " ".join(reply.split())
    parts, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        parts.append(text[start : m.start()].strip())
        start = m.end()
    parts.append(text[start:].strip())
    # a marker placed after the full stop belongs to the sentence before it, unless the reply puts
    # its markers first ("[1] The deal ... [2] Poland ...")
    out: list[str] = []
    leading = bool(re.match(r"^\s*\[\d", text))
    for part in parts:
        lead = re.match(r"^(?:\[\d+(?:\s*[,;]\s*\d+)*\]\s*)+", part)
        if lead and out and not leading and not markers(out[-1])[0]:
            out[-1] += " " + lead.group().strip()
            part = part[lead.end() :]
        if part:
            out.append(part)
    return out


def markers(sentence: str) -> tuple[tuple[int, ...], str]:
    """The quote numbers a sentence cites and the sentence without its markers."""
    numbers: list[int] = []
    for m in _MARKER.finditer(sentence):
        numbers.extend(int(n) for n in re.findall(r"\d+", m.group(1)))
    text = _MARKER.sub("", sentence).strip()
    return tuple(dict.fromkeys(numbers)), text


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    return str(stemmer().stemWord(word))


def _figure(token: str) -> str | None:
    """The number a token states, as plain digits ('1,000' -> '1000'), or None."""
    if token[0].isdigit():
        plain = token.replace(",", "")
        return plain[:-2] if plain.endswith(".0") else plain
    return _NUMBER_WORDS.get(token)


@dataclass(frozen=True)
class _Evidence:
    figures: frozenset[str]
    words: frozenset[str]
    stems: frozenset[str]
    prefixes: frozenset[str]
    initials: str  # first letters of the quotes' capitalised words: "United States" -> "US"

    @classmethod
    def of(cls, quotes: Sequence[str]) -> _Evidence:
        tokens = [t for q in quotes for t in _WORD.findall(fold(q))]
        initials = " ".join("".join(w[0] for w in re.findall(r"[A-Z][\w'’-]*", q)) for q in quotes)
        figures = {f for t in tokens if (f := _figure(t)) is not None}
        # "2025-26", "U.S." : parts of hyphenated and dotted tokens count too
        words = set(tokens) | {p for t in tokens for p in re.split(r"[-'.]", t) if p}
        return cls(
            frozenset(figures),
            frozenset(words),
            frozenset(_stem(w) for w in words),
            frozenset(w[:PREFIX] for w in words if len(w) >= PREFIX),
            initials,
        )

    def holds(self, word: str) -> bool:
        if word in self.words or _stem(word) in self.stems:
            return True
        return len(word) >= PREFIX + 1 and word[:PREFIX] in self.prefixes and word[0].isalpha()


def checkable(text: str) -> bool:
    """Does the sentence state anything verification can check (a figure, name or content word)?"""
    stop = stopwords()
    return any(
        _figure(t) is not None or (t not in stop and t not in FRAMING and len(t) >= 2)
        for t in _WORD.findall(fold(text))
    )


def unsupported(text: str, quotes: Sequence[str]) -> list[str]:
    """The figures, names and content words of `text` that `quotes` do not hold."""
    evidence = _Evidence.of(quotes)
    stop = stopwords()
    missing: list[str] = []
    for raw in _WORD.findall(text.replace("’", "'")):
        token = fold(raw)
        if len(raw) >= 2 and raw.isupper() and raw.isalpha():  # an acronym: "US", "EU", "BBC"
            if token not in evidence.words and raw not in evidence.initials:
                missing.append(token)
            continue
        figure = _figure(token)
        if figure is not None:
            if figure not in evidence.figures and token not in evidence.words:
                missing.append(token)
            continue
        if token in NEGATIONS:
            if token not in evidence.words:
                missing.append(token)
            continue
        if token in stop or token in FRAMING or len(token) < 2:
            continue
        pieces = [p for p in re.split(r"[-']", token) if p and p not in stop]
        if not evidence.holds(token) and not all(evidence.holds(p) for p in pieces):
            missing.append(token)
    return list(dict.fromkeys(missing))


def verify_sentence(sentence: str, quotes: Sequence[str]) -> Verdict:
    """Is `sentence` supported by the quotes it cites (1-based numbers into `quotes`): word by word,
    then as a claim?"""
    verdict = _verify_words(sentence, quotes)
    if not verdict.supported:
        return verdict
    claim = check_claim(
        verdict.text, [quotes[n - 1] for n in verdict.cites], [f"[{n}]" for n in verdict.cites]
    )
    if not claim.supported:
        return Verdict(verdict.sentence, verdict.text, verdict.cites, f"claim: {claim.reason}")
    return verdict


def _verify_words(sentence: str, quotes: Sequence[str]) -> Verdict:
    """The word-level checks (1-4 above) of one sentence."""
    cited, text = markers(sentence)
    answer = ANSWER.match(text)
    # "No, the board did not approve it": the answer word is the claim check's to judge, not a word to find
    words = text[answer.end() :] if answer and text[answer.end() :].strip() else text
    if not checkable(words):
        return Verdict(sentence, text, cited, "states nothing the quotes could support")
    bad = [n for n in cited if not 1 <= n <= len(quotes)]
    if bad:
        return Verdict(sentence, text, cited, f"cites quote {bad[0]}, which does not exist")
    if cited:
        missing = unsupported(words, [quotes[n - 1] for n in cited])
        if not missing:
            return Verdict(sentence, text, cited)
        negated = any(fold(w) in NEGATIONS for w in _WORD.findall(words))
        if not negated and not unsupported(words, quotes):
            # a citation slip: other quotes hold every word; the sentence cites those instead
            return Verdict(sentence, text, _holders(words, quotes))
        return Verdict(sentence, text, cited, f"not in the cited quotes: {', '.join(missing[:6])}")
    missing = unsupported(words, quotes)
    if missing:
        reason = f"cites no quote and the quotes do not hold: {', '.join(missing[:6])}"
        return Verdict(sentence, text, (), reason)
    return Verdict(sentence, text, _holders(words, quotes))


def _holders(text: str, quotes: Sequence[str]) -> tuple[int, ...]:
    """The fewest quotes (greedy: each step the quote leaving the fewest words unheld) holding every word
    of a sentence that cited none."""
    chosen: list[int] = []
    left = unsupported(text, [])
    while left:
        best = min(
            (n for n in range(1, len(quotes) + 1) if n not in chosen),
            key=lambda n: len(unsupported(text, [quotes[i - 1] for i in [*chosen, n]])),
        )
        chosen.append(best)
        left = unsupported(text, [quotes[i - 1] for i in chosen])
    return tuple(sorted(chosen))


def verify_reply(reply: str, quotes: Sequence[str]) -> list[Verdict]:
    """A verdict for each sentence of `reply`."""
    return [verify_sentence(s, quotes) for s in split_sentences(reply)]

"""Example questions drawn from the indexed documents, kept only when the pipeline answers them.

1. Candidates come from each document's own text: counted things ("52 political prisoners")
   become "How many political prisoners?" when they say what they count (two words or more: no
   "How many minutes?"); names (runs of capitalised words inside a sentence,
   longest and most frequent first) become "Who is X?" when X's last word also stands alone
   (a surname), else "What about X?"; headings (Markdown `#` lines, or short title lines
   before a paragraph) become "What about X?".
2. Documents take turns, so several documents each get an example.
3. Each candidate is asked through the engine; it is kept only when the answer is not a refusal
   and its quote says more than the topic itself (a quoted heading answers nothing).
4. At most `limit` are kept, trying at most `tries` candidates within `budget_s` seconds (counted
   from the first answer, which may wait for the model to load).

>>> names("Talks in Minsk. Then John Coale met him; John Coale left.")
['John Coale', 'Minsk']
"""

from __future__ import annotations

import itertools
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping

from rag.types import Answer, Document

_WORD = r"[A-Z][\w’'-]*\w"
_NAME = re.compile(rf"(?<![\w’'-]){_WORD}(?:[ \t]+{_WORD}){{0,3}}")
_HEADING = re.compile(r"^\s*#{1,6}\s+(.+?)\s*#*\s*$")
_FUNCTION_WORDS = frozenset(
    """a an the in on at of for to and or but as yet so if when while after before since with by from
    then this that these those it its there here many most some among according perhaps however""".split()  # noqa: SIM905
)
MIN_EXTRA_WORDS = 4  # an answer's quote must hold this many words beyond the question's topic
MAX_SINGLE_TRIES = 50  # one-word names checked for a second occurrence, at most


def names(text: str) -> list[str]:
    """Capitalised word runs, without leading function words, most frequent first."""
    counts: Counter[str] = Counter()
    lowered = set(re.findall(r"(?<![\w’'-])[a-z][\w’'-]*", text))
    for m in _NAME.finditer(text):
        words = m.group(0).split()
        if _opens_sentence(text, m.start()):
            if len(words) == 1:
                continue  # a capitalised word opening a sentence: counted where it stands inside one
            if words[0].lower() in lowered or words[0].lower() in _FUNCTION_WORDS:
                words = words[1:]  # a sentence's first word, capitalised anyway
        while words and words[0].lower() in _FUNCTION_WORDS:
            words = words[1:]
        if words:
            counts[" ".join(words).removesuffix("’s").removesuffix("'s")] += 1
    return [n for n, _ in sorted(counts.items(), key=lambda kv: (-kv[1] * len(kv[0].split()), kv[0]))]


def _opens_sentence(text: str, pos: int) -> bool:
    """Whether text[pos] opens a sentence: at the start, after a line break, or after `.!?:;` and
    a space. Looks back only over the white space before `pos`, so finding names stays linear.

    >>> [_opens_sentence("Hi. Bo and\\n Al", i) for i in (0, 4, 7, 12)]
    [True, True, False, True]
    """
    if pos == 0:
        return True
    j = pos
    while j > 0 and text[j - 1].isspace():
        j -= 1
    if "\n" in text[j:pos]:
        return True
    return j < pos and j > 0 and text[j - 1] in ".!?:;"


_COUNT = re.compile(
    r"(?<![\w.,:])([1-9]\d{0,2}(?:,\d{3})*)\s+([a-z][a-z-]+(?:\s+(?:of|per)?\s*[a-z][a-z-]+){0,3})"
)
_STOP_AT = frozenset(
    """a an the in on at to by for from and or but with as that this these which who was were is are
    has""".split()  # noqa: SIM905
)


def counted(text: str, limit: int | None = None) -> list[str]:
    """What the text counts: '52 political prisoners on Monday' -> 'political prisoners'; the first
    `limit` of them (all when None).

    >>> counted("It gave 28 days of paid holiday a year and 1999 people came.")
    ['days of paid holiday']
    """
    found: list[str] = []
    for m in _COUNT.finditer(text):
        if limit is not None and len(found) >= limit:
            break
        if len(m.group(1)) == 4:
            continue  # a year
        words: list[str] = []
        for w in m.group(2).split()[:4]:
            if w in _STOP_AT or (_is_plural(words[-1] if words else "") and w not in ("of", "per")):
                break  # the counted noun ends at its plural, unless "of" or "per" goes on
            words.append(w)
        while words and words[-1] in ("of", "per"):
            words.pop()
        phrase = " ".join(words)
        overlaps = any(phrase in f or f in phrase for f in found)
        if any(map(_is_plural, words[:3])) and words[0] not in ("of", "per", "others") and not overlaps:
            found.append(phrase)
    return list(dict.fromkeys(found))


def specific(things: list[str]) -> list[str]:
    """Counted things that say what they count: "political prisoners", not "minutes" or "people"
    (an example button reads "How many minutes?", which means nothing out of context).

    >>> specific(["minutes", "political prisoners", "days of paid holiday"])
    ['political prisoners', 'days of paid holiday']
    """
    return [t for t in things if len(t.split()) >= 2]


def _is_plural(word: str) -> bool:
    return word.endswith("s") and not word.endswith("ss") and len(word) > 3


def headings(text: str) -> list[str]:
    """Markdown headings, and short lines without end punctuation that stand before a longer one."""
    lines = [line.strip() for line in text.splitlines()]
    found = []
    for line, after in itertools.zip_longest(lines, lines[1:], fillvalue=""):
        m = _HEADING.match(line)
        if m:
            found.append(m.group(1))
        elif 0 < len(line.split()) <= 6 and not line.endswith((".", "!", "?", ":", ",")) and len(after) > 40:
            found.append(line)
    return found


def candidates(doc: Document) -> list[str]:
    """Questions about one document, the likeliest first."""
    heads = headings(doc.text)
    head_set = set(heads)
    lines = doc.text.splitlines()
    prose = "\n".join(line for line in lines if line.strip() not in head_set and "#" not in line[:7])
    found = names(prose)
    chosen = [n for n in found if " " in n][:6]
    singles = [n for n in found if " " not in n][:MAX_SINGLE_TRIES]  # each try counts the whole text
    for name in singles:
        if len(chosen) >= 6:
            break
        if prose.count(name) >= 2:
            chosen.append(name)
    # counting stops early (linear time); of what is counted, only phrases that say what they count
    out = [f"How many {thing}?" for thing in specific(counted(prose, limit=12))[:3]]
    for name in chosen:
        surname = name.split()[-1]
        alone = len(re.findall(rf"(?<!\w ){re.escape(surname)}\b", prose))
        lowered = prose.lower()
        article = "the " if lowered.count(f"the {name.lower()}") * 2 > prose.count(name) else ""  # the EU
        out.append(f"Who is {name}?" if " " in name and alone else f"What about {article}{name}?")
    out += [f"What about {h[0].lower() + h[1:] if not h[:2].isupper() else h}?" for h in heads[:20]]
    return list(dict.fromkeys(out))


def interleave(lists: Iterable[list[str]]) -> list[str]:
    """[a1, a2], [b1] -> [a1, b1, a2]"""
    return [q for row in itertools.zip_longest(*lists) for q in row if q is not None]


def informative(question: str, answer: Answer) -> bool:
    """Answered, and the quote says more than the question's own words."""
    if answer.abstained or answer.error or not answer.citations:
        return False
    asked = {w.lower().strip("?") for w in question.split()}
    extra = [w for w in answer.citations[0].quote.split() if w.lower().strip(".,;:") not in asked]
    return len(extra) >= MIN_EXTRA_WORDS


def examples(
    documents: Mapping[str, Document],
    ask: Callable[[str], Answer],
    *,
    limit: int = 4,
    tries: int = 16,
    budget_s: float = 6.0,
) -> list[str]:
    """Up to `limit` questions about `documents` that `ask` answers informatively."""
    deadline = None  # the clock starts after the first answer: it may wait for the model to load
    kept: list[str] = []
    for question in interleave(candidates(d) for d in documents.values())[:tries]:
        if len(kept) >= limit or (deadline is not None and time.monotonic() > deadline):
            break
        if informative(question, ask(question)):
            kept.append(question)
        deadline = deadline or time.monotonic() + budget_s
    return kept

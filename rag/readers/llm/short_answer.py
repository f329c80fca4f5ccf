"""The model's short answer, checked in code: kept only when it is verbatim in a sentence it cites.

The reply has two labelled lines (the prompt asks for them; rag.readers.llm):

    ANSWER: Belavia [2]
    SAYS: The United States agreed to ease sanctions on Belavia [2].

`parse_reply` reads them; `locate_short` finds the ANSWER span in the cited sentences after folding case,
white space and quote marks (’ = ', “ = "), on whole words, and returns the document's own characters
(offsets into the document), so the short answer shown is always `document[start:end]`. A span found
in no cited sentence is dropped: the model's own wording is never shown as a short answer.

>>> r = parse_reply("ANSWER: belavia [2]\\nSAYS: The US eased sanctions on Belavia [2].")
>>> r.short, r.short_cites, r.says
('belavia', (2,), 'The US eased sanctions on Belavia [2].')
>>> parse_reply("ANSWER: the European Parliament and the Council [9").short
'the European Parliament and the Council'
>>> fold_map("It’s  “Belavia”")[0]
'it\\'s "belavia"'
>>> find_folded("Belavia", "the national airline, Belavia.")
(22, 29)
>>> find_folded("52", "released 152 prisoners") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from rag.query.parse import is_polar
from rag.readers.llm.answer_shape import is_unit, shape_mismatch
from rag.readers.llm.claims import (
    answer_names_asked,
    answer_role_swapped,
    answer_verb_mismatch,
    answer_within_named,
    check_answer,
    count_mismatch,
    possessed_named,
    reason_restated,
)
from rag.readers.llm.grounding import markers
from rag.readers.llm.restated import restated

_NUMBER_WORDS = {
    str(i): w
    for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())  # noqa: SIM905
}
MAX_BARE_WORDS = 6  # a reply without labels this short is a short answer
MAX_SHORT_WORDS = 25  # a "short answer" longer than this is a sentence, not a span
MAX_WINDOW_WORDS = 8  # the longest part of a reply that is verbatim only in part kept as its short answer
MAX_WINDOW_REPLY = 10  # ... from a reply of at most this many words (a longer one is a sentence of its own)
_LABEL = re.compile(r"^\s*\**\s*(answer|says?|sentence)\s*\**\s*[:：]\s*\**\s*", re.IGNORECASE)
_QUOTES = {"’": "'", "‘": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"'}
_CUT_MARKER = re.compile(r"\s*\[<?(\d*)$")
# the prompt's form "ANSWER: <words> [<number>]" copied with its angle brackets: "[<2>]", "<2>", "[<number>]",
# or with the number after the placeholder: "[<number>1]", "[<number> 24]"
_FORM_MARKER = re.compile(r"\[?<\s*(\d*)\s*(?:number)?\s*>\s*(\d*)\s*\]?|\[<\s*(\d+)\s*\]")
_TRIM = " \t\n*`"
_END = ".,;:!?"
_QUOTE_MARKS = "\"'“”‘’"


def trim(span: str) -> str:
    """The span without surrounding spaces, emphasis, final punctuation, and quote marks that enclose it
    or are left unpaired at an end.

    >>> trim('“52 political prisoners”.'), trim('named "Belavia"'), trim("'Belavia")
    ('52 political prisoners', 'named "Belavia"', 'Belavia')
    """
    text = span.strip(_TRIM).rstrip(_END).strip(_TRIM)
    if len(text) >= 2 and text[0] in _QUOTE_MARKS and text[-1] in _QUOTE_MARKS:
        inner = text[1:-1]
        if not any(q in inner for q in _QUOTE_MARKS if q not in "'’"):
            return inner.strip()
    if text[:1] in _QUOTE_MARKS and not any(q in text[1:] for q in _QUOTE_MARKS if q not in "'’"):
        text = text[1:]
    if text[-1:] in _QUOTE_MARKS and not any(q in text[:-1] for q in _QUOTE_MARKS if q not in "'’"):
        text = text[:-1]
    return text.strip()


@dataclass(frozen=True)
class Reply:
    short: str  # the ANSWER line without its markers ("" when there is none)
    short_cites: tuple[int, ...]  # sentence numbers on the ANSWER line
    says: str  # the SAYS line(s), markers kept (verified sentence by sentence)


@dataclass(frozen=True)
class ShortAnswer:
    text: str  # document[start:end]
    number: int  # the numbered sentence that holds it
    start: int  # offsets into the document
    end: int


def parse_reply(reply: str) -> Reply:
    """The ANSWER and SAYS lines of a reply; a reply without labels is all SAYS."""
    short, says = "", []
    cites: tuple[int, ...] = ()
    seen_label = False
    for line in reply.splitlines():
        m = _LABEL.match(line)
        if m and m.group(1).lower() == "answer" and not short:
            seen_label = True
            numbers, text = markers(_FORM_MARKER.sub(_form_marker, line[m.end() :]))
            cut = _CUT_MARKER.search(text)  # a reply cut off by its token budget inside "[9]"
            if cut:
                text = text[: cut.start()]
                numbers += (int(cut.group(1)),) if cut.group(1) else ()
            short, cites = trim(_unwrap(text.strip())), numbers
        elif m:
            seen_label = True
            says.append(line[m.end() :].strip())
        elif line.strip() and (not seen_label or says):
            says.append(line.strip())
    bare = markers(says[0])[1].strip() if not seen_label and len(says) == 1 else ""
    if bare and len(bare.split()) <= MAX_BARE_WORDS and not bare.endswith((".", "!", "?")):
        # a bare short reply ("Minsk [1]") is the short answer itself, not a sentence
        return Reply(trim(bare), markers(says[0])[0], "")
    return Reply(short, cites, " ".join(s for s in says if s))


def _form_marker(m: re.Match[str]) -> str:
    number = m.group(1) or m.group(2) or m.group(3)
    return f" [{number}]" if number else ""


def _unwrap(text: str) -> str:
    """The words without the form's angle brackets around them ("<Belavia>" -> "Belavia"); brackets
    inside the words are kept ("x < 5")."""
    if text.startswith("<") and (text.endswith(">") or ">" not in text):
        return text[1:].removesuffix(">")
    return text


def fold_map(text: str) -> tuple[str, list[int]]:
    """`text` lower-cased, quote marks straightened and white space runs made one space, with the index
    in `text` of each folded character."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            if out and out[-1] == " ":
                continue
            ch = " "
        for low in _QUOTES.get(ch, ch).lower():
            out.append(low)
            index.append(i)
    return "".join(out), index


def find_folded(span: str, text: str) -> tuple[int, int] | None:
    """Where `span` first occurs in `text` after folding, on whole words: (start, end) offsets into `text`."""
    return next(find_all_folded(span, text), None)


def find_all_folded(span: str, text: str) -> Iterator[tuple[int, int]]:
    """Every place `span` occurs in `text` after folding, on whole words, in order.

    >>> list(find_all_folded("two", "two Germans, two Latvians"))
    [(0, 3), (13, 16)]
    >>> list(find_all_folded("1", "more than 1,000 remain")), list(find_all_folded("1", "1, 2 and 3"))
    ([], [(0, 1)])
    """
    needle = fold_map(trim(span))[0].strip()
    if not needle:
        return
    hay, index = fold_map(text)
    at = hay.find(needle)
    while at >= 0:
        end = at + len(needle)
        before = hay[at - 1] if at > 0 else " "
        after = hay[end] if end < len(hay) else " "
        # a figure is whole too: "1" is not in "1,000", nor "5" in "2.5"
        before_figure = needle[0].isdigit() and hay[max(0, at - 2) : at][:1].isdigit() and before in ",."
        after_figure = needle[-1].isdigit() and hay[end + 1 : end + 2].isdigit() and after in ",."
        alone = not (before.isalnum() and needle[0].isalnum()) and not (
            after.isalnum() and needle[-1].isalnum()
        )
        if alone and not before_figure and not after_figure:
            yield index[at], index[end - 1] + 1
        at = hay.find(needle, at + 1)


def locate_short(
    short: str,
    cited: Sequence[int],
    sentences: Sequence[tuple[int, str, int]],
    question: str = "",
    fit: Callable[[str, int, int], tuple[int, int] | None] | None = None,
    weight: Callable[[int], float] | None = None,
) -> ShortAnswer | None:
    """The short answer as document characters, from the first cited sentence that holds it verbatim
    (of several that do, the one with most of the question's words when `weight` is given).

    `sentences` are (number, text, document offset of the text); `cited` the numbers the reply cites
    (in the order it cites them). When the span is not verbatim but becomes so once words that only
    echo the question are taken off its ends ("Margaret's brother was Edgar Atheling" -> "Edgar
    Atheling" for "Who was Margaret's brother?"), that part is kept: each word taken off is a word of
    the question or a function word. `fit(text, start, end)` reads the span at text[start:end] as the
    answer to the question: it gives the (start, end) to show (the same, or the span widened to a word
    it needs: "four" -> "four years") or None when the span does not answer it there; each place the
    span occurs is tried in turn ("two" for the Latvians, not the "two" before "Germans"). None when
    the span is empty, too long, or in no cited sentence at a place that fits.

    `weight(number)` (the share of the question's words in that sentence): when the span that fits is
    in several sentences, the answer cites the one with the most, the model's own citation on a tie.
    The 1.5B model often cites another sentence that names the answer ("Mikola Statkevich" cited from
    "… refused to cross into Lithuania" for "Who was the senior opposition leader …?", not from "…
    Mikola Statkevich, a senior opposition leader"): in recorded runs of SQuAD's public split and of our
    evaluation set, where the two differ the sentence with the most question words was the gold one for 7
    of 14 answers, the cited one for 1.

    >>> s = [(1, "Statkevich refused to cross.", 0), (2, "Losik and Statkevich, an opposition leader.", 40)]
    >>> shares = {1: 0.0, 2: 0.8}.get
    >>> locate_short("Statkevich", [1, 2], s).number  # the model's citation
    1
    >>> locate_short("Statkevich", [1, 2], s, weight=shares).number
    2
    """
    if not short or len(short.split()) > MAX_SHORT_WORDS:
        return None
    by_number = {n: (text, offset) for n, text, offset in sentences}
    best: ShortAnswer | None = None
    first = ""  # the candidate whose places are compared: the first that fits somewhere
    for candidate, n, found in _places(short, [n for n in cited if n in by_number], by_number, question):
        if best is not None and (weight is None or candidate != first):
            break
        text, offset = by_number[n]
        kept = found if fit is None else fit(text, *found)
        if kept is None:
            continue
        start, end = kept
        same = best is not None and fold_map(text[start:end])[0] == fold_map(best.text)[0]
        if best is None or (weight is not None and same and weight(n) > weight(best.number)):
            best, first = ShortAnswer(text[start:end], n, offset + start, offset + end), candidate
    return best


def _places(
    short: str, cited: Sequence[int], by_number: dict[int, tuple[str, int]], question: str
) -> Iterator[tuple[str, int, tuple[int, int]]]:
    """(candidate, sentence number, (start, end)) of each place the short answer may stand, in the order
    tried: the span and its parts without echoing words, verbatim; then, as a list whose items are the
    sentence's, joined otherwise ("BBC, The Guardian, UPI"), the sentence's own list; then, only when none
    of these is anywhere, the parts of a short reply that are verbatim (_windows). `candidate` is the
    text looked for (the span, a part of it, or the list)."""
    verbatim = False
    for candidate in _trimmed(trim(short), question):
        for n in cited:
            for found in find_all_folded(candidate, by_number[n][0]):
                verbatim = True
                yield candidate, n, found
    for n in cited:
        listed = find_list(short, by_number[n][0])
        if listed is not None:
            verbatim = True
            yield "\0list", n, listed
    if verbatim:  # found, and not the answer there: a part of it is not either
        return
    for candidate in _windows(trim(short), question):
        for n in cited:
            for found in find_all_folded(candidate, by_number[n][0]):
                yield candidate, n, found


_LIST_SEPARATOR = re.compile(r"\s*(?:[,;]\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+)", re.IGNORECASE)
LIST_SLACK = 4  # words the sentence may have between the items beyond the reply's own ("and", "the")


def find_list(span: str, text: str) -> tuple[int, int] | None:
    """Where the items of a list `span` are in `text`, in the same order, each whole, with little between
    them: the sentence's own list, from its first item to its last; None otherwise. The reply may join the
    items its own way; the shown answer is the sentence's characters.

    >>> s = "The deal was confirmed by BBC, The Guardian, and UPI on Friday."
    >>> s[slice(*find_list("BBC, The Guardian, UPI", s))]
    'BBC, The Guardian, and UPI'
    >>> find_list("BBC, UPI", "BBC reported it first; days later, after much doubt, UPI did too.") is None
    True
    """
    items = [i for i in _LIST_SEPARATOR.split(trim(span)) if i.strip()]
    if len(items) < 2:
        return None
    start = end = 0
    for k, item in enumerate(items):
        place = next((f for f in find_all_folded(item, text) if f[0] >= end), None)
        if place is None:
            return None
        start, end = (place[0] if k == 0 else start), place[1]
    words = len(text[start:end].split()) - len(trim(span).split())
    return (start, end) if words <= LIST_SLACK else None


def _trimmed(span: str, question: str) -> list[str]:
    """`span`, then its parts without echoing words at the ends, longest first."""
    words = span.split()
    echoes = _echo(question)
    out = [span]
    if span in _NUMBER_WORDS:  # "2" where the sentence says "two"
        out.append(_NUMBER_WORDS[span])
    for i in range(len(words)):
        if i and not echoes(words[i - 1]):
            break
        for j in range(len(words), i, -1):
            if j < len(words) and not echoes(words[j]):
                break
            if (i, j) != (0, len(words)) and not all(echoes(w) for w in words[i:j]):
                out.append(" ".join(words[i:j]))
    return sorted(dict.fromkeys(out), key=lambda c: -len(c.split()))


def _windows(span: str, question: str) -> list[str]:
    """For a span of at most MAX_WINDOW_REPLY words, the runs of 2 to MAX_WINDOW_WORDS of its words
    that hold more than half of its words that do not echo the question, and start and end on such a
    word, longest first: where the model's reply is verbatim only in part ("seek to abolish the state
    of Israel" where the sentence says "to abolish the state of Israel"), that part is tried last.

    >>> _windows("seek to abolish Israel", "What is the goal of Hamas?")
    ['seek to abolish Israel', 'seek to abolish', 'abolish Israel']
    >>> _windows("they left Belarus", "How did they leave Belarus?")
    []
    """
    words = span.split()
    if len(words) > MAX_WINDOW_REPLY:
        return []
    echoes = _echo(question)
    new = [i for i, w in enumerate(words) if not echoes(w)]
    need = len(new) // 2 + 1 if new else 0
    runs = [
        " ".join(words[new[a] : new[b] + 1])
        for a in range(len(new))
        for b in range(a + need - 1, len(new))
        if 2 <= new[b] + 1 - new[a] <= MAX_WINDOW_WORDS
    ]
    return sorted(dict.fromkeys(runs), key=lambda c: -len(c.split()))


def _echo(question: str) -> Callable[[str], bool]:
    """Whether a word only echoes `question` (is one of its words) or is a function word."""
    from rag.text import stopwords

    echo = {_bare(w) for w in question.split()} | set(stopwords())
    return lambda word: _bare(word) in echo


def _bare(word: str) -> str:
    """A word folded and without punctuation at its ends, and without a possessive 's."""
    folded = fold_map(word)[0].strip(".,;:!?\"'()[]")
    return folded[:-2] if folded.endswith("'s") else folded


# words a phrase never ends on: a span ending on one was cut off (the reply ran out of its tokens)
_DANGLING = frozenset(
    "in at on of to for with by from into onto upon than as the a an and or but its their his her".split()  # noqa: SIM905
)
_LAST_CONJUNCT = re.compile(r"(?:,\s*|\s+)(?:and|or|but)\s+[\w’'-]+$")


def unbroken_end(text: str, start: int, end: int) -> int:
    """Where text[start:end] ends once a phrase it breaks off is taken away: the reply ran out of its
    tokens mid-phrase ("April 2024, charged with insulting Lukashenko, and sentenced in" ->
    "April 2024, charged with insulting Lukashenko"; "... sitting in no man's land at the" -> "... sitting
    in no man's land"). The function words it ends on go, and a last conjunct left with one word goes
    with its conjunction. No gold answer of SQuAD 2.0's public split ends on such a word.

    >>> s = "He was arrested in April 2024, charged with insulting Lukashenko, and sentenced in January."
    >>> s[s.index("April"):unbroken_end(s, s.index("April"), s.index(" January"))]
    'April 2024, charged with insulting Lukashenko'
    >>> unbroken_end(s, 0, 2), unbroken_end("the state of the art", 0, 12)
    (2, 9)
    """
    words = list(re.finditer(r"[\w’'-]+", text[start:end]))
    if not words or words[-1].group() not in _DANGLING:
        return end
    while words and words[-1].group() in _DANGLING:
        words.pop()
    if not words:
        return end
    cut = start + words[-1].end()
    conjunct = _LAST_CONJUNCT.search(text[start:cut])
    return start + conjunct.start() if conjunct else cut


@dataclass(frozen=True)
class Fit:
    """A verbatim span read as the answer to the question."""

    span: tuple[int, int] | None  # the (start, end) to show, None when it does not answer the question
    reason: str = ""  # why not
    refuses: bool = False  # the sentence says it of someone else: the documents do not answer


def fit_answer(question: str, text: str, start: int, end: int, context: str = "") -> Fit:
    """Does text[start:end] answer `question` where it stands? Cut to what it adds to the question
    first (restated: "on the Vistula River" -> "the Vistula River" for "On what river ..."), then its
    shape (answer_shape: a "how long" answered "four" gets the word after it when that fixes it, "four
    years"), then which verb it goes with, that it does not only describe someone the question names
    (claims.answer_within_named), is not someone the question names itself (answer_names_asked) nor the
    one on the receiving end where it asks who did it (answer_role_swapped), and what it counts, then
    who it is said of (claims.check_answer, with `context` the passages), then, for "why", that it is
    not the asked event itself (claims.reason_restated), and for "whose N", that it is not the N
    (claims.possessed_named): only who it is said of makes the reader refuse; the others give the quotes
    instead. A yes/no question's span is read by `_fit_polar`.

    >>> s = "Khilo was sentenced in January 2025 to four years in a penal colony."
    >>> fit_answer("How long a sentence did Khilo get?", s, s.index("four"), s.index("four") + 4).span
    (39, 49)
    """
    if is_polar(question):
        return _fit_polar(question, text, start, end, context)
    start, end = restated(question, text, start, end)
    end = unbroken_end(text, start, end)
    misfit = shape_mismatch(question, text[start:end])
    if misfit:
        m = re.match(r"[ \t]+([\w’'-]+)", text[end:])  # the word after it, on the same line: a unit?
        if m is None or not is_unit(m.group(1)) or shape_mismatch(question, text[start : end + m.end()]):
            return Fit(None, misfit)
        end += m.end()
    misfit = (
        answer_verb_mismatch(question, text, start, end)
        or answer_within_named(question, text, start, end)
        or answer_names_asked(question, text, start, end, context)
        or answer_role_swapped(question, text, start, end)
        or count_mismatch(question, text, start, end)
    )
    if misfit:
        return Fit(None, misfit)
    reason = check_answer(question, text, start, end, context).reason
    if reason:
        return Fit(None, reason, refuses=True)
    # after who it is said of: "why did lithuania close its border?" -> "Poland … closed its borders" is
    # refused for being Poland's, which says more than that the span restates the question
    misfit = reason_restated(question, text, start, end) or possessed_named(question, text, start, end)
    return Fit(None, misfit) if misfit else Fit((start, end))


_YES_NO = frozenset("yes no not yeah nope true false correct right".split())  # noqa: SIM905


def _fit_polar(question: str, text: str, start: int, end: int, context: str) -> Fit:
    """A yes/no question's answer is the words that settle it, which repeat the question's words by
    nature ("Did Russia criticize Poland?" -> "criticized Poland's actions"): no cut, no shape, but a
    word beyond yes and no, and said of whom the question asks about (claims.check_answer: "Did Latvia
    close its borders?" -> "promptly closed its borders" is Poland's).

    >>> s = "Poland closed its borders, while Latvia restricted parts of its airspace."
    >>> fit_answer("Did Latvia restrict its airspace?", s, s.index("restricted"), len(s) - 1).span
    (40, 72)
    >>> fit_answer("Did Latvia close its borders?", s, s.index("closed"), s.index(",")).refuses
    True
    >>> fit_answer("Is there a date?", "There is no date.", 9, 11).reason
    'a bare yes or no is not words of the document that settle the question'
    """
    words = {w.lower() for w in re.findall(r"[\w’']+", text[start:end])}
    if not words - _YES_NO:
        return Fit(None, "a bare yes or no is not words of the document that settle the question")
    reason = check_answer(question, text, start, end, context).reason
    return Fit(None, reason, refuses=True) if reason else Fit((start, end))

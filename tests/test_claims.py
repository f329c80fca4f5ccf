"""The claim check (rag/readers/llm/claims.py) with the real spaCy parser: each principle on both sides, the
claim set's integrity, and the claim set's figures against the targets of issues 15 and 18."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from evals.claims import CLAIMS, DEVELOPMENT, FAMILIES, load_claims, rates, run
from rag.readers.llm.claims import check_claim
from rag.readers.llm.grounding import verify_reply, verify_sentence

ROOT = Path(__file__).resolve().parent.parent

PEOPLE = [
    "Vladimir Matskevich, a 69-year-old philosopher; Igor Losik, a journalist; and Mikola Statkevich, "
    "a senior opposition leader and former presidential candidate, were all named among the released."
]
GIFT = [
    "Coale, who presented Lukashenko with a letter from President Donald Trump and a pair of White House "
    "cuff links, told Reuters that there was no firm date."
]
LEAFLET = [
    "Adults and children aged 12 years and over should take 1 or 2 tablets every 4 to 6 hours.",
    "Children under 12 must not take these tablets.",
]
STAFF = [
    "Helen Marsh, our chief executive since 2018, previously ran the retail division of a Scottish bank.",
    "Claire Dubois, a French economist, leads the risk committee.",
    "Daniel Kim reviews salaries every April, and Sofia Rossi approves holiday requests.",
]
DATES = [
    "Khilo had been arrested in April 2024, charged with insulting Lukashenko, and sentenced in January 2025."
]


def kept(claim: str, quotes: list[str]) -> bool:
    return check_claim(claim, quotes).supported


# ---------------------------------------------------------------- each principle, both sides


@pytest.mark.parametrize(
    ("claim", "supported"),
    [
        ("Matskevich is 69 years old.", True),
        ("Igor Losik is 69 years old.", False),  # the age is Matskevich's
        ("Igor Losik is a journalist.", True),
        ("Mikola Statkevich is a journalist.", False),  # another conjunct's title
        ("Statkevich is a former presidential candidate.", True),  # a conjoined title of the same man
        ("Matskevich is a senior opposition leader.", False),
    ],
)
def test_an_attribute_stays_with_its_person(claim: str, supported: bool) -> None:
    assert kept(claim, PEOPLE) is supported


def test_the_reason_names_the_wrong_holder_and_the_quote() -> None:
    verdict = check_claim("Igor Losik is 69 years old.", PEOPLE)
    assert not verdict.supported and verdict.quote_index == 0
    assert verdict.reason == "'Losik' is not the one who is '69' in quote 1"


@pytest.mark.parametrize(
    ("claim", "supported"),
    [
        ("Coale presented Lukashenko with a letter from President Donald Trump.", True),
        ("Lukashenko was presented with a pair of White House cuff links by Coale.", True),  # passive
        ("Lukashenko presented Coale with a letter.", False),  # roles reversed
        ("Coale was presented with a pair of White House cuff links by Lukashenko.", False),
        ("Trump presented Coale with a letter.", False),
    ],
)
def test_agent_and_recipient_keep_their_roles(claim: str, supported: bool) -> None:
    assert kept(claim, GIFT) is supported


@pytest.mark.parametrize(
    ("claim", "supported"),
    [
        ("Children under 12 must not take these tablets.", True),
        ("Children under 12 must take 2 tablets every 6 hours.", False),  # negation dropped, stitched
        ("Children under 12 can take these tablets.", False),
        ("Adults should take 1 or 2 tablets every 4 to 6 hours.", True),  # a detail left out
        ("Adults should take 6 tablets every 1 or 2 hours.", False),  # the dose's numbers swapped
        ("No, children under 12 must not take these tablets.", True),  # a negative answer to a yes/no
        ("Yes, children under 12 must not take these tablets.", False),  # "Yes" with a negative statement
        ("Yes, children under 12 can take these tablets.", False),
    ],
)
def test_negation_numbers_and_answer_words(claim: str, supported: bool) -> None:
    assert kept(claim, LEAFLET) is supported


@pytest.mark.parametrize(
    ("claim", "supported"),
    [
        ("Claire Dubois is a French economist.", True),
        ("Claire Dubois is a Scottish economist.", False),  # nationality from another sentence
        ("Helen Marsh ran the retail division of a French bank.", False),
        ("Helen Marsh has been chief executive since 2018.", True),
        ("Claire Dubois has been chief executive since 2018.", False),  # title moved
        ("Daniel Kim reviews salaries every April.", True),
        ("Sofia Rossi reviews salaries every April.", False),  # from the other conjoined clause
        ("Sofia Rossi reviews salaries every April, and Daniel Kim approves holiday requests.", False),
    ],
)
def test_titles_nationalities_and_stitched_clauses(claim: str, supported: bool) -> None:
    assert kept(claim, STAFF) is supported


@pytest.mark.parametrize(
    ("claim", "supported"),
    [
        ("Khilo was arrested in April 2024.", True),
        ("Khilo was sentenced in January 2025.", True),  # a subject shared by conjoined verbs
        ("Khilo was arrested in January 2025.", False),  # the dates swapped between the verbs
        ("Khilo was sentenced in April 2024.", False),
        ("Lukashenko was charged with insulting Khilo.", False),
    ],
)
def test_dates_stay_with_their_event(claim: str, supported: bool) -> None:
    assert kept(claim, DATES) is supported


def test_two_clauses_may_rest_on_two_quotes_but_not_one_clause() -> None:
    quotes = ["Poland closed its borders with Belarus.", "Latvia restricted parts of its airspace."]
    assert kept("Poland closed its borders with Belarus; Latvia restricted parts of its airspace.", quotes)
    assert not kept("Latvia closed its borders with Belarus.", quotes)  # one clause stitched from two quotes


def test_a_claim_rests_on_one_sentence_even_within_one_quote() -> None:
    quote = ["Vladimir Matskevich is 69 years old. Igor Losik is a journalist."]
    assert kept("Igor Losik is a journalist.", quote)
    assert not kept("Igor Losik is 69 years old.", quote)
    nested = ["“No man left behind! 52 prisoners safely crossed the border,” Nauseda wrote on X."]
    assert kept(
        "Nauseda wrote that 52 prisoners crossed the border.", nested
    )  # a quoted "!" ends no sentence


def test_a_changed_letter_grade_is_not_the_grade() -> None:
    quotes = ["Anna Berg passed the exam with grade B, and Tom Ray failed it."]
    assert kept("Anna Berg passed the exam with grade B.", quotes)
    assert not kept("Anna Berg passed the exam with grade C.", quotes)
    assert not kept("Tom Ray passed the exam with grade B.", quotes)


def test_word_substitution_and_accents() -> None:
    quotes = [
        "In a dramatic turn for Belarus’s international standing, the government released 52 prisoners."
    ]
    assert not kept("The release was a dramatic turn for Belarus's interned standing.", quotes)
    assert kept("Cafe Zurich served 1200 guests.", ["Café Zürich served 1,200 guests."])


def test_the_check_is_thread_safe() -> None:
    results: list[bool] = []

    def work() -> None:
        results.extend(
            kept(c, PEOPLE) for c in ("Matskevich is 69 years old.", "Igor Losik is 69 years old.")
        )

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 4 and results.count(False) == 4


# ---------------------------------------------------------------- wired into the verifier


def test_verify_reply_drops_a_false_claim_made_of_true_words() -> None:
    reply = "Igor Losik is a journalist [1]. Igor Losik is 69 years old [1]."
    first, second = verify_reply(reply, PEOPLE)
    assert first.supported
    assert second.reason == "claim: 'Losik' is not the one who is '69' in [1]"


def test_verify_keeps_a_correct_no_and_drops_a_wrong_yes() -> None:
    assert verify_sentence("No, children under 12 must not take these tablets [2].", LEAFLET).supported
    verdict = verify_sentence("Yes, children under 12 must not take these tablets [2].", LEAFLET)
    assert verdict.reason == "claim: 'Yes' answers with a negative statement"


# ---------------------------------------------------------------- the claim set


def test_the_claim_set_is_well_formed_and_its_quotes_are_verbatim() -> None:
    rows = load_claims(CLAIMS)
    assert len({r["id"] for r in rows}) == len(rows)
    assert sum(not r["label"] for r in rows) >= 80 and sum(r["label"] for r in rows) >= 60
    sources = {r["source"] for r in rows}
    assert len(sources) >= 4 and sources - DEVELOPMENT
    assert {r["family"] for r in rows} == set(FAMILIES)
    texts = {s: (ROOT / s).read_text(encoding="utf-8") for s in sources}
    for r in rows:
        for quote in r["quotes"]:
            assert quote in texts[r["source"]], f"{r['id']}: quote not verbatim in {r['source']}: {quote}"


def test_the_claim_set_meets_the_targets() -> None:
    """Issues 15 and 18: at least 95% of false claims rejected and 90% of true claims kept, overall and on
    the documents the check was not developed on."""
    outcomes = run(load_claims(CLAIMS))
    overall = rates(outcomes)
    held_out = rates([o for o in outcomes if o.source not in DEVELOPMENT])
    for name, r in (("overall", overall), ("held out", held_out)):
        assert r["false_rejected_rate"] >= 0.95, (name, r)
        assert r["true_kept_rate"] >= 0.90, (name, r)

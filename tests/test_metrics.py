"""The metric functions on hand-made cases, and span arithmetic against a brute-force reference."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evals.metrics import (
    Span,
    area_under_risk_coverage,
    citation_precision,
    citation_recall,
    citation_supported,
    contains_answer,
    context_precision_at_k,
    covered_chars,
    covers,
    exact_match,
    first_covering_rank,
    matches,
    mean_of,
    normalize,
    percentile,
    recall_at_k,
    reciprocal_rank,
    relevant_passages,
    risk_coverage,
    score_answer,
    token_f1,
)

D = "doc.txt"


def span(start: int, end: int, doc: str = D) -> Span:
    return Span(doc, start, end)


# --- SQuAD normalisation, EM, F1 -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Cat sat.", "cat sat"),
        ("an apple, a pear", "apple pear"),
        ("another theme", "another theme"),  # articles only as whole words
        ("“Belavia” — the airline’s", "belavia airlines"),  # Unicode punctuation goes too
        ("U.S.-backed", "usbacked"),  # as in SQuAD, punctuation is dropped, not read as a space
        ("  many \t spaces\n", "many spaces"),
        ("U.S.", "us"),
        ("", ""),
    ],
)
def test_normalize_like_squad(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_exact_match_ignores_case_punctuation_and_articles() -> None:
    assert exact_match("The Guardian.", "guardian") == 1.0
    assert exact_match("The Guardian", "The Guardian newspaper") == 0.0


def test_token_f1_by_hand() -> None:
    # pred: 52 political prisoners (3 tokens), gold: 52 prisoners (2): 2 in common, P = 2/3, R = 1
    assert token_f1("52 political prisoners", "52 prisoners") == pytest.approx(0.8)
    assert token_f1("Belavia", "Belavia") == 1.0
    assert token_f1("Ryanair", "Belavia") == 0.0
    # repeated tokens count only as often as they occur in both
    assert token_f1("the the cat cat", "cat") == pytest.approx(2 * (1 / 2) * 1 / (1 / 2 + 1))
    assert token_f1("", "") == 1.0
    assert token_f1("", "52") == 0.0


@pytest.mark.parametrize(
    ("text", "gold", "expected"),
    [
        ("Belarus freed 52 political prisoners", "52", True),
        ("in 1994 he took office", "94", False),  # whole words only
        ("a 69-year-old philosopher", "69", True),  # hyphens read as spaces
        ("sitting in no man’s land", "no man's land", True),  # curly vs straight apostrophe
        ("The Guardian reported", "the guardian", True),
        ("The Guardians reported", "guardian", False),
        ("nothing here", "", False),
    ],
)
def test_contains_answer(text: str, gold: str, expected: bool) -> None:
    assert contains_answer(text, gold) is expected


def test_list_answers_need_every_part() -> None:
    parts = ["BBC", "The Guardian", "UPI"]
    partial = score_answer("BBC", "Confirmed by BBC and UPI.", parts, all_parts=True)
    assert partial.hit is False
    assert partial.hit_share == pytest.approx(2 / 3)
    full = score_answer("BBC", "BBC, The Guardian, and UPI", parts, all_parts=True)
    assert full.hit is True and full.hit_share == 1.0
    assert full.short_hit is False  # the short answer names one part only


def test_alternatives_need_any_one() -> None:
    score = score_answer(
        "52 political prisoners", "52 political prisoners [1]. “…”", ["fifty-two", "52"], all_parts=False
    )
    assert score.hit and score.short_hit
    assert score.exact_match == 0.0
    assert score.f1 == pytest.approx(0.5)  # best alternative: "52" against 3 predicted tokens
    wrong_lead = score_answer(
        "July 2023", "July 2023 [1]. “… on September 11, 2025.”", ["September 11, 2025"], all_parts=False
    )
    assert wrong_lead.hit and not wrong_lead.short_hit


def test_score_answer_needs_gold() -> None:
    with pytest.raises(ValueError):
        score_answer("x", "x", [], all_parts=False)


# --- spans: coverage, retrieval, citations ---------------------------------------------------------


def test_half_coverage_rule() -> None:
    gold = span(100, 200)
    assert covers([span(0, 150)], gold)  # exactly half
    assert not covers([span(0, 149)], gold)  # just under half
    assert covers([span(100, 120), span(170, 195)], gold) is False  # 45 of 100
    assert covers([span(100, 130), span(150, 200)], gold)  # 80 of 100, from two pieces
    assert not covers([span(0, 500, "other.txt")], gold)  # another document


def test_recall_at_k_with_the_half_rule() -> None:
    gold_a = [span(100, 200)]
    gold_b = [span(300, 400)]
    passages = [
        span(0, 120),
        span(280, 390),
        span(90, 210),
    ]  # a: 20% at rank 1, b: 90% at rank 2, a: 100% at 3
    ranks = [first_covering_rank(passages, gold_a), first_covering_rank(passages, gold_b)]
    assert ranks == [3, 2]
    assert recall_at_k(ranks, 1) == 0.0
    assert recall_at_k(ranks, 2) == 0.5
    assert recall_at_k(ranks, 3) == 1.0
    assert reciprocal_rank(ranks) == 0.5
    assert reciprocal_rank([None]) == 0.0
    assert first_covering_rank(passages, [span(1000, 1100)]) is None


def test_evidence_found_in_any_of_its_places() -> None:
    twice = [span(0, 50), span(500, 550)]  # the same sentence occurs twice
    assert first_covering_rank([span(480, 560)], twice) == 1


def test_context_precision() -> None:
    gold = [[span(100, 200)]]
    relevant = relevant_passages([span(90, 210), span(300, 400), span(150, 260)], gold)
    assert relevant == [True, False, True]
    assert context_precision_at_k(relevant, 2) == 0.5
    assert context_precision_at_k(relevant, 5) == pytest.approx(2 / 3)  # only 3 retrieved
    assert context_precision_at_k([], 5) == 0.0


def test_citation_precision_and_recall_by_span() -> None:
    gold = [[span(100, 200)], [span(300, 320)]]  # a sentence, and a short fragment
    on_first = span(100, 200)
    around_fragment = span(250, 400)  # holds the whole fragment: matches (half of the shorter)
    stray = span(600, 700)
    grazing = span(190, 290)  # shares 10 characters with the first sentence: not a match
    assert matches(around_fragment, gold[1][0])
    assert not matches(grazing, gold[0][0])
    assert citation_precision([on_first, stray], gold) == 0.5
    assert citation_recall([on_first, stray], gold) == 0.5
    assert citation_recall([on_first, around_fragment], gold) == 1.0
    assert citation_supported([stray, grazing], gold) is False
    assert citation_supported([stray, on_first], gold) is True
    assert citation_precision([], gold) == 0.0
    with pytest.raises(ValueError):
        citation_recall([on_first], [])


@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=6),
    st.integers(0, 60),
    st.integers(0, 60),
)
def test_covered_chars_matches_brute_force(pieces: list[tuple[int, int]], a: int, b: int) -> None:
    target = span(min(a, b), max(a, b))
    spans = [span(min(x, y), max(x, y)) for x, y in pieces]
    expected = len({i for s in spans for i in range(s.start, s.end)} & set(range(target.start, target.end)))
    assert covered_chars(spans, target) == expected


# --- aggregates ------------------------------------------------------------------------------------


def test_mean_and_percentile() -> None:
    assert mean_of([1, None, 0, True]) == pytest.approx(2 / 3)
    assert math.isnan(mean_of([None]))
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert percentile(values, 50) == 3.0
    assert percentile(values, 95) == pytest.approx(4.8)  # numpy's linear interpolation
    assert percentile([7.0], 95) == 7.0
    assert math.isnan(percentile([], 50))


def test_risk_coverage_sweeps_from_confident_to_all() -> None:
    points = [
        (0.9, True, True),
        (0.8, True, False),
        (0.8, True, True),  # tied with the one before: they enter together
        (0.3, True, True),
        (0.2, False, False),  # the bot declines this one at any threshold
    ]
    curve = risk_coverage(points)
    assert [(p.threshold, p.answered) for p in curve] == [(0.9, 1), (0.8, 3), (0.3, 4)]
    assert [p.coverage for p in curve] == [0.2, 0.6, 0.8]
    assert [p.accuracy for p in curve] == pytest.approx([1.0, 2 / 3, 3 / 4])
    # mean risk over coverage: 0 on [0, .2], 1/3 on [.2, .6], 1/4 on [.6, .8]
    assert area_under_risk_coverage(curve) == pytest.approx((0.4 / 3 + 0.2 / 4) / 0.8)
    assert risk_coverage([]) == []
    assert math.isnan(area_under_risk_coverage([]))

from __future__ import annotations

import pytest

from lab.metrics import snippet_page, word_bag, word_page, word_summary


def test_snippets_collapse_white_space() -> None:
    c = snippet_page(
        "The  council\nmet today. Hot this week",
        ["The council met", "missing line"],
        ["Hot this week", "Footer"],
    )
    assert (c.tp, c.fn, c.fp) == (1, 1, 1)


# --------------------------------------------------------------------------
# word-F1 (WCXB's metric), cases computed by hand


def test_word_f1_bag_of_words_overlap() -> None:
    # predicted: the x2, cat, sat, on, mat (6 tokens); reference: the, cat, sat (3)
    # overlap = the + cat + sat = 3: precision 3/6, recall 3/3, F1 = 2 * .5 * 1 / 1.5
    s = word_page("The cat sat on the mat.", "the cat sat")
    assert (s.overlap, s.predicted, s.reference) == (3, 6, 3)
    assert s.precision == pytest.approx(0.5)
    assert s.recall == pytest.approx(1.0)
    assert s.f1 == pytest.approx(2 / 3)


def test_word_f1_is_a_multiset_intersection_of_lower_cased_tokens() -> None:
    # hello x2, world x1 against hello x1, world x2: overlap 1 + 1 = 2 of 3 each side
    s = word_page("Hello, WORLD! hello", "hello world-world")
    assert (s.overlap, s.predicted, s.reference) == (2, 3, 3)
    assert s.precision == s.recall == s.f1 == pytest.approx(2 / 3)


def test_word_f1_tokens_are_unicode_words() -> None:
    # "Łódź" lower-cases to "łódź"; "東京都" is one \w+ run; punctuation is no token
    s = word_page("ŁÓDŹ, Łódź — 東京都", "łódź 東京都 !!")
    assert (s.overlap, s.predicted, s.reference) == (2, 3, 2)
    assert s.f1 == pytest.approx(2 * (2 / 3) * 1 / (2 / 3 + 1))
    assert word_bag("Don't stop_here 42") == {"don": 1, "t": 1, "stop_here": 1, "42": 1}


def test_word_f1_empty_prediction_scores_zero() -> None:
    for empty in ("", "  \n", "!!! ---"):
        s = word_page(empty, "a real reference")
        assert (s.precision, s.recall, s.f1) == (0.0, 0.0, 0.0)


def test_word_f1_empty_reference_scores_one_only_for_an_empty_prediction() -> None:
    both = word_page("", "")
    assert (both.precision, both.recall, both.f1) == (1.0, 1.0, 1.0)
    assert word_page("...", " ").f1 == 1.0  # no token either side
    something = word_page("menu footer", "")
    assert (something.precision, something.recall, something.f1) == (0.0, 0.0, 0.0)


def test_word_f1_disjoint_texts_score_zero() -> None:
    s = word_page("alpha beta", "gamma delta")
    assert (s.overlap, s.f1) == (0, 0.0)


def test_word_summary_averages_each_figure_over_pages() -> None:
    pages = [
        word_page("the cat sat on the mat", "the cat sat"),  # P .5, R 1, F1 2/3
        word_page("", "missing text"),  # 0, 0, 0
        word_page("", ""),  # 1, 1, 1
    ]
    s = word_summary(pages)
    assert s["precision"] == pytest.approx((0.5 + 0 + 1) / 3)
    assert s["recall"] == pytest.approx((1 + 0 + 1) / 3)
    # the mean of the pages' F1, not the harmonic mean of the means
    assert s["f1"] == pytest.approx((2 / 3 + 0 + 1) / 3)
    assert (s["pages"], s["below_half"]) == (3, 1)
    assert word_summary([])["pages"] == 0

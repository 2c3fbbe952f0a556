"""The decision rule, one function at a time (classifier.decision)."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.decision import (
    FALLBACK_SHARE,
    STORY_MIN_ARTICLE_SHARE,
    article_share,
    best_region,
    choose_labels,
    decide,
    extend_head,
    extend_to_prose,
    is_story,
    max_region,
    size_weights,
    smooth,
)

LABELS = ["article", "chrome", "teaser"]  # the model's classes_ order


def arr(*values: float) -> np.ndarray:
    return np.array(values, dtype=float)


# -- smooth -------------------------------------------------------------------


def test_smooth_without_cost_is_the_bare_threshold() -> None:
    p = arr(0.9, 0.3, 0.6, 0.1, 0.5)
    assert smooth(p, 0.5, 0.0).tolist() == [True, False, True, False, True]


def test_a_long_unit_carries_its_size_in_evidence() -> None:
    # the headline is kept; a whole story in one block (p = 0.85) sits between
    # a share bar and a "Related" list: as one unit its log-odds (about 2.8 at
    # threshold 0.25) do not pay for entering and leaving (2 + 2), as the
    # 3,000 characters it is, they do
    p = arr(0.01, 0.95, 0.01, 0.85, 0.01, 0.01)
    short = arr(40, 60, 20, 180, 60, 60)
    long = arr(40, 60, 20, 3000, 60, 60)
    assert smooth(p, 0.25, 2.0, short).tolist() == smooth(p, 0.25, 2.0).tolist()
    assert not smooth(p, 0.25, 2.0, short)[3]
    assert smooth(p, 0.25, 2.0, long)[3]
    assert decide(p, 0.25, 2.0, sizes=long)[3]
    # and the same size weighs a noise unit's evidence against it
    q = arr(0.9, 0.9, 0.05, 0.9, 0.9)
    assert smooth(q, 0.25, 2.0, arr(300, 300, 300, 300, 300))[2]
    assert not smooth(q, 0.25, 2.0, arr(300, 300, 4000, 300, 300))[2]


def test_size_weights_leave_paragraph_sized_units_at_one() -> None:
    w = size_weights(arr(0, 120, 500, 1000, 8000))
    assert w is not None
    assert w[:3].tolist() == [1.0, 1.0, 1.0]
    assert 1.0 < w[3] < w[4]
    assert size_weights(None) is None


def test_smooth_edge_cases() -> None:
    assert smooth(arr(), 0.5, 2.0).tolist() == []
    assert smooth(arr(0.7), 0.5, 2.0).tolist() == [True]  # too short to smooth
    assert smooth(arr(0.2, 0.3, 0.1, 0.4), 0.5, 2.0).tolist() == [False] * 4


def test_smooth_joins_an_uncertain_block_between_two_kept_ones() -> None:
    p = arr(0.05, 0.95, 0.95, 0.4, 0.95, 0.95, 0.05)
    assert smooth(p, 0.5, 0.0)[3] == np.False_
    assert smooth(p, 0.5, 2.0).tolist() == [False, True, True, True, True, True, False]


def test_smooth_drops_an_isolated_weak_block_far_from_the_story() -> None:
    p = arr(0.95, 0.95, 0.95, 0.05, 0.05, 0.05, 0.55, 0.05, 0.05)
    out = smooth(p, 0.5, 2.0)
    assert out[:3].all() and not out[3:].any()


def test_smooth_is_symmetric_at_the_document_edges() -> None:
    p = arr(0.55, 0.05, 0.05, 0.95, 0.95, 0.95, 0.05, 0.05, 0.55)
    out = smooth(p, 0.5, 2.0)
    assert not out[0] and not out[-1] and out[3:6].all()


# -- regions ------------------------------------------------------------------


def test_max_region_finds_the_best_run() -> None:
    assert max_region(arr(-1, 2, 3, -1, 2, -5, 4)) == (1, 5)
    assert max_region(arr(2, 3, -1, 1)) == (0, 2)  # a tie: the first best end
    assert max_region(arr(-3, -1, -2)) == (1, 2)  # all negative: the least bad unit
    assert max_region(arr(5)) == (0, 1)


def test_max_region_leaves_out_a_zero_sum_prefix() -> None:
    assert max_region(arr(1, -1, 2)) == (2, 3)


def test_best_region_edge_cases() -> None:
    assert best_region(arr(), 0.4) is None
    assert best_region(arr(0.1, 0.19, 0.05), 0.4) is None  # nothing reaches 0.4 * share
    assert best_region(arr(0.3), 0.4) == slice(0, 1)
    low = 0.4 * FALLBACK_SHARE
    assert best_region(arr(0.0, low + 0.1, low + 0.05, 0.0, low + 0.01), 0.4) == slice(1, 3)


def test_decide_without_fallback_keeps_nothing_when_nothing_passes() -> None:
    """After a site stage, a page whose units all stay under the threshold
    keeps nothing (a listing's one teaser its profile has not seen), where the
    single-page rule falls back to its best region."""
    p = arr(0.01, 0.3, 0.48, 0.45, 0.02)
    assert decide(p, 0.5).tolist() == [False, True, True, True, False]
    assert not decide(p, 0.5, fallback=False).any()
    # with something over the threshold the two agree
    q = arr(0.01, 0.3, 0.9, 0.45, 0.02)
    assert decide(q, 0.5, fallback=False).tolist() == decide(q, 0.5).tolist()


# -- hysteresis -----------------------------------------------------------------


def test_extend_to_prose_grows_through_touching_prose_only() -> None:
    keep = np.array([False, False, True, False, False, False])
    p = arr(0.3, 0.3, 0.9, 0.3, 0.3, 0.05)
    prose = np.array([True, False, True, True, True, True])
    out = extend_to_prose(keep, p, prose, 0.4)
    # 1 is not prose, 3 and 4 grow in a chain, 5 is below threshold * share
    assert out.tolist() == [False, False, True, True, True, False]
    assert keep.tolist() == [False, False, True, False, False, False]  # input untouched


def test_extend_to_prose_edge_cases() -> None:
    empty = np.zeros(0, dtype=bool)
    assert extend_to_prose(empty, arr(), empty, 0.4).tolist() == []
    nothing = np.zeros(3, dtype=bool)
    assert not extend_to_prose(nothing, arr(0.3, 0.3, 0.3), ~nothing, 0.4).any()


def test_extend_head_keeps_the_run_right_above_the_first_kept_unit() -> None:
    keep = np.array([False, False, False, False, True, True, False, False])
    p = arr(0.9, 0.1, 0.3, 0.4, 0.9, 0.8, 0.4, 0.9)
    out = extend_head(keep, p, 0.25)
    # 3 and 2 reach the floor; 1 does not and stops the run (0 stays out);
    # nothing below the story is touched
    assert out.tolist() == [False, False, True, True, True, True, False, False]
    assert keep.tolist() == [False, False, False, False, True, True, False, False]
    # a head reaching the top of the document is kept whole
    assert extend_head(np.array([False, False, True]), arr(0.3, 0.4, 0.9), 0.25).all()


def test_extend_head_edge_cases() -> None:
    empty = np.zeros(0, dtype=bool)
    assert extend_head(empty, arr(), 0.25).tolist() == []
    assert not extend_head(np.zeros(3, dtype=bool), arr(0.9, 0.9, 0.9), 0.25).any()
    first = np.array([True, False])
    assert extend_head(first, arr(0.9, 0.9), 0.25).tolist() == [True, False]


def test_extend_head_looks_past_template_units() -> None:
    """A share bar between the byline and the story: its units are looked
    past, not kept, and the climb stops at the first unit under the floor."""
    keep = np.array([False, False, False, False, False, True, True])
    p = arr(0.1, 0.6, 0.4, 0.01, 0.02, 0.9, 0.9)  # menu, headline, byline, bar, bar, story
    bar = np.array([False, False, False, True, True, False, False])
    assert extend_head(keep, p, 0.25).tolist() == keep.tolist()  # the bar stops it
    out = extend_head(keep, p, 0.25, bar)
    assert out.tolist() == [False, True, True, False, False, True, True]
    # a template unit above the head is looked past too, but what is above
    # it still has to reach the floor
    p2 = arr(0.6, 0.01, 0.6, 0.9)
    assert extend_head(arr(0, 0, 0, 1) > 0, p2, 0.25, arr(0, 1, 0, 0) > 0).tolist() == [
        True,
        False,
        True,
        True,
    ]


# -- the whole rule and the labels -------------------------------------------------


def test_decide_falls_back_when_nothing_passes() -> None:
    p = arr(0.05, 0.3, 0.35, 0.1)
    assert decide(p, 0.4).tolist() == [False, True, True, False]
    assert not decide(arr(0.05, 0.1), 0.4).any()  # a listing keeps nothing
    assert decide(arr(), 0.4).tolist() == []
    assert decide(arr(0.9), 0.4).tolist() == [True]


def test_decide_with_prose_applies_the_hysteresis() -> None:
    p = arr(0.9, 0.25, 0.05)
    prose = np.array([True, True, True])
    assert decide(p, 0.4).tolist() == [True, False, False]
    assert decide(p, 0.4, prose=prose).tolist() == [True, True, False]


def test_choose_labels_kept_are_article_others_the_likelier_noise() -> None:
    proba = np.array([[0.7, 0.2, 0.1], [0.2, 0.3, 0.5], [0.1, 0.6, 0.3], [0.3, 0.35, 0.35]])
    keep = np.array([True, False, False, False])
    labels, probs = choose_labels(proba, LABELS, keep)
    assert labels == ["article", "teaser", "chrome", "chrome"]  # a tie goes to the first
    assert probs == pytest.approx([0.7, 0.5, 0.6, 0.35])
    assert choose_labels(np.zeros((0, 3)), LABELS, np.zeros(0, dtype=bool)) == ([], [])
    # a kept unit is article whatever its probability
    assert choose_labels(proba[1:2], LABELS, np.array([True]))[0] == ["article"]


# -- the page-type gate ---------------------------------------------------------


def test_article_share_weighs_units_by_their_size() -> None:
    # one long article-like unit outweighs three short teaser-like ones
    p, sizes = arr(0.9, 0.1, 0.1, 0.1), arr(700, 100, 100, 100)
    assert article_share(p, sizes) == pytest.approx((0.9 * 700 + 0.1 * 300) / 1000)


def test_article_share_of_an_empty_document_is_zero() -> None:
    assert article_share(arr(), arr()) == 0.0
    assert article_share(arr(0.9), arr(0)) == 0.0


def test_a_listing_with_kept_fragments_is_not_a_story() -> None:
    # a section page: one snippet passed the rule, the rest of the page is cards
    p = np.array([0.6] + [0.01] * 30)
    sizes = np.array([120] + [80] * 30)
    keep = p >= 0.5
    share = article_share(p, sizes)
    assert keep.any() and share < STORY_MIN_ARTICLE_SHARE
    assert not is_story(keep, share)
    assert is_story(keep, share, min_share=0.0)  # 0 turns the gate off


def test_a_story_among_chrome_is_a_story() -> None:
    p = arr(0.02, 0.9, 0.8, 0.95, 0.03, 0.02)
    sizes = arr(60, 400, 350, 500, 80, 200)
    share = article_share(p, sizes)
    assert is_story(p >= 0.5, share)
    assert not is_story(np.zeros(6, dtype=bool), share)  # nothing kept: no story

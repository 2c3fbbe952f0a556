from __future__ import annotations

import pytest

from classifier.metrics import fulltext_page, fulltext_summary, shingles


def test_shingles_are_four_token_windows() -> None:
    assert sum(shingles("a b c d e").values()) == 2
    assert shingles("a b") == {("a", "b"): 1}
    assert shingles("") == {}


def test_perfect_and_disjoint_pages() -> None:
    ref = "one two three four five six"
    assert fulltext_page(ref, ref).precision == 1.0
    s = fulltext_page("x y z w", ref)
    assert s.tp == 0 and s.precision == 0.0 and s.recall == 0.0


def test_summary_averages_over_the_right_pages() -> None:
    ref = "one two three four five six seven"
    half = fulltext_page("one two three four five", ref)  # all predicted shingles right
    empty = fulltext_page("", ref)  # nothing predicted: counts for recall only
    out = fulltext_summary([half, empty])
    assert out["precision"] == pytest.approx(1.0)
    assert out["recall"] == pytest.approx((2 / 4 + 0.0) / 2)

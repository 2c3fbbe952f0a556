from __future__ import annotations

from lab.metrics import snippet_page


def test_snippets_collapse_white_space() -> None:
    c = snippet_page(
        "The  council\nmet today. Hot this week",
        ["The council met", "missing line"],
        ["Hot this week", "Footer"],
    )
    assert (c.tp, c.fn, c.fp) == (1, 1, 1)

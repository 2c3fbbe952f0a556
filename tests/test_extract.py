from __future__ import annotations

import numpy as np
import pytest
from conftest import STORY, page

from classifier import extract
from classifier.extract import Extractor, _title
from classifier.segment import segment


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor()


def test_extract_keeps_the_story_and_drops_noise() -> None:
    result = extract(STORY)
    assert result.title == "Valley farmers start early harvest"
    assert "Greenford, Sept 3" in result.text and "Officials said yields" in result.text
    for noise in ("Hot this week", "Bus fares", "Home", "All rights reserved"):
        assert noise not in result.text
    assert {b.label for b in result.blocks} <= {"article", "teaser", "chrome"}
    assert all(0.0 <= b.probability <= 1.0 for b in result.blocks)
    assert result.model_version


def test_last_paragraph_before_a_teaser_list_is_kept() -> None:
    assert "Traders expect prices" in extract(STORY).text


def test_threshold_trades_recall_for_precision() -> None:
    loose = extract(STORY, threshold=0.0)
    strict = extract(STORY, threshold=1.01)
    assert len(loose.text) > len(extract(STORY).text) >= len(strict.text)
    assert all(b.label == "article" for b in loose.blocks)


# -- the headline -----------------------------------------------------------------


def _keep(page_html: str, kept: list[int]) -> tuple[str, int]:
    seg = segment(page_html)
    keep = np.zeros(len(seg.blocks), dtype=bool)
    keep[kept] = True
    return _title(seg, keep)


def test_title_is_the_heading_block_that_matches_the_declared_headline() -> None:
    html = page(
        "<nav>Home</nav><h2>Latest</h2><h1>Bridge reopens after repairs</h1><p>Text.</p>",
        head="<title>Bridge reopens after repairs | Valley Herald</title>",
    )
    assert _keep(html, [2, 3]) == ("Bridge reopens after repairs", 2)


def test_title_prefers_h1_on_a_tie_and_falls_back_to_the_declared_headline() -> None:
    head = "<title>Flood waters recede - Valley Herald</title>"
    tie = page("<h2>Flood waters recede</h2><h1>Flood waters recede</h1>", head=head)
    assert _keep(tie, []) == ("Flood waters recede", 1)
    none = page("<h2>Weather</h2><p>Nothing here matches.</p>", head=head)
    assert _keep(none, [1]) == ("Flood waters recede", -1)  # site name removed


def test_title_is_the_story_h1_when_the_declared_headline_says_something_else() -> None:
    head = "<title>Best 10 tips for farmers in 2026 | Valley Herald</title>"
    html = page(
        "<h1 class='logo'>Valley Herald</h1><nav>Home News</nav>"
        "<h1>Farmers start the harvest early</h1><p>Story text.</p><p>More text.</p>",
        head=head,
    )
    assert _keep(html, [2, 3, 4]) == ("Farmers start the harvest early", 2)  # kept h1
    assert _keep(html, [3, 4]) == ("Farmers start the harvest early", 2)  # just before the story
    far = page("<h1>Valley Herald</h1>" + "<nav>menu</nav>" * 3 + "<p>Story text.</p>", head=head)
    assert _keep(far, [4]) == ("Best 10 tips for farmers in 2026", -1)  # a logo, not the headline


def test_h1_headline_is_not_repeated_in_the_text(extractor: Extractor) -> None:
    seo = STORY.replace(
        "<title>Valley farmers start early harvest - Valley Herald</title>",
        "<title>Paddy harvest 2026: dates, prices and procurement | Valley Herald</title>",
    )
    result = extractor.extract(seo)
    assert result.title == "Valley farmers start early harvest"
    assert "Valley farmers start early harvest" not in result.text
    assert "Greenford, Sept 3" in result.text


def test_title_edge_cases() -> None:
    assert _keep(page("<p>Only a paragraph.</p>", head=""), [0]) == ("", -1)
    long_heading = page("<h1>" + "word " * 40 + "</h1>", head="<title>Short headline here</title>")
    assert _keep(long_heading, [0]) == ("Short headline here", -1)  # far longer: not it


def test_a_lone_kept_paragraph_is_the_body_not_the_headline() -> None:
    head = "<title>Lorem ipsum</title>"
    lone = page("<div>Lorem ipsum dolor sit amet, consectetur adipiscing elit.</div>", head=head)
    assert _keep(lone, [0]) == ("Lorem ipsum", -1)  # the story's only block stays its body
    two = page("<div>Lorem ipsum dolor</div><p>The story itself, at some length.</p>", head=head)
    assert _keep(two, [0, 1]) == ("Lorem ipsum dolor", 0)  # beside a body: the headline
    heading = page("<h2>Lorem ipsum dolor</h2>", head=head)
    assert _keep(heading, [0]) == ("Lorem ipsum dolor", 0)  # a heading element stays one


def test_headline_is_not_repeated_in_the_text(extractor: Extractor) -> None:
    result = extractor.extract(STORY)
    assert result.title == "Valley farmers start early harvest"
    assert not result.text.startswith(result.title)
    assert result.blocks[[b.text for b in result.blocks].index(result.title)].label == "article"


def test_empty_page_extracts_to_nothing(extractor: Extractor) -> None:
    result = extractor.extract(page("<script>var x = 1;</script>"))
    assert (result.text, result.blocks, result.is_article) == ("", [], False)

from __future__ import annotations

import json

import numpy as np
from conftest import page
from sklearn.base import clone

from classifier.features import (
    CJK_CHAR_WEIGHT,
    FEATURE_NAMES,
    BlockFeatures,
    page_matrix,
    story_chars,
    text_features,
    tokens,
)
from classifier.model import BLOCK_MODEL, card_path
from classifier.segment import segment

STORY = page(
    "<nav class='main-menu'><ul><li><a href='/'>Home</a></li><li><a href='/p'>Politics</a></li></ul></nav>"
    "<article class='post'><h1>Bridge to reopen in May</h1>"
    "<p>Hill Town, Jan 4: The district council said on Monday that the old bridge would reopen in May.</p>"
    "<p>Engineers finished the survey last week and found the piers sound, officials said.</p></article>"
    "<aside class='related-posts'><h3>Related</h3><ul>"
    "<li><a href='/a'>Market fire</a></li><li><a href='/b'>School fees</a></li><li><a href='/c'>Rain</a></li>"
    "</ul></aside>",
    head="<title>Bridge to reopen in May | Hill Times</title>",
)


def col(name: str) -> int:
    return FEATURE_NAMES.index(name)


def test_feature_names_are_unique_and_match_the_matrix() -> None:
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)
    X = page_matrix(segment(STORY))
    assert X.shape[1] == len(FEATURE_NAMES)
    assert list(BlockFeatures().get_feature_names_out()) == list(FEATURE_NAMES)


def test_feature_names_match_the_shipped_model_card() -> None:
    card = json.loads(card_path(BLOCK_MODEL).read_text(encoding="utf-8"))
    assert card["feature_names"] == list(FEATURE_NAMES), "features changed: run `make train`"


def test_text_features_count_characters_for_scripts_without_spaces() -> None:
    zh = text_features(
        "\u5e02\u653f\u5e9c\u5468\u4e00\u5ba3\u5e03\u65b0\u6865\u5c06\u4e8e\u4e94\u6708\u5f00\u653e\u3002"
    )
    names = dict(zip(("n_chars", "n_words", "avg_word_len", "n_sentences"), zh, strict=False))
    assert names["n_chars"] == 16 and names["n_words"] == 1 and names["n_sentences"] == 1


def test_link_density_and_ellipsis() -> None:
    f = dict(zip(("n_chars",), text_features("x"), strict=False))
    assert f["n_chars"] == 1
    row = text_features("Flood waters recede...", link_chars=10, n_links=1)
    from classifier.features import TEXT_FEATURES

    named = dict(zip(TEXT_FEATURES, row, strict=True))
    assert named["ends_ellipsis"] == 1.0
    assert abs(named["link_density"] - 10 / len("Flood waters recede...")) < 1e-9


def test_main_container_and_lists() -> None:
    p = segment(STORY)
    X = page_matrix(p)
    texts = [b.text for b in p.blocks]
    para = texts.index(next(t for t in texts if t.startswith("Hill Town")))
    menu = texts.index("Home")
    teaser = texts.index("Market fire")
    assert X[para, col("in_main_text")] == 1.0 and X[menu, col("in_main_text")] == 0.0
    assert X[teaser, col("sibling_blocks")] == 3
    assert X[teaser, col("link_density")] == 1.0
    assert X[texts.index("Bridge to reopen in May"), col("title_sim")] == 1.0
    assert X[para, col("in_article")] == 1.0 and X[menu, col("in_nav")] == 1.0


def test_context_features_shift_neighbours() -> None:
    X = page_matrix(segment(STORY))
    assert np.array_equal(X[1:, col("prev1_n_chars")], X[:-1, col("n_chars")])
    assert X[0, col("prev1_n_chars")] == -1.0


def test_jsonld_article_body_overlap() -> None:
    body = "The district council said on Monday that the old bridge would reopen in May."
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "articleBody": "'
        + body
        + '"}</script>'
    )
    p = segment(STORY.replace("<title>", head + "<title>"))
    X = page_matrix(p)
    para = next(b.index for b in p.blocks if b.text.startswith("Hill Town"))
    assert X[para, col("body_overlap")] > 0.7
    assert X[0, col("body_overlap")] < 0.5
    assert page_matrix(segment(STORY))[0, col("body_overlap")] == -1.0  # no JSON-LD


def test_tokens_split_cjk_into_characters() -> None:
    assert tokens("Rain \u5927\u96e8 in Shillong") == ["rain", "\u5927", "\u96e8", "in", "shillong"]


def test_transformer_clones_and_handles_mixed_pages() -> None:
    t = clone(BlockFeatures())
    a, b = segment(STORY), segment(page("<p>Only one paragraph of text here.</p>"))
    mixed = [b.blocks[0], a.blocks[2], a.blocks[0]]
    X = t.fit_transform(mixed)
    assert np.array_equal(X[1], page_matrix(a)[2]) and np.array_equal(X[0], page_matrix(b)[0])


def test_story_chars_weighs_unspaced_scripts() -> None:
    assert story_chars("Flood waters recede") == len("Flood waters recede")
    japanese = "市議会は月曜日、橋を五月に再開すると発表した。"
    n_cjk = sum(1 for c in japanese if c not in "、。")
    assert story_chars(japanese) == len(japanese) + (CJK_CHAR_WEIGHT - 1) * n_cjk
    assert story_chars("") == 0

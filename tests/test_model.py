from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import page

from classifier import Extractor, ModelError, extract
from classifier.model import BLOCK_MODEL, card_path, load_model
from classifier.segment import segment

STORY = page(
    "<header class='site-header'><nav class='menu'><a href='/'>Home</a> <a href='/news'>News</a> "
    "<a href='/sport'>Sport</a> <a href='/contact'>Contact</a></nav></header>"
    "<div class='post-content'><h1>Valley farmers start early harvest</h1>"
    "<p>Greenford, Sept 3: Farmers across the valley began harvesting paddy two weeks early this year "
    "after a dry August, the district agriculture office said on Tuesday.</p>"
    "<p>Officials said yields looked steady despite the weak monsoon, and procurement centres would "
    "open on Monday in six blocks of the district.</p>"
    "<p>Traders expect prices to stay firm until the festival season, when demand usually rises.</p></div>"
    "<div class='widget related'><h3>Hot this week</h3><ul>"
    "<li><a href='/a'>Bus fares to rise from October</a> The transport department said...</li>"
    "<li><a href='/b'>New bridge opens at Riverside</a> Commuters will save...</li>"
    "<li><a href='/c'>College results declared</a> Students can check...</li></ul></div>"
    "<footer class='site-footer'>\u00a9 2026 Valley Herald. All rights reserved.</footer>",
    head="<title>Valley farmers start early harvest - Valley Herald</title>",
)


def copy_model(tmp_path: Path) -> Path:
    target = tmp_path / BLOCK_MODEL.name
    shutil.copy(BLOCK_MODEL, target)
    shutil.copy(card_path(BLOCK_MODEL), card_path(target))
    return target


def test_extract_keeps_the_story_and_drops_noise() -> None:
    result = extract(STORY)
    assert result.title == "Valley farmers start early harvest"
    assert "Greenford, Sept 3" in result.text and "Officials said yields" in result.text
    for noise in ("Hot this week", "Bus fares", "Home", "All rights reserved"):
        assert noise not in result.text
    assert {b.label for b in result.blocks} <= {"article", "teaser", "chrome"}
    assert all(0.0 <= b.probability <= 1.0 for b in result.blocks)
    assert result.model_version


@pytest.mark.xfail(
    strict=True,
    reason="known problem: the last short paragraph of a brief, "
    "right before a teaser list, gets P(article) 0.31 < the 0.4 threshold",
)
def test_last_paragraph_before_a_teaser_list_is_kept() -> None:
    assert "Traders expect prices" in extract(STORY).text


def test_threshold_trades_recall_for_precision() -> None:
    loose = extract(STORY, threshold=0.0)
    strict = extract(STORY, threshold=1.01)
    assert len(loose.text) > len(extract(STORY).text) >= len(strict.text)
    assert all(b.label == "article" for b in loose.blocks)


def test_round_trip_gives_identical_predictions(tmp_path: Path) -> None:
    model, _ = load_model(copy_model(tmp_path))
    original, _ = load_model(BLOCK_MODEL)
    blocks = segment(STORY).blocks
    assert np.array_equal(model.predict_proba(blocks), original.predict_proba(blocks))


def test_tampered_model_file_is_refused(tmp_path: Path) -> None:
    path = copy_model(tmp_path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="make train"):
        Extractor(path)


def test_other_scikit_learn_version_is_refused(tmp_path: Path) -> None:
    path = copy_model(tmp_path)
    card = json.loads(card_path(path).read_text())
    card["versions"]["scikit-learn"] = "0.24.2"
    card_path(path).write_text(json.dumps(card))
    with pytest.raises(ModelError, match="scikit-learn 0.24.2"):
        Extractor(path)


def test_missing_card_is_refused(tmp_path: Path) -> None:
    path = copy_model(tmp_path)
    card_path(path).unlink()
    with pytest.raises(ModelError, match="missing"):
        Extractor(path)


def test_card_describes_the_model() -> None:
    card = json.loads(card_path(BLOCK_MODEL).read_text())
    assert card["labels"] == ["article", "teaser", "chrome"]
    assert len(card["training_data_sha256"]) == 64
    assert card["cv_metrics"]["grouped_by"] == "layout"
    assert 0.0 < card["threshold"] < 1.0
    assert card["versions"]["scikit-learn"]

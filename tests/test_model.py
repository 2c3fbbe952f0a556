from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import STORY

from classifier import Extractor, ModelError
from classifier.model import BLOCK_MODEL, card_path, load_model
from classifier.segment import segment


def copy_model(tmp_path: Path) -> Path:
    target = tmp_path / BLOCK_MODEL.name
    shutil.copy(BLOCK_MODEL, target)
    shutil.copy(card_path(BLOCK_MODEL), card_path(target))
    return target


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


# -- the scikit-learn contract ---------------------------------------------------


def test_cloned_pipeline_refits_on_a_subset_without_leaked_parameters() -> None:
    from sklearn.base import clone

    from classifier.model import fit_grouped
    from classifier.training import TRAINING_DIR, flatten, load_pages

    shipped, _ = load_model(BLOCK_MODEL)
    params = shipped.get_params(deep=True)
    # nothing data-sized in the parameters: no fold index arrays
    assert all(
        not isinstance(v, (list, tuple, np.ndarray)) or len(v) < 20
        for k, v in params.items()
        if k != "steps"
    )
    pages, _ = load_pages(TRAINING_DIR)
    subset = [p for p in pages if p.layout in ("amp", "drupal", "ghost", "joomla")]
    blocks, labels, groups = flatten(subset)
    fresh = fit_grouped(clone(shipped), blocks, labels, groups)
    proba = fresh.predict_proba(segment(STORY).blocks)
    assert proba.shape == (len(segment(STORY).blocks), 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert list(fresh.classes_) == list(shipped.classes_)


def test_build_pipeline_takes_its_hyperparameters_as_arguments() -> None:
    from classifier.model import build_block_pipeline, build_line_pipeline

    model = build_block_pipeline(max_iter=7, calibration_folds=2, random_state=3)
    calibrated = model.named_steps["model"]
    assert calibrated.cv.get_n_splits() == 2
    assert calibrated.estimator.max_iter == 7 and calibrated.estimator.random_state == 3
    assert build_line_pipeline().named_steps["model"].estimator.max_leaf_nodes == 15


def test_card_with_other_labels_or_features_is_refused(tmp_path: Path) -> None:
    path = copy_model(tmp_path)
    card = json.loads(card_path(path).read_text())
    card_path(path).write_text(json.dumps({**card, "labels": ["article", "noise"]}))
    with pytest.raises(ModelError, match=r"labels.*make train"):
        Extractor(path)
    renamed = [*card["feature_names"][:-1], "retired_feature"]
    card_path(path).write_text(json.dumps({**card, "feature_names": renamed}))
    with pytest.raises(ModelError, match=r"other features.*retired_feature.*make train"):
        Extractor(path)
    card_path(path).write_text(json.dumps({**card, "kind": "line"}))
    with pytest.raises(ModelError, match="other features"):
        Extractor(path)  # a block model's card claiming to be a line model


def test_the_shortcut_past_the_calibration_wrapper_is_predict_proba_bit_for_bit() -> None:
    """classifier.model.calibrated_proba (what every loaded model predicts
    with) against the pipeline's own predict_proba: the same numbers, exactly,
    for the block and line models on the written sites' pages."""
    from classifier.clean import LineCleaner
    from classifier.lines import dump_from_pairs, flatten_page
    from classifier.model import calibrated_proba

    extractor, cleaner = Extractor(), LineCleaner()
    pages = sorted((Path(__file__).parent / "data" / "sites").glob("*/*.html"))[::6]
    assert len(pages) >= 10
    for path in pages:
        page = segment(path.read_bytes())
        lines = dump_from_pairs(flatten_page(page), str(path)).lines
        for model, units in ((extractor.model, page.blocks), (cleaner.model, lines)):
            assert np.array_equal(calibrated_proba(model, units), model.predict_proba(units))
    # a pipeline of another shape (the label app's uncalibrated refit) goes
    # through its own predict_proba
    from sklearn.pipeline import Pipeline

    booster = extractor.model.steps[-1][1].calibrated_classifiers_[0].estimator
    bare = Pipeline([("features", extractor.model.steps[0][1]), ("model", booster)])
    assert np.array_equal(calibrated_proba(bare, page.blocks), bare.predict_proba(page.blocks))
    assert not np.array_equal(bare.predict_proba(page.blocks), extractor.probabilities(page.blocks))
    # the raw scores skip the booster's input validation, but not its two
    # checks that our feature rows could fail
    from classifier.model import raw_scores

    X = extractor.model.steps[0][1].transform(page.blocks)
    assert np.array_equal(raw_scores(booster, X), booster._raw_predict(X))
    with pytest.raises(ValueError, match="features"):
        raw_scores(booster, X[:, :-1])
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        raw_scores(booster, X)

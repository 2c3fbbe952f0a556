"""Model files cannot run code when loaded: skops, a trusted-types list, checked trees.

Each refusal test first shows that its payload is live (loaded the unsafe
way, it does create its marker file), then that ``load_model`` refuses the
file, names it, and leaves the marker uncreated.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skops.io
from conftest import STORY, page
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from classifier.features import BlockFeatures
from classifier.model import (
    BLOCK_MODEL,
    LINE_MODEL,
    LINE_SITE_MODEL,
    SITE_MODEL,
    TRUSTED_TYPES,
    GroupedBooster,
    ModelError,
    UnsafeModelError,
    build_block_pipeline,
    card_path,
    fit_grouped,
    load_model,
    model_bytes,
    read_model_bytes,
)
from classifier.segment import segment


class Touch:
    """A harmless payload: creating the file at ``path`` when it is built."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self) -> Any:  # what pickle calls on load
        return (Path.touch, (Path(self.path),))

    def __getstate__(self) -> dict[str, Any]:  # what skops saves
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:  # what skops calls on load
        Path(state["path"]).touch()


def with_card(tmp_path: Path, data: bytes, name: str = "block_model.skops") -> Path:
    """``data`` as a model file beside a copy of the shipped card that matches it."""
    path = tmp_path / name
    path.write_bytes(data)
    card = json.loads(card_path(BLOCK_MODEL).read_text(encoding="utf-8"))
    card["sha256"] = hashlib.sha256(data).hexdigest()
    card_path(path).write_text(json.dumps(card), encoding="utf-8")
    return path


def test_a_pickle_with_a_matching_card_is_refused_unrun(tmp_path: Path) -> None:
    proof = tmp_path / "proof"
    pickle.loads(pickle.dumps(Touch(proof)))
    assert proof.exists()  # the payload is live
    marker = tmp_path / "marker"
    path = with_card(tmp_path, pickle.dumps(Touch(marker)), "block_model.joblib")
    with pytest.raises(UnsafeModelError, match="not a skops model file") as err:
        load_model(path)
    assert str(path) in str(err.value) and "make train" in str(err.value)
    assert not marker.exists()


def test_a_skops_file_with_an_untrusted_type_is_refused_unrun(tmp_path: Path) -> None:
    proof = tmp_path / "proof"
    skops.io.loads(skops.io.dumps(Touch(proof)), trusted=[Touch])
    assert proof.exists()  # trusted, it runs
    marker = tmp_path / "marker"
    # hidden inside the shipped pipeline, as a foreign file would hide it
    model, _ = load_model(BLOCK_MODEL)
    model.named_steps["features"].payload = Touch(marker)
    path = with_card(tmp_path, skops.io.dumps(model))
    with pytest.raises(UnsafeModelError, match=r"types newsfilter does not trust.*Touch") as err:
        load_model(path)
    assert str(path) in str(err.value)
    assert not marker.exists()


def test_a_foreign_pipeline_of_trusted_types_is_refused(tmp_path: Path) -> None:
    foreign = Pipeline([("features", BlockFeatures()), ("model", LogisticRegression())])
    path = with_card(tmp_path, model_bytes(foreign))
    with pytest.raises(UnsafeModelError, match=r"not a newsfilter block model") as err:
        load_model(path)
    assert str(path) in str(err.value)


def test_a_tampered_file_with_its_old_card_is_refused(tmp_path: Path) -> None:
    path = tmp_path / BLOCK_MODEL.name
    shutil.copy(BLOCK_MODEL, path)
    shutil.copy(card_path(BLOCK_MODEL), card_path(path))
    model, _ = load_model(path)
    model.named_steps["features"].payload = Touch(tmp_path / "marker")
    path.write_bytes(skops.io.dumps(model))
    with pytest.raises(ModelError, match="does not match its card") as err:
        load_model(path)
    assert str(path) in str(err.value) and "make train" in str(err.value)


def test_malformed_trees_are_refused_before_any_prediction(tmp_path: Path) -> None:
    model, _ = load_model(BLOCK_MODEL)
    booster = model.named_steps["model"].calibrated_classifiers_[0].estimator
    state = booster.__getstate__()
    for field, value, why in (
        ("left", 0, "points outside its tree or backwards"),  # a loop back to the root
        ("right", 10**6, "points outside its tree or backwards"),
        ("feature_idx", 10**4, "feature outside"),
    ):
        nodes = state["_tree_nodes"].copy()
        split = int(np.flatnonzero(nodes["is_leaf"] == 0)[0])
        nodes[field][split] = value
        with pytest.raises(ValueError, match=why):
            GroupedBooster.__new__(GroupedBooster).__setstate__({**state, "_tree_nodes": nodes})
    # the same, end to end: a file whose trees loop is refused with its name
    first = booster._predictors[0][0]
    first.nodes = first.nodes.copy()
    first.nodes["left"][0] = 0
    path = with_card(tmp_path, model_bytes(model))
    with pytest.raises(UnsafeModelError, match="malformed booster trees") as err:
        load_model(path)
    assert str(path) in str(err.value)


def test_damaged_zip_is_refused_with_its_name(tmp_path: Path) -> None:
    data = BLOCK_MODEL.read_bytes()
    path = with_card(tmp_path, data[: len(data) // 2])
    with pytest.raises(UnsafeModelError, match="not a skops model file|cannot be read"):
        load_model(path)
    schema_only = io.BytesIO()
    with zipfile.ZipFile(schema_only, "w") as zf:
        zf.writestr("schema.json", "{not json")
    path = with_card(tmp_path, schema_only.getvalue())
    with pytest.raises(UnsafeModelError, match=rf"{path.name} cannot be read"):
        load_model(path)


def test_trusted_types_are_exactly_what_the_shipped_models_need() -> None:
    needed: set[str] = set()
    for path in (BLOCK_MODEL, LINE_MODEL, SITE_MODEL, LINE_SITE_MODEL):
        needed |= set(skops.io.get_untrusted_types(file=path))
    assert needed == set(TRUSTED_TYPES)  # minimal: nothing listed that no model holds


# -- canonical files: the same model, the same bytes ----------------------------------


def labelled(n: int) -> str:
    story = "".join(
        f"<p>Town {n}: the council met on day {k} and agreed to repair bridge {k} before "
        f"the rains, the mayor said in a statement on Monday.</p>"
        for k in range(3)
    )
    teasers = "".join(
        f"<li><a href='/s/{n}{k}'>Quiz {k} won</a> Students beat...</li>" for k in range(3)
    )
    return page(
        f"<nav data-label='chrome'><a href='/'>Home</a> <a href='/news'>News</a></nav>"
        f"<article data-label='article'><h1>Bridge {n} repaired</h1>{story}</article>"
        f"<section data-label='teaser'><h3>Hot</h3><ul>{teasers}</ul></section>"
        f"<footer data-label='chrome'>(c) 2026 Herald {n}</footer>"
    )


@pytest.fixture(scope="module")
def fresh_model() -> Pipeline:
    pages = [segment(labelled(n), with_labels=True) for n in range(6)]
    blocks = [b for p in pages for b in p.blocks]
    labels = np.array([b.label for b in blocks])
    groups = np.array([k % 3 for k, p in enumerate(pages) for _ in p.blocks])
    build = build_block_pipeline(max_iter=4, min_samples_leaf=2, calibration_folds=2)
    with threadpool_limits(limits=1, user_api="openmp"):
        return fit_grouped(build, blocks, labels, groups)


def test_a_fitted_model_always_gives_the_same_bytes(fresh_model: Pipeline) -> None:
    fitted = model_bytes(fresh_model)
    assert model_bytes(fresh_model) == fitted
    assert model_bytes(pickle.loads(pickle.dumps(fresh_model))) == fitted  # other object ids
    reloaded = read_model_bytes(fitted, Path("fresh.skops"))
    assert model_bytes(reloaded) == fitted  # lossless: load then save gives the file back
    blocks = segment(STORY).blocks
    assert np.array_equal(reloaded.predict_proba(blocks), fresh_model.predict_proba(blocks))
    with zipfile.ZipFile(io.BytesIO(fitted)) as zf:
        assert {info.date_time for info in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_shipped_models_are_canonical_skops_files() -> None:
    for path in (BLOCK_MODEL, LINE_MODEL):
        model, _ = load_model(path)
        assert model_bytes(model) == path.read_bytes(), f"{path}: run `make train`"

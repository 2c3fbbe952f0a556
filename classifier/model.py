"""The models: scikit-learn Pipelines, saved with joblib beside a JSON card.

One module builds both: the block model (:func:`build_block_pipeline`,
:class:`~classifier.features.BlockFeatures` then calibrated gradient
boosting) and its twin for flattened text (:func:`build_line_pipeline`,
:class:`~classifier.line_features.LineFeatures`).  Calibration folds come
from a :class:`~sklearn.model_selection.GroupKFold` splitter fed the
layout ``groups`` through scikit-learn's metadata routing
(:func:`fit_grouped`): no fold indexes are baked into parameters, so
``clone(pipeline)`` refits correctly on other data.

Loading checks the card before unpickling: the SHA-256 of the model file,
the scikit-learn version it was trained with, and the labels and feature
names against what this code produces.  A mismatch refuses with the
command that rebuilds the model (dragnet's users' top complaint was models
that silently stopped unpickling after an upgrade).
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from sklearn.base import TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from . import features, line_features
from .segment import LABELS

MODEL_DIR = Path(__file__).resolve().parent / "models"
BLOCK_MODEL = MODEL_DIR / "block_model.joblib"
LINE_MODEL = MODEL_DIR / "line_model.joblib"
RETRAIN_HINT = "run `make train` (or `python -m classifier train`) to rebuild it"
TRACKED_PACKAGES = ("scikit-learn", "numpy", "scipy", "joblib", "selectolax")
CALIBRATION_FOLDS = 3  # grouped folds of the isotonic calibration
# The block booster: few, larger trees, since prediction cost is per tree
# (measured on the dev corpora: 80 x 127 leaves scored as well as 250 x 31,
# at a third of the time).
BLOCK_BOOSTER: dict[str, Any] = {
    "max_iter": 80,
    "learning_rate": 0.12,
    "max_leaf_nodes": 127,
    "min_samples_leaf": 30,
    "l2_regularization": 1.0,
    "max_features": 0.5,
}
# The line booster: lines carry fewer, noisier features; smaller trees.
LINE_BOOSTER: dict[str, Any] = {
    "max_iter": 120,
    "learning_rate": 0.08,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
}


class ModelError(RuntimeError):
    """A model file is missing, altered, stale, or was built by another scikit-learn."""


class GroupedBooster(HistGradientBoostingClassifier):
    """HistGradientBoostingClassifier that accepts (and ignores) ``groups`` in ``fit``.

    scikit-learn 1.9's CalibratedClassifierCV with ``ensemble=False`` routes
    ``groups`` to its splitter only through the parameters its estimator's
    ``fit`` requests (its internal ``cross_val_predict`` gets nothing else),
    so the booster requests them: the calibration folds are then grouped by
    layout, and the booster itself fits exactly as its parent does.
    """

    __metadata_request__fit = {"groups": True}  # scikit-learn's class-level request

    def fit(self, X: Any, y: Any, sample_weight: Any = None, groups: Any = None) -> GroupedBooster:
        super().fit(X, y, sample_weight=sample_weight)
        return self


def build_pipeline(
    features_step: TransformerMixin,
    booster: dict[str, Any],
    *,
    calibration_folds: int = CALIBRATION_FOLDS,
    random_state: int = 0,
) -> Pipeline:
    """Features, then gradient boosting calibrated (isotonic) on grouped folds.

    ``booster`` holds HistGradientBoostingClassifier's hyperparameters.  Fit
    it with :func:`fit_grouped`, which routes ``groups`` to the calibration
    splitter so that calibration, like evaluation, never mixes one layout's
    units across folds.
    """
    clf = GroupedBooster(
        **booster, class_weight="balanced", early_stopping=False, random_state=random_state
    )
    calibrated = CalibratedClassifierCV(
        clf, method="isotonic", cv=GroupKFold(n_splits=calibration_folds), ensemble=False
    )
    return Pipeline([("features", features_step), ("model", calibrated)])


def build_block_pipeline(**overrides: Any) -> Pipeline:
    """The block model; keyword arguments override :data:`BLOCK_BOOSTER` or
    :func:`build_pipeline`'s ``calibration_folds`` / ``random_state``."""
    return _build(features.BlockFeatures(), BLOCK_BOOSTER, overrides)


def build_line_pipeline(**overrides: Any) -> Pipeline:
    """The line model (the block model's twin over :class:`~classifier.lines.Line`)."""
    return _build(line_features.LineFeatures(), LINE_BOOSTER, overrides)


def _build(step: TransformerMixin, booster: dict[str, Any], overrides: dict[str, Any]) -> Pipeline:
    own = {k: overrides.pop(k) for k in ("calibration_folds", "random_state") if k in overrides}
    return build_pipeline(step, {**booster, **overrides}, **own)


def fit_grouped(
    pipeline: Pipeline, X: Sequence[Any], y: np.ndarray, groups: np.ndarray
) -> Pipeline:
    """``pipeline.fit(X, y, groups=groups)`` with metadata routing on for the call."""
    with sklearn.config_context(enable_metadata_routing=True):
        return pipeline.fit(X, y, groups=groups)


def single_threaded() -> None:
    """Run the trees' OpenMP code on one thread, for the whole process.

    A page is a batch of a few hundred rows: thread start-up costs more than
    it saves, and on a busy machine far more (measured on 80 corpus pages:
    19 ms/page on one thread, 2,100 ms/page with default threads under a load
    of 5).  One thread also makes training bit-for-bit repeatable.
    """
    threadpool_limits(1, user_api="openmp")


def versions() -> dict[str, str]:
    """Versions of the libraries a pickled model depends on."""
    out = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        out[name] = metadata.version(name)
    return out


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def card_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def save_model(estimator: Any, path: Path, card: dict[str, Any]) -> dict[str, Any]:
    """Write the model and its card; return the card as written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(estimator, path, compress=3)
    card = {**card, "versions": versions(), "sha256": file_sha256(path), "file": path.name}
    card["model_version"] = f"{path.stem}-{card['sha256'][:12]}"
    card_path(path).write_text(
        json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return card


def read_card(path: Path) -> dict[str, Any]:
    cpath = card_path(path)
    if not path.exists() or not cpath.exists():
        raise ModelError(f"model {path} or its card {cpath.name} is missing; {RETRAIN_HINT}")
    try:
        return json.loads(cpath.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ModelError(f"model card {cpath} is not valid JSON ({exc}); {RETRAIN_HINT}") from exc


def load_model(path: Path) -> tuple[Any, dict[str, Any]]:
    """Check the card, then unpickle; return ``(estimator, card)``."""
    card = read_card(path)
    actual = file_sha256(path)
    if actual != card.get("sha256"):
        raise ModelError(
            f"model file {path} does not match its card (SHA-256 {actual[:12]}..., "
            f"card says {str(card.get('sha256'))[:12]}...): it was altered or replaced; "
            f"refusing to unpickle it; {RETRAIN_HINT}"
        )
    trained = card.get("versions", {}).get("scikit-learn")
    installed = metadata.version("scikit-learn")
    if trained != installed:
        raise ModelError(
            f"model {path} was trained with scikit-learn {trained}, this is {installed}; "
            f"{RETRAIN_HINT}, or install scikit-learn=={trained}"
        )
    check_card(path, card)
    single_threaded()
    return joblib.load(path), card


# the feature names each kind of model is built on, by the card's "kind"
FEATURE_NAMES = {"block": features.FEATURE_NAMES, "line": line_features.FEATURE_NAMES}


def check_card(path: Path, card: dict[str, Any]) -> None:
    """Refuse a model whose card's labels or feature names differ from this code's."""
    if list(card.get("labels", ())) != list(LABELS):
        raise ModelError(
            f"model {path} predicts labels {card.get('labels')}, this code expects "
            f"{list(LABELS)}; {RETRAIN_HINT}"
        )
    kind = card.get("kind", "block")
    expected = FEATURE_NAMES.get(kind)
    if expected is None:
        raise ModelError(f"model {path} is of unknown kind {kind!r}; {RETRAIN_HINT}")
    names = list(card.get("feature_names", ()))
    if names != list(expected):
        missing = sorted(set(expected) - set(names))
        extra = sorted(set(names) - set(expected))
        detail = (
            f"missing {missing[:5]}, unknown {extra[:5]}"
            if missing or extra
            else "the same names in another order"
        )
        raise ModelError(
            f"model {path} was trained on other features than this code computes ({detail}); "
            f"{RETRAIN_HINT}"
        )


class LoadedModel:
    """A checked, loaded model with its decision threshold: the base of the
    block :class:`~classifier.extract.Extractor` and the line
    :class:`~classifier.clean.LineCleaner`."""

    default_threshold = 0.5

    def __init__(self, model_path: Path | str, threshold: float | None = None) -> None:
        self.model, self.card = load_model(Path(model_path))
        self.labels = [str(c) for c in self.model.classes_]
        self.threshold = float(
            threshold
            if threshold is not None
            else self.card.get("threshold", self.default_threshold)
        )
        self.model_version = str(self.card.get("model_version", ""))

    def probabilities(self, units: Sequence[Any]) -> np.ndarray:
        """P(label) for every unit of one document, columns in ``self.labels`` order."""
        if not len(units):
            return np.zeros((0, len(self.labels)))
        return self.model.predict_proba(units)

"""The block model: one scikit-learn Pipeline, saved with joblib beside a JSON card.

Loading checks the card before unpickling: the SHA-256 of the model file and
the scikit-learn version it was trained with.  A mismatch refuses with the
command that rebuilds the model (dragnet's users' top complaint was models
that silently stopped unpickling after an upgrade).
"""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import joblib
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from .features import BlockFeatures

MODEL_DIR = Path(__file__).resolve().parent / "models"
BLOCK_MODEL = MODEL_DIR / "block_model.joblib"
RETRAIN_HINT = "run `make train` (or `python -m classifier train`) to rebuild it"
TRACKED_PACKAGES = ("scikit-learn", "numpy", "scipy", "joblib", "lxml")


class ModelError(RuntimeError):
    """A model file is missing, altered, or was built by another scikit-learn."""


def build_pipeline(cv: Any = 3) -> Pipeline:
    """The block classifier: features, then calibrated gradient boosting.

    ``cv`` is the calibration split: pass grouped (train, test) index pairs so
    that calibration, like evaluation, never mixes blocks of one layout.
    """
    booster = HistGradientBoostingClassifier(
        # few, larger trees: prediction cost is per tree (measured on the dev
        # corpora: 80 x 127 leaves scored as well as 250 x 31, at a third of the time)
        max_iter=80,
        learning_rate=0.12,
        max_leaf_nodes=127,
        min_samples_leaf=30,
        l2_regularization=1.0,
        max_features=0.5,
        class_weight="balanced",
        early_stopping=False,
        random_state=0,
    )
    return Pipeline(
        [
            ("features", BlockFeatures()),
            ("model", CalibratedClassifierCV(booster, method="isotonic", cv=cv, ensemble=False)),
        ]
    )


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
    single_threaded()
    return joblib.load(path), card

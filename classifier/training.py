"""Training data loading, validation and model training.

Pages live in ``training_data/pages/<layout>/<slug>.html`` with ``data-label``
attributes (format in training_data/README.md).  Cross-validation is grouped
by layout: every score is on layouts the model did not train on.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import GroupKFold

from .model import BLOCK_MODEL, build_pipeline, save_model, single_threaded
from .segment import LABELS, Block, Page, SegmentationError, segment

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TRAINING_DIR = PROJECT_ROOT / "training_data"
CONFIG_FILE = TRAINING_DIR / "config.json"
CV_FOLDS = 5


@dataclass(slots=True)
class LabelledPage:
    path: Path
    layout: str
    page: Page


class DataError(ValueError):
    """Training data that breaks the labelling rules; names file and line."""


def page_files(root: Path = TRAINING_DIR) -> list[Path]:
    return sorted((root / "pages").glob("*/*.html"))


def check_page(path: Path, page: Page) -> list[str]:
    """Every labelling-rule violation of one page, as ``file:line: message``."""
    errors = []
    if not page.blocks:
        errors.append(f"{path}:1: no text blocks found")
    for b in page.blocks:
        where = f"{path}:{b.label_line or 1}"
        if b.label is None:
            errors.append(
                f"{where}: block {b.text[:50]!r} has no data-label (label it or an ancestor)"
            )
        elif b.label not in LABELS:
            errors.append(f"{where}: data-label={b.label!r} is not one of {', '.join(LABELS)}")
        if b.mixed:
            errors.append(
                f"{where}: block {b.text[:50]!r} mixes labels "
                f"{b.label} and {', '.join(b.mixed)}; label a block element instead"
            )
    return errors


def load_pages(
    root: Path = TRAINING_DIR, *, strict: bool = True
) -> tuple[list[LabelledPage], list[str]]:
    """Read and segment every training page; return pages and errors."""
    pages, errors = [], []
    files = page_files(root)
    if not files:
        errors.append(f"{root / 'pages'}: no labelled pages (*/ *.html) found")
    for path in files:
        try:
            page = segment(path.read_bytes(), with_labels=True)
        except (OSError, SegmentationError) as exc:
            errors.append(f"{path}:1: cannot read or parse: {exc}")
            continue
        problems = check_page(path, page)
        errors.extend(problems)
        if not problems or not strict:
            pages.append(LabelledPage(path, path.parent.name, page))
    return pages, errors


def data_hash(root: Path = TRAINING_DIR) -> str:
    """SHA-256 over the training files' relative paths and bytes."""
    digest = hashlib.sha256()
    for path in page_files(root) + ([CONFIG_FILE] if CONFIG_FILE.exists() else []):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def read_config() -> dict[str, Any]:
    if CONFIG_FILE.exists():
        return json.loads(CONFIG_FILE.read_text(encoding="utf-8"))
    return {}


def flatten(pages: list[LabelledPage]) -> tuple[list[Block], np.ndarray, np.ndarray]:
    """Blocks, labels and layout groups of a list of labelled pages."""
    blocks = [b for lp in pages for b in lp.page.blocks]
    labels = np.array([b.label for b in blocks])
    groups = np.array([lp.layout for lp in pages for _ in lp.page.blocks])
    return blocks, labels, groups


def grouped_splits(
    groups: np.ndarray, n_splits: int = CV_FOLDS
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Deterministic GroupKFold splits (no shuffling: same data, same folds)."""
    n = min(n_splits, len(set(groups)))
    return list(GroupKFold(n_splits=n).split(np.zeros(len(groups)), groups=groups))


def cross_validate(blocks: list[Block], labels: np.ndarray, groups: np.ndarray) -> dict[str, Any]:
    """Out-of-fold predictions by layout; per-class precision/recall/F1."""
    predicted = np.empty(len(labels), dtype=object)
    for train, test in grouped_splits(groups):
        train_blocks = [blocks[i] for i in train]
        model = build_pipeline(cv=grouped_splits(groups[train], 3))
        model.fit(train_blocks, labels[train])
        predicted[test] = model.predict([blocks[i] for i in test])
    return cv_report(labels, predicted, groups)


def cv_report(labels: np.ndarray, predicted: np.ndarray, groups: np.ndarray) -> dict[str, Any]:
    """Per-class precision/recall/F1, accuracy and confusion of out-of-fold predictions."""
    p, r, f, s = precision_recall_fscore_support(
        labels, predicted, labels=list(LABELS), zero_division=0
    )
    return {
        "per_class": {
            lab: {
                "precision": round(float(p[i]), 4),
                "recall": round(float(r[i]), 4),
                "f1": round(float(f[i]), 4),
                "support": int(s[i]),
            }
            for i, lab in enumerate(LABELS)
        },
        "accuracy": round(float(np.mean(predicted == labels)), 4),
        "confusion": confusion_matrix(labels, predicted, labels=list(LABELS)).tolist(),
        "grouped_by": "layout",
        "folds": len(grouped_splits(groups)),
    }


def train(
    root: Path = TRAINING_DIR, out: Path = BLOCK_MODEL, *, evaluate: bool = True
) -> dict[str, Any]:
    """Train the block model from ``root``; write model and card; return the card."""
    single_threaded()
    pages, errors = load_pages(root)
    if errors:
        raise DataError("training data has errors:\n" + "\n".join(errors))
    blocks, labels, groups = flatten(pages)
    if len(set(groups)) < 2:
        raise DataError(f"{root}: grouped cross-validation needs pages from at least 2 layouts")
    missing = set(LABELS) - set(labels)
    if missing:
        raise DataError(f"{root}: no block labelled {', '.join(sorted(missing))}")
    logger.info(
        "training on %d blocks from %d pages, %d layouts", len(blocks), len(pages), len(set(groups))
    )
    metrics = cross_validate(blocks, labels, groups) if evaluate else {}
    model = build_pipeline(cv=grouped_splits(groups, 3))
    model.fit(blocks, labels)
    config = read_config()
    card = {
        "labels": list(LABELS),
        "threshold": config.get("threshold", 0.5),
        "threshold_note": config.get("threshold_note", ""),
        "switch_cost": config.get("switch_cost", 0.0),
        "training_data_sha256": data_hash(root),
        "n_pages": len(pages),
        "n_blocks": len(blocks),
        "layouts": sorted(set(groups)),
        "label_counts": {lab: int(np.sum(labels == lab)) for lab in LABELS},
        "feature_names": list(model.named_steps["features"].get_feature_names_out()),
        "cv_metrics": metrics,
    }
    return save_model(model, out, card)

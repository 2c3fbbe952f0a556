"""Training both models from ``training_data/``: loading, validation, grouped CV, cards.

Pages live in ``training_data/pages/<layout>/<slug>.html`` with ``data-label``
attributes, hand-written dumps in ``training_data/dumps/<layout>/*.txt``
(formats in training_data/README.md).  The block model trains on the pages'
blocks; the line model on the same pages flattened (labels carried over)
plus the dumps.  Cross-validation is grouped by layout for both: every score
is on layouts the model did not train on, and calibration inside each fit
is grouped the same way (:func:`~classifier.model.fit_grouped`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline

from .clean import DEFAULT_THRESHOLD as LINE_THRESHOLD
from .clean import THRESHOLD_NOTE as LINE_THRESHOLD_NOTE
from .lines import Dump, Line, check_dumps, dump_files, dump_from_pairs, flatten_page
from .metrics import fulltext_page, fulltext_summary
from .model import (
    BLOCK_MODEL,
    CALIBRATION_FOLDS,
    LINE_MODEL,
    build_block_pipeline,
    build_line_pipeline,
    fit_grouped,
    save_model,
    single_threaded,
)
from .segment import LABELS, Block, Page, SegmentationError, segment

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TRAINING_DIR = PROJECT_ROOT / "training_data"
CONFIG = "config.json"  # the decision rule chosen for the data: <root>/config.json
CV_FOLDS = 5
Builder = Callable[..., Pipeline]


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


def _files_hash(root: Path, files: list[Path]) -> str:
    """SHA-256 over files (and the config) by path relative to ``root``, and bytes."""
    digest = hashlib.sha256()
    config = root / CONFIG
    for path in files + ([config] if config.exists() else []):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def data_hash(root: Path = TRAINING_DIR) -> str:
    """SHA-256 over the training pages and the config, by relative path and bytes."""
    return _files_hash(root, page_files(root))


def read_config(root: Path = TRAINING_DIR) -> dict[str, Any]:
    """The data's ``config.json`` (threshold, switch cost), or {} without one."""
    path = root / CONFIG
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return {}


def flatten(pages: list[LabelledPage]) -> tuple[list[Block], np.ndarray, np.ndarray]:
    """Blocks, labels and layout groups of a list of labelled pages."""
    blocks = [b for lp in pages for b in lp.page.blocks]
    labels = np.array([b.label for b in blocks])
    groups = np.array([lp.layout for lp in pages for _ in lp.page.blocks])
    return blocks, labels, groups


def load_line_data(root: Path) -> tuple[list[Dump], list[str], list[str]]:
    """Flattened training pages and hand-written dumps: dumps, layouts, errors."""
    pages, errors = load_pages(root)
    docs = [dump_from_pairs(flatten_page(lp.page), str(lp.path)) for lp in pages]
    layouts = [lp.layout for lp in pages]
    written, dump_errors = check_dumps(root)
    for layout, dump in written:
        docs.append(dump)
        layouts.append(layout)
    return docs, layouts, errors + dump_errors


def line_data_hash(root: Path) -> str:
    """SHA-256 over the pages, the dumps and the config, by relative path and bytes."""
    return _files_hash(root, page_files(root) + dump_files(root))


def line_arrays(
    docs: list[Dump], layouts: list[str]
) -> tuple[list[Line], np.ndarray, np.ndarray, np.ndarray]:
    """Lines, labels, layout groups and dump index of every line."""
    lines = [ln for d in docs for ln in d.lines]
    labels = np.array([ln.label for ln in lines], dtype=object)
    groups = np.array([lay for d, lay in zip(docs, layouts, strict=True) for _ in d.lines])
    doc_ids = np.array([k for k, d in enumerate(docs) for _ in d.lines])
    return lines, labels, groups, doc_ids


def grouped_splits(
    groups: np.ndarray, n_splits: int = CV_FOLDS
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Deterministic GroupKFold splits (no shuffling: same data, same folds)."""
    n = min(n_splits, len(set(groups)))
    return list(GroupKFold(n_splits=n).split(np.zeros(len(groups)), groups=groups))


def fit(build: Builder, units: Sequence[Any], labels: np.ndarray, groups: np.ndarray) -> Pipeline:
    """A fresh pipeline fitted with layout-grouped calibration."""
    folds = min(CALIBRATION_FOLDS, len(set(groups)))
    return fit_grouped(build(calibration_folds=folds), units, labels, groups)


def out_of_fold(
    build: Builder, units: Sequence[Any], labels: np.ndarray, groups: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold predicted labels and P(article), grouped by layout."""
    predicted = np.empty(len(labels), dtype=object)
    p_article = np.zeros(len(labels))
    for train_idx, test_idx in grouped_splits(groups):
        model = fit(build, [units[i] for i in train_idx], labels[train_idx], groups[train_idx])
        proba = model.predict_proba([units[i] for i in test_idx])
        classes = np.asarray(model.classes_, dtype=object)
        predicted[test_idx] = classes[proba.argmax(axis=1)]
        p_article[test_idx] = proba[:, list(classes).index("article")]
    return predicted, p_article


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


def _check_labels(root: Path, labels: np.ndarray, groups: np.ndarray, unit: str) -> None:
    if len(set(groups)) < 2:
        raise DataError(f"{root}: grouped cross-validation needs pages from at least 2 layouts")
    missing = set(LABELS) - set(labels)
    if missing:
        raise DataError(f"{root}: no {unit} labelled {', '.join(sorted(missing))}")


def _card(kind: str, model: Pipeline, labels: np.ndarray, groups: np.ndarray) -> dict[str, Any]:
    """The card fields both models share."""
    return {
        "kind": kind,
        "labels": list(LABELS),
        "layouts": sorted(set(groups)),
        "label_counts": {lab: int(np.sum(labels == lab)) for lab in LABELS},
        "feature_names": list(model.named_steps["features"].get_feature_names_out()),
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
    _check_labels(root, labels, groups, "block")
    logger.info(
        "training on %d blocks from %d pages, %d layouts", len(blocks), len(pages), len(set(groups))
    )
    metrics = {}
    if evaluate:
        predicted, _ = out_of_fold(build_block_pipeline, blocks, labels, groups)
        metrics = cv_report(labels, predicted, groups)
    model = fit(build_block_pipeline, blocks, labels, groups)
    config = read_config(root)
    card = {
        **_card("block", model, labels, groups),
        "threshold": config.get("threshold", 0.5),
        "threshold_note": config.get("threshold_note", ""),
        "switch_cost": config.get("switch_cost", 0.0),
        "training_data_sha256": data_hash(root),
        "n_pages": len(pages),
        "n_blocks": len(blocks),
        "cv_metrics": metrics,
    }
    return save_model(model, out, card)


def train_lines(
    root: Path = TRAINING_DIR, out: Path = LINE_MODEL, *, evaluate: bool = True
) -> dict[str, Any]:
    """Train the line model from ``root``; write model and card; return the card."""
    single_threaded()
    docs, layouts, errors = load_line_data(root)
    if errors:
        raise DataError("training data has errors:\n" + "\n".join(errors))
    lines, labels, groups, doc_ids = line_arrays(docs, layouts)
    _check_labels(root, labels, groups, "line")
    logger.info(
        "training the line model on %d lines from %d dumps, %d layouts",
        len(lines),
        len(docs),
        len(set(layouts)),
    )
    metrics: dict[str, Any] = {}
    if evaluate:
        predicted, _ = out_of_fold(build_line_pipeline, lines, labels, groups)
        metrics = cv_report(labels, predicted, groups)
        scores = []
        for k in range(len(docs)):
            rows = np.flatnonzero(doc_ids == k)
            truth = "\n\n".join(lines[i].text for i in rows if labels[i] == "article")
            kept = "\n\n".join(lines[i].text for i in rows if predicted[i] == "article")
            scores.append(fulltext_page(kept, truth))
        metrics["fulltext_f1"] = round(fulltext_summary(scores)["f1"], 4)
    model = fit(build_line_pipeline, lines, labels, groups)
    n_written = len(dump_files(root))
    card = {
        **_card("line", model, labels, groups),
        "threshold": LINE_THRESHOLD,
        "threshold_note": LINE_THRESHOLD_NOTE,
        "training_data_sha256": line_data_hash(root),
        "n_dumps": len(docs),
        "n_flattened_pages": len(docs) - n_written,
        "n_written_dumps": n_written,
        "n_lines": len(lines),
        "cv_metrics": metrics,
    }
    return save_model(model, out, card)

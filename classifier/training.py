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

from .clean import DEFAULT_SWITCH_COST as LINE_SWITCH_COST
from .clean import DEFAULT_THRESHOLD as LINE_THRESHOLD
from .clean import SITE_INPUT_THRESHOLD
from .clean import THRESHOLD_NOTE as LINE_THRESHOLD_NOTE
from .decision import decide
from .line_features import dump_matrix, prose_column
from .lines import Dump, Line, check_dumps, dump_files, dump_from_pairs, flatten_page
from .metrics import fulltext_page, fulltext_summary
from .model import (
    BLOCK_MODEL,
    CALIBRATION_FOLDS,
    LINE_MODEL,
    SITE_WEIGHT,
    build_block_pipeline,
    build_line_pipeline,
    build_line_site_pipeline,
    build_site_pipeline,
    fit_grouped,
    save_model,
    single_threaded,
)
from .profile import (
    MIN_PAGES,
    SITE_FEATURES,
    SITE_LABELS,
    SITE_THRESHOLD,
    PageKeys,
    SiteProfile,
    site_matrix,
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


PAGES = "pages"  # labelled pages: the block and line models (and the site stages)
SITES = "sites"  # labelled multi-page sites: the site stages only


def page_files(root: Path = TRAINING_DIR, folder: str = PAGES) -> list[Path]:
    return sorted((root / folder).glob("*/*.html"))


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
    root: Path = TRAINING_DIR, *, strict: bool = True, folder: str = PAGES
) -> tuple[list[LabelledPage], list[str]]:
    """Read and segment every training page of ``folder`` (``pages`` or
    ``sites``, which may be missing); return pages and errors."""
    pages, errors = [], []
    files = page_files(root, folder)
    if not files and folder == PAGES:
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


def site_data_hash(root: Path = TRAINING_DIR) -> str:
    """SHA-256 over everything the site stages learn from: pages, sites, dumps, config."""
    return _files_hash(root, page_files(root) + page_files(root, SITES) + dump_files(root))


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


def in_labels_order(model: Pipeline, units: Sequence[Any]) -> np.ndarray:
    """A fitted model's probabilities of ``units``, columns in LABELS order."""
    if not len(units):
        return np.zeros((0, len(LABELS)))
    proba = model.predict_proba(units)
    classes = [str(c) for c in model.classes_]
    return proba[:, [classes.index(lab) for lab in LABELS]]


def fit(
    build: Builder,
    units: Sequence[Any] | np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    weights: np.ndarray | None = None,
) -> Pipeline:
    """A fresh pipeline fitted with layout-grouped calibration (``weights``:
    one a unit, or None for all equal)."""
    folds = min(CALIBRATION_FOLDS, len(set(groups)))
    return fit_grouped(build(calibration_folds=folds), units, labels, groups, weights)


def out_of_fold(
    build: Builder,
    units: Sequence[Any] | np.ndarray,
    labels: np.ndarray,
    groups: np.ndarray,
    names: Sequence[str] = LABELS,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold predicted labels and probabilities (columns in ``names``
    order, :data:`~classifier.segment.LABELS` by default), grouped by layout."""
    predicted = np.empty(len(labels), dtype=object)
    out = np.zeros((len(labels), len(names)))
    for train_idx, test_idx in grouped_splits(groups):
        model = fit(
            build,
            [units[i] for i in train_idx],
            labels[train_idx],
            groups[train_idx],
            None if weights is None else weights[train_idx],
        )
        proba = model.predict_proba([units[i] for i in test_idx])
        classes = [str(c) for c in model.classes_]
        for k, lab in enumerate(names):
            if lab in classes:
                out[test_idx, k] = proba[:, classes.index(lab)]
    predicted[:] = np.asarray(names, dtype=object)[out.argmax(axis=1)]
    return predicted, out


def cv_report(
    labels: np.ndarray, predicted: np.ndarray, groups: np.ndarray, names: Sequence[str] = LABELS
) -> dict[str, Any]:
    """Per-class precision/recall/F1, accuracy and confusion of out-of-fold predictions."""
    p, r, f, s = precision_recall_fscore_support(
        labels, predicted, labels=list(names), zero_division=0
    )
    return {
        "per_class": {
            lab: {
                "precision": round(float(p[i]), 4),
                "recall": round(float(r[i]), 4),
                "f1": round(float(f[i]), 4),
                "support": int(s[i]),
            }
            for i, lab in enumerate(names)
        },
        "accuracy": round(float(np.mean(predicted == labels)), 4),
        "confusion": confusion_matrix(labels, predicted, labels=list(names)).tolist(),
        "grouped_by": "layout",
        "folds": len(grouped_splits(groups)),
    }


def _check_labels(root: Path, labels: np.ndarray, groups: np.ndarray, unit: str) -> None:
    if len(set(groups)) < 2:
        raise DataError(f"{root}: grouped cross-validation needs pages from at least 2 layouts")
    missing = set(LABELS) - set(labels)
    if missing:
        raise DataError(f"{root}: no {unit} labelled {', '.join(sorted(missing))}")


def _card(
    kind: str,
    model: Pipeline,
    labels: np.ndarray,
    groups: np.ndarray,
    names: Sequence[str] = LABELS,
) -> dict[str, Any]:
    """The card fields every model shares."""
    return {
        "kind": kind,
        "labels": list(names),
        "layouts": sorted(set(groups)),
        "label_counts": {lab: int(np.sum(labels == lab)) for lab in names},
        "feature_names": list(model.named_steps["features"].get_feature_names_out()),
    }


def train(
    root: Path = TRAINING_DIR,
    out: Path = BLOCK_MODEL,
    *,
    evaluate: bool = True,
    site_out: Path | None = None,
    site: str | None = None,
    site_weight: float = SITE_WEIGHT,
) -> dict[str, Any]:
    """Train the block model from ``root``; write model and card; return the card.

    With ``site_out``, also its site stage (:func:`train_site`), written
    there; it needs the block model's out-of-fold probabilities, so those are
    computed even when ``evaluate`` is off.

    With ``site`` (a layout folder of ``pages/`` or ``sites/``), a per-site
    model: that folder's blocks weigh ``site_weight`` times the others (a
    ``sites/`` folder joins the block model's pages for it), and the card
    says so.
    """
    single_threaded()
    pages, errors = load_pages(root)
    # sites/ feeds the site stage, and a per-site model of one of its folders
    needs_sites = site is not None or site_out is not None
    sites, site_errors = load_pages(root, folder=SITES) if needs_sites else ([], [])
    if errors or site_errors:
        raise DataError("training data has errors:\n" + "\n".join(errors + site_errors))
    weights = None
    if site is not None:
        pages = pages + [lp for lp in sites if lp.layout == site]
        sites = [lp for lp in sites if lp.layout != site]
        weights = site_weights(root, pages, site, site_weight)
    blocks, labels, groups = flatten(pages)
    _check_labels(root, labels, groups, "block")
    logger.info(
        "training on %d blocks from %d pages, %d layouts", len(blocks), len(pages), len(set(groups))
    )
    metrics = {}
    oof = None
    if evaluate or site_out is not None:
        predicted, oof = out_of_fold(build_block_pipeline, blocks, labels, groups, weights=weights)
        if evaluate:
            metrics = cv_report(labels, predicted, groups)
    model = fit(build_block_pipeline, blocks, labels, groups, weights)
    config = read_config(root)
    card = {
        **_card("block", model, labels, groups),
        "threshold": config.get("threshold", 0.5),
        "threshold_note": config.get("threshold_note", ""),
        "switch_cost": config.get("switch_cost", 0.0),
        "training_data_sha256": data_hash(root) if site is None else site_data_hash(root),
        "n_pages": len(pages),
        "n_blocks": len(blocks),
        "cv_metrics": metrics,
    }
    if site is not None:
        card["site"] = {
            "name": site,
            "weight": site_weight,
            "pages": sum(lp.layout == site for lp in pages),
        }
    card = save_model(model, out, card)
    if site_out is not None and oof is not None:
        # the sites' pages were never trained on: the model's own probabilities
        # for them are out of sample, like the out-of-fold ones of the pages
        every = pages + sites
        proba = np.vstack([oof] + [in_labels_order(model, lp.page.blocks) for lp in sites])
        keys = [PageKeys.of(lp.page) for lp in every]
        card["site_model"] = train_site(
            keys,
            [lp.page.blocks for lp in every],
            [lp.layout for lp in every],
            proba,
            block_rule(card, keys),
            site_out,
            {**card, "training_data_sha256": site_data_hash(root)},
            evaluate=evaluate,
        )
    return card


def site_weights(root: Path, pages: list[LabelledPage], site: str, weight: float) -> np.ndarray:
    """One weight a block of ``pages``: ``weight`` for the blocks of the layout
    folder ``site``, 1 for the others; a site with no pages is a DataError
    that lists the folders there are."""
    if weight <= 0:
        raise DataError(f"site weight must be positive, not {weight}")
    if not any(lp.layout == site for lp in pages):
        folders = sorted({p.parent.name for p in page_files(root) + page_files(root, SITES)})
        raise DataError(
            f"{root}: no labelled pages of site {site!r} in {PAGES}/ or {SITES}/ "
            f"(folders: {', '.join(folders) or 'none'})"
        )
    return np.array([weight if lp.layout == site else 1.0 for lp in pages for _ in lp.page.blocks])


# layouts with fewer pages than this give no site-stage training rows (a
# profile of one other page says little)
SITE_MIN_LAYOUT_PAGES = 3
# folders of at least twice this many documents are also sampled in halves
SITE_SUBSET_MIN = 4


FirstRule = Callable[[int, np.ndarray], np.ndarray]  # (document, proba) -> kept


def site_rows(
    keys: list[PageKeys],
    units: list[list[Any]],
    layouts: list[str],
    proba: np.ndarray,
    rule: FirstRule,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Site-stage features of every unit (block or line) of every document
    whose layout has at least :data:`SITE_MIN_LAYOUT_PAGES` documents, each
    document's profile built from its layout's documents (leave-one-out:
    :func:`classifier.profile.site_matrix` takes the document's own part out).

    ``keys`` and ``units`` (objects with ``label``) per document, ``proba``
    the first stage's out-of-fold probabilities of all units in order,
    ``rule`` the first stage's decision over one document's probabilities.
    Returns X, binary labels (:data:`SITE_LABELS`), layouts, document index
    and instance (a document scored within one profile).
    """
    starts = np.cumsum([0] + [len(u) for u in units])
    by_layout: dict[str, list[int]] = {}
    for k, layout in enumerate(layouts):
        by_layout.setdefault(layout, []).append(k)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    gs: list[np.ndarray] = []
    ks: list[np.ndarray] = []
    inst: list[np.ndarray] = []  # one id a (profile, document) pair
    p_col = list(LABELS).index("article")
    groups: list[tuple[str, list[int]]] = []
    for layout in sorted(by_layout):
        members = by_layout[layout]
        if len(members) < SITE_MIN_LAYOUT_PAGES:
            continue
        groups.append((layout, members))
        if len(members) >= 2 * SITE_SUBSET_MIN:
            # a site's smaller samples too (its even and its odd pages): a box
            # on a few pages of a big site is then seen on one or two others
            groups += [(layout, members[0::2]), (layout, members[1::2])]
    for layout, members in groups:
        site = SiteProfile(layout)
        for k in members:
            site.add(keys[k], proba[starts[k] : starts[k + 1], p_col])
        for k in members:
            part = proba[starts[k] : starts[k + 1]]
            xs.append(site_matrix(site, keys[k], part, LABELS, rule(k, part)))
            ys.append(np.array([SITE_LABELS[u.label != "article"] for u in units[k]], dtype=object))
            gs.append(np.full(len(part), layout, dtype=object))
            ks.append(np.full(len(part), k))
            inst.append(np.full(len(part), len(inst)))
    if not xs:
        empty = np.zeros(0)
        return np.zeros((0, len(SITE_FEATURES))), empty, empty, empty, empty
    return (
        np.vstack(xs),
        np.concatenate(ys),
        np.concatenate(gs),
        np.concatenate(ks),
        np.concatenate(inst),
    )


def block_rule(card: dict[str, Any], keys: list[PageKeys]) -> FirstRule:
    """The block model's decision rule, as its card sets it (each page's
    blocks weighed by their characters, from its ``keys``, as extraction does)."""
    threshold, switch_cost = float(card["threshold"]), float(card.get("switch_cost", 0.0))
    col = list(LABELS).index("article")
    return lambda k, proba: decide(proba[:, col], threshold, switch_cost, sizes=keys[k].chars)


def line_rule(docs: list[Dump]) -> FirstRule:
    """The first decision the line site stage learns from, per dump
    (:data:`classifier.clean.SITE_INPUT_THRESHOLD` and prose hysteresis)."""
    col = list(LABELS).index("article")
    return lambda k, proba: decide(
        proba[:, col], SITE_INPUT_THRESHOLD, prose=prose_column(dump_matrix(docs[k]))
    )


def _story_f1(
    units: list[list[Any]],
    doc_of: np.ndarray,
    instance: np.ndarray,
    labels: np.ndarray,
    p_art: np.ndarray,
    threshold: float,
) -> float:
    """Mean full-text F1 of the units kept at ``threshold`` against the labels."""
    scores = []
    for one in np.unique(instance):
        rows = np.flatnonzero(instance == one)
        texts = [u.text for u in units[int(doc_of[rows[0]])]]
        truth = "\n\n".join(texts[j] for j, i in enumerate(rows) if labels[i] == SITE_LABELS[0])
        kept = "\n\n".join(texts[j] for j, i in enumerate(rows) if p_art[i] >= threshold)
        scores.append(fulltext_page(kept, truth))
    return round(fulltext_summary(scores)["f1"], 4)


def train_site(
    keys: list[PageKeys],
    units: list[list[Any]],
    layouts: list[str],
    proba: np.ndarray,
    rule: FirstRule,
    out: Path,
    first_card: dict[str, Any],
    *,
    evaluate: bool = True,
) -> dict[str, Any]:
    """Train a site stage over the first stage's out-of-fold ``proba``
    (the block model's for pages, the line model's for dumps) and its
    decision ``rule``."""
    X, y, groups, doc_of, instance = site_rows(keys, units, layouts, proba, rule)
    if len(set(groups)) < 2:  # grouped calibration needs two layouts
        logger.info(
            "fewer than 2 layouts have %d documents: no site stage written", SITE_MIN_LAYOUT_PAGES
        )
        return {}
    logger.info("training a site stage on %d units, %d layouts", len(y), len(set(groups)))
    build = build_line_site_pipeline if first_card["kind"] == "line" else build_site_pipeline
    metrics: dict[str, Any] = {}
    if evaluate:
        predicted, site_oof = out_of_fold(build, X, y, groups, SITE_LABELS)
        metrics = cv_report(y, predicted, groups, SITE_LABELS)
        kept = X[:, SITE_FEATURES.index("first_kept")]
        metrics["story_f1_first_stage"] = _story_f1(units, doc_of, instance, y, kept, 0.5)
        metrics["story_f1_site_stage"] = _story_f1(
            units, doc_of, instance, y, site_oof[:, 0], SITE_THRESHOLD
        )
    model = fit(build, X, y, groups)
    card = {
        **_card("site", model, y, groups, SITE_LABELS),
        "unit": first_card["kind"],
        "first_stage_version": first_card["model_version"],
        "training_data_sha256": first_card["training_data_sha256"],
        "min_pages": MIN_PAGES,
        "threshold": SITE_THRESHOLD,
        "n_units": int(len(y)),
        "cv_metrics": metrics,
    }
    return save_model(model, out, card)


def train_lines(
    root: Path = TRAINING_DIR,
    out: Path = LINE_MODEL,
    *,
    evaluate: bool = True,
    site_out: Path | None = None,
) -> dict[str, Any]:
    """Train the line model from ``root``; write model and card; return the card.
    With ``site_out``, also its site stage (as :func:`train` does for blocks)."""
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
    oof = None
    if evaluate or site_out is not None:
        predicted, oof = out_of_fold(build_line_pipeline, lines, labels, groups)
    if evaluate:
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
        "switch_cost": LINE_SWITCH_COST,
        "threshold_note": LINE_THRESHOLD_NOTE,
        "training_data_sha256": line_data_hash(root),
        "n_dumps": len(docs),
        "n_flattened_pages": len(docs) - n_written,
        "n_written_dumps": n_written,
        "n_lines": len(lines),
        "cv_metrics": metrics,
    }
    card = save_model(model, out, card)
    if site_out is not None and oof is not None:
        sites, site_errors = load_pages(root, folder=SITES)
        if site_errors:
            raise DataError("training data has errors:\n" + "\n".join(site_errors))
        flat = [dump_from_pairs(flatten_page(lp.page), str(lp.path)) for lp in sites]
        every = docs + flat
        proba = np.vstack([oof] + [in_labels_order(model, d.lines) for d in flat])
        card["site_model"] = train_site(
            [PageKeys.of_dump(d) for d in every],
            [d.lines for d in every],
            layouts + [lp.layout for lp in sites],
            proba,
            line_rule(every),
            site_out,
            {**card, "training_data_sha256": site_data_hash(root)},
            evaluate=evaluate,
        )
    return card

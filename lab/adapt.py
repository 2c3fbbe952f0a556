"""Measured adaptation: how fast the block model learns a new site (``make adapt-report``).

Each layout folder in turn is the "new site". The block booster is trained
without that folder, plus its first *k* pages (by file name) weighing
:data:`~classifier.model.SITE_WEIGHT` times, for k in :data:`POINTS` (those
below the folder's page count); the folder's other pages are then extracted
and scored. The fit is :func:`~classifier.model.quick_block_fit`, the label
app's refit (one uncalibrated fit, about 20 s on the shipped data): a
calibrated fit would take five times as long for each of some 200 points.
Extraction is the shipped one (:meth:`Extractor.extract_page`: the shipped
decision rule, page-type gate and roles) over the refit's probabilities.

Score: story F1, the word-F1 (:func:`lab.metrics.word_page`) of the blocks
extraction keeps as article against the page's article-labelled blocks,
averaged over the scored pages that have a story; pages without one
(listings) are counted when they yield text.

Folders, each its own group in the report:

- ``pages``: ``training_data/pages/<layout>`` (5 or 6 pages each), trained
  without that layout;
- ``sites``: ``training_data/sites/<site>`` (10 pages), which the block model
  never trains on;
- ``eval``: the team's evaluation sites of site profiles
  (:data:`lab.sites.SITES_DIR`, 12 pages each);
- ``new``: sites written for this report (:data:`NEW_SITES_DIR`, 14 pages
  each) in templates unlike the training layouts (a table-layout portal, a
  site of dated updates, a Bengali portal), which the shipped model partly
  gets wrong.

Only the last two have pages left to score after 10.

Writes ``reports/adapt.md``, ``adapt.png`` (F1 against pages labelled, median
and worst folder of each group) and ``adapt.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from classifier.extract import Extractor
from classifier.features import BlockFeatures
from classifier.model import SITE_WEIGHT, quick_block_fit, single_threaded
from classifier.segment import Page
from classifier.training import PAGES, SITES, TRAINING_DIR, load_pages, page_files

from .evaluate import REPORTS
from .metrics import word_page, word_summary
from .sites import SITES_DIR

logger = logging.getLogger(__name__)

POINTS = (0, 1, 3, 5, 10)  # pages of the new site labelled
GROUPS = ("pages", "sites", "eval", "new")
NEW_SITES_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "adapt"


@dataclass(slots=True)
class AdaptPage:
    name: str
    page: Page  # segmented with its labels (extraction does not read them)
    X: np.ndarray  # block features
    y: np.ndarray  # block labels
    truth: str  # the article-labelled blocks' text
    is_story: bool


@dataclass(slots=True)
class Folder:
    name: str
    group: str  # one of GROUPS
    pages: list[AdaptPage]

    def points(self, wanted: Sequence[int] = POINTS) -> list[int]:
        """The k of ``wanted`` that leave at least one page to score."""
        return [k for k in wanted if k < len(self.pages)]


def read_folders(
    data: Path = TRAINING_DIR,
    eval_sites: Path | None = SITES_DIR,
    new_sites: Path | None = NEW_SITES_DIR,
) -> tuple[list[Folder], list[Folder]]:
    """(the base folders the block model trains on, every folder to hold out).
    Pages are read as ``make train`` reads them (:func:`load_pages`); one that
    fails check-data is left out with a warning."""
    features = BlockFeatures()
    roots: list[tuple[Path, str, str]] = [(data, PAGES, "pages"), (data, SITES, "sites")]
    for extra, group in ((eval_sites, "eval"), (new_sites, "new")):
        if extra is not None and extra.is_dir():
            roots.append((extra.parent, extra.name, group))
    folders: list[Folder] = []
    for root, folder, group in roots:
        read, errors = load_pages(root, folder=folder)
        for error in errors:
            logger.warning("skipped: %s", error)
        by_layout: dict[str, list[AdaptPage]] = {}
        for lp in read:
            page = lp.page
            truth = "\n\n".join(b.text for b in page.blocks if b.label == "article")
            by_layout.setdefault(lp.layout, []).append(
                AdaptPage(
                    lp.path.name,
                    page,
                    features.transform(page.blocks),
                    np.array([b.label for b in page.blocks]),
                    truth,
                    bool(truth),
                )
            )
        folders += [Folder(name, group, pages) for name, pages in sorted(by_layout.items())]
    base = [f for f in folders if f.group == "pages"]
    return base, folders


def _stack(pages: Iterable[AdaptPage], weight: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ps = list(pages)
    X = np.vstack([p.X for p in ps])
    y = np.concatenate([p.y for p in ps])
    return X, y, np.full(len(y), weight)


def score_point(
    base: list[Folder],
    folder: Folder,
    k: int,
    extractor: Extractor,
    weight: float = SITE_WEIGHT,
) -> dict[str, Any]:
    """Fit without ``folder`` plus its first ``k`` pages; score the others."""
    train = [p for f in base if f.name != folder.name or f.group != folder.group for p in f.pages]
    parts = [_stack(train, 1.0)]
    if k:
        parts.append(_stack(folder.pages[:k], weight))
    X = np.vstack([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    w = np.concatenate([p[2] for p in parts])
    started = time.perf_counter()
    booster = quick_block_fit(X, y, w)
    seconds = time.perf_counter() - started
    classes = [str(c) for c in booster.classes_]
    order = [classes.index(lab) for lab in extractor.labels]
    scores, listing_text = [], []
    for ap in folder.pages[k:]:
        proba = booster.predict_proba(ap.X)[:, order]
        ex = extractor.extract_page(ap.page, proba)
        kept = "\n\n".join(b.text for b in ex.blocks if b.label == "article")
        if ap.is_story:
            scores.append(word_page(kept if ex.is_article else "", ap.truth))
        elif ex.text:
            listing_text.append(ap.name)
    summary = word_summary(scores) if scores else {"f1": float("nan")}
    return {
        "k": k,
        "f1": round(float(summary["f1"]), 4),
        "scored": len(folder.pages) - k,
        "story_pages": len(scores),
        "listing_with_text": listing_text,
        "fit_seconds": round(seconds, 2),
    }


# the worker processes' share of the work (set before the pool forks)
_STATE: dict[str, Any] = {}


def _run(task: tuple[int, int]) -> tuple[int, int, dict[str, Any]]:
    single_threaded()
    index, k = task
    folders, base, extractor = _STATE["folders"], _STATE["base"], _STATE["extractor"]
    return index, k, score_point(base, folders[index], k, extractor, _STATE["weight"])


def run(
    folders: list[Folder],
    base: list[Folder],
    *,
    points: Sequence[int] = POINTS,
    jobs: int = 1,
    extractor: Extractor | None = None,
    weight: float = SITE_WEIGHT,
) -> dict[str, Any]:
    """Every folder's learning curve, and each group's median and worst."""
    _STATE.update(folders=folders, base=base, extractor=extractor or Extractor(), weight=weight)
    tasks = [(i, k) for i, f in enumerate(folders) for k in f.points(points)]
    started = time.perf_counter()
    if jobs > 1:
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            done = pool.map(_run, tasks, chunksize=1)
    else:
        done = [_run(t) for t in tasks]
    curves: dict[int, dict[int, dict[str, Any]]] = {}
    for index, k, point in done:
        curves.setdefault(index, {})[k] = point
    rows: list[dict[str, Any]] = [
        {
            "folder": f.name,
            "group": f.group,
            "pages": len(f.pages),
            "points": [curves[i][k] for k in sorted(curves.get(i, {}))],
        }
        for i, f in enumerate(folders)
    ]
    fits = [p["fit_seconds"] for r in rows for p in r["points"]]
    return {
        "points": list(points),
        "weight": weight,
        "folders": rows,
        "groups": summarise(rows, points),
        "fits": len(fits),
        "fit_seconds_mean": round(statistics.fmean(fits), 1) if fits else 0.0,
        "seconds": round(time.perf_counter() - started, 1),
    }


def summarise(rows: list[dict[str, Any]], points: Sequence[int] = POINTS) -> dict[str, Any]:
    """Per group (and ``all`` held-out folders) and k: how many folders
    reach k, their median and worst F1, and the worst folder's gain over k=0
    (the same folders at both ends)."""
    out: dict[str, Any] = {}
    for group in (*GROUPS, "all"):
        mine = [r for r in rows if group in (r["group"], "all")]
        if not mine:
            continue
        per_k = {}
        for k in points:
            at = {
                r["folder"]: p["f1"]
                for r in mine
                for p in r["points"]
                if p["k"] == k and p["f1"] == p["f1"]  # not NaN
            }
            if not at:
                continue
            start = {
                r["folder"]: p["f1"]
                for r in mine
                for p in r["points"]
                if p["k"] == 0 and r["folder"] in at and p["f1"] == p["f1"]
            }
            worst = min(at, key=lambda name: (at[name], name))
            row = {
                "folders": len(at),
                "median": round(statistics.median(at.values()), 4),
                "worst": round(at[worst], 4),
                "worst_folder": worst,
            }
            if start:  # the folder worst with no page labelled, and what k pages gave it
                first = min(start, key=lambda name: (start[name], name))
                row.update(
                    worst_at_0=round(start[first], 4),
                    worst_at_0_folder=first,
                    gain_of_worst_at_0=round(at[first] - start[first], 4),
                    worst_gain=round(at[worst] - min(start.values()), 4),
                )
            per_k[str(k)] = row
        out[group] = per_k
    return out


def format_summary(result: dict[str, Any]) -> str:
    lines = [
        f"{result['fits']} fits, {result['fit_seconds_mean']} s a fit, {result['seconds']} s in all"
    ]
    for group, per_k in result["groups"].items():
        lines.append(f"{group}:")
        for k, s in per_k.items():
            lines.append(
                f"  {k:>2} pages: {s['folders']:>2} folders, median {s['median']:.3f}, "
                f"worst {s['worst']:.3f} ({s['worst_folder']}); the worst at 0 pages, "
                f"{s.get('worst_at_0_folder')}, gains {s.get('gain_of_worst_at_0')}"
            )
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    from .reports import write_adapt_report

    data = Path(args.data) if args.data else TRAINING_DIR
    if args.no_eval_sites:
        base, folders = read_folders(data, None, None)
    else:
        base, folders = read_folders(data)
    if not base:
        print(f"{data / PAGES}: no labelled pages; nothing to adapt from", file=sys.stderr)
        return 1
    if args.groups:
        folders = [f for f in folders if f.group in args.groups.split(",")]
    if args.limit:  # the first N folders of each group (development)
        folders = [f for g in GROUPS for f in [f for f in folders if f.group == g][: args.limit]]
    points = tuple(int(k) for k in args.points.split(","))
    result = run(folders, base, points=points, jobs=args.jobs)
    result["page_files"] = len(page_files(data))
    print(format_summary(result))
    out = Path(args.output) if args.output else REPORTS
    out.mkdir(parents=True, exist_ok=True)
    (out / "adapt.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    written = write_adapt_report(result, out)
    print("wrote " + ", ".join(str(p) for p in [out / "adapt.json", *written]))
    return 0

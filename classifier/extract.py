"""Extraction: a page in, its title, article text and labelled blocks out.

:func:`extract` is the one-call API; :class:`Extractor` holds a loaded model
for many pages; :meth:`Extractor.extract_page` takes an already segmented
:class:`~classifier.segment.Page` (the lower layer, for callers that parse
once and do more with the tree).
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .features import tokens
from .model import BLOCK_MODEL, load_model
from .segment import Page, clean_title, segment

# A block is kept as article when P(article) >= threshold.  The default is
# the one recorded in the model card (chosen on real dev pages, see README).
DEFAULT_THRESHOLD = 0.5
# When nothing passes the threshold, the best contiguous region is kept if its
# best block reaches this share of the threshold (listing pages stay empty).
FALLBACK_SHARE = 0.5
TITLE_MIN_SIMILARITY = 0.5  # a heading block is the title when this similar
# Cost, in log-odds, of entering or leaving the article between two blocks:
# an uncertain block between two kept ones joins them, an uncertain block far
# from the story stays out.  0 turns smoothing off (the bare threshold rule).
DEFAULT_SWITCH_COST = 0.0
_P_CLIP = 1e-3  # calibrated probabilities of exactly 0 or 1 would be infinite evidence


@dataclass(slots=True)
class LabelledBlock:
    text: str
    label: str
    probability: float  # probability of `label`
    path: str
    p_article: float
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, anchor text)


@dataclass(slots=True)
class Extraction:
    """What extraction returns for one page."""

    title: str
    text: str
    blocks: list[LabelledBlock] = field(default_factory=list)
    url: str | None = None
    language: str = ""
    model_version: str = ""
    # characters of the longest unbroken run of article blocks: a story is one
    # coherent region, a listing's kept blocks are scattered fragments
    main_run_chars: int = 0

    @property
    def is_article(self) -> bool:
        return bool(self.text)

    def to_dict(self, with_blocks: bool = True) -> dict[str, Any]:
        out = asdict(self)
        if not with_blocks:
            out.pop("blocks")
        return out


def smooth(p: np.ndarray, threshold: float, switch_cost: float) -> np.ndarray:
    """Keep/drop decisions for a page's blocks as one coherent sequence (Viterbi).

    Two states, in and out of the article.  A block's evidence for "in" is
    its log-odds of P(article) against the threshold's, so with no switch
    cost this is exactly ``p >= threshold``; every change of state costs
    ``switch_cost``, including entering the story after the page's start and
    leaving it before its end.
    """
    keep = p >= threshold
    if switch_cost <= 0 or len(p) < 3:
        return keep
    q = np.clip(p, _P_CLIP, 1 - _P_CLIP)
    t = min(max(threshold, _P_CLIP), 1 - _P_CLIP)
    gain = np.log(q / (1 - q)) - np.log(t / (1 - t))  # > 0 favours "in"
    n = len(p)
    # the page starts and ends outside the story: entering and leaving it
    # cost the same at the page's edges as anywhere else
    score_out, score_in = 0.0, float(gain[0]) - switch_cost
    back = np.zeros((n, 2), dtype=bool)  # came from the other state?
    for i in range(1, n):
        stay_out, enter_out = score_out, score_in - switch_cost
        stay_in, enter_in = score_in, score_out - switch_cost
        back[i, 0] = enter_out > stay_out
        back[i, 1] = enter_in > stay_in
        score_out = max(stay_out, enter_out)
        score_in = max(stay_in, enter_in) + float(gain[i])
    state = score_in - switch_cost > score_out
    out = np.empty(n, dtype=bool)
    for i in range(n - 1, -1, -1):
        out[i] = state
        if back[i, int(state)]:
            state = not state
    return out


def _best_region(p: np.ndarray, threshold: float) -> slice | None:
    """The contiguous run of blocks with the largest summed (p - threshold/2)."""
    if len(p) == 0 or p.max() < threshold * FALLBACK_SHARE:
        return None
    gain = p - threshold * FALLBACK_SHARE
    best, best_span, run, start = -np.inf, (0, 1), 0.0, 0
    for i, g in enumerate(gain):
        if run <= 0:
            run, start = g, i
        else:
            run += g
        if run > best:
            best, best_span = run, (start, i + 1)
    return slice(*best_span)


def _title(page: Page, keep: np.ndarray) -> tuple[str, int]:
    """The headline and the index of the block that holds it (-1 if none).

    The heading block (h1-h3, or one of the first kept blocks) that covers
    most of the declared headline's words wins; without one, the declared
    headline with its site name removed.
    """
    declared = clean_title(page.headline)
    want = set(tokens(declared))
    best, best_sim = -1, 0.0
    for b in page.blocks:
        if b.tag not in ("h1", "h2", "h3") and not (keep[b.index] and b.index < 3):
            continue
        have = set(tokens(b.text))
        if not have or not want or len(have) > 3 * len(want) + 5:
            continue
        sim = len(have & want) / len(want)
        if sim > best_sim or (
            sim == best_sim and b.tag == "h1" and best >= 0 and page.blocks[best].tag != "h1"
        ):
            best, best_sim = b.index, sim
    if best >= 0 and best_sim >= TITLE_MIN_SIMILARITY:
        return page.blocks[best].text, best
    return declared, -1


class Extractor:
    """A loaded block model and the decision rule around it."""

    def __init__(
        self,
        model_path: Path | str = BLOCK_MODEL,
        *,
        threshold: float | None = None,
        switch_cost: float | None = None,
    ):
        self.model, self.card = load_model(Path(model_path))
        self.labels = [str(c) for c in self.model.classes_]
        self.threshold = float(
            threshold if threshold is not None else self.card.get("threshold", DEFAULT_THRESHOLD)
        )
        self.switch_cost = float(
            switch_cost
            if switch_cost is not None
            else self.card.get("switch_cost", DEFAULT_SWITCH_COST)
        )
        self.model_version = str(self.card.get("model_version", ""))

    def probabilities(self, page: Page) -> np.ndarray:
        """P(label) for every block, columns in ``self.labels`` order."""
        if not page.blocks:
            return np.zeros((0, len(self.labels)))
        return self.model.predict_proba(page.blocks)

    def extract(
        self, html: bytes | str, *, url: str | None = None, content_type: str | None = None
    ) -> Extraction:
        """Extract one page given as bytes (any encoding) or text."""
        return self.extract_page(segment(html, url=url, content_type=content_type))

    def extract_page(self, page: Page, proba: np.ndarray | None = None) -> Extraction:
        """Classify a segmented page (``proba``: its probabilities, if already known)."""
        if proba is None:
            proba = self.probabilities(page)
        art = self.labels.index("article")
        p_art = proba[:, art] if len(proba) else np.zeros(0)
        keep = smooth(p_art, self.threshold, self.switch_cost)
        if not keep.any():
            region = _best_region(p_art, self.threshold)
            if region is not None:
                keep[region] = True
        title, title_idx = _title(page, keep)
        run = longest = 0
        for b in page.blocks:
            run = run + len(b.text) if keep[b.index] else 0
            longest = max(longest, run)
        noise = [i for i in range(len(self.labels)) if i != art]
        blocks, texts = [], []
        for b in page.blocks:
            row = proba[b.index]
            if keep[b.index]:
                label, prob = "article", float(row[art])
                if b.index != title_idx and b.text != title:
                    texts.append(b.text)
            else:
                j = max(noise, key=lambda k: row[k])
                label, prob = self.labels[j], float(row[j])
            blocks.append(
                LabelledBlock(
                    b.text, label, round(prob, 4), b.path, round(float(row[art]), 4), b.links
                )
            )
        return Extraction(
            title=title,
            text="\n\n".join(texts),
            blocks=blocks,
            url=page.url,
            language=page.lang,
            model_version=self.model_version,
            main_run_chars=longest,
        )


_DEFAULT: Extractor | None = None


def default_extractor() -> Extractor:
    """The shipped model, loaded once a process."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Extractor()
    return _DEFAULT


def extract(
    html: bytes | str,
    *,
    url: str | None = None,
    content_type: str | None = None,
    threshold: float | None = None,
) -> Extraction:
    """Extract the title, article text and labelled blocks of one page."""
    ext = default_extractor()
    if threshold is not None and threshold != ext.threshold:
        ext = copy.copy(ext)  # shares the loaded model, not the knob
        ext.threshold = threshold
    return ext.extract(html, url=url, content_type=content_type)

"""The decision rule shared by the block and the line model.

A model gives every unit of a document (a page's blocks, a dump's lines)
P(label).  The rule turns the article column into keep/drop decisions and
every unit into one label:

- :func:`smooth`: ``p >= threshold``, optionally smoothed along the document
  by a two-state Viterbi pass (in the story, out of it) where each change of
  state costs ``switch_cost`` log-odds, and a unit's evidence grows with its
  size (:func:`size_weights`);
- :func:`best_region`: when nothing is kept, the contiguous run with the
  largest summed ``p - threshold * FALLBACK_SHARE`` (listing pages, whose
  best unit stays under that share, keep nothing);
- :func:`extend_to_prose`: hysteresis, a prose unit touching the kept story
  is kept at ``threshold * FALLBACK_SHARE`` (jusText's context pass in spirit);
- :func:`choose_labels`: kept units are ``article``; the others take the more
  probable of the noise labels;
- :func:`article_share` and :func:`is_story`: the page-type gate.  A listing,
  home, section or tag page is mostly teasers and chrome, so the share of its
  text the model finds article-like is small, whatever fragments the rule
  kept; such a page yields no article text.

Everything here is plain numpy on one document's probabilities: no model, no
page, so each function is tested on its own (tests/test_decision.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

ARTICLE = "article"
# When nothing passes the threshold, the best contiguous region is kept if its
# best unit reaches this share of the threshold (listing pages stay empty).
FALLBACK_SHARE = 0.5
# Calibrated probabilities of exactly 0 or 1 would be infinite evidence.
P_CLIP = 1e-3
# The page-type gate: a page is a story only when at least this share of its
# text (the mean P(article) of its units, weighted by their characters) is
# article-like.  Chosen on the corpora's dev halves (README, "The page-type
# gate"): at 0.05 no dev article page with F1 >= 0.5 and no snippet found is
# lost; at 0.07 real articles start to go.
STORY_MIN_ARTICLE_SHARE = 0.05
# A unit's evidence in the smoothing pass is its log-odds times
# (chars / SIZE_UNIT_CHARS) ** SIZE_EXPONENT, at least 1: a block of a whole
# story's text (paragraphs run together with <br>) between a share bar and a
# "Related" box outweighs the cost of entering and leaving the story, where a
# one-line unit does not.  Chosen on the corpora's dev halves (README, "The
# decision rule"); units up to SIZE_UNIT_CHARS weigh 1, as before.
SIZE_UNIT_CHARS = 500.0
SIZE_EXPONENT = 0.75


def size_weights(sizes: np.ndarray | None) -> np.ndarray | None:
    """Each unit's weight in :func:`smooth` from its size in characters (None: all 1)."""
    if sizes is None:
        return None
    return np.maximum(1.0, np.asarray(sizes, dtype=float) / SIZE_UNIT_CHARS) ** SIZE_EXPONENT


def smooth(
    p: np.ndarray, threshold: float, switch_cost: float, sizes: np.ndarray | None = None
) -> np.ndarray:
    """Keep/drop decisions for a document's units as one coherent sequence (Viterbi).

    Two states, in and out of the article.  A unit's evidence for "in" is its
    log-odds of P(article) against the threshold's (times its
    :func:`size_weights`, given its ``sizes``), so with no switch cost this
    is exactly ``p >= threshold``; every change of state costs
    ``switch_cost``, including entering the story after the document's start
    and leaving it before its end.
    """
    keep = p >= threshold
    if switch_cost <= 0 or len(p) < 3:
        return keep
    q = np.clip(p, P_CLIP, 1 - P_CLIP)
    t = min(max(threshold, P_CLIP), 1 - P_CLIP)
    gain = np.log(q / (1 - q)) - np.log(t / (1 - t))  # > 0 favours "in"
    weights = size_weights(sizes)
    if weights is not None:
        gain = gain * weights
    n = len(p)
    # the document starts and ends outside the story: entering and leaving it
    # cost the same at its edges as anywhere else
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


def max_region(gain: np.ndarray) -> tuple[int, int]:
    """The contiguous run ``[start, end)`` with the largest summed ``gain``.

    Kadane's algorithm on prefix sums, vectorised: the first best end, and
    for it the latest start (a zero-sum prefix is left out).
    """
    c = np.concatenate(([0.0], np.cumsum(gain)))
    low = np.minimum.accumulate(c[:-1])
    last = int(np.argmax(c[1:] - low))  # inclusive end of the best run
    prefix = c[: last + 1]
    start = last - int(np.argmin(prefix[::-1]))  # the latest minimum
    return start, last + 1


def best_region(p: np.ndarray, threshold: float) -> slice | None:
    """The fallback region when nothing is kept, or None (nothing likely enough)."""
    if len(p) == 0 or p.max() < threshold * FALLBACK_SHARE:
        return None
    return slice(*max_region(p - threshold * FALLBACK_SHARE))


def extend_to_prose(
    keep: np.ndarray, p: np.ndarray, prose: np.ndarray, threshold: float
) -> np.ndarray:
    """Hysteresis: a prose unit next to a kept unit is kept at ``threshold * FALLBACK_SHARE``.

    A story's first or last paragraph, beside a list heading, is less certain
    than the ones around it, but a full sentence touching the story belongs
    to it (Pomikálek 2011).  Grows run by run until nothing changes.
    """
    weak = prose & (p >= threshold * FALLBACK_SHARE) & ~keep
    keep = keep.copy()
    while True:
        near = np.zeros_like(keep)
        near[1:] |= keep[:-1]
        near[:-1] |= keep[1:]
        grow = weak & near & ~keep
        if not grow.any():
            return keep
        keep |= grow


def extend_head(
    keep: np.ndarray, p: np.ndarray, floor: float, skip: np.ndarray | None = None
) -> np.ndarray:
    """A story's head (headline, standfirst, byline and date lines) stands
    right above its first kept unit: the units directly above it whose P
    reaches ``floor`` are kept too, up to the first that does not.  Units
    marked in ``skip`` (a site's template: a share bar between the byline
    and the story) are looked past, and not kept."""
    kept = np.flatnonzero(keep)
    if not len(kept):
        return keep
    keep = keep.copy()
    for i in range(kept[0] - 1, -1, -1):
        if skip is not None and skip[i]:
            continue
        if p[i] < floor:
            break
        keep[i] = True
    return keep


def decide(
    p: np.ndarray,
    threshold: float,
    switch_cost: float = 0.0,
    *,
    prose: np.ndarray | None = None,
    sizes: np.ndarray | None = None,
    fallback: bool = True,
) -> np.ndarray:
    """The whole rule: smooth (``sizes``: the units' characters, see
    :func:`size_weights`), fall back to the best region (unless not
    ``fallback``), then (with ``prose``) hysteresis."""
    keep = smooth(p, threshold, switch_cost, sizes)
    if fallback and not keep.any():
        region = best_region(p, threshold)
        if region is not None:
            keep[region] = True
    if prose is not None:
        keep = extend_to_prose(keep, p, prose, threshold)
    return keep


def choose_labels(
    proba: np.ndarray, labels: Sequence[str], keep: np.ndarray
) -> tuple[list[str], list[float]]:
    """Each unit's label and that label's probability.

    Kept units are article; the others take the most probable noise label
    (ties go to the first in ``labels`` order).
    """
    art = list(labels).index(ARTICLE)
    noise = [i for i in range(len(labels)) if i != art]
    out_labels, out_probs = [], []
    for row, kept in zip(proba, keep, strict=True):
        j = art if kept else max(noise, key=lambda k: row[k])
        out_labels.append(labels[j])
        out_probs.append(float(row[j]))
    return out_labels, out_probs


def article_share(p: np.ndarray, sizes: np.ndarray) -> float:
    """The share of a document's text that is article-like: its units' mean
    P(article) weighted by their sizes (characters); 0 for an empty document."""
    total = float(np.sum(sizes))
    return float(np.dot(p, sizes)) / total if total > 0 else 0.0


def is_story(keep: np.ndarray, share: float, min_share: float = STORY_MIN_ARTICLE_SHARE) -> bool:
    """The page-type gate: something is kept and the page's :func:`article_share`
    reaches ``min_share`` (0 turns the gate off: any kept unit makes a story)."""
    return bool(np.any(keep)) and share >= min_share

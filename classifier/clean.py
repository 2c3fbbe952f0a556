"""Cleaning flattened text: the line model's twin of :mod:`classifier.extract`.

:class:`LineCleaner` holds a loaded line model; :meth:`LineCleaner.classify`
labels every non-blank line of a text (article / teaser / chrome) and
:meth:`LineCleaner.clean` keeps the story's lines.  The decision rule is the
block model's (:mod:`classifier.decision`): threshold and switch cost (the
Viterbi pass), the best-region fallback, then hysteresis towards prose lines
touching the story.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .decision import ARTICLE, FALLBACK_SHARE, choose_labels, decide, extend_head
from .line_features import dump_matrix, prose_column
from .lines import Dump, split_text
from .model import LINE_MODEL, LINE_SITE_MODEL, LoadedModel, SiteStage
from .profile import SITE_FEATURES, SITE_THRESHOLD, PageKeys, SiteProfile
from .segment import LIMITS, Limits

# P(article) needed to keep a line, and the cost in log-odds of each change
# between story and noise along the dump (the Viterbi pass of
# :func:`classifier.decision.smooth`).  Chosen together on the dev half of the
# real readability corpus, flattened with html-text (see THRESHOLD_NOTE); the
# written training data separates too well to choose them there.  A
# full-page dump holds long menus and rails of short lines at P 0.2-0.6: a
# threshold alone keeps them or loses the story's short lines, where a price
# on every change of state keeps the story as one run and its menus out.
DEFAULT_THRESHOLD = 0.5
DEFAULT_SWITCH_COST = 8.0
THRESHOLD_NOTE = (
    "best full-text F1 on the dev half of the readability corpus flattened by "
    "html-text: 0.871 (P 0.885, R 0.858), sweeping threshold 0.2-0.6 and switch "
    "cost 0-24 (0.45-0.55 x 6-8: 0.861-0.873); without a switch cost the best "
    "was 0.837 (threshold 0.4); all 130 pages: 0.875, was 0.849 at 0.2"
)

# The first decision the line model's site stage sees (its first_kept,
# prev_kept and next_kept features), in training and in use: the plain rule,
# this threshold with prose hysteresis and no switch cost.  Trained on the
# smoothed rule instead, the stage scored 0.938 on the multi-page set (0.942
# on this one) and let an in-story newsletter line through
# (tests/test_profile.py): the smoothing keeps such a line with the story
# around it, so the stage no longer sees it stand apart.
SITE_INPUT_THRESHOLD = 0.2


@dataclass(slots=True)
class LabelledLine:
    text: str
    label: str
    probability: float  # probability of `label`
    p_article: float
    lineno: int


# a line at the same place (after the same line) on at least this share of
# the site's other pages is template, which the head extension looks past: a
# share bar between a story's byline and its first paragraph
HEAD_TEMPLATE_SHARE = 0.5


def _head_evidence(
    first_p: np.ndarray, site_p: np.ndarray, X: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """What :func:`~classifier.decision.extend_head` climbs on above a dump's
    story: per line a P(article), and whether it is template to look past.

    The P is the line model's own where the site has never shown the line at
    this place (a headline, quoted by teasers elsewhere but only here above
    its story, or a date line), at least the site stage's; where it has (a
    "Posted in" line over every story), the site stage's.  Chosen against
    the site stage's P alone, with and without looking past template: grouped
    CV story F1 over the training sites 0.8839 -> 0.8847, tests/data/sites
    clean-text 0.948 -> 0.952 (this P without looking past: 0.8851 and 0.948;
    looking past lines whose text, not place, is on half the pages: 0.8825,
    since a headline quoted on half the site is then looked past)."""
    placed = X[:, SITE_FEATURES.index("pathtext_share")]
    p = np.where(placed > 0, site_p, np.maximum(site_p, first_p))
    return p, placed >= HEAD_TEMPLATE_SHARE


class LineCleaner(LoadedModel):
    """A loaded line model and the decision rule around it."""

    default_threshold = DEFAULT_THRESHOLD

    def __init__(
        self,
        model_path: Path | str = LINE_MODEL,
        threshold: float | None = None,
        limits: Limits = LIMITS,
        site_model_path: Path | str | None = None,
        switch_cost: float | None = None,
    ):
        super().__init__(model_path, threshold)
        self.switch_cost = float(
            switch_cost if switch_cost is not None else self.card.get("switch_cost", 0.0)
        )
        self.limits = limits  # lines (max_blocks) and characters a line (max_block_chars)
        # a line model's site stage is the line_site_model.skops beside it
        self.site_model_path = Path(
            site_model_path or Path(model_path).with_name(LINE_SITE_MODEL.name)
        )
        self._site_model: SiteStage | None = None

    @property
    def site_model(self) -> SiteStage:
        """The line model's site stage, loaded when first needed."""
        if self._site_model is None:
            self._site_model = SiteStage(self.site_model_path, self)
        return self._site_model

    def first_decision(self, proba: np.ndarray, prose: np.ndarray) -> np.ndarray:
        """The keep/drop decisions the site stage sees (:data:`SITE_INPUT_THRESHOLD`)."""
        return decide(proba[:, self.labels.index(ARTICLE)], SITE_INPUT_THRESHOLD, prose=prose)

    def classify_dump(
        self,
        dump: Dump,
        proba: np.ndarray | None = None,
        *,
        site: SiteProfile | None = None,
        keys: PageKeys | None = None,
    ) -> list[LabelledLine]:
        """Label every line of an already split :class:`~classifier.lines.Dump`
        (``proba``: its line-model probabilities, if already known).  With the
        :attr:`~classifier.profile.SiteProfile.ready` profile of its site
        (holding this dump), the line model's site stage revises them first."""
        if proba is None:
            proba = self.probabilities(dump.lines)
        first_prose = prose_column(dump_matrix(dump))
        prose: np.ndarray | None = first_prose
        threshold, switch_cost = self.threshold, self.switch_cost
        with_site = site is not None and site.ready and bool(dump.lines)
        head: tuple[np.ndarray, np.ndarray] | None = None
        if site is not None and with_site:
            keys = keys if keys is not None else PageKeys.of_dump(dump)
            kept = self.first_decision(proba, first_prose)
            first_p = proba[:, self.labels.index(ARTICLE)]
            X = site.features(keys, proba, self.labels, kept)
            proba = self.site_model.revise(proba, self.labels, X)
            head = _head_evidence(first_p, proba[:, self.labels.index(ARTICLE)], X)
            # the site stage saw the first decision, prose hysteresis included,
            # so the hysteresis is not applied again (blocks get no second
            # smoothing either): applied again, it kept template prose next to
            # the story, such as a newsletter prompt standing on every page
            threshold, switch_cost, prose = SITE_THRESHOLD, 0.0, None
        p_art = proba[:, self.labels.index(ARTICLE)]
        keep = decide(p_art, threshold, switch_cost, prose=prose)
        if head is not None:
            # a flattened story's head is in its text (a dump has no title
            # field), and the site stage doubts it most: teasers all over the
            # site quote its headline and standfirst, its byline stands on
            # the author's other stories (:func:`_head_evidence`)
            keep = extend_head(keep, head[0], SITE_THRESHOLD * FALLBACK_SHARE, head[1])
        labels, probs = choose_labels(proba, self.labels, keep)
        return [
            LabelledLine(line.text, label, round(prob, 4), round(float(p), 4), line.lineno)
            for line, label, prob, p in zip(dump.lines, labels, probs, p_art, strict=True)
        ]

    def classify(self, text: str) -> list[LabelledLine]:
        """Label every non-blank line of ``text`` (article / teaser / chrome), within
        ``self.limits`` (:func:`~classifier.lines.split_text`)."""
        return self.classify_dump(split_text(text, limits=self.limits))

    def clean(self, text: str) -> str:
        """The article lines of ``text``, in order, separated by blank lines."""
        return "\n\n".join(ln.text for ln in self.classify(text) if ln.label == ARTICLE)

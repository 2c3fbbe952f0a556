"""Cleaning flattened text: the line model's twin of :mod:`classifier.extract`.

:class:`LineCleaner` holds a loaded line model; :meth:`LineCleaner.classify`
labels every non-blank line of a text (article / teaser / chrome) and
:meth:`LineCleaner.clean` keeps the story's lines.  The decision rule is the
block model's (:mod:`classifier.decision`): threshold, the best-region
fallback, then hysteresis towards prose lines touching the story.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .decision import ARTICLE, choose_labels, decide
from .line_features import dump_matrix, prose_column
from .lines import Dump, split_text
from .model import LINE_MODEL, LINE_SITE_MODEL, LoadedModel, SiteStage
from .profile import SITE_THRESHOLD, PageKeys, SiteProfile
from .segment import LIMITS, Limits

# P(article) needed to keep a line.  Chosen on the dev half of the real
# readability corpus, flattened with html-text (see THRESHOLD_NOTE); the
# written training data separates too well to choose it there.
DEFAULT_THRESHOLD = 0.2
THRESHOLD_NOTE = (
    "best full-text F1 on the dev half of the readability corpus flattened by "
    "html-text (sweep 0.05-0.45 step 0.05; 0.2-0.4 within 0.003)"
)


@dataclass(slots=True)
class LabelledLine:
    text: str
    label: str
    probability: float  # probability of `label`
    p_article: float
    lineno: int


class LineCleaner(LoadedModel):
    """A loaded line model and the decision rule around it."""

    default_threshold = DEFAULT_THRESHOLD

    def __init__(
        self,
        model_path: Path | str = LINE_MODEL,
        threshold: float | None = None,
        limits: Limits = LIMITS,
        site_model_path: Path | str | None = None,
    ):
        super().__init__(model_path, threshold)
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
        """The line model's own keep/drop decisions (what the site stage sees)."""
        return decide(proba[:, self.labels.index(ARTICLE)], self.threshold, prose=prose)

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
        threshold = self.threshold
        if site is not None and site.ready and dump.lines:
            keys = keys if keys is not None else PageKeys.of_dump(dump)
            kept = self.first_decision(proba, first_prose)
            proba = self.site_model.revise(
                proba, self.labels, site.features(keys, proba, self.labels, kept)
            )
            # the site stage saw the first decision, prose hysteresis included,
            # so the hysteresis is not applied again (blocks get no second
            # smoothing either): applied again, it kept template prose next to
            # the story, such as a newsletter prompt standing on every page
            threshold, prose = SITE_THRESHOLD, None
        p_art = proba[:, self.labels.index(ARTICLE)]
        keep = decide(p_art, threshold, prose=prose)
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

"""Extraction: a page in, its title, article text and labelled blocks out.

:func:`extract` is the one-call API; :class:`Extractor` holds a loaded model
for many pages; :meth:`Extractor.extract_page` takes an already segmented
:class:`~classifier.segment.Page` (the lower layer, for callers that parse
once and do more with the tree).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .decision import ARTICLE, choose_labels, decide
from .features import tokens
from .model import BLOCK_MODEL, LoadedModel
from .roles import assign_roles
from .segment import Page, clean_title, segment

# what ``include`` may put back into ``text`` beside the body: option name -> role
ROLE_OF = {"captions": "caption", "byline": "byline", "standfirst": "standfirst"}
INCLUDABLE = frozenset(ROLE_OF)
TITLE_MIN_SIMILARITY = 0.5  # a heading block is the title when this similar
# the headline is looked for in h1-h3 blocks and in the first kept blocks
TITLE_TAGS = ("h1", "h2", "h3")
TITLE_FIRST_BLOCKS = 3
# a heading far longer than the declared headline is not it
TITLE_MAX_TOKENS_RATIO, TITLE_MAX_TOKENS_SLACK = 3, 5


@dataclass(slots=True)
class LabelledBlock:
    text: str
    label: str
    probability: float  # probability of `label`
    path: str
    p_article: float
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, anchor text)
    role: str = ""  # for article blocks: headline, standfirst, byline, caption or body


@dataclass(slots=True)
class Extraction:
    """What extraction returns for one page."""

    title: str
    text: str  # the body (and the roles asked for with ``include``)
    blocks: list[LabelledBlock] = field(default_factory=list)
    description: str = ""  # the standfirst
    byline: str = ""  # author and date lines, one a line
    captions: list[str] = field(default_factory=list)
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
        if b.tag not in TITLE_TAGS and not (keep[b.index] and b.index < TITLE_FIRST_BLOCKS):
            continue
        have = set(tokens(b.text))
        if (
            not have
            or not want
            or len(have) > TITLE_MAX_TOKENS_RATIO * len(want) + TITLE_MAX_TOKENS_SLACK
        ):
            continue
        sim = len(have & want) / len(want)
        if sim > best_sim or (
            sim == best_sim and b.tag == "h1" and best >= 0 and page.blocks[best].tag != "h1"
        ):
            best, best_sim = b.index, sim
    if best >= 0 and best_sim >= TITLE_MIN_SIMILARITY:
        return page.blocks[best].text, best
    return declared, -1


def _captions_are_the_story(page: Page, roles: list[str]) -> bool:
    """A photo gallery: its captions hold more text than its body."""
    size = {"body": 0, "caption": 0}
    for b in page.blocks:
        if roles[b.index] in size:
            size[roles[b.index]] += len(b.text)
    return size["caption"] > size["body"]


class Extractor(LoadedModel):
    """A loaded block model and the decision rule around it."""

    def __init__(
        self,
        model_path: Path | str = BLOCK_MODEL,
        *,
        threshold: float | None = None,
        switch_cost: float | None = None,
        include: Iterable[str] = (),
    ) -> None:
        super().__init__(model_path, threshold)
        self.switch_cost = float(
            switch_cost if switch_cost is not None else self.card.get("switch_cost", 0.0)
        )
        self.include = frozenset(include)
        unknown = self.include - INCLUDABLE
        if unknown:
            raise ValueError(
                f"cannot include {', '.join(sorted(unknown))} in the text; "
                f"choose from {', '.join(sorted(INCLUDABLE))}"
            )

    def extract(
        self, html: bytes | str, *, url: str | None = None, content_type: str | None = None
    ) -> Extraction:
        """Extract one page given as bytes (any encoding) or text."""
        return self.extract_page(segment(html, url=url, content_type=content_type))

    def extract_page(self, page: Page, proba: np.ndarray | None = None) -> Extraction:
        """Classify a segmented page (``proba``: its probabilities, if already known)."""
        if proba is None:
            proba = self.probabilities(page.blocks)
        p_art = proba[:, self.labels.index(ARTICLE)]
        keep = decide(p_art, self.threshold, self.switch_cost)
        labels, probs = choose_labels(proba, self.labels, keep)
        title, title_idx = _title(page, keep)
        roles = assign_roles(page, keep, title_idx)
        in_text = {"body"} | {ROLE_OF[name] for name in self.include}
        if _captions_are_the_story(page, roles):
            in_text.add("caption")
        run = longest = 0
        blocks = []
        texts: list[str] = []
        parts: dict[str, list[str]] = {"standfirst": [], "byline": [], "caption": []}
        for b in page.blocks:
            run = run + len(b.text) if keep[b.index] else 0
            longest = max(longest, run)
            role = roles[b.index]
            if role in parts:
                parts[role].append(b.text)
            if role in in_text and b.text != title:
                texts.append(b.text)
            blocks.append(
                LabelledBlock(
                    b.text,
                    labels[b.index],
                    round(probs[b.index], 4),
                    b.path,
                    round(float(p_art[b.index]), 4),
                    b.links,
                    role,
                )
            )
        return Extraction(
            title=title,
            text="\n\n".join(texts),
            blocks=blocks,
            description="\n\n".join(parts["standfirst"]),
            byline="\n".join(parts["byline"]),
            captions=parts["caption"],
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

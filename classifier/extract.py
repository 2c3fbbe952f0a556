"""Extraction: a page in, its title, article text and labelled blocks out.

:func:`extract` is the one-call API; :class:`Extractor` holds a loaded model
for many pages; :meth:`Extractor.extract_page` takes an already segmented
:class:`~classifier.segment.Page` (the lower layer, for callers that parse
once and do more with the tree).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .decision import (
    ARTICLE,
    STORY_MIN_ARTICLE_SHARE,
    article_share,
    choose_labels,
    decide,
    is_story,
)
from .features import story_chars, tokens
from .model import BLOCK_MODEL, SITE_MODEL, LoadedModel, SiteStage
from .profile import SITE_THRESHOLD, PageKeys, SiteProfile
from .roles import assign_roles
from .segment import LIMITS, Limits, Page, clean_title, segment, truncation

# what ``include`` may put back into ``text`` beside the body: option name -> role
ROLE_OF = {"captions": "caption", "byline": "byline", "standfirst": "standfirst"}
INCLUDABLE = frozenset(ROLE_OF)
# what ``text`` holds beside the body unless ``include`` says otherwise: the
# standfirst, which the references of all three real corpora hold (one run,
# all pages: snippets 0.910 -> 0.921, 27 more sentences found and 2 more
# leaked; readability 0.9352 -> 0.9353; wcxb articles 0.9317 -> 0.9320, all
# pages 0.750 -> 0.752), where putting bylines or captions in loses on all
# three but readability's captions (readability 0.941, snippets 0.898, 41 more
# caption sentences leaked); it stays in ``description`` too
DEFAULT_INCLUDE: tuple[str, ...] = ("standfirst",)


def text_roles(include: Iterable[str]) -> frozenset[str]:
    """The roles of the blocks in ``text``: the body and those ``include`` names."""
    return frozenset({"body"} | {ROLE_OF[name] for name in include})


TEXT_ROLES = text_roles(DEFAULT_INCLUDE)  # ... by default
TITLE_MIN_SIMILARITY = 0.5  # a heading block is the title when this similar
# the headline is looked for in h1-h3 blocks and in the first kept blocks
TITLE_TAGS = ("h1", "h2", "h3")
TITLE_FIRST_BLOCKS = 3
# a heading far longer than the declared headline is not it
TITLE_MAX_TOKENS_RATIO, TITLE_MAX_TOKENS_SLACK = 3, 5
# an h1 that matches no declared headline is the headline the reader sees if
# it is in the story (kept) or just before it, and headline-sized
TITLE_H1_BEFORE_STORY = 2  # blocks before the story's first kept block
TITLE_H1_MAX_TOKENS = 30


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
    text: str  # the body and the roles of ``include`` (default: the standfirst)
    blocks: list[LabelledBlock] = field(default_factory=list)
    description: str = ""  # the standfirst
    byline: str = ""  # author and date lines, one a line
    captions: list[str] = field(default_factory=list)
    url: str | None = None
    language: str = ""
    model_version: str = ""
    # characters of the longest unbroken run of article blocks (a CJK character
    # counts as CJK_CHAR_WEIGHT): a story is one coherent region, a listing's
    # kept blocks are scattered fragments
    main_run_chars: int = 0
    # the page-type gate: False for a listing, home, section or tag page (and
    # a page where nothing is kept), which then yields no article text
    is_article: bool = False
    # the share of the page's text the model finds article-like (the gate's measure)
    article_share: float = 0.0
    # the limits the page hit (:class:`~classifier.segment.Limits` names,
    # comma-separated: "blocks", "bytes,nodes"); "" when nothing was cut
    truncated: str = ""

    def to_dict(self, with_blocks: bool = True) -> dict[str, Any]:
        out = asdict(self)
        if not with_blocks:
            out.pop("blocks")
        return out


def _title(page: Page, keep: np.ndarray) -> tuple[str, int]:
    """The headline and the index of the block that holds it (-1 if none).

    The heading block (h1-h3, or one of the first kept blocks when more
    than one is kept: a story is more than its headline) that covers most of
    the declared headline's words wins.  Without one, the page's own
    ``<h1>`` when the reader sees it as the story's headline
    (:func:`_story_h1`): a ``<title>`` or ``og:title`` that says something
    else (an SEO title) does not push the real headline into the text.
    Else the declared headline with its site name removed.
    """
    declared = clean_title(page.headline)
    want = set(tokens(declared))
    best, best_sim = -1, 0.0
    others_kept = int(keep.sum()) > 1
    for b in page.blocks:
        if b.tag not in TITLE_TAGS and not (
            keep[b.index] and b.index < TITLE_FIRST_BLOCKS and others_kept
        ):
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
    h1 = _story_h1(page, keep)
    if h1 >= 0:
        return page.blocks[h1].text, h1
    return declared, -1


def _story_h1(page: Page, keep: np.ndarray) -> int:
    """The index of the story's ``<h1>`` block, or -1: the first kept h1, else
    the h1 nearest before the first kept block, at most
    :data:`TITLE_H1_BEFORE_STORY` blocks before it; at most
    :data:`TITLE_H1_MAX_TOKENS` words."""
    kept = np.flatnonzero(keep)
    if not len(kept):
        return -1
    first = int(kept[0])
    h1s = [
        b.index
        for b in page.blocks
        if b.tag == "h1" and 0 < len(tokens(b.text)) <= TITLE_H1_MAX_TOKENS
    ]
    inside = [i for i in h1s if keep[i]]
    if inside:
        return inside[0]
    before = [i for i in h1s if first - TITLE_H1_BEFORE_STORY <= i < first]
    return before[-1] if before else -1


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
        include: Iterable[str] = DEFAULT_INCLUDE,
        limits: Limits = LIMITS,
        min_article_share: float | None = None,
        site_model_path: Path | str | None = None,
    ) -> None:
        super().__init__(model_path, threshold)
        self.limits = limits
        # a block model's site stage is the site_model.skops beside it
        self.site_model_path = Path(site_model_path or Path(model_path).with_name(SITE_MODEL.name))
        self._site_model: SiteStage | None = None
        # the page-type gate (classifier.decision.is_story); 0 turns it off
        self.min_article_share = float(
            min_article_share
            if min_article_share is not None
            else self.card.get("min_article_share", STORY_MIN_ARTICLE_SHARE)
        )
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
        self.text_roles = text_roles(self.include)

    def extract(
        self, html: bytes | str, *, url: str | None = None, content_type: str | None = None
    ) -> Extraction:
        """Extract one page given as bytes (any encoding) or text, within ``self.limits``."""
        return self.extract_page(
            segment(html, url=url, content_type=content_type, limits=self.limits)
        )

    @property
    def site_model(self) -> SiteStage:
        """The site stage, loaded when first needed."""
        if self._site_model is None:
            self._site_model = SiteStage(self.site_model_path, self)
        return self._site_model

    def site_probabilities(
        self, page: Page, proba: np.ndarray, site: SiteProfile, keys: PageKeys | None = None
    ) -> np.ndarray:
        """The block model's ``proba`` revised by the site stage over ``site``'s
        evidence (``site`` must hold the page; its own part is left out)."""
        if not len(page.blocks):
            return proba
        keys = keys if keys is not None else PageKeys.of(page)
        kept = decide(
            proba[:, self.labels.index(ARTICLE)],
            self.threshold,
            self.switch_cost,
            sizes=keys.chars,
        )
        X = site.features(keys, proba, self.labels, kept)
        return self.site_model.revise(proba, self.labels, X)

    def extract_page(
        self,
        page: Page,
        proba: np.ndarray | None = None,
        *,
        site: SiteProfile | None = None,
        keys: PageKeys | None = None,
    ) -> Extraction:
        """Classify a segmented page (``proba``: its block-model probabilities,
        if already known).  With the profile of its ``site`` (holding this page,
        :attr:`~classifier.profile.SiteProfile.ready`), the site stage revises
        them first; without one, or before it is ready, the block model decides
        alone, exactly as for a single page."""
        if proba is None:
            proba = self.probabilities(page.blocks)
        threshold, switch_cost = self.threshold, self.switch_cost
        with_site = site is not None and site.ready
        if site is not None and with_site:
            proba = self.site_probabilities(page, proba, site, keys)
            # the site stage saw the first stage's smoothed decision: no second
            # smoothing, and no best-region fallback either (its fallback kept
            # a listing's one teaser whose text the profile had not seen)
            threshold, switch_cost = SITE_THRESHOLD, 0.0
        p_art = proba[:, self.labels.index(ARTICLE)]
        sizes = np.array([len(b.text) for b in page.blocks], dtype=float)
        keep = decide(p_art, threshold, switch_cost, sizes=sizes, fallback=not with_site)
        share = article_share(p_art, sizes)
        if not is_story(keep, share, self.min_article_share):
            keep[:] = False  # not a story page: a listing's fragments are not its text
        labels, probs = choose_labels(proba, self.labels, keep)
        title, title_idx = _title(page, keep)
        roles = assign_roles(page, keep, title_idx)
        in_text = set(self.text_roles)
        if _captions_are_the_story(page, roles):
            in_text.add("caption")
        run = longest = 0
        blocks = []
        texts: list[str] = []
        parts: dict[str, list[str]] = {"standfirst": [], "byline": [], "caption": []}
        for b in page.blocks:
            run = run + story_chars(b.text) if keep[b.index] else 0
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
            is_article=bool(texts),
            article_share=round(share, 4),
            truncated=truncation(page.truncated),
        )


def extract_site(extractor: Extractor, pages: Sequence[Page]) -> list[Extraction]:
    """Extract the pages of one site with its profile: the profile of all of
    them first (a copy of a page counted once), then each page classified with
    it (a site with fewer than :data:`~classifier.profile.MIN_PAGES` distinct
    pages: each page alone)."""
    col = extractor.labels.index(ARTICLE)
    probas = [extractor.probabilities(p.blocks) for p in pages]
    keys = [PageKeys.of(p) for p in pages]
    site = SiteProfile()
    counted: set[int] = set()
    for k, proba in zip(keys, probas, strict=True):
        if k.fingerprint() not in counted:  # a copy of a page is counted once
            counted.add(k.fingerprint())
            site.add(k, proba[:, col])
    return [
        extractor.extract_page(p, proba, site=site, keys=k)
        for p, proba, k in zip(pages, probas, keys, strict=True)
    ]


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

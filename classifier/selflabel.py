"""Self-labels: block labels a page gives away through its own metadata.

Many news pages carry the story's text in JSON-LD ``articleBody`` (or mark
the element holding it with ``itemprop="articleBody"``).  Aligning that text
to the page's blocks says which blocks are the story body, with no person
and no model:

- **JSON-LD**: the articleBody is cut into ``\\w+`` tokens and 4-token
  shingles (:func:`classifier.metrics.shingles`, the full-text metric's
  unit).  A block of at least 4 tokens is body when at least
  :data:`BLOCK_MATCH` of its shingles occur in the articleBody; a shorter
  block (a subheading) when its tokens occur there, in order, and it sits
  between the first and last long body blocks.  The *coverage* is the share
  of the articleBody's tokens inside a shingle some body block matched.
- **itemprop**: the blocks inside the element (``itemprop="articleBody"``
  or ``"text"``, the segmenter's ``articlebody`` container flag); the model
  may still veto a block inside it with :data:`ITEMPROP_VETO` confidence (an
  ad slot or a "Read also" box in the body), and the coverage is the share
  of the element's text left as article.

articleBody holds the body only.  The story's headline, standfirst, byline
and captions are article too (training_data/README.md), so the blocks the
model keeps with one of those roles (:mod:`classifier.roles`) between the
headline and the end of the body are added.  Outside the story, nothing is
article; the model chooses teaser or chrome for every block that is not.

:func:`self_label` gives the labels and their evidence; ``python -m
classifier label --auto`` writes the pages whose coverage reaches
:data:`MIN_COVERAGE`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

import numpy as np

from .extract import Extractor
from .metrics import SHINGLE
from .roles import assign_roles
from .segment import Page
from .vocab import CONTAINER_FLAGS

MIN_COVERAGE = 0.95  # --auto writes a page when this much of its articleBody is aligned
BLOCK_MATCH = 0.5  # share of a block's shingles found in the articleBody to call it body
ITEMPROP_VETO = 0.5  # P(teaser or chrome) at which the model overrules itemprop=articleBody
# the headline may sit this many blocks before the first body block (kicker,
# byline, standfirst and captions between them); captions this many after the last
LEAD_BLOCKS = 8
TAIL_BLOCKS = 3
RUN_BREAK_CHARS = 50  # a dropped block this long ends the story's run (ads and labels are shorter)
MAX_UNHELD = 0.1  # --auto skips a page whose model-kept story text outside the labels is more
EXTRA_ROLES = ("headline", "standfirst", "byline", "caption")
SOURCE_JSONLD = "JSON-LD articleBody"
SOURCE_ITEMPROP = "itemprop=articleBody"

# \w+ with the combining marks of the Brahmic scripts (Devanagari to Sinhala),
# Thai and the combining diacritics: "\w+" alone cuts Bengali or Hindi words
# at every vowel sign, and a one-word tag link then looks like a sentence
_WORD = re.compile(
    r"(?:\w|[\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f"
    r"\u0900-\u0963\u0966-\u0dff\u0e31-\u0e4e\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff])+"
)
_TAG = re.compile(r"<[^>]{0,1000}>")
_ARTICLEBODY_FLAG = CONTAINER_FLAGS["articlebody"]


@dataclass(slots=True)
class SelfLabels:
    """The labels a page's own metadata gives, with the evidence."""

    source: str  # SOURCE_JSONLD or SOURCE_ITEMPROP
    labels: list[str]  # one a block: article from the metadata, else the model's teaser/chrome
    from_metadata: list[bool]  # the block's article-or-not came from the metadata
    coverage: float  # share of the metadata's text that lands in article blocks
    body: list[int] = field(default_factory=list)  # blocks aligned to the body text
    # characters of the story the model keeps that the metadata does not hold
    # (a truncated articleBody, an excerpt): --auto skips such a page
    unheld: int = 0
    article_chars: int = 0

    @property
    def n_article(self) -> int:
        return sum(1 for lab in self.labels if lab == "article")


def tokens(text: str) -> list[str]:
    return _WORD.findall(text)


def body_text(value: str) -> str:
    """articleBody as text: some sites put HTML (tags, entities) in it."""
    if "<" in value or "&" in value:
        value = html.unescape(_TAG.sub(" ", value))
    return value


def align(page: Page, body: str) -> tuple[list[int], float]:
    """The blocks that are ``body``'s text, and the share of its tokens they cover."""
    want = tokens(body_text(body))
    if not want:
        return [], 0.0
    where: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(want) - SHINGLE + 1):
        where.setdefault(tuple(want[i : i + SHINGLE]), []).append(i)
    covered = np.zeros(len(want), dtype=bool)
    long_blocks: list[int] = []
    short: list[tuple[int, list[int]]] = []  # (block, positions where its tokens occur)
    for b in page.blocks:
        toks = tokens(b.text)
        if not toks:
            continue
        if len(toks) < SHINGLE:
            found = _occurrences(want, toks)
            if found:
                short.append((b.index, found))
            continue
        grams = [tuple(toks[i : i + SHINGLE]) for i in range(len(toks) - SHINGLE + 1)]
        hits = [g for g in grams if g in where]
        if len(hits) >= BLOCK_MATCH * len(grams):
            long_blocks.append(b.index)
            for g in hits:
                for start in where[g]:
                    covered[start : start + SHINGLE] = True
    if len(want) < SHINGLE:  # a body shorter than a shingle: the short blocks are all
        long_blocks = []
    aligned = set(long_blocks)
    if long_blocks or len(want) < SHINGLE:
        first = min(long_blocks, default=-1)
        last = max(long_blocks, default=len(page.blocks))
        for idx, found in short:
            if first <= idx <= last:
                aligned.add(idx)
                n = len(tokens(page.blocks[idx].text))
                for start in found:
                    covered[start : start + n] = True
    return sorted(aligned), float(covered.mean())


def _occurrences(seq: list[str], part: list[str]) -> list[int]:
    n = len(part)
    first = part[0]
    return [
        i for i, t in enumerate(seq[: len(seq) - n + 1]) if t == first and seq[i : i + n] == part
    ]


def itemprop_blocks(page: Page) -> list[int]:
    """Blocks inside an ``itemprop="articleBody"`` (or ``"text"``) element."""
    flags = page.elements.flags
    return [b.index for b in page.blocks if flags and flags[b.element] & _ARTICLEBODY_FLAG]


def self_label(
    page: Page, extractor: Extractor, proba: np.ndarray | None = None
) -> SelfLabels | None:
    """The page's self-labels, or None when it carries no articleBody.

    ``proba`` is the model's probabilities for the page's blocks (computed
    when not given): it picks teaser or chrome for the blocks that are not
    article, and tells the story text the metadata lacks (:attr:`SelfLabels.unheld`).
    """
    if not page.blocks:
        return None
    if proba is None:
        proba = extractor.probabilities(page.blocks)
    labels = extractor.labels
    art = labels.index("article")
    body_json = page.article_body
    if body_json:
        source = SOURCE_JSONLD
        body, coverage = align(page, body_json)
    else:
        inside = itemprop_blocks(page)
        if not inside:
            return None
        source = SOURCE_ITEMPROP
        veto = 1.0 - proba[:, art] >= ITEMPROP_VETO
        body = [i for i in inside if not veto[i]]
        size = sum(len(page.blocks[i].text) for i in inside)
        coverage = sum(len(page.blocks[i].text) for i in body) / size if size else 0.0
    if not body:
        return SelfLabels(source, [], [], round(coverage, 4))
    n = len(page.blocks)
    extraction = extractor.extract_page(page, proba)
    first, last = body[0], body[-1]
    title = _title_block(page, extraction.title, first)
    lead_start = title + 1 if title >= 0 else max(0, first - LEAD_BLOCKS)
    story = np.zeros(n, dtype=bool)  # where the headline's company may be article
    story[lead_start : min(n, last + TAIL_BLOCKS + 1)] = True
    if title >= 0:
        story[title] = True
    roles = assign_roles(page, story, title)
    article = np.zeros(n, dtype=bool)
    article[body] = True
    kept = [b.label == "article" for b in extraction.blocks]
    for i in np.flatnonzero(story):
        for role in (roles[i], extraction.blocks[i].role if kept[i] else ""):
            if role == "headline" or (role in EXTRA_ROLES and (i < first or role != "standfirst")):
                article[i] = True
    rest = [k for k, lab in enumerate(labels) if lab != "article"]
    other = [labels[rest[j]] for j in proba[:, rest].argmax(axis=1)]
    out = ["article" if article[i] else other[i] for i in range(n)]
    in_body = set(body)
    return SelfLabels(
        source,
        out,
        [i in in_body for i in range(n)],
        round(coverage, 4),
        body,
        _unheld(page, kept, article, first, last),
        sum(len(page.blocks[i].text) for i in range(n) if article[i]),
    )


def _unheld(page: Page, kept: list[bool], article: np.ndarray, first: int, last: int) -> int:
    """Characters of story text the model keeps that the metadata does not hold:
    kept blocks between the first and last body blocks, and the run of kept
    blocks that goes on after the last one (a truncated articleBody, an
    excerpt); a long block the model drops ends the run."""
    blocks = page.blocks
    out = sum(len(blocks[i].text) for i in range(first, last) if kept[i] and not article[i])
    for i in range(last + 1, len(blocks)):
        if kept[i]:
            out += 0 if article[i] else len(blocks[i].text)
        elif len(blocks[i].text) >= RUN_BREAK_CHARS:
            break
    return out


def _title_block(page: Page, title: str, before: int) -> int:
    """The block holding the extracted headline, last before block ``before`` (-1: none)."""
    for i in range(before - 1, -1, -1):
        if page.blocks[i].text == title:
            return i
    return -1

"""Items: a fetched page on its way through the pipeline, and the article it yields.

The exported schema is :class:`ArticleItem` (documented in the README; keep
it stable).  Its names follow the classifier's JSONL (`title`, `text`); the
README maps each to zyte-common-items' Article (`headline`, `articleBody`,
`datePublished`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .analysis import Analysis


@dataclass
class PageItem:
    """A fetched HTML page; the ArticlePipeline turns it into an ArticleItem or drops it."""

    url: str
    body: bytes = field(repr=False)
    encoding: str
    site: str
    fetched_at: str
    # when the spider already classified the page
    analysis: Analysis | None = field(default=None, repr=False)


@dataclass
class ArticleItem:
    url: str
    canonical_url: str | None
    site: str
    title: str
    published: str | None
    modified: str | None
    authors: list[str]
    language: str | None
    text: str
    teasers: list[dict[str, str]] = field(default_factory=list)
    word_count: int = 0
    model_version: str = ""
    fetched_at: str = ""
    content_sha1: str = ""
    description: str = ""  # the standfirst
    byline: str = ""  # author and date lines
    captions: list[str] = field(default_factory=list)

"""One classification per response, shared by the spider and the item pipeline.

The spider needs the block labels to tell stories from listings and to rank
links (teaser links first); the pipeline needs the article text and the
page's metadata.  :class:`PageAnalyser` parses once, classifies once, and
reads metadata from the same tree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from htmldate import find_date
from lxml import etree
from w3lib.url import canonicalize_url

from classifier.extract import Extraction, Extractor
from classifier.model import BLOCK_MODEL
from classifier.segment import Page, blockify, parse_html

logger = logging.getLogger(__name__)

ANALYSER_ATTR = "_newsfilter_analyser"


@dataclass
class Analysis:
    extraction: Extraction
    is_story: bool = False  # a story page, not a listing, home or error page
    metadata: dict[str, Any] = field(default_factory=dict)
    feed: str | None = None  # an RSS/Atom feed the page links to


def _iso(value: Any) -> str | None:
    """An ISO 8601 string for a declared date, or None when it is not one."""
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        return None


def _names(value: Any) -> list[str]:
    """Author names from JSON-LD's author (string, object, or a list of them)."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip() and name.strip() not in out:
            out.append(name.strip())
    return out


def page_metadata(root: etree._Element, page: Page) -> dict[str, Any]:
    """Canonical URL, dates, authors and language from JSON-LD, OpenGraph and meta tags.

    Dates the page does not declare in structured data come from htmldate,
    which also reads ``<time>`` elements, URLs and visible date lines.
    """
    declared, jsonld, url = page.meta, page.jsonld, page.url
    article = next(
        (
            j
            for j in jsonld
            if "NewsArticle" in str(j.get("@type")) or "Article" in str(j.get("@type"))
        ),
        {},
    )
    published = _iso(article.get("datePublished")) or _iso(declared.get("article:published_time"))
    modified = _iso(article.get("dateModified")) or _iso(declared.get("article:modified_time"))
    if published is None:
        # htmldate wants lxml.html elements; ours come from etree's parser
        found = find_date(
            etree.tostring(root, encoding="unicode"),
            url=url,
            original_date=True,
            extensive_search=False,
            outputformat="%Y-%m-%d",
        )
        published = found or None
    authors = _names(article.get("author")) or (
        [declared["author"]] if declared.get("author") else []
    )
    canonical = declared.get("canonical") or declared.get("og:url") or None
    return {
        "canonical_url": canonicalize_url(canonical) if canonical else None,
        "published": published,
        "modified": modified,
        "authors": authors,
        "language": page.lang or article.get("inLanguage") or declared.get("og:locale") or None,
    }


class PageAnalyser:
    """The block model plus metadata reading, loaded once a crawl."""

    def __init__(self, extractor: Extractor, min_story_chars: int = 0) -> None:
        self.extractor = extractor
        self.min_story_chars = min_story_chars

    @classmethod
    def for_crawler(cls, crawler: Any) -> PageAnalyser:
        """The crawl's shared analyser, built from NEWSFILTER_* settings on first use."""
        analyser = getattr(crawler, ANALYSER_ATTR, None)
        if analyser is None:
            settings = crawler.settings
            model = settings.get("NEWSFILTER_MODEL") or BLOCK_MODEL
            threshold = settings.getfloat("NEWSFILTER_THRESHOLD", -1.0)
            cost = settings.getfloat("NEWSFILTER_SWITCH_COST", -1.0)
            extractor = Extractor(
                Path(model),
                threshold=threshold if threshold >= 0 else None,
                switch_cost=cost if cost >= 0 else None,
            )
            analyser = cls(extractor, settings.getint("NEWSFILTER_MIN_STORY_CHARS", 0))
            setattr(crawler, ANALYSER_ATTR, analyser)
        return analyser

    def analyse(self, body: bytes, *, url: str, encoding: str | None = None) -> Analysis:
        content_type = f"text/html; charset={encoding}" if encoding else None
        root, _ = parse_html(body, content_type)
        page = blockify(root)
        page.url = url
        extraction = self.extractor.extract_page(page)
        is_story = extraction.is_article and extraction.main_run_chars >= self.min_story_chars
        metadata = page_metadata(root, page) if is_story else {}
        return Analysis(extraction, is_story, metadata, page.meta.get("feed") or None)

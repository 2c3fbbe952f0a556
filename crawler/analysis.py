"""One classification per response, shared by the spider and the item pipeline.

The spider needs the block labels to tell stories from listings and to rank
links (teaser links first); the pipeline needs the article text and the
page's metadata.  :class:`PageAnalyser` parses once, classifies once, and
reads metadata from the same tree.  With a site profile
(:mod:`crawler.profiles`) a parsed page (:meth:`PageAnalyser.parse`) is
classified twice: alone, for its links, and with its site's profile, for
the feed (:meth:`PageAnalyser.classify`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
from htmldate import find_date
from w3lib.url import canonicalize_url

from classifier.decision import ARTICLE
from classifier.extract import Extraction, Extractor
from classifier.model import BLOCK_MODEL, ModelError
from classifier.profile import PageKeys, SiteProfile
from classifier.segment import LIMITS, Limits, Page, blockify, parse_document, serialize

from .config import Config
from .sites import Site

logger = logging.getLogger(__name__)

# htmldate parses the page again (lxml) and looks at every element: on a page
# of a million paragraphs that took 13 s and 600 MB.  It reads this much of
# the serialised page (the head, and the story's <time> elements on all but
# pathological pages: real pages serialise to a few hundred KB).
DATE_HTML_CHARS = 1 << 20


class Metadata(TypedDict):
    canonical_url: str | None
    published: str | None
    modified: str | None
    authors: list[str]
    language: str | None


@dataclass
class Analysis:
    extraction: Extraction
    is_story: bool = False  # a story page, not a listing, home or error page
    metadata: Metadata | None = None  # read for story pages only
    feed: str | None = None  # an RSS/Atom feed the page links to


@dataclass
class Parsed:
    """A page parsed and run through the block model, not yet decided on."""

    page: Page
    tree: Any  # the parsed document (metadata reads it)
    proba: np.ndarray  # the block model's probabilities, (blocks, labels)
    site: str = ""  # the sites-file name it was parsed for (which model)
    _keys: PageKeys | None = field(default=None, repr=False)
    _metadata: Metadata | None = field(default=None, repr=False)

    @property
    def keys(self) -> PageKeys:
        """The page's site-profile fingerprints (computed once)."""
        if self._keys is None:
            self._keys = PageKeys.of(self.page)
        return self._keys

    @property
    def metadata(self) -> Metadata:
        """The page's metadata (read once, however often the page is classified)."""
        if self._metadata is None:
            self._metadata = page_metadata(serialize(self.tree), self.page)
        return self._metadata


def _iso(value: object) -> str | None:
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


def _names(value: object) -> list[str]:
    """Author names from JSON-LD's author (string, object, or a list of them)."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip() and name.strip() not in out:
            out.append(name.strip())
    return out


def _canonical(url: str | None) -> str | None:
    """The canonical URL, canonicalised; None for none, or one that is no URL
    (``http://[::1``: w3lib raises ValueError)."""
    if not url:
        return None
    try:
        return canonicalize_url(url)
    except ValueError:
        return None


def page_metadata(html: str, page: Page) -> Metadata:
    """Canonical URL, dates, authors and language from JSON-LD, OpenGraph and meta tags.

    Dates the page does not declare in structured data come from htmldate,
    which also reads ``<time>`` elements, URLs and visible date lines in
    *html* (the parsed page, serialised).
    """
    declared, jsonld, url = page.meta, page.jsonld, page.url
    article: dict[str, Any] = next(
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
        try:
            found = find_date(
                html[:DATE_HTML_CHARS],
                url=url,
                original_date=True,
                extensive_search=False,
                outputformat="%Y-%m-%d",
            )
        except ValueError:  # lxml refuses some text htmldate hands it (a control character)
            found = None
        published = found or None
    authors = _names(article.get("author")) or (
        [declared["author"]] if declared.get("author") else []
    )
    canonical = _canonical(declared.get("canonical") or declared.get("og:url") or None)
    # the schema's language is a string: skip a JSON-LD inLanguage object
    languages = (page.lang, article.get("inLanguage"), declared.get("og:locale"))
    language = next((x for x in languages if isinstance(x, str) and x), None)
    return Metadata(
        canonical_url=canonical,
        published=published,
        modified=modified,
        authors=authors,
        language=language,
    )


def analyser_for_crawl(config: Config, sites: Iterable[Site] = ()) -> PageAnalyser:
    """The crawl's analyser, loaded before anything is fetched.

    A model that cannot be loaded (missing, altered, foreign, stale: see
    :mod:`classifier.model`), or a bad ``NEWSFILTER_LIMITS``, stops the
    crawl at its start with one clear log line (the model's message names
    the file and what to do) and exit status 2, instead of a traceback at
    the end of an asyncio task's log.
    """
    try:
        return PageAnalyser.from_config(config, sites)
    except Exception as exc:  # whatever refused the model: its message says why
        logger.critical("Cannot start the crawl: %s", exc)
        raise SystemExit(2) from None


class PageAnalyser:
    """The block model plus metadata reading, loaded once a crawl (by the spider).

    ``by_site`` maps a sites-file name to that site's own model (its
    ``model``, from ``train --site``); every other page goes through
    ``extractor``, the crawl's model.
    """

    def __init__(
        self,
        extractor: Extractor,
        min_story_chars: int,
        by_site: dict[str, Extractor] | None = None,
    ) -> None:
        self.extractor = extractor
        self.min_story_chars = min_story_chars
        self.by_site = dict(by_site or {})

    def extractor_for(self, site: str) -> Extractor:
        """The model the pages of ``site`` (a sites-file name) go through."""
        return self.by_site.get(site, self.extractor)

    @property
    def limits(self) -> Limits:
        """What one page may cost: the extractor's limits (the classifier's defaults)."""
        return self.extractor.limits

    @classmethod
    def from_config(cls, config: Config, sites: Iterable[Site] = ()) -> PageAnalyser:
        """Load (and check) the model, the decision rule and the limits the
        settings name, and the per-site models the ``sites`` name (one load a
        file); with NEWSFILTER_SITE_PROFILE each model's site stage too
        (checked to be trained over that block model)."""
        loaded: dict[Path, Extractor] = {}

        def load(path: Path, site: str = "") -> Extractor:
            path = path.resolve()
            if path not in loaded:
                try:
                    extractor = Extractor(
                        path,
                        threshold=config.threshold,
                        switch_cost=config.switch_cost,
                        limits=LIMITS.replace(**config.limits),
                    )
                    if config.site_profile:  # loaded now: a missing or stale one stops the start
                        _ = extractor.site_model
                except ModelError as exc:
                    where = f"site {site}'s model: " if site else ""
                    hint = (
                        "; or crawl without site profiles: -s NEWSFILTER_SITE_PROFILE=False"
                        if config.site_profile
                        else ""
                    )
                    raise ModelError(f"{where}{exc}{hint}") from None
                loaded[path] = extractor
            return loaded[path]

        default = load(Path(config.model or BLOCK_MODEL))
        by_site = {s.name: load(Path(s.model), s.name) for s in sites if s.model}
        return cls(default, config.min_story_chars, by_site)

    def parse(
        self, body: bytes, *, url: str, encoding: str | None = None, site: str = ""
    ) -> Parsed:
        """Parse one page, within :attr:`limits`, and run the block model of
        its ``site`` on it. Raises :class:`~classifier.segment.SegmentationError`
        when there is no document."""
        content_type = f"text/html; charset={encoding}" if encoding else None
        doc = parse_document(body, content_type, self.limits)
        page = blockify(doc, limits=self.limits)
        page.url = url
        extractor = self.extractor_for(site)
        return Parsed(page, doc.tree, extractor.probabilities(page.blocks), site)

    def classify(self, parsed: Parsed, site: SiteProfile | None = None) -> Analysis:
        """Decide on a parsed page: alone, or with the profile of its ``site``
        (which must hold the page; before it is ready, the same as alone).
        ``analysis.extraction.truncated`` names the limits the page hit."""
        page = parsed.page
        keys = parsed.keys if site is not None else None
        extractor = self.extractor_for(parsed.site)
        extraction = extractor.extract_page(page, parsed.proba, site=site, keys=keys)
        is_story = extraction.is_article and extraction.main_run_chars >= self.min_story_chars
        metadata = parsed.metadata if is_story else None
        return Analysis(extraction, is_story, metadata, page.meta.get("feed") or None)

    def analyse(
        self, body: bytes, *, url: str, encoding: str | None = None, site: str = ""
    ) -> Analysis:
        """Classify one page alone (:meth:`parse`, then :meth:`classify`)."""
        return self.classify(self.parse(body, url=url, encoding=encoding, site=site))

    def p_article(self, parsed: Parsed) -> np.ndarray:
        """The block model's P(article) per block (what a site profile counts)."""
        return parsed.proba[:, self.extractor_for(parsed.site).labels.index(ARTICLE)]

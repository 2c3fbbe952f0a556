"""Item pipeline: keep only the article of each fetched page, once per story."""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Self
from urllib.parse import urljoin

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from classifier.segment import SegmentationError

from .analysis import Analysis, PageAnalyser
from .config import Config
from .feeds import SEEN_FILE, ExportJournal
from .items import ArticleItem, PageItem

logger = logging.getLogger(__name__)

__all__ = ["SEEN_FILE", "ArticlePipeline", "content_sha1", "teaser_links"]


def content_sha1(text: str) -> str:
    """SHA-1 of the article text with white space collapsed."""
    return hashlib.sha1(" ".join(text.split()).encode("utf-8")).hexdigest()


def teaser_links(analysis: Analysis, base_url: str) -> list[dict[str, str]]:
    """``{title, url}`` of every link in a teaser block, absolute, first seen first."""
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for block in analysis.extraction.blocks:
        if block.label != "teaser":
            continue
        for href, anchor in block.links:
            try:
                url = urljoin(base_url, href)
            except ValueError:  # no URL at all (href='http://[::1'): not a teaser link
                continue
            if url not in seen and anchor:
                seen.add(url)
                out.append({"title": anchor, "url": url})
    return out


class ArticlePipeline:
    """PageItem in, ArticleItem out; listings, error pages and repeats are dropped.

    A story is a repeat when its canonical URL or its text hash was already
    exported.  With ``-s JOBDIR=...`` a resumed crawl does not export again
    what an earlier run exported: the stories are read back from the job's
    record and feeds (:class:`crawler.feeds.ExportJournal`).  The record is
    written by the JSON-lines feed exporter after the story's line; with no
    such feed, by this pipeline as the story passes.

    Pages come classified by the spider; one that is not (a PageItem from
    elsewhere) is classified with the spider's analyser, or with one of the
    pipeline's own when the spider has none.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.journal = ExportJournal.of(crawler)
        self.seen_urls: set[str] = set()
        self.seen_hashes: set[str] = set()
        self._analyser: PageAnalyser | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def analyser(self) -> PageAnalyser:
        analyser = getattr(self.crawler.spider, "analyser", None)
        if isinstance(analyser, PageAnalyser):
            return analyser
        if self._analyser is None:
            self._analyser = PageAnalyser.from_config(Config.from_settings(self.crawler.settings))
        return self._analyser

    def open_spider(self) -> None:
        self.seen_urls, self.seen_hashes = self.journal.load()

    def close_spider(self) -> None:
        self.journal.close()

    def process_item(self, item: Any) -> Any:  # any item; PageItems become ArticleItems
        if not isinstance(item, PageItem):
            return item
        analysis = item.analysis
        if analysis is None:
            try:
                analysis = self.analyser.analyse(
                    item.body, url=item.url, encoding=item.encoding, site=item.site
                )
            except SegmentationError as exc:
                self.stats.inc_value("newsfilter/unparsable")
                raise DropItem(f"{item.url}: cannot parse: {exc}") from exc
            except Exception as exc:  # a bug met on one page: counted by type, the crawl goes on
                self.stats.inc_value(f"newsfilter/error/{type(exc).__name__}")
                logger.error("Error analysing %s", item.url, exc_info=True)
                raise DropItem(f"{item.url}: {type(exc).__name__}: {exc}") from exc
        extraction = analysis.extraction
        if extraction.truncated:  # past a limit (classifier.segment.Limits): cut, counted
            for name in extraction.truncated.split(","):
                self.stats.inc_value(f"newsfilter/truncated/{name}")
            logger.warning("Truncated %s past the limit(s) %s", item.url, extraction.truncated)
        meta = analysis.metadata
        if not analysis.is_story or meta is None:
            self.stats.inc_value("newsfilter/non_article")
            raise DropItem(f"{item.url}: no article (listing or other page)")
        digest = content_sha1(extraction.text)
        key = meta["canonical_url"] or item.url
        if not self.journal.claim(key, digest):  # atomic across workers with Redis
            self.stats.inc_value("newsfilter/duplicate")
            raise DropItem(f"{item.url}: duplicate of a story already exported")
        self.stats.inc_value("newsfilter/articles")
        article = ArticleItem(
            url=item.url,
            canonical_url=meta["canonical_url"],
            site=item.site,
            title=extraction.title,
            published=meta["published"],
            modified=meta["modified"],
            authors=meta["authors"],
            language=meta["language"],
            text=extraction.text,
            description=extraction.description,
            byline=extraction.byline,
            captions=extraction.captions,
            teasers=teaser_links(analysis, item.url),
            word_count=len(extraction.text.split()),
            model_version=extraction.model_version,
            fetched_at=item.fetched_at,
            content_sha1=digest,
        )
        if not self.journal.synced:  # else the feed exporter records it, after its line
            self.journal.record(key, digest)
        return ItemAdapter(article).item

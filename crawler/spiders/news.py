"""The `news` spider: discover stories on configured sites, yield their pages.

Discovery: start pages, sitemaps (news sitemaps and sitemap indexes too, and
the ones robots.txt names), RSS/Atom feeds, and on-page links.  Every HTML
page is classified once; links in teaser blocks (other stories) are followed
first, links in article blocks next, links in chrome (sections, categories)
last and only NEWSFILTER_CHROME_DEPTH steps away from a story link.

    scrapy crawl news                          # every site in the sites file
    scrapy crawl news -a site=valley-times     # one of them
    scrapy crawl news -a url=https://x.example/   # an ad-hoc site
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import urljoin

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.python.failure import Failure

from classifier.segment import SegmentationError

from ..analysis import Analysis, PageAnalyser
from ..config import Config
from ..items import PageItem
from ..sites import Site, SitesError, load_sites

logger = logging.getLogger(__name__)

HTML_TYPES = (b"text/html", b"application/xhtml")
DISCOVERY_PRIORITY = 5  # sitemaps, feeds and robots.txt: before the pages they list


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class NewsSpider(scrapy.Spider):
    name = "news"
    allowed_domains: list[str] = []
    config: Config  # from the settings, in from_crawler
    # the block model, loaded in from_crawler; None for a plain crawl
    # (NEWSFILTER_CLASSIFY=False).  The ArticlePipeline uses it too.
    analyser: PageAnalyser | None = None

    def __init__(
        self,
        site: str | None = None,
        url: str | None = None,
        sites_file: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.site_arg, self.url_arg, self.sites_file = site, url, sites_file
        self.sites: list[Site] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.config = Config.from_settings(crawler.settings)
        spider.sites = spider._select_sites()
        spider.allowed_domains = sorted({d for s in spider.sites for d in s.allowed_domains})
        if spider.config.classify:  # load (and check) the model now: fail before crawling
            spider.analyser = PageAnalyser.from_config(spider.config)
        return spider

    def _select_sites(self) -> list[Site]:
        if self.url_arg:
            return [Site.from_url(self.url_arg)]
        try:
            sites = load_sites(self.sites_file or self.config.sites)
        except SitesError as exc:
            raise ValueError(str(exc)) from exc
        if self.site_arg:
            sites = [s for s in sites if s.name == self.site_arg]
            if not sites:
                raise ValueError(f"no site named {self.site_arg!r} in the sites file")
        return sites

    # -- start ------------------------------------------------------------
    async def start(self) -> AsyncIterator[Request]:
        for site in self.sites:
            meta = {"site": site.name, "chrome_steps": 0}
            for url in site.sitemaps:
                yield Request(url, self.parse_sitemap, meta=meta, priority=DISCOVERY_PRIORITY)
            for url in site.feeds:
                yield Request(url, self.parse_feed, meta=meta, priority=DISCOVERY_PRIORITY)
            for url in site.start_urls:
                yield Request(url, self.parse, meta=meta, errback=self.failed)
                if not site.sitemaps:
                    robots = urljoin(url, "/robots.txt")
                    yield Request(robots, self.parse_robots, meta=meta, priority=DISCOVERY_PRIORITY)

    def site_of(self, response: Response) -> Site | None:
        """The site a response was requested for; None when the spider has no sites."""
        name = response.meta.get("site")
        for site in self.sites:
            if site.name == name:
                return site
        return self.sites[0] if self.sites else None

    @staticmethod
    def _meta(response: Response) -> dict[str, Any]:
        """Meta for a request found on *response*: its site, none of Scrapy's own keys."""
        return {"site": response.meta.get("site"), "chrome_steps": 0}

    # -- discovery --------------------------------------------------------
    def parse_robots(self, response: Response) -> Iterator[Request]:
        for url in sitemap_urls_from_robots(response.body, base_url=response.url):
            yield Request(
                url, self.parse_sitemap, meta=self._meta(response), priority=DISCOVERY_PRIORITY
            )

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        site = self.site_of(response)
        if site is None:
            return
        body = response.body
        if response.url.endswith(".gz") or body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=50 * 1024 * 1024)
            except OSError:
                logger.warning("Bad gzip sitemap %s", response.url)
                return
        try:
            sitemap = Sitemap(body)
        except Exception:  # lxml raises several types on garbage
            self.crawler.stats.inc_value("newsfilter/bad_sitemap")
            logger.warning("Not a sitemap: %s", response.url)
            return
        for entry in sitemap:
            loc = entry.get("loc")
            if not loc:
                continue
            if sitemap.type == "sitemapindex":
                yield Request(
                    loc, self.parse_sitemap, meta=self._meta(response), priority=DISCOVERY_PRIORITY
                )
            elif site.wants(loc):
                yield self._story_request(loc, response, self.config.teaser_priority)

    def parse_feed(self, response: Response) -> Iterator[Request]:
        site = self.site_of(response)
        if site is None or not isinstance(response, TextResponse):
            return
        sel = response.selector
        sel.remove_namespaces()
        links = sel.xpath(
            "//item/link/text() | //entry/link[not(@rel) or @rel='alternate']/@href"
        ).getall()
        for link in links:
            url = response.urljoin(link.strip())
            if site.wants(url):
                yield self._story_request(url, response, self.config.teaser_priority)

    def _story_request(self, url: str, response: Response, priority: int) -> Request:
        return Request(
            url, self.parse, meta=self._meta(response), priority=priority, errback=self.failed
        )

    def failed(self, failure: Failure) -> None:
        """Count and log a request that ended without a usable response."""
        exc = failure.value
        response = getattr(exc, "response", None)
        if response is not None:
            reason = f"http_{response.status}"
        elif isinstance(exc, IgnoreRequest):
            msg = str(exc).lower()
            reason = (
                "robots"
                if "robots" in msg
                else "redirect_limit"
                if "redirect" in msg
                else "ignored"
            )
        else:
            reason = type(exc).__name__
        self.crawler.stats.inc_value(f"newsfilter/failed/{reason}")
        request: Request = failure.request  # type: ignore[attr-defined]  # set by Scrapy
        logger.warning("Failed %s: %s", request.url, reason)

    # -- pages ------------------------------------------------------------
    def parse(self, response: Response) -> Iterator[Request | PageItem]:
        ctype = response.headers.get(b"Content-Type", b"") or b""
        if not isinstance(response, TextResponse) or (
            ctype and not ctype.lower().startswith(HTML_TYPES)
        ):
            self.crawler.stats.inc_value("newsfilter/non_html")
            logger.info("Skipped non-HTML %s (%s)", response.url, ctype.decode("latin-1"))
            return
        if not response.body.strip():
            self.crawler.stats.inc_value("newsfilter/empty")
            return
        if self.analyser is None:  # baseline for benchmarks: a plain crawl, no items
            yield from self.follow(response, None)
            return
        try:
            analysis = self.analyser.analyse(
                response.body, url=response.url, encoding=response.encoding
            )
        except SegmentationError as exc:
            self.crawler.stats.inc_value("newsfilter/unparsable")
            logger.warning("Cannot parse %s: %s", response.url, exc)
            return
        yield PageItem(
            url=response.url,
            body=response.body,
            encoding=response.encoding,
            site=response.meta.get("site", ""),
            fetched_at=now_iso(),
            analysis=analysis,
        )
        yield from self.follow(response, analysis)

    # -- links ------------------------------------------------------------
    def follow(self, response: TextResponse, analysis: Analysis | None) -> Iterator[Request]:
        """The requests for the links of a page (ranked by block label when classified)."""
        if analysis is None:
            return self.follow_all(response)
        return self.follow_links(response, analysis)

    @staticmethod
    def links(
        response: Response, site: Site, found: Iterable[tuple[str, str]]
    ) -> Iterator[tuple[str, str]]:
        """``(url, label)`` for each ``(href, label)`` found on a page that the site follows.

        The URL is absolute and without fragment; a URL found twice keeps the
        label it was first found with.
        """
        seen: set[str] = set()
        for href, label in found:
            url = response.urljoin(href).split("#", 1)[0]
            if url not in seen:
                seen.add(url)
                if site.follows(url):
                    yield url, label

    def follow_all(self, response: TextResponse) -> Iterator[Request]:
        """Every same-site link, unranked (what a crawl without the classifier does)."""
        site = self.site_of(response)
        if site is None:
            return
        found = ((href, "") for href in response.css("a::attr(href)").getall())
        for url, _ in self.links(response, site, found):
            yield Request(url, self.parse, meta={"site": site.name}, errback=self.failed)

    def follow_links(self, response: Response, analysis: Analysis) -> Iterator[Request]:
        site = self.site_of(response)
        if site is None:
            return
        if analysis.feed:  # the dupe filter keeps this to one request per feed
            yield Request(
                response.urljoin(analysis.feed),
                self.parse_feed,
                meta={"site": site.name},
                priority=DISCOVERY_PRIORITY,
            )
        steps = response.meta.get("chrome_steps", 0)
        found = ((href, b.label) for b in analysis.extraction.blocks for href, _ in b.links)
        for url, label in self.links(response, site, found):
            if label == "chrome":
                if steps + 1 > self.config.chrome_depth:
                    continue
                yield Request(
                    url,
                    self.parse,
                    meta={"site": site.name, "chrome_steps": steps + 1},
                    priority=self.config.chrome_priority,
                    errback=self.failed,
                )
            else:
                priority = self.config.teaser_priority if label == "teaser" else 0
                yield self._story_request(url, response, priority)

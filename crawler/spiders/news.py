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
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from classifier.segment import SegmentationError

from ..analysis import PageAnalyser
from ..items import PageItem
from ..sites import Site, SitesError, load_sites

logger = logging.getLogger(__name__)

HTML_TYPES = (b"text/html", b"application/xhtml")
SKIP_EXTENSIONS = (
    ".jpg",
    ".jpeg",
    ".png",
    ".gif",
    ".webp",
    ".svg",
    ".pdf",
    ".zip",
    ".mp3",
    ".mp4",
    ".css",
    ".js",
    ".ico",
    ".xml",
    ".json",
)


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class NewsSpider(scrapy.Spider):
    name = "news"
    allowed_domains: list[str] = []
    chrome_depth = 2
    teaser_priority = 10
    chrome_priority = -10
    classify = True

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
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.sites = spider._select_sites(crawler.settings)
        spider.allowed_domains = sorted({d for s in spider.sites for d in s.allowed_domains})
        spider.chrome_depth = crawler.settings.getint("NEWSFILTER_CHROME_DEPTH", 2)
        spider.teaser_priority = crawler.settings.getint("NEWSFILTER_TEASER_PRIORITY", 10)
        spider.chrome_priority = crawler.settings.getint("NEWSFILTER_CHROME_PRIORITY", -10)
        spider.classify = crawler.settings.getbool("NEWSFILTER_CLASSIFY", True)
        if spider.classify:  # load (and check) the model now: fail before crawling, not on page 1
            PageAnalyser.for_crawler(crawler)
        return spider

    def _select_sites(self, settings: Any) -> list[Site]:
        if self.url_arg:
            return [Site.from_url(self.url_arg)]
        try:
            sites = load_sites(self.sites_file or settings.get("NEWSFILTER_SITES"))
        except SitesError as exc:
            raise ValueError(str(exc)) from exc
        if self.site_arg:
            sites = [s for s in sites if s.name == self.site_arg]
            if not sites:
                raise ValueError(f"no site named {self.site_arg!r} in the sites file")
        return sites

    # -- start ------------------------------------------------------------
    async def start(self) -> Any:
        for site in self.sites:
            meta = {"site": site.name, "chrome_steps": 0}
            for url in site.sitemaps:
                yield scrapy.Request(url, self.parse_sitemap, meta=meta, priority=5)
            for url in site.feeds:
                yield scrapy.Request(url, self.parse_feed, meta=meta, priority=5)
            for url in site.start_urls:
                yield scrapy.Request(url, self.parse, meta=meta, errback=self.failed)
                if not site.sitemaps:
                    robots = urljoin(url, "/robots.txt")
                    yield scrapy.Request(
                        robots, self.parse_robots, meta=meta, priority=5, dont_filter=False
                    )

    def site_of(self, response: Response) -> Site:
        name = response.meta.get("site")
        return next((s for s in self.sites if s.name == name), self.sites[0])

    # -- discovery --------------------------------------------------------
    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        for url in sitemap_urls_from_robots(response.text, base_url=response.url):
            yield scrapy.Request(url, self.parse_sitemap, meta=response.meta, priority=5)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
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
        site = self.site_of(response)
        for entry in sitemap:
            loc = entry.get("loc")
            if not loc:
                continue
            if sitemap.type == "sitemapindex":
                yield scrapy.Request(loc, self.parse_sitemap, meta=response.meta, priority=5)
            elif site.wants(loc):
                yield self._story_request(loc, response, self.teaser_priority)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse):
            return
        sel = response.selector
        sel.remove_namespaces()
        links = sel.xpath(
            "//item/link/text() | //entry/link[not(@rel) or @rel='alternate']/@href"
        ).getall()
        site = self.site_of(response)
        for link in links:
            url = response.urljoin(link.strip())
            if site.wants(url):
                yield self._story_request(url, response, self.teaser_priority)

    def _story_request(self, url: str, response: Response, priority: int) -> scrapy.Request:
        meta = {"site": response.meta.get("site"), "chrome_steps": 0}
        return scrapy.Request(url, self.parse, meta=meta, priority=priority, errback=self.failed)

    def failed(self, failure: Any) -> None:
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
        logger.warning("Failed %s: %s", failure.request.url, reason)

    # -- pages ------------------------------------------------------------
    def parse(self, response: Response) -> Iterator[Any]:
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
        if not self.classify:  # baseline for benchmarks: a plain crawl, no items
            yield from self.follow_all(response)
            return
        try:
            analysis = PageAnalyser.for_crawler(self.crawler).analyse(
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
        yield from self.follow_links(response, analysis)

    def follow_all(self, response: Response) -> Iterator[scrapy.Request]:
        """Every same-site link, unranked (what a crawl without the classifier does)."""
        site = self.site_of(response)
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href).split("#", 1)[0]
            if (
                site.owns(url)
                and site.wants(url)
                and not urlsplit(url).path.lower().endswith(SKIP_EXTENSIONS)
            ):
                yield scrapy.Request(url, self.parse, meta={"site": site.name}, errback=self.failed)

    def follow_links(self, response: Response, analysis: Any) -> Iterator[scrapy.Request]:
        site = self.site_of(response)
        steps = response.meta.get("chrome_steps", 0)
        seen: set[str] = set()
        if analysis.feed:  # the dupe filter keeps this to one request per feed
            yield scrapy.Request(
                response.urljoin(analysis.feed),
                self.parse_feed,
                meta={"site": site.name},
                priority=5,
            )
        for block in analysis.extraction.blocks:
            for href, _ in block.links:
                url = response.urljoin(href).split("#", 1)[0]
                if url in seen or not url.startswith(("http://", "https://")):
                    continue
                seen.add(url)
                if (
                    not site.owns(url)
                    or not site.wants(url)
                    or urlsplit(url).path.lower().endswith(SKIP_EXTENSIONS)
                ):
                    continue
                if block.label == "chrome":
                    if steps + 1 > self.chrome_depth:
                        continue
                    meta = {"site": site.name, "chrome_steps": steps + 1}
                    yield scrapy.Request(
                        url,
                        self.parse,
                        meta=meta,
                        priority=self.chrome_priority,
                        errback=self.failed,
                    )
                else:
                    priority = self.teaser_priority if block.label == "teaser" else 0
                    yield self._story_request(url, response, priority)

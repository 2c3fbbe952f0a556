"""The `news` spider: discover stories on configured sites, yield their pages.

Discovery: start pages, sitemaps (news sitemaps and sitemap indexes too, and
the ones robots.txt names), RSS/Atom feeds, and on-page links.  Every HTML
page is classified on its own; links in teaser blocks (other stories) are followed
first, links in article blocks next, links in chrome (sections, categories)
last and only NEWSFILTER_CHROME_DEPTH steps away from a story link.  Links
into crawler traps (crawler.traps) are not followed.  The page's item (what
the feed gets) is classified with its site's profile (crawler.profiles): a
site's first pages are held back until it has enough of them.

What servers get wrong is handled and counted: HTML sent as
application/octet-stream is read (``newsfilter/mislabelled/html``), a PDF or
other binary sent as text/html is skipped (``newsfilter/mislabelled/binary``),
a wrong or missing charset is corrected from the bytes
(``newsfilter/charset/mislabelled``, ``.../undeclared``), and every request
that ends without a page is counted by reason in ``newsfilter/failed/<reason>``
(:func:`failure_reason`).

    scrapy crawl news                          # every site in the sites file
    scrapy crawl news -a site=valley-times     # one of them
    scrapy crawl news -a url=https://x.example/   # an ad-hoc site
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, Self
from urllib.parse import urljoin

import scrapy
from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.internet.error import ConnectionLost
from twisted.python.failure import Failure

from classifier.segment import SegmentationError
from classifier.segment import looks_binary as text_looks_binary

from ..analysis import Analysis, PageAnalyser, Parsed, analyser_for_crawl
from ..charset import page_encoding
from ..config import Config
from ..items import PageItem
from ..profiles import SiteProfiles
from ..sites import Site, SitesError, load_sites
from ..stopping import Abandoned
from ..traps import TrapGuard

logger = logging.getLogger(__name__)

HTML_TYPES = (b"text/html", b"application/xhtml")
# types servers send HTML under by mistake: the body is sniffed
SNIFFED_TYPES = (b"application/octet-stream", b"binary/octet-stream", b"text/plain", b"")
SNIFF_BYTES = 1024
TAIL_BYTES = 1024  # where a complete page has its closing tags
HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<!--", b"<?xml")
BINARY_STARTS = (b"%pdf-", b"\x89png", b"gif8", b"\xff\xd8\xff", b"pk\x03\x04", b"\x1f\x8b")
DISCOVERY_PRIORITY = 5  # sitemaps, feeds and robots.txt: before the pages they list


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def looks_like_html(body: bytes) -> bool:
    """Whether *body* begins as an HTML document does (after a BOM and white space)."""
    head = body[:SNIFF_BYTES].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(HTML_STARTS) and any(t in head for t in (b"<html", b"<head", b"<body"))


def looks_binary(body: bytes) -> bool:
    """Whether *body* is a file of a known binary type, or not text at all
    (a stray NUL is not enough: :func:`classifier.segment.looks_binary`)."""
    head = body[:SNIFF_BYTES].lstrip().lower()
    return head.startswith(BINARY_STARTS) or text_looks_binary(body)


def looks_truncated(response: Response) -> bool:
    """A body without Content-Length that stops before its closing tag (connection cut).

    Twisted cannot tell the end of such a body from a connection that broke
    mid-page (Scrapy flags both "partial"); a page that is cut off has no
    ``</html>`` or ``</body>`` near its end.
    """
    if "partial" not in response.flags:
        return False
    tail = response.body[-TAIL_BYTES:].lower()
    return b"</html" not in tail and b"</body" not in tail


def failure_reason(exc: BaseException | None) -> str:
    """The ``newsfilter/failed/<reason>`` of a request that ended without a page."""
    response = getattr(exc, "response", None)
    if response is not None:
        return f"http_{response.status}"
    if isinstance(exc, IgnoreRequest):
        msg = str(exc).lower()
        for start, reason in (("redirect loop", "redirect_loop"), ("trap:", "trap")):
            if msg.startswith(start):
                return reason
        if "robots" in msg:
            return "robots"
        if "redirect" in msg:
            return "redirect_limit"
        if "during decompression" in msg:  # HttpCompressionMiddleware past DOWNLOAD_MAXSIZE
            return "too_large_unpacked"
        return "ignored"
    if isinstance(exc, DownloadCancelledError):  # Scrapy's handler cancels past DOWNLOAD_MAXSIZE
        return "too_large"
    if isinstance(exc, ResponseDataLossError):  # fewer bytes than Content-Length
        reasons = getattr(exc.__cause__, "reasons", [])
        reset = any(isinstance(r, Failure) and r.check(ConnectionLost) for r in reasons)
        return "connection_reset" if reset else "data_loss"
    for kind, reason in (
        (DownloadTimeoutError, "timeout"),
        (DownloadFailedError, "connection_lost"),  # reset or closed mid-response
        (DownloadConnectionRefusedError, "connection_refused"),
        (CannotResolveHostError, "dns"),
        (ConnectionError, "connection_lost"),
    ):
        if isinstance(exc, kind):
            return reason
    if isinstance(exc, (OSError, EOFError, zlib.error)):  # gzip/deflate that does not decode
        return "bad_compression"
    return type(exc).__name__


class NewsSpider(scrapy.Spider):
    name = "news"
    allowed_domains: list[str] = []
    config: Config  # from the settings, in from_crawler
    # the block model, loaded in from_crawler; None for a plain crawl
    # (NEWSFILTER_CLASSIFY=False).  The ArticlePipeline uses it too.
    analyser: PageAnalyser | None = None
    # crawler traps; None for a plain crawl, which cannot tell stories
    traps: TrapGuard | None = None
    # site profiles (crawler.profiles); None for a plain crawl or NEWSFILTER_SITE_PROFILE=False
    profiles: SiteProfiles | None = None

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
            spider.analyser = analyser_for_crawl(spider.config, spider.sites)
            spider.traps = TrapGuard(spider.config.trap_pages, spider.config.trap_segment_repeats)
            spider.profiles = SiteProfiles.from_crawler(crawler, spider.analyser)
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
                yield self._sitemap_request(url, meta)
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
    def _sitemap_request(self, url: str, meta: dict[str, Any]) -> Request:
        """A sitemap may be as large as the protocol allows, more than a page."""
        meta = {**meta, "download_maxsize": self.config.sitemap_maxsize}
        return Request(url, self.parse_sitemap, meta=meta, priority=DISCOVERY_PRIORITY)

    def parse_robots(self, response: Response) -> Iterator[Request]:
        for url in sitemap_urls_from_robots(response.body, base_url=response.url):
            yield self._sitemap_request(url, self._meta(response))

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        site = self.site_of(response)
        if site is None:
            return
        body = response.body
        if response.url.endswith(".gz") or body[:2] == b"\x1f\x8b":
            try:
                body = gunzip(body, max_size=self.config.sitemap_maxsize)
            except (OSError, EOFError, ValueError):  # ValueError: past the size limit
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
                yield self._sitemap_request(loc, self._meta(response))
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
        request: Request = failure.request  # type: ignore[attr-defined]  # set by Scrapy
        if isinstance(exc, Abandoned):  # the crawl is stopping; a resumed one makes it again
            self.crawler.stats.inc_value("newsfilter/abandoned")
            logger.debug("Abandoned %s: the crawl is stopping", request.url)
            return
        reason = failure_reason(exc)
        self.crawler.stats.inc_value(f"newsfilter/failed/{reason}")
        logger.warning("Failed %s: %s", request.url, reason)

    # -- pages ------------------------------------------------------------
    def html_response(self, response: Response) -> TextResponse | None:
        """*response* as an HTML page, whatever its Content-Type says; None if it is not one."""
        ctype = response.headers.get(b"Content-Type", b"") or b""
        mimetype = ctype.split(b";", 1)[0].strip().lower()
        stats = self.crawler.stats
        if mimetype.startswith(HTML_TYPES) or (not ctype and isinstance(response, TextResponse)):
            if not looks_binary(response.body):
                if isinstance(response, TextResponse):
                    return response
                return response.replace(cls=HtmlResponse)
            stats.inc_value("newsfilter/mislabelled/binary")
        elif mimetype in SNIFFED_TYPES and looks_like_html(response.body):
            stats.inc_value("newsfilter/mislabelled/html")
            logger.info("Reading %s as HTML (sent as %s)", response.url, ctype.decode("latin-1"))
            return response.replace(cls=HtmlResponse)
        stats.inc_value("newsfilter/non_html")
        logger.info("Skipped non-HTML %s (%s)", response.url, ctype.decode("latin-1"))
        return None

    def parse(self, response: Response) -> Iterator[Request | PageItem]:
        page = self.html_response(response)
        if page is None:
            return
        if looks_truncated(page):
            self.crawler.stats.inc_value("newsfilter/failed/truncated")
            logger.warning("Failed %s: truncated (connection closed mid-page)", page.url)
            return
        if not page.body.strip():
            self.crawler.stats.inc_value("newsfilter/empty")
            return
        if self.analyser is None:  # baseline for benchmarks: a plain crawl, no items
            yield from self.follow(page, None)
            return
        encoding, correction = page_encoding(page.body, page.headers.get(b"Content-Type"))
        if correction:
            self.crawler.stats.inc_value(f"newsfilter/charset/{correction}")
        try:
            parsed = self.analyser.parse(
                page.body, url=page.url, encoding=encoding, site=page.meta.get("site", "")
            )
            analysis = self.analyser.classify(parsed)  # alone: links and traps
        except SegmentationError as exc:
            self.crawler.stats.inc_value("newsfilter/unparsable")
            logger.warning("Cannot parse %s: %s", page.url, exc)
            return
        except Exception as exc:  # a bug met on one page: counted by type, the crawl goes on
            self.crawler.stats.inc_value(f"newsfilter/error/{type(exc).__name__}")
            logger.error("Error analysing %s", page.url, exc_info=True)
            return
        if self.traps is not None and self.traps.observe(page.url, analysis.is_story):
            self.crawler.stats.inc_value("newsfilter/trap/patterns_cut")
        item = PageItem(
            url=page.url,
            body=page.body,
            encoding=encoding,
            site=page.meta.get("site", ""),
            fetched_at=now_iso(),
            analysis=analysis,
        )
        yield from self.items(item, parsed, page)
        yield from self.follow(page, analysis)

    def items(self, item: PageItem, parsed: Parsed, response: Response) -> Iterator[PageItem]:
        """The items to yield for a classified page: itself, or with site
        profiles (crawler.profiles) those its site's profile lets go now."""
        if self.profiles is None:
            yield item
            return
        assert response.request is not None  # a callback's response has its request
        try:
            released = self.profiles.page(item, parsed, response.request)
        except Exception as exc:  # a bug in the profile: counted, the page alone, the crawl goes on
            self.crawler.stats.inc_value(f"newsfilter/error/{type(exc).__name__}")
            logger.error("Error profiling %s; classified alone", item.url, exc_info=True)
            released = [item]
        yield from released

    # -- links ------------------------------------------------------------
    def follow(self, response: TextResponse, analysis: Analysis | None) -> Iterator[Request]:
        """The requests for the links of a page (ranked by block label when classified)."""
        if analysis is None:
            return self.follow_all(response)
        return self.follow_links(response, analysis)

    def links(
        self, response: Response, site: Site, found: Iterable[tuple[str, str]]
    ) -> Iterator[tuple[str, str]]:
        """``(url, label)`` for each ``(href, label)`` found on a page that the site follows.

        The URL is absolute and without fragment; a URL found twice keeps the
        label it was first found with.  Links into traps are counted
        (``newsfilter/trap/<reason>``) and left out.
        """
        seen: set[str] = set()
        for href, label in found:
            try:
                url = response.urljoin(href).split("#", 1)[0]
            except ValueError:  # no URL at all (href='http://[::1')
                continue
            if url not in seen:
                seen.add(url)
                if not site.follows(url):
                    continue
                trap = self.traps.trap(url) if self.traps is not None else None
                if trap:
                    self.crawler.stats.inc_value(f"newsfilter/trap/{trap}")
                    continue
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

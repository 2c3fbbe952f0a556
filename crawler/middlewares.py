"""Downloader middlewares: robots.txt for every request, Retry-After, redirect loops, traps.

The first three replace Scrapy's own in ``DOWNLOADER_MIDDLEWARES``
(crawler/settings.py).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic
from typing import Any, Self, TypeVar

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxt
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.robotstxt import RobotParser
from scrapy.settings import BaseSettings
from scrapy.utils.asyncio import is_asyncio_available, sleep
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.response import response_status_message
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from .config import Config
from .stopping import Abandoned, stop_requested

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _own_copy(shared: Deferred[T]) -> Deferred[T]:
    """A Deferred that fires with *shared*'s result, leaving that result in place.

    Awaiting a Deferred (as an asyncio Future, or with ``await`` under a
    Twisted reactor) consumes its result: the next callback gets None.
    """
    own: Deferred[T] = Deferred()

    def relay(result: T | Failure) -> T | Failure:
        if isinstance(result, Failure):
            own.errback(result)
        else:
            own.callback(result)
        return result

    shared.addBoth(relay)
    return own


class RobotsTxtMiddleware(ScrapyRobotsTxt):
    """Scrapy's robots.txt middleware, checking requests that arrive while robots.txt loads.

    Scrapy 2.19 keeps one Deferred per host while that host's robots.txt is
    downloaded, and every request arriving meanwhile awaits it.  Awaiting
    consumes the result (Twisted's ``Deferred.asFuture``), so the first
    waiting request gets the parser and every later one gets None, which reads
    as "no robots.txt: allow everything": a fresh or resumed crawl that starts
    with many requests fetched disallowed pages.  Here each waiting request
    awaits a Deferred of its own.
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            return await maybe_deferred_to_future(_own_copy(pending))
        return await super().robot_parser(request)


def retry_after_seconds(value: bytes | str, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks to wait (delay-seconds or an HTTP date); None if bad."""
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware, waiting as long as a 429 or 503 asks in Retry-After.

    The retry counts against RETRY_TIMES as any other.  The whole host
    waits: requests to it that reach this middleware before the time is up
    wait too (ones already handed to the downloader are not held back).  A
    wait longer than NEWSFILTER_RETRY_AFTER_MAX is not honoured: the request
    is given up at once (its errback sees the 429/503) and counted in
    ``newsfilter/retry_after/too_long``.  Retries that waited are counted in
    ``newsfilter/retry_after/waited``.  A waiting request holds one of the
    CONCURRENT_REQUESTS, like a slow download.
    """

    CODES = frozenset({429, 503})

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.max_wait = Config.from_settings(settings).retry_after_max
        self.not_before: dict[str, float] = {}  # download slot -> monotonic() time
        self.stopping: asyncio.Event | None = None  # set when the crawl stops: waits end

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        mw = super().from_crawler(crawler)
        crawler.signals.connect(mw._stop, signal=stop_requested)
        return mw

    def _stop(self) -> None:
        if self.stopping is None:
            self.stopping = asyncio.Event()
        self.stopping.set()

    def _slot(self, request: Request) -> str:
        return self.crawler.engine.downloader.get_slot_key(request)

    async def process_request(self, request: Request) -> None:
        key = self._slot(request)
        wait = self.not_before.get(key, 0.0) - monotonic()
        if wait > 0:
            logger.debug("Waiting %.1f s (Retry-After) before %s", wait, request)
            await self._sleep(wait, request)
        elif key in self.not_before:
            del self.not_before[key]

    async def _sleep(self, seconds: float, request: Request) -> None:
        """Wait *seconds*, or less when the crawl stops (then the request is abandoned)."""
        if not is_asyncio_available():
            await sleep(seconds)
            return
        if self.stopping is None:
            self.stopping = asyncio.Event()
        if self.stopping.is_set():
            raise Abandoned(f"crawl stopping: {request.url}")
        try:
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        except TimeoutError:
            return
        raise Abandoned(f"crawl stopping: {request.url}")

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        header = response.headers.get(b"Retry-After")
        if (
            response.status not in self.CODES
            or response.status not in self.retry_http_codes
            or header is None
            or request.meta.get("dont_retry", False)
        ):
            return super().process_response(request, response)
        wait = retry_after_seconds(header)
        if wait is None:  # unreadable: retry as Scrapy does
            return super().process_response(request, response)
        stats = self.crawler.stats
        if wait > self.max_wait:
            stats.inc_value("newsfilter/retry_after/too_long")
            logger.warning(
                "Gave up %s: %d asks to wait %.0f s, more than NEWSFILTER_RETRY_AFTER_MAX (%.0f s)",
                request,
                response.status,
                wait,
                self.max_wait,
            )
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        key = self._slot(request)
        self.not_before[key] = max(self.not_before.get(key, 0.0), monotonic() + wait)
        stats.inc_value("newsfilter/retry_after/waited")
        return retry


class RedirectLoopMiddleware(RedirectMiddleware):
    """Scrapy's RedirectMiddleware, giving up a redirect back to a URL of the same chain.

    Scrapy follows a loop until REDIRECT_MAX_TIMES, or until its duplicate
    filter drops the repeat without a word.  Here the request fails at once
    with ``IgnoreRequest("redirect loop")``: its errback sees it, and the
    spider counts it (``newsfilter/failed/redirect_loop``).
    """

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if redirected.url in chain:
            logger.info("Redirect loop: %s leads back to %s", request.url, redirected.url)
            raise IgnoreRequest(f"redirect loop: {request.url} -> {redirected.url}")
        return super()._redirect(redirected, request, reason)


class TrapMiddleware:
    """Drop queued requests whose URL pattern turned out to be a trap (crawler.traps).

    The spider stops following such links once the pattern is cut; requests
    for it already queued by then are dropped here, before they are made,
    with ``IgnoreRequest("trap: ...")`` (counted as ``newsfilter/failed/trap``).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        traps = getattr(self.crawler.spider, "traps", None)
        if traps is not None and traps.blocked_pattern(request.url):
            raise IgnoreRequest(f"trap: {request.url} (URL pattern cut, NEWSFILTER_TRAP_PAGES)")

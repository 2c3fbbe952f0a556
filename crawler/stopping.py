"""Ctrl-C stops the crawl within a few seconds, losing nothing.

Scrapy's graceful stop (the first Ctrl-C, or SIGTERM) waits for every
request already taken from the scheduler: the ones downloading, and the ones
queued in the downloader behind the download delay, AutoThrottle's delay or
a Retry-After wait.  With sixteen of them and a delay of a few seconds that
took over half a minute.  Here, once the engine is stopping, the
:class:`FastStop` extension sends :data:`stop_requested`; on it, queued and
sleeping requests are failed with :class:`Abandoned`, and downloads under way
are aborted (:class:`StoppableHTTP11DownloadHandler`).  Responses already
downloaded are still processed.

Nothing is lost: the project's scheduler (crawler.scheduler) keeps every
request that was not finished in the job directory, so a resumed crawl makes
them again.  Without JOBDIR the abandoned requests are gone, as any request
still queued is when a crawl stops.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Self

from scrapy import Request, signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.asyncio import create_looping_call, is_asyncio_available
from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

# Signal: the crawl is stopping (shutdown), drop the work in progress.
stop_requested = object()
POLL_SECONDS = 0.1  # how often FastStop looks whether the engine is stopping


class Abandoned(IgnoreRequest):
    """A request dropped because the crawl is stopping; a resumed crawl makes it again."""


class StoppableHTTP11DownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler whose downloads under way are aborted on stop_requested."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._running: set[asyncio.Future[Response]] = set()
        self._stopping = False
        crawler.signals.connect(self._stop, signal=stop_requested)

    def _stop(self) -> None:
        self._stopping = True
        for task in list(self._running):
            task.cancel()

    async def download_request(self, request: Request) -> Response:
        if self._stopping:
            raise Abandoned(f"crawl stopping: {request.url}")
        if not is_asyncio_available():  # no task to cancel: Scrapy's own stop
            return await super().download_request(request)
        task = asyncio.ensure_future(super().download_request(request))
        self._running.add(task)
        try:
            return await task
        except asyncio.CancelledError:
            if self._stopping and task.cancelled():
                raise Abandoned(f"crawl stopping: {request.url}") from None
            raise
        finally:
            self._running.discard(task)


class FastStop:
    """Send stop_requested once the engine is stopping; fail the downloader's queued requests."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.was_running = False
        self.sent = False
        self.loop = create_looping_call(self.check)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self) -> None:
        self.loop.start(POLL_SECONDS, now=False)

    def spider_closed(self) -> None:
        if self.loop.running:
            self.loop.stop()

    def check(self) -> None:
        engine = self.crawler.engine
        if engine is None or self.sent:
            return
        if engine.running:
            self.was_running = True
        elif self.was_running and engine.spider is not None:
            self.stop()

    def stop(self) -> None:
        """Drop the work in progress: the crawl is shutting down."""
        self.sent = True
        assert self.crawler.engine is not None
        downloader = self.crawler.engine.downloader
        downloading, queued = sum(len(s.transferring) for s in downloader.slots.values()), 0
        for slot in list(downloader.slots.values()):
            while slot.queue:
                request, deferred = slot.queue.popleft()
                deferred.errback(Failure(Abandoned(f"crawl stopping: {request.url}")))
                queued += 1
        logger.info(
            "Stopping: %d queued and %d downloading requests dropped (with JOBDIR a"
            " resumed crawl makes them again)",
            queued,
            downloading,
        )
        self.crawler.signals.send_catch_log(signal=stop_requested)

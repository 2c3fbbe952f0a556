"""Add-ons: settings the project derives from other settings before a crawl starts."""

from __future__ import annotations

from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings

from .config import Config


class DefaultFeed:
    """Write NEWSFILTER_FEED when the command line names no feed.

    Scrapy merges a FEEDS setting from the project with the feeds of `-o` and
    `-O`, so a FEEDS in settings.py would be written beside `-O out.jsonl`.
    Here the project gives FEEDS only when nothing above Scrapy's default has
    set it: `-o`, `-O` and `-s FEEDS=...` (`-s FEEDS={}` for no feed at all)
    each replace it, and a crawl without them writes NEWSFILTER_FEED.
    """

    def update_settings(self, settings: BaseSettings) -> None:
        if (settings.getpriority("FEEDS") or 0) > SETTINGS_PRIORITIES["default"]:
            return
        uri = Config.from_settings(settings).feed
        if uri:
            settings.set(
                "FEEDS", {uri: {"format": "jsonlines", "encoding": "utf-8"}}, priority="project"
            )


class Distributed:
    """With NEWSFILTER_REDIS_URL, crawl on the shared Redis frontier (crawler.distributed).

    The scheduler becomes :class:`crawler.distributed.RedisScheduler` (unless
    the command line names another), with scrapy-redis's dupefilter (its
    scheduler would take Scrapy's default DUPEFILTER_CLASS, a per-process
    filter), and scrapy-redis is given the URL.  The export record and the
    per-domain limit read NEWSFILTER_REDIS_URL themselves.  Without the URL
    nothing changes.
    """

    def update_settings(self, settings: BaseSettings) -> None:
        url = Config.from_settings(settings).redis_url
        if not url:
            return
        if (settings.getpriority("SCHEDULER") or 0) <= SETTINGS_PRIORITIES["project"]:
            settings.set("SCHEDULER", "crawler.distributed.RedisScheduler", priority="project")
        if (settings.getpriority("DUPEFILTER_CLASS") or 0) <= SETTINGS_PRIORITIES["project"]:
            settings.set(
                "DUPEFILTER_CLASS", "scrapy_redis.dupefilter.RFPDupeFilter", priority="project"
            )
        settings.set("REDIS_URL", url, priority="project")
        journal = "crawler.distributed.RedisExportJournal"
        settings.set("NEWSFILTER_EXPORT_JOURNAL", journal, priority="project")

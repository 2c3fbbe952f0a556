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

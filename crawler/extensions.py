"""Write the crawl's stats to a JSON file when it closes (NEWSFILTER_STATS_FILE)."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from .config import Config

logger = logging.getLogger(__name__)


class StatsFile:
    """``-s NEWSFILTER_STATS_FILE=stats.json`` keeps the crawl stats for scripts and tests."""

    def __init__(self, path: Path, crawler: Crawler) -> None:
        self.path = path
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        path = Config.from_settings(crawler.settings).stats_file
        if not path:
            raise NotConfigured
        ext = cls(Path(path), crawler)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = dict(self.crawler.stats.get_stats())
        stats["finish_reason"] = reason
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(
            json.dumps(stats, indent=2, default=_jsonable) + "\n", encoding="utf-8"
        )
        logger.info("Wrote crawl stats to %s", self.path)


def _jsonable(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)

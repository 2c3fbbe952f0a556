"""Write the crawl's stats to a JSON file when it closes (NEWSFILTER_STATS_FILE)."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)


class StatsFile:
    """``-s NEWSFILTER_STATS_FILE=stats.json`` keeps the crawl stats for scripts and tests."""

    def __init__(self, path: Path, crawler: Any) -> None:
        self.path = path
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> StatsFile:
        path = crawler.settings.get("NEWSFILTER_STATS_FILE")
        if not path:
            raise NotConfigured
        ext = cls(Path(path), crawler)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Any, reason: str) -> None:
        stats = dict(self.crawler.stats.get_stats())
        stats["finish_reason"] = reason
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(
            json.dumps(stats, indent=2, default=_jsonable) + "\n", encoding="utf-8"
        )
        logger.info("Wrote crawl stats to %s", self.path)


def _jsonable(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)

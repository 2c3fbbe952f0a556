"""`make demo`: serve the bundled demo site on 127.0.0.1, crawl it, write a feed.

    python -m crawler.demo [-o feeds/demo.jsonl]

Everything is offline: the server is in this process, on a free port, and
stops when the crawl ends.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from .server import serve

SITE = Path(__file__).resolve().parent / "site"
DEMO_SETTINGS = {
    # our own server on loopback: no need to wait between requests
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "LOG_LEVEL": "WARNING",
}


def crawl_settings(feed: Path | None, overrides: dict[str, Any] | None = None) -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.update(DEMO_SETTINGS, priority="cmdline")
    settings.set(
        "FEEDS",
        {str(feed): {"format": "jsonlines", "encoding": "utf-8", "overwrite": True}}
        if feed
        else {},
        priority="cmdline",
    )
    settings.update(overrides or {}, priority="cmdline")
    return settings


def crawl(
    base_url: str, feed: Path | None, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Crawl one site with the `news` spider; return the crawl stats."""
    process = CrawlerProcess(crawl_settings(feed, overrides))
    crawler = process.create_crawler("news")
    process.crawl(crawler, url=base_url + "/")
    process.start()
    return dict(crawler.stats.get_stats())


def summary(stats: dict[str, Any], feed: Path, seconds: float) -> str:
    items = stats.get("item_scraped_count", 0)
    lines = [
        f"demo crawl finished in {seconds:.1f} s",
        f"  articles exported      {items}  -> {feed}",
        f"  pages skipped (no article, listings)  {stats.get('newsfilter/non_article', 0)}",
        f"  duplicates dropped     {stats.get('newsfilter/duplicate', 0)}",
        f"  pages fetched          {stats.get('response_received_count', 0)}",
        f"  robots.txt forbidden   {stats.get('robotstxt/forbidden', 0)}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.demo", description=__doc__.splitlines()[0]
    )
    parser.add_argument("-o", "--output", default="feeds/demo.jsonl", help="JSONL feed to write")
    args = parser.parse_args(argv)
    feed = Path(args.output)
    feed.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with serve(SITE) as base_url:
        print(f"serving the demo site at {base_url}", flush=True)
        stats = crawl(base_url, feed)
    print(summary(stats, feed, time.perf_counter() - started))
    if not feed.exists():
        print(f"error: no feed written to {feed}", file=sys.stderr)
        return 1
    titles = [json.loads(line)["title"] for line in feed.read_text(encoding="utf-8").splitlines()]
    for title in titles[:5]:
        print(f"  - {title}")
    if len(titles) > 5:
        print(f"  ... and {len(titles) - 5} more")
    return 0


if __name__ == "__main__":
    sys.exit(main())

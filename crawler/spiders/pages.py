"""The `pages` spider: extract a given list of URLs or saved files.

    scrapy crawl pages -a urls=list.txt -O out.jsonl

``list.txt`` holds one URL or local path a line (``file://`` URLs too; blank
lines and ``#`` comments are skipped).  Nothing is followed.  Site profiles
(crawler.profiles) are kept by URL host (a ``file://`` URL: by its folder):
a host's first pages wait for its profile, the rest at the end of the list.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from scrapy.http import Request, TextResponse

from ..analysis import Analysis
from ..sites import Site
from .news import NewsSpider

logger = logging.getLogger(__name__)


def read_targets(path: Path) -> list[str]:
    """URLs from a list file; local paths become file:// URLs (relative to the list)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ValueError(f"cannot read URL list {path}: {exc}") from exc
    out = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "://" in line:
            out.append(line)
        else:
            local = Path(line)
            if not local.is_absolute():
                local = (path.parent / local).resolve()
            out.append(local.as_uri())
    return out


class PagesSpider(NewsSpider):
    name = "pages"

    def __init__(self, urls: str | None = None, *args: Any, **kwargs: Any) -> None:
        if not urls:
            raise ValueError("give the URL list: scrapy crawl pages -a urls=FILE")
        self.targets = read_targets(Path(urls))
        super().__init__(*args, **kwargs)

    def _select_sites(self) -> list[Site]:  # no sites file: the list is the crawl
        return []

    async def start(self) -> AsyncIterator[Request]:
        for url in self.targets:
            yield Request(url, self.parse, meta={"site": ""}, errback=self.failed)

    def follow(self, response: TextResponse, analysis: Analysis | None) -> Iterator[Request]:
        return iter(())  # the list is the crawl, classified or not

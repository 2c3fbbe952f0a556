"""Crawler traps: endless calendars, pagination past the last page, paths that grow.

Two rules, beside Scrapy's DEPTH_LIMIT (which cuts a chain of links, but not
a trap that fans out: a calendar month links to thirty days, each of which
links to the next):

- **URL pattern** (NEWSFILTER_TRAP_PAGES): a URL's pattern is its host and
  path with every run of digits replaced by ``N``, and its query keys
  (``/calendar/N/N/N``, ``/world?page=N``).  Once a pattern has given that
  many pages and not a single story, its links are no longer followed and
  requests for it still queued are dropped.  Story URLs (``/news/N/N/slug``)
  give stories and are never cut; a listing pattern is cut only after that
  many listing pages, which sitemaps and other listings complement.
- **repeated path segment** (NEWSFILTER_TRAP_SEGMENT_REPEATS): a relative
  link resolved against the wrong base (``page/2`` on ``/world/page/2``)
  makes paths that grow forever, ``/world/page/page/page/2``; a URL with one
  segment more often than this is not followed.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from urllib.parse import parse_qsl, urlsplit

logger = logging.getLogger(__name__)

_DIGITS = re.compile(r"\d+")
# patterns remembered at most (least recently seen forgotten first): memory
# stays bounded on a site with millions of URLs; a forgotten trap is cut again
PATTERNS_KEPT = 10_000


def url_pattern(url: str) -> str:
    """Host, path with digits as ``N``, and query keys with digit values as ``N``."""
    parts = urlsplit(url)
    path = _DIGITS.sub("N", parts.path)
    query = "&".join(sorted(f"{k}={_DIGITS.sub('N', v)}" for k, v in parse_qsl(parts.query, True)))
    return f"{parts.hostname}{path}" + (f"?{query}" if query else "")


def repeated_segment(url: str, max_repeats: int) -> bool:
    """Whether one path segment of *url* occurs more than *max_repeats* times."""
    if max_repeats <= 0:
        return False
    counts: dict[str, int] = {}
    for segment in urlsplit(url).path.split("/"):
        if segment:
            counts[segment] = counts.get(segment, 0) + 1
            if counts[segment] > max_repeats:
                return True
    return False


class TrapGuard:
    """Counts pages and stories per URL pattern; tells which URLs not to fetch."""

    def __init__(self, max_pages: int, max_segment_repeats: int) -> None:
        self.max_pages = max_pages
        self.max_segment_repeats = max_segment_repeats
        # pattern -> [pages without a story, stories]
        self.counts: OrderedDict[str, list[int]] = OrderedDict()

    def observe(self, url: str, is_story: bool) -> str | None:
        """Record a fetched page; return its pattern if this page made it a trap."""
        if self.max_pages <= 0:
            return None
        pattern = url_pattern(url)
        count = self.counts.get(pattern)
        if count is None:
            count = self.counts[pattern] = [0, 0]
            if len(self.counts) > PATTERNS_KEPT:
                self.counts.popitem(last=False)
        else:
            self.counts.move_to_end(pattern)
        count[1 if is_story else 0] += 1
        if count == [self.max_pages, 0]:
            logger.warning(
                "URL pattern %s looks like a trap: %d pages and no story;"
                " not following it further (NEWSFILTER_TRAP_PAGES)",
                pattern,
                self.max_pages,
            )
            return pattern
        return None

    def blocked_pattern(self, url: str) -> bool:
        count = self.counts.get(url_pattern(url)) if self.max_pages > 0 else None
        return count is not None and count[1] == 0 and count[0] >= self.max_pages

    def trap(self, url: str) -> str | None:
        """The reason not to fetch *url* (``"pattern"``, ``"repeated_segment"``), or None."""
        if repeated_segment(url, self.max_segment_repeats):
            return "repeated_segment"
        if self.blocked_pattern(url):
            return "pattern"
        return None

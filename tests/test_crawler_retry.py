"""Retry-After on 429 and 503 is waited for, up to NEWSFILTER_RETRY_AFTER_MAX."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import crawlsite
import pytest
from crawlsite import run_scrapy

from crawler.middlewares import retry_after_seconds

WAIT = 1  # the Retry-After the test server asks for, in seconds


class BusySite(crawlsite.Handler):
    """/busy and /limited ask to come back in WAIT s once; /down asks for longer than allowed."""

    def answer(self, path: str) -> None:
        first = self.server.hits.count(path) == 1
        if path == "/busy" and first:
            self.send(503, b"busy", headers={"Retry-After": str(WAIT)})
        elif path == "/limited" and first:
            self.send(429, b"slow down", headers={"Retry-After": str(WAIT)})
        elif path == "/busy":
            self.send(200, crawlsite.STORY.encode())
        elif path == "/limited":
            self.send(200, crawlsite.REDIRECTED.encode())
        elif path == "/down":
            self.send(503, b"down for maintenance", headers={"Retry-After": "120"})
        else:
            super().answer(path)


def sent(server: crawlsite.SiteServer, path: str) -> list[tuple[float, int]]:
    return [(t, status) for t, p, status in server.sent if p == path]


def test_retry_after_is_waited_for_and_a_long_one_given_up(tmp_path: Path) -> None:
    with crawlsite.running(BusySite) as server:
        listing = tmp_path / "list.txt"
        listing.write_text("".join(f"{server.base}{p}\n" for p in ["/busy", "/limited", "/down"]))
        stats, items = run_scrapy(["pages", "-a", f"urls={listing}"], tmp_path)
    for path, status in [("/busy", 503), ("/limited", 429)]:
        (asked, first), (answered, second) = sent(server, path)
        assert (first, second) == (status, 200)
        assert answered - asked >= WAIT - 0.05, f"{path} was retried too soon"
    assert stats["newsfilter/retry_after/waited"] == 2
    assert sorted(i["title"] for i in items) == [
        "Ferry service resumes on the lake",
        "Hospital wing opens next month",
    ]
    # 120 s is more than NEWSFILTER_RETRY_AFTER_MAX: given up at once, not retried
    assert [s for _, s in sent(server, "/down")] == [503]
    assert stats["newsfilter/retry_after/too_long"] == 1
    assert stats["newsfilter/failed/http_503"] == 1


NOW = datetime(2026, 5, 2, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (b"7", 7.0),
        (b" 0 ", 0.0),
        (format_datetime(NOW + timedelta(seconds=30), usegmt=True).encode(), 30.0),
        (format_datetime(NOW - timedelta(seconds=30), usegmt=True).encode(), 0.0),  # past
        (b"soon", None),
        (b"-5", None),
        ("\u00b2", None),  # a digit to str.isdigit, not to float
        (b"", None),
    ],
)
def test_retry_after_seconds(header: bytes | str, seconds: float | None) -> None:
    assert retry_after_seconds(header, now=NOW) == seconds

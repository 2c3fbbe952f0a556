"""robots.txt is obeyed for every request, also the ones that wait while it loads.

Scrapy 2.19's RobotsTxtMiddleware gives the parser to the first two requests
waiting for a host's robots.txt and lets the others through unchecked; the
project's middleware (crawler.middlewares.RobotsTxtMiddleware) does not.  The
server below answers robots.txt late, so that many requests to disallowed
paths (start URLs, sitemap entries, requests resumed from a job directory)
are waiting for it, and counts what it is asked.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import crawlsite
from crawlsite import ROOT, run_scrapy

ROBOTS_DELAY = 0.5  # seconds robots.txt takes: every early request waits for it
PRIVATE = 30  # disallowed URLs among the start URLs and again in the sitemap
MANY = ["-s", "CONCURRENT_REQUESTS=64", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]
PLAIN = ["-s", "NEWSFILTER_CLASSIFY=False"]  # what is fetched is the point, not the stories


def page(title: str) -> bytes:
    return f"<html><head><title>{title}</title></head><body><p>{title}</p></body></html>".encode()


class RobotsSite(crawlsite.Handler):
    """robots.txt (late) disallows /private/; the sitemap lists private pages and one story."""

    def answer(self, path: str) -> None:
        if path == "/robots.txt":
            time.sleep(ROBOTS_DELAY)
            self.send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        elif path == "/sitemap.xml":
            urls = [f"{self.server.base}/private/m{i}" for i in range(PRIVATE)]
            urls.append(f"{self.server.base}/story.html")
            locs = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>'
                f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
            )
            self.send(200, body.encode(), "application/xml")
        elif path.startswith("/hold/"):  # answered once the test releases it
            self.server.release.wait(timeout=30)
            self.send(200, page("Held page"))
        elif path == "/story.html" or path.startswith("/private/"):
            self.send(200, crawlsite.STORY.encode())
        else:  # the story's other links: nothing slow to wait for
            self.send(404, page("Not found"))


def sites_file(tmp: Path, base: str, start_urls: list[str]) -> Path:
    path = tmp / "sites.toml"
    urls = ", ".join(f'"{u}"' for u in start_urls)
    path.write_text(
        f'[[site]]\nname = "robots-test"\nstart_urls = [{urls}]\n'
        f'sitemaps = ["{base}/sitemap.xml"]\n',
        encoding="utf-8",
    )
    return path


def private_hits(hits: list[str]) -> list[str]:
    return [h for h in hits if h.startswith("/private/")]


def test_robots_txt_is_obeyed_by_requests_waiting_for_it(tmp_path: Path) -> None:
    with crawlsite.running(RobotsSite) as server:
        start = [f"{server.base}/private/s{i}" for i in range(PRIVATE)]
        sites = sites_file(tmp_path, server.base, start)
        stats, _ = run_scrapy(["news", "-a", f"sites_file={sites}", *PLAIN, *MANY], tmp_path)
    assert private_hits(server.hits) == []
    assert server.hits.count("/robots.txt") == 1
    assert "/story.html" in server.hits  # the allowed sitemap entry
    assert stats["robotstxt/forbidden"] == 2 * PRIVATE
    assert stats["newsfilter/failed/robots"] == 2 * PRIVATE


def test_robots_txt_is_obeyed_by_a_resumed_crawl(tmp_path: Path) -> None:
    """The sitemap's private entries wait in the job directory; the resumed run checks them."""
    jobdir = tmp_path / "job"
    with crawlsite.running(RobotsSite) as server:
        start = [f"{server.base}/hold/1", f"{server.base}/hold/2"]
        sites = sites_file(tmp_path, server.base, start)
        args = ["news", "-a", f"sites_file={sites}", "-s", f"JOBDIR={jobdir}", *PLAIN]
        # First run: two requests at a time; the sitemap's entries (queued behind the
        # held start pages) are still in the job directory when it is stopped.
        first = subprocess.Popen(
            crawlsite.scrapy_command(
                [
                    *args,
                    "-s",
                    "CONCURRENT_REQUESTS=2",
                    "-s",
                    "NEWSFILTER_TEASER_PRIORITY=-20",
                    "-s",
                    "FEEDS={}",
                ]
            ),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and first.poll() is None:
            if (
                "/sitemap.xml" in server.hits
                and server.hits.count("/hold/1") + server.hits.count("/hold/2") == 2
            ):
                break
            time.sleep(0.05)
        assert first.poll() is None, "the first run ended before it could be stopped"
        first.send_signal(signal.SIGINT)
        time.sleep(0.2)
        server.release.set()  # the held pages finish, then the run stops
        _, err = first.communicate(timeout=60)
        assert first.returncode == 0, err[-3000:]
        assert private_hits(server.hits) == []
        assert server.hits.count("/robots.txt") == 1
        assert "/story.html" not in server.hits
        stats, _ = run_scrapy([*args, *MANY], tmp_path, output=["-s", "FEEDS={}"])
    assert private_hits(server.hits) == []
    assert server.hits.count("/robots.txt") == 2  # once a run
    assert stats["robotstxt/forbidden"] == PRIVATE  # the resumed run did meet them
    assert "/story.html" in server.hits

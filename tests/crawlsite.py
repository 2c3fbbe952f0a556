"""A small misbehaving news site for crawler tests, served on 127.0.0.1 by the tests.

Also the helpers the crawler tests share: :func:`running` serves any handler
(subclass :class:`Handler`), :func:`run_scrapy` runs ``scrapy crawl`` in the
project, in a subprocess, and returns its stats and exported items.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SLOW_SECONDS = 4.0
# our own servers on loopback: no need to wait between requests
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "LOG_LEVEL=INFO"]


def story(title: str, paragraphs: list[str], lang: str = "en") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html lang='{lang}'><head><title>{title} | Test Gazette</title></head>"
        "<body><header class='site-header'><nav class='main-menu'><ul>"
        "<li><a href='/'>Home</a></li><li><a href='/missing'>Sports</a></li>"
        "<li><a href='/error'>Business</a></li></ul></nav></header>"
        f"<main><article class='post'><h1 class='entry-title'>{title}</h1>"
        f"<div class='entry-content'>{body}</div></article></main>"
        "<aside class='widget related-posts'><h3>Related Articles</h3><ul>"
        "<li><a href='/story.html'>Ferry service resumes on the lake</a></li>"
        "<li><a href='/r1'>Hospital wing opens next month</a></li></ul></aside>"
        "<footer class='site-footer'><p>\u00a9 2026 Test Gazette. All rights reserved.</p></footer>"
        "</body></html>"
    )


STORY = story(
    "Ferry service resumes on the lake",
    [
        "Lakeside, May 2: The ferry between Lakeside and Pine Island resumed on Saturday after a "
        "three-week pause for engine repairs, the transport office said.",
        "The first boat left at seven in the morning with forty passengers and two delivery vans, "
        "and the operator said the full timetable would run from Monday.",
        "Island shopkeepers said the pause had cut their trade by half and asked the council for a "
        "spare vessel so that a single breakdown could not cut them off again.",
    ],
)
REDIRECTED = story(
    "Hospital wing opens next month",
    [
        "Lakeside, May 3: The new children's wing of the district hospital will open on June 1 "
        "with twenty beds and a play room, the health department announced on Friday.",
        "Doctors said the wing would end the long trips families now make to the city for "
        "treatment, and two paediatricians have already joined the staff.",
        "The wing was paid for by the state health mission and a fund raised by local traders, who "
        "collected more than a quarter of the cost over four years of fairs and raffles.",
    ],
)
CYRILLIC = story(
    "Мост через реку откроют в июне",
    [
        "Озёрск, 4 мая. Ремонт старого моста через реку завершат к июню, сообщили в "
        "администрации города в пятницу.",
        "По словам инженеров, опоры моста в хорошем состоянии, а заменить нужно только "
        "покрытие и перила.",
        "Работы ведут в две смены, а на время ремонта запущен дополнительный автобус до "
        "районного центра.",
        "Жители прибрежных сёл просят открыть движение для пешеходов раньше, чтобы дети "
        "могли ходить в школу.",
    ],
    lang="ru",
)

HOME = (
    "<!doctype html><html><head><title>Test Gazette</title></head><body>"
    "<nav class='main-menu'><a href='/'>Home</a> <a href='/missing'>Sports</a></nav>"
    "<section class='latest-news'><h2>Latest News</h2><ul>"
    + "".join(
        f"<li><a href='{href}'>{text}</a></li>"
        for href, text in [
            ("/story.html", "Ferry service resumes on the lake"),
            ("/missing", "Council budget row deepens"),
            ("/error", "Market prices climb again"),
            ("/slow", "Storm warning for the hills"),
            ("/r1", "Hospital wing opens next month"),
            ("/loop-a", "School reopens after repairs"),
            ("/report", "Annual report of the council"),
            ("/photos", "Photos of the festival"),
            ("/empty", "Late news"),
            (
                "/cp1251.html",
                "\u041c\u043e\u0441\u0442 \u0447\u0435\u0440\u0435\u0437 \u0440\u0435\u043a\u0443",
            ),
            ("/private/draft.html", "Draft story"),
        ]
    )
    + "</ul></section><footer>\u00a9 2026 Test Gazette</footer></body></html>"
)


class SiteServer(ThreadingHTTPServer):
    """A test server that records what it is asked and answers."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.hits: list[str] = []  # requested paths, in order of arrival
        self.sent: list[tuple[float, str, int]] = []  # (time.monotonic(), path, status)
        self.release = threading.Event()  # for handlers that hold a response back

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: SiteServer

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    @property
    def path_only(self) -> str:
        return self.path.split("?")[0]

    def send(
        self,
        status: int,
        body: bytes = b"",
        ctype: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.server.sent.append((time.monotonic(), self.path_only, status))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        path = self.path_only
        self.server.hits.append(path)
        self.answer(path)

    def answer(self, path: str) -> None:
        redirects = {
            "/r1": "/r2",
            "/r2": "/r3",
            "/r3": "/hospital.html",
            "/loop-a": "/loop-b",
            "/loop-b": "/loop-a",
        }
        if path == "/robots.txt":
            self.send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        elif path == "/":
            self.send(200, HOME.encode())
        elif path == "/story.html":
            self.send(200, STORY.encode())
        elif path == "/hospital.html":
            self.send(200, REDIRECTED.encode())
        elif path in redirects:
            self.send(302, b"", headers={"Location": redirects[path]})
        elif path == "/error":
            self.send(500, b"<html><body>Internal error</body></html>")
        elif path == "/slow":
            time.sleep(SLOW_SECONDS)
            self.send(200, STORY.encode())
        elif path == "/report":  # no file extension: only the Content-Type tells
            self.send(200, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "application/pdf")
        elif path == "/photos":
            self.send(200, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "image/png")
        elif path == "/empty":
            self.send(200, b"")
        elif path == "/cp1251.html":
            # the charset is only in the HTTP header, never in the page
            self.send(200, CYRILLIC.encode("cp1251"), "text/html; charset=windows-1251")
        elif path.startswith("/private/"):
            self.send(200, STORY.encode())
        else:
            self.send(404, b"<html><body>Not found</body></html>")


@contextmanager
def running(handler: type[BaseHTTPRequestHandler] = Handler) -> Iterator[SiteServer]:
    """Serve *handler* on a free port of 127.0.0.1 until the block ends."""
    server = SiteServer(handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


@contextmanager
def serve() -> Iterator[tuple[str, list[str]]]:
    """Run the site on a free port; yield (base URL, list of requested paths)."""
    with running() as server:
        yield server.base, server.hits


def scrapy_command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "scrapy", "crawl", *args, *FAST]


def run_scrapy(
    args: list[str],
    tmp: Path,
    *,
    output: list[str] | None = None,
    timeout: float = 120,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run `scrapy crawl ARGS` in the project; return (stats, items).

    The feed is ``tmp/out.jsonl`` (``-O``) unless *output* gives other feed
    options (``[]``: none, so the project's default feed; ``["-s", "FEEDS={}"]``:
    no feed at all); the stats come from NEWSFILTER_STATS_FILE.
    """
    feed, stats = tmp / "out.jsonl", tmp / "stats.json"
    if output is None:
        output = ["-O", str(feed)]
    cmd = scrapy_command([*args, *output, "-s", f"NEWSFILTER_STATS_FILE={stats}"])
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(stats.read_text()), read_feed(feed)


def read_feed(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]

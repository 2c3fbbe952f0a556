"""A small misbehaving news site for crawler tests, served on 127.0.0.1 by the tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLOW_SECONDS = 4.0


def story(title: str, paragraphs: list[str], lang: str = "en") -> str:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html lang='{lang}'><head><title>{title} | Test Gazette</title></head><body>"
        "<header class='site-header'><nav class='main-menu'><ul><li><a href='/'>Home</a></li>"
        "<li><a href='/missing'>Sports</a></li><li><a href='/error'>Business</a></li></ul></nav></header>"
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
        "Lakeside, May 3: The new children's wing of the district hospital will open on June 1 with "
        "twenty beds and a play room, the health department announced on Friday.",
        "Doctors said the wing would end the long trips families now make to the city for treatment, "
        "and two paediatricians have already joined the staff.",
        "The wing was paid for by the state health mission and a fund raised by local traders, who "
        "collected more than a quarter of the cost over four years of fairs and raffles.",
    ],
)
CYRILLIC = story(
    "\u041c\u043e\u0441\u0442 \u0447\u0435\u0440\u0435\u0437 \u0440\u0435\u043a\u0443 \u043e\u0442\u043a\u0440\u043e\u044e\u0442 \u0432 \u0438\u044e\u043d\u0435",
    [
        "\u041e\u0437\u0451\u0440\u0441\u043a, 4 \u043c\u0430\u044f. \u0420\u0435\u043c\u043e\u043d\u0442 \u0441\u0442\u0430\u0440\u043e\u0433\u043e \u043c\u043e\u0441\u0442\u0430 \u0447\u0435\u0440\u0435\u0437 \u0440\u0435\u043a\u0443 \u0437\u0430\u0432\u0435\u0440\u0448\u0430\u0442 \u043a \u0438\u044e\u043d\u044e, \u0441\u043e\u043e\u0431\u0449\u0438\u043b\u0438 \u0432 \u0430\u0434\u043c\u0438\u043d\u0438\u0441\u0442\u0440\u0430\u0446\u0438\u0438 \u0433\u043e\u0440\u043e\u0434\u0430 \u0432 \u043f\u044f\u0442\u043d\u0438\u0446\u0443.",
        "\u041f\u043e \u0441\u043b\u043e\u0432\u0430\u043c \u0438\u043d\u0436\u0435\u043d\u0435\u0440\u043e\u0432, \u043e\u043f\u043e\u0440\u044b \u043c\u043e\u0441\u0442\u0430 \u0432 \u0445\u043e\u0440\u043e\u0448\u0435\u043c \u0441\u043e\u0441\u0442\u043e\u044f\u043d\u0438\u0438, \u0430 \u0437\u0430\u043c\u0435\u043d\u0438\u0442\u044c \u043d\u0443\u0436\u043d\u043e \u0442\u043e\u043b\u044c\u043a\u043e \u043f\u043e\u043a\u0440\u044b\u0442\u0438\u0435 \u0438 \u043f\u0435\u0440\u0438\u043b\u0430.",
        "\u0420\u0430\u0431\u043e\u0442\u044b \u0432\u0435\u0434\u0443\u0442 \u0432 \u0434\u0432\u0435 \u0441\u043c\u0435\u043d\u044b, \u0430 \u043d\u0430 \u0432\u0440\u0435\u043c\u044f \u0440\u0435\u043c\u043e\u043d\u0442\u0430 \u0437\u0430\u043f\u0443\u0449\u0435\u043d \u0434\u043e\u043f\u043e\u043b\u043d\u0438\u0442\u0435\u043b\u044c\u043d\u044b\u0439 \u0430\u0432\u0442\u043e\u0431\u0443\u0441 \u0434\u043e \u0440\u0430\u0439\u043e\u043d\u043d\u043e\u0433\u043e \u0446\u0435\u043d\u0442\u0440\u0430.",
        "\u0416\u0438\u0442\u0435\u043b\u0438 \u043f\u0440\u0438\u0431\u0440\u0435\u0436\u043d\u044b\u0445 \u0441\u0451\u043b \u043f\u0440\u043e\u0441\u044f\u0442 \u043e\u0442\u043a\u0440\u044b\u0442\u044c \u0434\u0432\u0438\u0436\u0435\u043d\u0438\u0435 \u0434\u043b\u044f \u043f\u0435\u0448\u0435\u0445\u043e\u0434\u043e\u0432 \u0440\u0430\u043d\u044c\u0448\u0435, \u0447\u0442\u043e\u0431\u044b \u0434\u0435\u0442\u0438 \u043c\u043e\u0433\u043b\u0438 \u0445\u043e\u0434\u0438\u0442\u044c \u0432 \u0448\u043a\u043e\u043b\u0443.",
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


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def send(
        self,
        status: int,
        body: bytes = b"",
        ctype: str = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        path = self.path.split("?")[0]
        self.server.hits.append(path)  # type: ignore[attr-defined]
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
def serve() -> Iterator[tuple[str, list[str]]]:
    """Run the site on a free port; yield (base URL, list of requested paths)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.hits = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.hits  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()

"""A generated news site that misbehaves in every way a crawl meets, for soak tests.

:class:`FaultSite` builds a site from a seed: short fictional stories in
sections, listing pages, and faults assigned at random (with that seed) to
the URLs that lead to stories.  :func:`serve` runs it on 127.0.0.1 (a free
port) in a thread; the server records what it is asked.

Faults, by the kind of URL that carries them::

    stories the crawl must export once (healthy):
      ok            a plain story page
      retry_503     503 with Retry-After: 1 the first time, then the story
      retry_429     429 with Retry-After: 1 the first time, then the story
      utf8_as_latin1  UTF-8 bytes, "charset=iso-8859-1" in the header
      cp1252_as_utf8  windows-1252 bytes, "charset=utf-8" in the header
      no_charset    windows-1252 bytes, no charset anywhere
      octet         the HTML sent as application/octet-stream
      duplicate     the story also at /print/ (canonical link), ?ref=home
                    (the same page) and /mobile/ (no canonical: same text)
      redirect      linked through /go/<id> -> /go/<id>/2 -> the story
    stories that cannot be had (the crawl counts them, exports nothing):
      error_500     500 every time
      slow          answers after the crawl's DOWNLOAD_TIMEOUT
      reset         connection reset half way through the body
      cut_off       no Content-Length, connection closed two thirds through
      short         Content-Length larger than the body
      huge          50 MB announced in Content-Length (streamed)
      huge_stream   50 MB without Content-Length (streamed)
      gzip_bomb     1 MB of gzip that unpacks to 1 GiB
      bad_gzip      Content-Encoding: gzip on bytes that are not gzip
      long_redirect a chain of 15 redirects
    other links:
      dead          404
      loop          /loop/<n>/a -> /loop/<n>/b -> /loop/<n>/a
      pdf_as_html   a PDF sent as text/html
      private       disallowed by robots.txt
    traps (no story behind them, endless):
      /calendar/Y/M/D and /calendar/Y/M   every day links to the next, every
                                          month to its days and the next month
      /section/<s>/page/<k>, k past the last page: an empty listing with "Next"
      /section/<s>/page/page/.../<k>      a relative link resolved wrongly

Big bodies are streamed in chunks, never held in memory.
"""

from __future__ import annotations

import gzip
import random
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from typing import ClassVar

HEALTHY = (
    "ok",
    "retry_503",
    "retry_429",
    "utf8_as_latin1",
    "cp1252_as_utf8",
    "no_charset",
    "octet",
    "duplicate",
    "redirect",
)
BROKEN = (
    "error_500",
    "slow",
    "reset",
    "cut_off",
    "short",
    "huge",
    "huge_stream",
    "gzip_bomb",
    "bad_gzip",
    "long_redirect",
)
OTHER_FAULTS = ("dead", "loop", "pdf_as_html")
# share of the stories that carry each fault (the rest are plain); every kind
# appears at least once whatever the size
FAULT_SHARE = 0.4
WEIGHTS = {
    "retry_503": 3,
    "retry_429": 3,
    "utf8_as_latin1": 3,
    "cp1252_as_utf8": 3,
    "no_charset": 3,
    "octet": 2,
    "duplicate": 4,
    "redirect": 3,
    "error_500": 2,
    "slow": 1,
    "reset": 2,
    "cut_off": 1,
    "short": 2,
    "huge": 1,
    "huge_stream": 1,
    "gzip_bomb": 1,
    "bad_gzip": 2,
    "long_redirect": 1,
}
SECTIONS = ("local", "business", "sport", "culture", "environment", "health")
PER_PAGE = 20
LONG_CHAIN = 15  # redirects: more than REDIRECT_MAX_TIMES (10)
HUGE_BYTES = 50 * 1024 * 1024
CHUNK = 256 * 1024
SLOW_SECONDS = 8.0  # more than the soak's DOWNLOAD_TIMEOUT
RETRY_AFTER = 1
FIRST_DAY = date(2026, 3, 1)
DAYS = 92
SITE = "The Lakeside Ledger"

# -- fictional text ------------------------------------------------------------

TOWNS = [
    "Lakeside", "Pine Island", "Ashford", "Millbrook", "Oakridge", "Hollow Creek",
    "Fernvale", "Stonebridge", "Marlow Bay", "Eastwick", "Corran", "Bellmere",
]  # fmt: skip
PEOPLE = [
    "Zoë Márquez", "Anders Lindqvist", "Priya Raman", "Tomás Ortega", "Hélène Dubois",
    "Chidi Okafor", "Mei Tanaka", "Björn Aalto", "Fatima Haddad", "Seán Ó Briain",
    "Lucía Ferreira", "Daniel Weiß", "Amara Nwosu", "Kofi Mensah", "Ingrid Sørlie",
]  # fmt: skip
ROLES = [
    "the mayor", "the harbour master", "a council spokeswoman", "the head teacher",
    "the district engineer", "a local trader", "the fire chief", "the clinic director",
    "a spokesman for the water board", "the club's captain", "the museum curator",
]  # fmt: skip
BODIES = [
    "town council", "water board", "school board", "ferry company", "district hospital",
    "chamber of commerce", "rowing club", "fire brigade", "public library",
    "farmers' co-operative", "bus company", "heritage trust",
]  # fmt: skip
THINGS = [
    "bridge repairs", "a new timetable", "the café licence", "a flood barrier",
    "the night market", "roof repairs at the school", "a cycle path", "the harvest fair",
    "a second ferry", "the crèche extension", "street lighting", "the regatta",
    "a recycling depot", "the old mill", "the summer festival", "a clinic on wheels",
]  # fmt: skip
VERBS = [
    "approves", "delays", "rejects", "opens", "reviews", "funds", "postpones", "expands",
    "questions", "backs", "plans", "completes",
]  # fmt: skip
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
SENTENCES = [
    "The {body} said on {weekday} that {thing} would cost about {n} thousand pounds and take"
    " {m} months.",
    "“We have waited long enough,” said {person}, who has lived in {town} for {m} years.",
    "{person_cap}, {role}, told the meeting that the plan had been changed {m} times since"
    " the spring.",
    "Residents of {town} collected {n} signatures in favour, and a café on the square kept"
    " the petition by its till.",
    "Work is due to start in {month}, weather permitting, and a temporary route will be"
    " signposted from the station.",
    "Critics say the money would be better spent on {thing}, which was promised in the last"
    " budget and never delivered.",
    "The decision passed by {m} votes to {k} after a debate that ran past midnight.",
    "According to {role}, the {body} will publish the full figures — including the"
    " contractor's fees — next week.",
    "Children from the primary school painted a mural for the occasion, and {person} opened"
    " it with a short speech.",
    "The last comparable project, in {town}, ran {m} weeks late and {k} per cent over budget.",
    "A public meeting is planned for {weekday} evening in the community hall, with tea and"
    " crème caramel served afterwards.",
    "Traders on the high street said they were cautiously optimistic, though some fear a"
    " naïve timetable.",
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass
class Story:
    id: int
    title: str
    section: str
    day: date
    paragraphs: list[str]
    fault: str = "ok"

    @property
    def slug(self) -> str:
        words = "".join(c if c.isascii() and c.isalnum() else "-" for c in self.title.lower())
        return "-".join(w for w in words.split("-") if w)[:60] + f"-{self.id}"

    @property
    def path(self) -> str:
        return f"/news/{self.day:%Y/%m}/{self.slug}.html"

    @property
    def entry(self) -> str:
        """The URL listings link to."""
        if self.fault == "redirect":
            return f"/go/{self.id}"
        if self.fault == "long_redirect":
            return f"/far/{self.id}/1"
        return self.path

    @property
    def healthy(self) -> bool:
        return self.fault in HEALTHY


def _sentence(rng: random.Random, town: str) -> str:
    person = rng.choice(PEOPLE)
    return rng.choice(SENTENCES).format(
        body=rng.choice(BODIES),
        weekday=rng.choice(WEEKDAYS),
        thing=rng.choice(THINGS),
        n=rng.randint(12, 900),
        m=rng.randint(2, 40),
        k=rng.randint(1, 30),
        person=person,
        person_cap=person,
        role=rng.choice(ROLES),
        town=rng.choice([town, *TOWNS]),
        month=rng.choice(["April", "June", "September", "October"]),
    )


def make_story(rng: random.Random, story_id: int, titles: set[str]) -> Story:
    town = rng.choice(TOWNS)
    while True:
        body = rng.choice(BODIES)
        title = f"{town} {body} {rng.choice(VERBS)} {rng.choice(THINGS)}"
        title = title[0].upper() + title[1:]
        if title not in titles:
            break
        town = rng.choice(TOWNS)
    titles.add(title)
    day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
    paragraphs = []
    for i in range(rng.randint(4, 6)):
        text = " ".join(_sentence(rng, town) for _ in range(rng.randint(2, 3)))
        if i == 0:
            text = f"{town}, {MONTHS[day.month - 1]} {day.day}: {text}"
        paragraphs.append(text)
    return Story(story_id, title, rng.choice(SECTIONS), day, paragraphs)


# -- pages ---------------------------------------------------------------------


def _nav() -> str:
    items = "".join(f"<li><a href='/section/{s}/'>{s.title()}</a></li>" for s in SECTIONS)
    return (
        "<header class='site-header'><div class='logo'><a href='/'>"
        f"{SITE}</a></div><nav class='main-menu'><ul><li><a href='/'>Home</a></li>"
        f"{items}</ul></nav></header>"
    )


def _footer() -> str:
    return (
        "<footer class='site-footer'><ul class='footer-links'><li><a href='/about'>About us</a>"
        "</li><li><a href='/contact'>Contact</a></li></ul>"
        f"<p>\u00a9 2026 {SITE}. All rights reserved.</p></footer>"
    )


def _document(title: str, body: str, head: str = "", charset: str | None = "utf-8") -> str:
    meta = f"<meta charset='{charset}'>" if charset else ""
    return (
        f"<!doctype html><html lang='en'><head>{meta}<title>{escape(title)} | {SITE}</title>"
        f"{head}</head><body>{_nav()}{body}{_footer()}</body></html>"
    )


def _teasers(title: str, links: list[tuple[str, str]], css: str) -> str:
    items = "".join(f"<li><a href='{href}'>{escape(text)}</a></li>" for href, text in links)
    return f"<aside class='widget {css}'><h3>{title}</h3><ul>{items}</ul></aside>"


@dataclass
class FaultSite:
    """The site of *stories* stories built from *seed*; :meth:`answer` serves it."""

    seed: int = 2026
    stories_count: int = 120
    stories: list[Story] = field(default_factory=list)
    others: dict[str, str] = field(default_factory=dict)  # path -> fault (dead, loop, pdf)
    related: dict[int, list[Story]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        titles: set[str] = set()
        self.stories = [make_story(rng, i, titles) for i in range(self.stories_count)]
        kinds = list(WEIGHTS)
        faulted = max(len(kinds), int(self.stories_count * FAULT_SHARE))
        picks = kinds + rng.choices(kinds, [WEIGHTS[k] for k in kinds], k=faulted - len(kinds))
        order = list(range(self.stories_count))
        rng.shuffle(order)
        for index, kind in zip(order, picks, strict=False):
            self.stories[index].fault = kind
        self.by_id = {s.id: s for s in self.stories}
        self.by_path = {s.path: s for s in self.stories}
        for s in self.stories:
            self.related[s.id] = rng.sample(self.stories, 3)
        n_other = max(3, self.stories_count // 20)
        for i in range(n_other):
            self.others[f"/news/gone-{i}.html"] = "dead"
            self.others[f"/report/annual-{i}.html"] = "pdf_as_html"
            self.others[f"/loop/{i}/a"] = "loop"
        self.sections = {name: [s for s in self.stories if s.section == name] for name in SECTIONS}
        self.hits: Counter[str] = Counter()  # per path, shared by the server threads
        self.lock = threading.Lock()
        self._bomb: bytes | None = None

    # -- what the crawl should find -----------------------------------------
    @property
    def healthy(self) -> list[Story]:
        return [s for s in self.stories if s.healthy]

    def fault_counts(self) -> Counter[str]:
        counts = Counter(s.fault for s in self.stories)
        counts.update(self.others.values())
        return counts

    def story_page(self, story: Story, *, canonical: bool = True, charset: str = "utf-8") -> str:
        head = (
            f"<link rel='canonical' href='{self.base}{story.path}'>"
            f"<meta property='article:published_time' content='{story.day.isoformat()}'>"
            if canonical
            else ""
        )
        paragraphs = "".join(f"<p>{escape(p, quote=False)}</p>" for p in story.paragraphs)
        body = (
            f"<main><article class='post'><h1 class='entry-title'>{escape(story.title)}</h1>"
            f"<div class='entry-meta'><a href='/calendar/{story.day:%Y/%m/%d}'>"
            f"{story.day:%B} {story.day.day}, {story.day.year}</a></div>"
            f"<div class='entry-content'>{paragraphs}</div></article></main>"
            + _teasers(
                "Related Articles",
                [(r.entry, r.title) for r in self.related[story.id] if r.id != story.id],
                "related-posts",
            )
            + "<div class='share-bar'>"
            + (
                f"<a href='/print/{story.slug}.html'>Print</a> "
                if story.fault == "duplicate"
                else ""
            )
            + "<a href='/subscribe'>Subscribe</a></div>"
        )
        return _document(story.title, body, head, charset=charset if charset else None)

    def listing(self, section: str, page: int) -> str:
        stories = self.sections[section]
        last = max(1, -(-len(stories) // PER_PAGE))
        shown = stories[(page - 1) * PER_PAGE : page * PER_PAGE]
        items = "".join(
            f"<li class='post-item'><a href='{s.entry}'>{escape(s.title)}</a></li>" for s in shown
        )
        extra = [
            f"<li class='post-item'><a href='{s.path}?ref=home'>{escape(s.title)}</a></li>"
            f"<li class='post-item'><a href='/mobile/{s.slug}.html'>{escape(s.title)}</a></li>"
            for s in shown
            if s.fault == "duplicate"
        ]
        pages = "".join(
            f"<a class='page-numbers' href='/section/{section}/page/{k}'>{k}</a> "
            for k in range(1, last + 1)
        )
        body = (
            f"<main><h1 class='page-title'>{section.title()}</h1>"
            f"<ul class='post-list'>{items}{''.join(extra)}</ul>"
            f"<nav class='pagination'>{pages}"
            f"<a class='next' href='/section/{section}/page/{page + 1}'>Next</a> "
            f"<a class='more' href='page/{page + 1}'>More</a></nav></main>"
        )
        return _document(f"{section.title()} - page {page}", body)

    def home(self) -> str:
        latest = sorted(self.stories, key=lambda s: (s.day, s.id), reverse=True)[:15]
        others = list(self.others)
        body = (
            "<main><section class='latest-news'><h2>Latest News</h2><ul>"
            + "".join(f"<li><a href='{s.entry}'>{escape(s.title)}</a></li>" for s in latest)
            + "</ul></section>"
            + _teasers(
                "More from the Ledger",
                [(p, f"Notice {i}") for i, p in enumerate(others)]
                + [("/private/draft.html", "Draft")],
                "more-links",
            )
            + f"<div class='calendar-widget'><a href='/calendar/{FIRST_DAY:%Y/%m}'>Archive</a>"
            "</div></main>"
        )
        return _document("Home", body)

    def calendar(self, parts: list[int]) -> str:
        if len(parts) == 3:
            day = date(*parts)
            stories = [s for s in self.stories if s.day == day]
            links = [(s.entry, s.title) for s in stories]
            nav = [
                (f"/calendar/{day + timedelta(days=1):%Y/%m/%d}", "Next day"),
                (f"/calendar/{day - timedelta(days=1):%Y/%m/%d}", "Previous day"),
                (f"/calendar/{day:%Y/%m}", f"{day:%B %Y}"),
            ]
            title = f"{day:%B} {day.day}, {day.year}"
        else:
            year, month = parts
            first = date(year, month, 1)
            nxt = (first + timedelta(days=32)).replace(day=1)
            prev = (first - timedelta(days=1)).replace(day=1)
            links = []
            nav = [
                (f"/calendar/{first.replace(day=d):%Y/%m/%d}", str(d))
                for d in range(1, (nxt - first).days + 1)
            ]
            nav += [
                (f"/calendar/{nxt:%Y/%m}", "Next month"),
                (f"/calendar/{prev:%Y/%m}", "Previous month"),
            ]
            title = f"{first:%B %Y}"
        items = "".join(f"<li><a href='{h}'>{escape(t)}</a></li>" for h, t in links)
        days = " ".join(f"<a href='{h}'>{escape(t)}</a>" for h, t in nav)
        body = (
            f"<main><h1 class='page-title'>Archive: {title}</h1><ul class='post-list'>{items}"
            f"</ul><nav class='calendar'>{days}</nav></main>"
        )
        return _document(f"Archive {title}", body)

    @property
    def bomb(self) -> bytes:
        """Gzip members of 1 MiB of spaces, end to end: about 1 MB unpacking to 1 GiB."""
        if self._bomb is None:
            member = gzip.compress(b" " * (1 << 20), compresslevel=9)
            self._bomb = member * 1024
        return self._bomb

    base = ""  # set by the server: http://127.0.0.1:port


class FaultHandler(BaseHTTPRequestHandler):
    server: FaultServer
    protocol_version = "HTTP/1.0"  # one response a connection: a short body shows
    STORY_PREFIXES: ClassVar[tuple[str, ...]] = ("/news/", "/print/", "/mobile/")

    def log_message(self, *args: object) -> None:
        pass

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, TimeoutError, OSError):
            pass  # the crawler hung up (a refused 50 MB body, a timeout): expected

    def send(
        self,
        status: int,
        body: bytes = b"",
        ctype: str | None = "text/html; charset=utf-8",
        headers: dict[str, str] | None = None,
        length: int | None = None,
    ) -> None:
        self.send_response(status)
        if ctype is not None:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        site = self.server.site
        path = self.path.split("?", 1)[0]
        with site.lock:
            site.hits[self.path] += 1
            first = site.hits[self.path] == 1
        self.server.log.append(self.path)
        self.route(site, path, first)

    def route(self, site: FaultSite, path: str, first: bool) -> None:  # noqa: C901
        if path == "/robots.txt":
            self.send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        elif path == "/":
            self.send(200, site.home().encode())
        elif path in ("/about", "/contact", "/subscribe"):
            about = _document(path[1:].title(), f"<main><h1>{path[1:].title()}</h1></main>")
            self.send(200, about.encode())
        elif path.startswith("/section/"):
            self.section(site, path)
        elif path.startswith("/calendar/"):
            page: str | None = None
            try:
                parts = [int(p) for p in path.split("/")[2:] if p]
                page = site.calendar(parts) if len(parts) in (2, 3) else None
            except ValueError:
                pass
            if page is None:
                self.send(404, b"<html><body>Not found</body></html>")
            else:
                self.send(200, page.encode())
        elif path.startswith("/go/"):
            hops = path.split("/")
            story = site.by_id.get(int(hops[2])) if hops[2].isdigit() else None
            if story is None:
                self.send(404, b"<html><body>Not found</body></html>")
            elif len(hops) == 3:
                self.send(301, b"", headers={"Location": f"/go/{story.id}/2"})
            else:
                self.send(302, b"", headers={"Location": story.path})
        elif path.startswith("/far/"):
            _, _, sid, hop = path.split("/")
            step = int(hop)
            story = site.by_id[int(sid)]
            target = story.path if step >= LONG_CHAIN else f"/far/{sid}/{step + 1}"
            self.send(302, b"", headers={"Location": target})
        elif path.startswith("/loop/"):
            _, _, n, end = path.split("/")
            self.send(302, b"", headers={"Location": f"/loop/{n}/{'b' if end == 'a' else 'a'}"})
        elif site.others.get(path) == "pdf_as_html":
            self.send(200, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n")
        elif path.startswith(self.STORY_PREFIXES):
            self.story(site, path, first)
        else:
            self.send(404, b"<html><body>Not found</body></html>")

    def section(self, site: FaultSite, path: str) -> None:
        parts = [p for p in path.split("/") if p]  # section, name, (page, ..., k)
        name = parts[1] if len(parts) > 1 else ""
        if name not in site.sections:
            self.send(404, b"<html><body>Not found</body></html>")
            return
        rest = parts[2:]
        if not rest:
            page = 1
        elif rest[-1].isdigit() and all(p == "page" for p in rest[:-1]) and len(rest) > 1:
            page = int(rest[-1])  # /page/k, and /page/page/.../k (the relative-link trap)
        else:
            self.send(404, b"<html><body>Not found</body></html>")
            return
        self.send(200, site.listing(name, page).encode())

    def story(self, site: FaultSite, path: str, first: bool) -> None:
        story: Story | None
        canonical = True
        if path.startswith("/print/") or path.startswith("/mobile/"):
            slug = path.rsplit("/", 1)[1].removesuffix(".html")
            story = next((s for s in site.stories if s.slug == slug), None)
            canonical = path.startswith("/print/")
            if story is None or story.fault != "duplicate":
                self.send(404, b"<html><body>Not found</body></html>")
                return
        else:
            story = site.by_path.get(path)
        if story is None:
            self.send(404, b"<html><body>Not found</body></html>")
            return
        fault = story.fault if path == story.path else "ok"
        html = site.story_page(story, canonical=canonical)
        self.faulty(site, story, fault, html, first)

    def faulty(self, site: FaultSite, story: Story, fault: str, html: str, first: bool) -> None:  # noqa: C901
        if fault in ("ok", "duplicate", "redirect", "long_redirect"):
            self.send(200, html.encode())
        elif fault == "retry_503":
            if first:
                self.send(503, b"busy", headers={"Retry-After": str(RETRY_AFTER)})
            else:
                self.send(200, html.encode())
        elif fault == "retry_429":
            if first:
                self.send(429, b"slow down", headers={"Retry-After": str(RETRY_AFTER)})
            else:
                self.send(200, html.encode())
        elif fault == "utf8_as_latin1":
            self.send(200, html.encode(), "text/html; charset=iso-8859-1")
        elif fault == "cp1252_as_utf8":
            page = site.story_page(story, charset="")
            self.send(200, page.encode("cp1252"), "text/html; charset=utf-8")
        elif fault == "no_charset":
            page = site.story_page(story, charset="")
            self.send(200, page.encode("cp1252"), "text/html")
        elif fault == "octet":
            self.send(200, html.encode(), "application/octet-stream")
        elif fault == "error_500":
            self.send(500, b"<html><body>Internal error</body></html>")
        elif fault == "slow":
            self.server.release.wait(SLOW_SECONDS)
            self.send(200, html.encode())
        elif fault == "reset":
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()  # RST: "connection reset by peer"
            self.wfile = BytesIO()  # nothing left to flush
        elif fault == "cut_off":
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()  # no Content-Length: only the closing tags can tell
            self.wfile.write(body[: len(body) * 2 // 3])
        elif fault == "short":
            body = html.encode()
            self.send(200, body, length=len(body) + 5000)
        elif fault in ("huge", "huge_stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if fault == "huge":
                self.send_header("Content-Length", str(HUGE_BYTES))
            self.end_headers()
            self.stream(HUGE_BYTES)
        elif fault == "gzip_bomb":
            self.send(200, site.bomb, headers={"Content-Encoding": "gzip"})
        elif fault == "bad_gzip":
            garbage = zlib.compress(html.encode())[::-1]  # compressed, reversed: no gzip
            self.send(200, garbage, headers={"Content-Encoding": "gzip"})
        else:
            raise AssertionError(fault)

    def stream(self, total: int) -> None:
        """Send *total* bytes of a page in chunks, stopping when the client hangs up."""
        chunk = (b"<html><body>" + b"<p>filler</p>" * (CHUNK // 13))[:CHUNK]
        sent = 0
        while sent < total and not self.server.release.is_set():
            self.wfile.write(chunk[: total - sent])
            sent += len(chunk)


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, site: FaultSite) -> None:
        super().__init__(("127.0.0.1", 0), FaultHandler)
        self.site = site
        site.base = self.base
        self.log: list[str] = []  # every request's path, in order of arrival
        self.release = threading.Event()  # set on shutdown: slow answers and streams end
        self.started = time.monotonic()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that hang up early are part of the test


@contextmanager
def serve(site: FaultSite) -> Iterator[FaultServer]:
    """Serve *site* on a free port of 127.0.0.1 until the block ends."""
    server = FaultServer(site)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def trap_path(site: FaultSite, path: str) -> bool:
    """Whether a requested path is in one of the site's traps."""
    p = path.split("?", 1)[0]
    if p.startswith("/calendar/"):
        ymd = [int(x) for x in p.split("/")[2:] if x.isdigit()]
        if len(ymd) == 3:
            return not FIRST_DAY <= date(*ymd) < FIRST_DAY + timedelta(days=DAYS)
        return True  # month pages fan out into days: all of them are the trap
    if "/page/page/" in p:
        return True
    parts = [x for x in p.split("/") if x]
    if p.startswith("/section/") and len(parts) == 4 and parts[3].isdigit():
        stories = site.sections.get(parts[1], [])
        return int(parts[3]) > max(1, -(-len(stories) // PER_PAGE))
    return False


# -- running crawls against it -------------------------------------------------

# the soak's crawl settings: loopback, so no politeness delays; a timeout the
# slow pages exceed (and healthy ones never come near); one retry
SOAK_SETTINGS = [
    "-s", "DOWNLOAD_TIMEOUT=5",
    "-s", "RETRY_TIMES=1",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8",
]  # fmt: skip


@dataclass
class Sample:
    seconds: float
    requests: int  # requests the server had received
    rss: int  # bytes, the crawl process's resident set
    hwm: int  # bytes, its peak resident set so far


def memory(pid: int) -> tuple[int, int]:
    """``(VmRSS, VmHWM)`` of a process, in bytes (0, 0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line)
    except OSError:
        return 0, 0
    kb = [int(fields.get(k, "0 kB").split()[0]) for k in ("VmRSS", "VmHWM")]
    return kb[0] * 1024, kb[1] * 1024


def healthy_titles(site: FaultSite) -> set[str]:
    return {s.title for s in site.healthy}


def expected_failures(site: FaultSite) -> dict[str, int]:
    """``newsfilter/failed/<reason>`` -> count, as the crawl must report them."""
    counts = site.fault_counts()
    reasons = {
        "error_500": "http_500",
        "slow": "timeout",
        "reset": "connection_reset",
        "cut_off": "truncated",
        "short": "data_loss",
        "huge": "too_large",
        "huge_stream": "too_large",
        "gzip_bomb": "too_large_unpacked",
        "bad_gzip": "bad_compression",
        "long_redirect": "redirect_limit",
        "dead": "http_404",
        "loop": "redirect_loop",
    }
    out: Counter[str] = Counter()
    for fault, reason in reasons.items():
        out[f"newsfilter/failed/{reason}"] += counts[fault]
    out["newsfilter/failed/robots"] = 1
    return dict(out)

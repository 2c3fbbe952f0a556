"""Site profiles in the crawl: a site's first pages wait for its profile.

What repeats across a site's pages (menus, newsletter prompts, widget
headings) is evidence the single-page block model lacks; a
:class:`~classifier.profile.SiteProfile` counts it, and the site model
revises the block model's labels with it once the site has
:data:`~classifier.profile.MIN_PAGES` pages.  The crawl keeps one profile a
site (the sites file's ``name``; for the ``pages`` spider the URL's host, or
the folder of a ``file://`` URL), and :class:`SiteProfiles` decides when a
page's item (what goes to the feed) is classified:

- the first MIN_PAGES - 1 pages of a site are **held back** (counted in
  ``newsfilter/held``): no item yet;
- the page that brings the site to MIN_PAGES builds its profile from all of
  them; the held pages and that page are then classified with it and their
  items yielded;
- every later page is counted in the profile and classified with it as it
  stands (the page itself included: the profile leaves it out of its own
  evidence);
- a profile counts *distinct* pages: a page whose blocks are those of a page
  its site's profile already counts (one story under several URLs: ``?ref=``,
  ``/mobile/``, a print copy) is classified but not counted again
  (``newsfilter/profile/copies``); counted twice, its story's own lines would
  look repeated across the site.  Its held copies still count towards the
  MIN_PAGES - 1 a site may hold; a site whose held pages reach that number
  with copies among them has fewer distinct pages and classifies them alone;
- when the crawl has nothing else to do (``spider_idle``), what is still
  held is classified (a site that never reached MIN_PAGES: each page alone,
  as without a profile) and sent through the item pipeline.

Links are always followed on the page's own, single-page, labels (the
spider's analysis), so the crawl's frontier does not depend on the profiles.
Memory: at most MIN_PAGES - 1 held pages a site, each kept compressed, and
a profile of fixed size (``newsfilter/profile/<site>/bytes``) once a site is
ready, and the fingerprints of its last :data:`RECENT_PAGES` distinct pages
(copies are fetched close together: the same listings link them).

**Nothing is lost.**  A held page keeps its request alive, so the job's
frontier (crawler.scheduler, crawler.distributed) holds it as unfinished
until the page's item has gone through the pipelines and the feed: a crawl
killed with ``kill -9`` makes the request again.  With ``-s JOBDIR=...`` a
crawl that stops (Ctrl-C, CLOSESPIDER_*) saves the profiles
(``JOBDIR/newsfilter/profiles/<site>.npz``, and ``<site>.pages.npy``: the
fingerprints of its recent pages) and the held pages
(``JOBDIR/newsfilter/held.jsonl``) and a resumed crawl goes on with them;
a crawl that finishes has flushed what it held.  A page the frontier will
make again although it is already counted (held, or counted while the crawl
was stopping) is listed in ``held.jsonl`` too, so that the resumed crawl
does not count it twice (``newsfilter/held/refetched``).  A damaged file is
reported, naming it, moved aside, and its site starts afresh.

With NEWSFILTER_REDIS_URL each worker keeps its own profiles, in memory
only: the unfinished requests of a worker that stops go back to the shared
queue (crawler.distributed), so its held pages are fetched again by a
worker.  NEWSFILTER_SITE_PROFILE=False turns all of this off.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import posixpath
import time
import weakref
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self
from urllib.parse import quote, unquote, urlsplit

import numpy as np
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.job import job_dir
from scrapy.utils.log import failure_to_exc_info
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from classifier.profile import MIN_PAGES, SiteProfile

from .analysis import Analysis, PageAnalyser, Parsed
from .config import Config
from .items import PageItem
from .stopping import stop_requested

logger = logging.getLogger(__name__)

STATE_DIR = "newsfilter"  # in JOBDIR
PROFILES_DIR = "profiles"  # <site>.npz, SiteProfile.to_bytes()
HELD_FILE = "held.jsonl"  # held pages, and pages counted that may be fetched again
# request meta key: the requests of pages released with this one, kept alive
# until this one's items are through (the frontier then marks them finished)
RELEASED = "newsfilter_released"
PACK_LEVEL = 6  # zlib level for held bodies (the demo pages pack to 30%)
# fingerprints of a site's distinct pages kept to recognise a copy: 8 bytes
# each in the saved file, about 70 in memory
RECENT_PAGES = 10_000


def site_key(site: str, url: str) -> str:
    """The profile a page counts in: its site's name, else its URL's host
    (a ``file://`` URL: its folder)."""
    if site:
        return site
    parts = urlsplit(url)
    if parts.hostname:
        return parts.hostname
    if parts.scheme == "file":
        return "file:" + posixpath.dirname(unquote(parts.path))
    return parts.scheme or url


def profile_file(name: str) -> str:
    """A profile's file name: the site name, quoted to one path component."""
    return quote(name, safe="") + ".npz"


def pages_file(name: str) -> str:
    """The file of a profile's recent page fingerprints."""
    return quote(name, safe="") + ".pages.npy"


def page_fingerprint(parsed: Parsed) -> int:
    """What makes two pages the same for a profile
    (:meth:`classifier.profile.PageKeys.fingerprint`)."""
    return parsed.keys.fingerprint()


def write_atomic(path: Path, data: bytes) -> None:
    """Replace *path* with *data*: a crash leaves the old file or the new one, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def move_aside(path: Path) -> Path:
    """Rename a file that cannot be read, keeping it for a look."""
    aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%dT%H%M%S')}")
    path.rename(aside)
    return aside


@dataclass(slots=True)
class Held:
    """A page whose item waits for its site's profile."""

    url: str
    encoding: str
    site: str
    fetched_at: str
    packed: bytes = field(repr=False)  # the body, zlib-compressed
    # the page's request: alive, the frontier keeps it unfinished (None: loaded from JOBDIR)
    request: Request | None = field(default=None, repr=False)

    @classmethod
    def of(cls, item: PageItem, request: Request | None) -> Held:
        packed = zlib.compress(item.body, PACK_LEVEL)
        return cls(item.url, item.encoding, item.site, item.fetched_at, packed, request)

    @property
    def body(self) -> bytes:
        return zlib.decompress(self.packed)

    def item(self, analysis: Analysis) -> PageItem:
        return PageItem(
            url=self.url,
            body=self.body,
            encoding=self.encoding,
            site=self.site,
            fetched_at=self.fetched_at,
            analysis=analysis,
        )

    def to_json(self, profile: str) -> dict[str, str]:
        return {
            "profile": profile,
            "url": self.url,
            "encoding": self.encoding,
            "site": self.site,
            "fetched_at": self.fetched_at,
            "body": base64.b64encode(self.packed).decode("ascii"),
        }

    @classmethod
    def from_json(cls, value: Any) -> tuple[str, Held]:
        """``(profile, held page)`` from a line of the held file; ValueError if it is not one."""
        if not isinstance(value, dict):
            raise ValueError("not an object")
        fields = ("profile", "url", "encoding", "site", "fetched_at", "body")
        if not all(isinstance(value.get(k), str) for k in fields):
            raise ValueError(f"needs the string fields {', '.join(fields)}")
        try:
            packed = base64.b64decode(value["body"], validate=True)
            zlib.decompress(packed)
        except (ValueError, zlib.error) as exc:
            raise ValueError(f"body does not decode: {exc}") from None
        held = cls(value["url"], value["encoding"], value["site"], value["fetched_at"], packed)
        return value["profile"], held


@dataclass
class SiteState:
    """One site's profile (once it is ready) and its held pages (until then)."""

    name: str
    profile: SiteProfile | None = None
    held: list[Held] = field(default_factory=list)
    changed: bool = False  # the profile differs from its saved file
    # fingerprints of the distinct pages counted last (insertion order: oldest first)
    recent: dict[int, None] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return (self.profile.n_pages if self.profile is not None else 0) + len(self.held)

    def count(self, parsed: Parsed, p_article: np.ndarray) -> bool:
        """Count a page in the profile unless it is a copy of one counted; True if counted."""
        assert self.profile is not None
        fingerprint = page_fingerprint(parsed)
        if fingerprint in self.recent:
            return False
        self.recent[fingerprint] = None
        if len(self.recent) > RECENT_PAGES:
            del self.recent[next(iter(self.recent))]
        self.profile.add(parsed.keys, p_article)
        self.changed = True
        return True


Released = list[tuple[PageItem, Request | None]]  # items, and the requests they keep alive


class SiteProfiles:
    """The crawl's site profiles and held pages; see the module's doc.

    The spider hands every classified page to :meth:`page` and yields the
    items it returns; the rest runs on signals (``spider_opened``: load from
    JOBDIR, ``spider_idle``: flush, ``spider_closed``: save).
    """

    def __init__(self, crawler: Crawler, analyser: PageAnalyser, directory: Path | None) -> None:
        self.crawler = crawler
        self.analyser = analyser
        self.directory = directory  # JOBDIR/newsfilter; None: nothing saved
        self.sites: dict[str, SiteState] = {}
        # pages counted (or held) whose requests the frontier has not finished:
        # made again after a stop, so listed in the saved state as counted
        self.unfinished: dict[str, str] = {}  # url -> profile
        self.frontier_stopped = False  # the frontier records nothing as finished any more
        self.refetch: dict[str, str] = {}  # loaded: url -> profile, counted already
        self.flushing = 0  # held items on their way through the pipeline at idle
        self.exports: set[Deferred[None]] = set()  # their tasks, kept until done

    @classmethod
    def from_crawler(cls, crawler: Crawler, analyser: PageAnalyser) -> Self | None:
        """The crawl's profiles; None with NEWSFILTER_SITE_PROFILE=False."""
        config = Config.from_settings(crawler.settings)
        if not config.site_profile:
            return None
        jobdir = job_dir(crawler.settings)
        # with Redis, a stopped worker's unfinished requests go back to the queue
        directory = Path(jobdir) / STATE_DIR if jobdir and not config.redis_url else None
        profiles = cls(crawler, analyser, directory)
        crawler.signals.connect(profiles.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(profiles.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(profiles.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(profiles.stop_recording, signal=stop_requested)
        return profiles

    @property
    def stats(self) -> Any:
        return self.crawler.stats  # set once the crawl starts

    # -- pages ---------------------------------------------------------------
    def page(self, item: PageItem, parsed: Parsed, request: Request) -> list[PageItem]:
        """Count a fetched, classified page in its site's profile; return the
        items to yield now (none while the site is not ready)."""
        name = site_key(item.site, item.url)
        if self.refetch.pop(item.url, None) is not None:
            # counted (or held) before the crawl stopped: the saved state has it
            self.stats.inc_value("newsfilter/held/refetched")
            logger.debug("%s was counted before the crawl stopped: not again", item.url)
            return []
        state = self.sites.get(name)
        if state is None:
            state = self.sites[name] = SiteState(name)
        self._track(item.url, name, request)
        if state.profile is None and len(state.held) + 1 < MIN_PAGES:
            state.held.append(Held.of(item, request))
            self.stats.inc_value("newsfilter/held")
            self._stat(state)
            return []
        released = self._release(state, (parsed, item))
        # the held pages' requests stay alive until this page's items are through
        keep = [r for _, r in released if r is not None and r is not request]
        if keep:
            request.meta.setdefault(RELEASED, []).extend(keep)
        return [i for i, _ in released]

    def _track(self, url: str, name: str, request: Request) -> None:
        """Remember *url* as counted until the frontier finishes its request
        (what a resumed crawl needs to know: with JOBDIR only)."""
        if self.directory is None:
            return
        self.unfinished[url] = name
        weakref.finalize(request, self._finished, url).atexit = False

    def _finished(self, url: str) -> None:
        if not self.frontier_stopped:
            self.unfinished.pop(url, None)

    def _release(self, state: SiteState, current: tuple[Parsed, PageItem] | None) -> Released:
        """Build (or extend) the site's profile with its held pages (and the
        current page), then classify them all with it."""
        entries: list[tuple[Parsed, PageItem | Held]] = []
        for held in state.held:
            parsed = self._parse(held)
            if parsed is not None:
                entries.append((parsed, held))
        if current is not None:
            entries.append(current)
        profile = state.profile
        if profile is None:
            profile = state.profile = SiteProfile(state.name)
            logger.info(
                "Site %s has %d pages: its held pages are classified with its profile",
                state.name,
                len(entries),
            )
        for parsed, _ in entries:  # every page is counted before any is classified
            if not state.count(parsed, self.analyser.p_article(parsed)):
                self.stats.inc_value("newsfilter/profile/copies")
        state.held = []
        self._stat(state)
        out: Released = []
        for parsed, source in entries:
            analysis = self._classify(parsed, profile)
            if isinstance(source, Held):
                out.append((source.item(analysis), source.request))
            else:
                source.analysis = analysis
                out.append((source, None))
        return out

    def _parse(self, held: Held) -> Parsed | None:
        """A held page parsed again (what is kept is its body, not its tree)."""
        try:
            return self.analyser.parse(
                held.body, url=held.url, encoding=held.encoding, site=held.site
            )
        except Exception as exc:  # it parsed when fetched: a bug, counted, the crawl goes on
            self.stats.inc_value(f"newsfilter/error/{type(exc).__name__}")
            logger.error("Error analysing held page %s", held.url, exc_info=True)
            return None

    def _classify(self, parsed: Parsed, profile: SiteProfile | None) -> Analysis:
        try:
            return self.analyser.classify(parsed, profile)
        except Exception as exc:  # a bug in the site stage: the page alone, counted
            self.stats.inc_value(f"newsfilter/error/{type(exc).__name__}")
            logger.error(
                "Error classifying %s with its site profile; classified alone",
                parsed.page.url,
                exc_info=True,
            )
            return self.analyser.classify(parsed)

    def _stat(self, state: SiteState) -> None:
        self.stats.set_value(f"newsfilter/profile/{state.name}/pages", state.pages)
        if state.profile is not None:
            self.stats.set_value(f"newsfilter/profile/{state.name}/bytes", state.profile.nbytes)

    # -- the end of the crawl ---------------------------------------------------
    def flush(self) -> Iterator[tuple[PageItem, Request | None]]:
        """Every held page classified with what its site has (a site that
        never reached MIN_PAGES: each page alone)."""
        for state in self.sites.values():
            if not state.held:
                continue
            if state.profile is not None:
                yield from self._release(state, None)
                continue
            held, state.held = state.held, []
            for page in held:
                parsed = self._parse(page)
                if parsed is not None:
                    yield page.item(self._classify(parsed, None)), page.request

    def spider_idle(self) -> None:
        """Send the held pages' items through the item pipeline; keep the
        crawl open until they are through."""
        if self.flushing:
            raise DontCloseSpider
        if self.frontier_stopped:  # stopping, not done: what is held is saved, not flushed
            return
        released = list(self.flush())
        if not released:
            return
        logger.info(
            "Nothing left to fetch: %d held pages classified with what their sites have",
            len(released),
        )
        self.flushing = len(released)
        for item, request in released:
            export: Deferred[None] = deferred_from_coro(self._export(item, request))
            self.exports.add(export)
            export.addErrback(self._export_failed, item)
            export.addBoth(self._export_done, export)
        raise DontCloseSpider

    def _export_failed(self, failure: Failure, item: PageItem) -> None:
        logger.error(
            "Error exporting held page %s", item.url, exc_info=failure_to_exc_info(failure)
        )

    def _export_done(self, _: object, export: Deferred[None]) -> None:
        self.exports.discard(export)

    async def _export(self, item: PageItem, request: Request | None) -> None:
        """One flushed item through the pipelines and the feed; its request
        stays alive (unfinished in the frontier) until then."""
        engine = self.crawler.engine
        try:
            if engine is not None:
                await engine.scraper.start_itemproc_async(item, response=None)
        finally:
            del request
            self.flushing -= 1
            if not self.flushing:
                self._wake()

    def _wake(self) -> None:
        """Let the engine look again at once (Scrapy's own wake-up call;
        otherwise its 5 s heartbeat does)."""
        slot = getattr(self.crawler.engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None and hasattr(nextcall, "schedule"):
            nextcall.schedule()

    def stop_recording(self) -> None:
        """The crawl is stopping: the frontier finishes no request any more."""
        self.frontier_stopped = True

    # -- JOBDIR -----------------------------------------------------------------
    @property
    def held_path(self) -> Path | None:
        return self.directory / HELD_FILE if self.directory else None

    def spider_opened(self) -> None:
        if self.directory is None:
            return
        for path in sorted((self.directory / PROFILES_DIR).glob("*.npz")):
            name = unquote(path.name[: -len(".npz")])
            try:
                profile = SiteProfile.from_bytes(path.read_bytes(), name)
            except (OSError, ValueError) as exc:
                self._unreadable(path, exc, f"the profile of site {name} starts afresh")
                continue
            state = self.sites[name] = SiteState(name, profile)
            state.recent = self._load_recent(path.with_name(pages_file(name)))
            self._stat(state)
        held = self._load_held()
        if self.sites or held:
            logger.info(
                "Resuming site profiles from %s: %d sites, %d pages held back",
                self.directory,
                len(self.sites),
                held,
            )

    def _load_recent(self, path: Path) -> dict[int, None]:
        """A profile's recent page fingerprints; none when the file is missing
        or damaged (a copy fetched again is then counted again)."""
        if not path.exists():
            return {}
        try:
            values = np.load(path, allow_pickle=False)
            if values.dtype != np.uint64 or values.ndim != 1:
                raise ValueError(f"holds {values.dtype} {values.shape}, not page fingerprints")
        except (OSError, ValueError) as exc:
            self._unreadable(path, exc, "copies of pages already counted may be counted again")
            return {}
        return dict.fromkeys(int(v) for v in values[-RECENT_PAGES:])

    def _load_held(self) -> int:
        path = self.held_path
        if path is None or not path.exists():
            return 0
        try:
            lines = path.read_bytes().splitlines()
        except OSError as exc:
            self._unreadable(path, exc, "its pages are fetched again")
            return 0
        bad: list[int] = []
        count = 0
        for number, raw in enumerate(lines, 1):
            try:
                value = json.loads(raw)
                if isinstance(value, dict) and set(value) == {"profile", "url", "counted"}:
                    if isinstance(value["url"], str) and isinstance(value["profile"], str):
                        self.refetch[value["url"]] = value["profile"]
                        continue
                    raise ValueError("a counted page needs string url and profile")
                name, held = Held.from_json(value)
            except ValueError:
                bad.append(number)
                continue
            state = self.sites.get(name)
            if state is None:
                state = self.sites[name] = SiteState(name)
            state.held.append(held)
            self.refetch[held.url] = name
            self._stat(state)
            count += 1
        if bad:
            self.stats.inc_value("newsfilter/profile/unreadable_lines", len(bad))
            logger.error(
                "Skipped %d damaged line(s) of %s (line %s): those pages are fetched again",
                len(bad),
                path,
                ", ".join(map(str, bad[:10])),
            )
        return count

    def _unreadable(self, path: Path, exc: Exception, consequence: str) -> None:
        self.stats.inc_value("newsfilter/profile/unreadable_file")
        try:
            aside: Path | str = move_aside(path)
        except OSError as move:
            aside = f"nowhere ({move})"
        logger.error("%s cannot be read (%s); moved to %s, %s", path, exc, aside, consequence)

    def spider_closed(self, reason: str) -> None:
        held = sum(len(s.held) for s in self.sites.values())
        if self.directory is None:
            if held:
                self.stats.inc_value("newsfilter/held/unsaved", held)
                logger.warning(
                    "The crawl stopped (%s) with %d pages held back for their sites'"
                    " profiles, not exported: %s",
                    reason,
                    held,
                    "their requests go back to the shared queue"
                    if Config.from_settings(self.crawler.settings).redis_url
                    else "with -s JOBDIR=... a resumed crawl would classify them",
                )
            return
        self.save(finished=reason == "finished")
        if held:
            logger.info(
                "Saved %d pages held back for their sites' profiles in %s",
                held,
                self.held_path,
            )

    def save(self, *, finished: bool) -> None:
        """Write the changed profiles, then the held pages and the pages counted
        whose requests the frontier will make again (none once finished)."""
        assert self.directory is not None and self.held_path is not None
        for state in self.sites.values():
            if state.profile is not None and state.changed:
                folder = self.directory / PROFILES_DIR
                write_atomic(folder / profile_file(state.name), state.profile.to_bytes())
                buf = io.BytesIO()
                np.save(buf, np.fromiter(state.recent, dtype=np.uint64, count=len(state.recent)))
                write_atomic(folder / pages_file(state.name), buf.getvalue())
                state.changed = False
        lines = []
        held_urls = set()
        for state in self.sites.values():
            for page in state.held:
                held_urls.add(page.url)
                lines.append(json.dumps(page.to_json(state.name)))
        if not finished:
            again = {**self.refetch, **self.unfinished}
            for url, name in again.items():
                if url not in held_urls:
                    lines.append(json.dumps({"profile": name, "url": url, "counted": True}))
        write_atomic(self.held_path, "".join(f"{line}\n" for line in lines).encode())

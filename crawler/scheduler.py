"""A scheduler whose job directory survives ``kill -9``.

Scrapy's scheduler keeps a job's pending requests in files that are only
made consistent when the crawl closes cleanly (``requests.queue/active.json``
is written at the end, queue records are appended without a flush), and its
duplicate filter writes the fingerprints of requests it let through, queued
or not, to ``requests.seen``.  A crawl killed with ``kill -9`` or a second
Ctrl-C leaves a queue that cannot be read back ("unpack requires a buffer")
and fingerprints of requests that were never made: a resumed crawl either
fails or silently skips them, and the stories behind them are lost.

With ``-s JOBDIR=...``, :class:`FrontierScheduler` keeps the frontier in
one SQLite database, ``JOBDIR/newsfilter_requests.sqlite`` (write-ahead
log; each change a transaction):

- a request and its fingerprint are stored in the same transaction, so a
  crash cannot keep one without the other;
- a request taken by the engine stays in the database until the engine has
  finished with it: downloaded, its callback run, the callback's requests
  stored and its items through the pipelines and the feed.  (Finished means
  nothing refers to the request object any more: a weak reference tells.)
  A crawl stopped or killed before that leaves it there, and the resumed
  crawl makes it again;
- when a crawl is stopping (Ctrl-C), nothing is marked finished any more:
  the requests dropped by crawler.stopping stay for the next run.

Requests that cannot be stored (a callback that is not a spider method) are
kept in memory, as Scrapy does.  A database that cannot be read is moved
aside with a clear log line, and the crawl starts again from its start URLs
(the stories already exported are still not exported again).  Without
JOBDIR this class is Scrapy's own scheduler.
"""

from __future__ import annotations

import heapq
import logging
import pickle
import sqlite3
import time
import weakref
from collections import deque
from pathlib import Path
from typing import Any, Self

from scrapy import Request, Spider
from scrapy.core.scheduler import BaseScheduler, Scheduler
from scrapy.crawler import Crawler
from scrapy.utils.job import job_dir
from scrapy.utils.request import request_from_dict

from .stopping import stop_requested

logger = logging.getLogger(__name__)

QUEUE_FILE = "newsfilter_requests.sqlite"
PENDING, TAKEN, UNREADABLE = 0, 1, 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS seen (fp BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slot TEXT NOT NULL,
    priority INTEGER NOT NULL,
    state INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_next ON queue (state, slot, priority, id);
"""


class QueueUnreadable(Exception):
    """The frontier database is corrupt or not a database."""


class FrontierScheduler(BaseScheduler):
    def __init__(self, crawler: Crawler, jobdir: str | None) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.jobdir = Path(jobdir) if jobdir else None
        self.inner: Scheduler | None = None if jobdir else Scheduler.from_crawler(crawler)
        self.db: sqlite3.Connection | None = None
        self.spider: Spider | None = None
        self.pending: dict[str, int] = {}  # download slot -> stored requests not taken
        self.memory: list[tuple[int, int, Request]] = []  # (-priority, -seq, request)
        self.seq = 0
        self.finished: deque[int] = deque()  # row ids whose requests are done
        self.recording = True  # False once the crawl is stopping
        self.logged_duplicate = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, job_dir(crawler.settings))

    @property
    def path(self) -> Path:
        assert self.jobdir is not None
        return self.jobdir / QUEUE_FILE

    # -- open and close ---------------------------------------------------
    def open(self, spider: Spider) -> Any:
        if self.inner is not None:
            return self.inner.open(spider)
        self.spider = spider
        assert self.jobdir is not None
        self.jobdir.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists()
        if fresh and any((self.jobdir / n).exists() for n in ("requests.queue", "requests.seen")):
            logger.warning(
                "%s holds Scrapy's own request queue (requests.queue, requests.seen), which"
                " is not read: a queue written by a killed crawl cannot be trusted. The crawl"
                " starts again from its start URLs; stories already exported are not"
                " exported again.",
                self.jobdir,
            )
        try:
            self.db = self._connect()
        except QueueUnreadable as exc:
            aside = self._move_aside()
            logger.error(
                "The request queue %s cannot be read (%s); moved to %s. The crawl starts"
                " again from its start URLs; stories already exported are not exported again.",
                self.path,
                exc,
                aside,
            )
            self.stats.inc_value("newsfilter/queue/unreadable_file")
            self.db = self._connect()
            fresh = True
        db = self.db
        taken = db.execute("UPDATE queue SET state = ? WHERE state = ?", (PENDING, TAKEN)).rowcount
        self.pending = dict(
            db.execute("SELECT slot, count(*) FROM queue WHERE state = ? GROUP BY slot", (PENDING,))
        )
        self.crawler.signals.connect(self._stop_recording, signal=stop_requested)
        if not fresh:
            logger.info(
                "Resuming crawl from %s: %d requests pending (%d of them unfinished when it"
                " stopped), %d seen",
                self.path,
                sum(self.pending.values()),
                taken,
                db.execute("SELECT count(*) FROM seen").fetchone()[0],
            )
        return None

    def _connect(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            check = db.execute("PRAGMA quick_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise QueueUnreadable(str(exc)) from exc
        if check != "ok":
            db.close()
            raise QueueUnreadable(check)
        return db

    def _move_aside(self) -> Path:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.unreadable-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            part = Path(f"{self.path}{suffix}")
            if part.exists():
                part.rename(f"{aside}{suffix}")
        return aside

    def close(self, reason: str) -> Any:
        if self.inner is not None:
            return self.inner.close(reason)
        if self.db is None:
            return None
        self._flush_finished()
        if reason == "finished":  # the engine was idle: every request taken is done
            self.db.execute("DELETE FROM queue WHERE state = ?", (TAKEN,))
        left = self.db.execute("SELECT count(*) FROM queue WHERE state != ?", (UNREADABLE,))
        count = left.fetchone()[0]
        if count:
            logger.info("%d requests kept in %s for the next run", count, self.path)
        self.db.close()
        self.db = None
        return None

    def _stop_recording(self) -> None:
        self._flush_finished()
        self.recording = False

    # -- the queue ----------------------------------------------------------
    def has_pending_requests(self) -> bool:
        return len(self) > 0

    def __len__(self) -> int:
        if self.inner is not None:
            return len(self.inner)
        return sum(self.pending.values()) + len(self.memory)

    def enqueue_request(self, request: Request) -> bool:
        if self.inner is not None:
            return self.inner.enqueue_request(request)
        if self.db is None:  # closed: nothing can be stored any more
            return False
        self._flush_finished()
        data = self._serialize(request)
        slot = self.crawler.engine.downloader.get_slot_key(request) if self.crawler.engine else ""
        db = self.db
        db.execute("BEGIN")
        try:
            if not request.dont_filter:
                fp = self.crawler.request_fingerprinter.fingerprint(request)
                if not db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (fp,)).rowcount:
                    db.execute("ROLLBACK")
                    self._duplicate(request)
                    return False
            if data is not None:
                db.execute(
                    "INSERT INTO queue (slot, priority, state, data) VALUES (?, ?, ?, ?)",
                    (slot, request.priority, PENDING, data),
                )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if data is None:
            self.seq += 1
            heapq.heappush(self.memory, (-request.priority, -self.seq, request))
            self.stats.inc_value("scheduler/enqueued/memory")
        else:
            self.pending[slot] = self.pending.get(slot, 0) + 1
            self.stats.inc_value("scheduler/enqueued/disk")
        self.stats.inc_value("scheduler/enqueued")
        return True

    def next_request(self) -> Request | None:
        if self.inner is not None:
            return self.inner.next_request()
        if self.db is None:
            return None
        self._flush_finished()
        if self.memory:
            self.stats.inc_value("scheduler/dequeued/memory")
            self.stats.inc_value("scheduler/dequeued")
            return heapq.heappop(self.memory)[2]
        while self.pending:
            row = self._take()
            if row is None:
                return None
            row_id, data = row
            request = self._deserialize(row_id, data)
            if request is None:
                continue
            finalizer = weakref.finalize(request, self.finished.append, row_id)
            finalizer.atexit = False
            self.stats.inc_value("scheduler/dequeued/disk")
            self.stats.inc_value("scheduler/dequeued")
            return request
        return None

    def _take(self) -> tuple[int, bytes] | None:
        """The next stored request, from the download slot with the fewest active requests."""
        assert self.db is not None
        slots = self.crawler.engine.downloader.slots if self.crawler.engine else {}

        def active(key: str) -> int:
            slot = slots.get(key)
            return len(slot.active) if slot is not None else 0

        key = min(self.pending, key=active)
        row = self.db.execute(
            "SELECT id, data FROM queue WHERE state = ? AND slot = ?"
            " ORDER BY priority DESC, id DESC LIMIT 1",
            (PENDING, key),
        ).fetchone()
        if row is None:  # the count was off; it is only a cache of the table
            del self.pending[key]
            return self._take() if self.pending else None
        self.db.execute("UPDATE queue SET state = ? WHERE id = ?", (TAKEN, row[0]))
        self.pending[key] -= 1
        if not self.pending[key]:
            del self.pending[key]
        return row[0], row[1]

    def _flush_finished(self) -> None:
        """Delete the requests the engine has finished with (unless the crawl is stopping)."""
        if not self.finished:
            return
        done = []
        while self.finished:
            done.append(self.finished.popleft())
        if not self.recording or self.db is None:
            return
        self.db.execute("BEGIN")
        self.db.executemany("DELETE FROM queue WHERE id = ?", [(i,) for i in done])
        self.db.execute("COMMIT")
        self.stats.inc_value("newsfilter/queue/finished", len(done))

    # -- requests as bytes ----------------------------------------------------
    def _serialize(self, request: Request) -> bytes | None:
        try:
            return pickle.dumps(request.to_dict(spider=self.spider), protocol=4)
        except (ValueError, TypeError, AttributeError, pickle.PicklingError) as exc:
            if not self.stats.get_value("scheduler/unserializable"):
                logger.warning(
                    "Keeping %s in memory, where a crash loses it: it cannot be stored (%s)",
                    request,
                    exc,
                )
            self.stats.inc_value("scheduler/unserializable")
            return None

    def _deserialize(self, row_id: int, data: bytes) -> Request | None:
        try:
            return request_from_dict(pickle.loads(data), spider=self.spider)
        except Exception as exc:  # a renamed callback, a class gone: skip, say so
            assert self.db is not None
            self.db.execute("UPDATE queue SET state = ? WHERE id = ?", (UNREADABLE, row_id))
            logger.error("Skipped a stored request that cannot be read back: %s", exc)
            self.stats.inc_value("newsfilter/queue/unreadable_request")
            return None

    def _duplicate(self, request: Request) -> None:
        self.stats.inc_value("dupefilter/filtered")
        if not self.logged_duplicate:
            logger.debug(
                "Filtered duplicate request: %s - no more duplicates will be shown", request
            )
            self.logged_duplicate = True

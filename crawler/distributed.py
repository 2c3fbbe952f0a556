"""The distributed crawl: many ``scrapy crawl`` processes on one Redis frontier.

With ``-s NEWSFILTER_REDIS_URL=redis://host:port/db`` every worker (any
``scrapy crawl news ...`` process given that URL, on any machine) shares:

- **the frontier**: scrapy-redis's scheduler and dupefilter (the queue
  ``<spider>:requests``, a sorted set by priority, and the fingerprints
  ``<spider>:dupefilter``), kept in Redis when a worker closes
  (SCHEDULER_PERSIST);
- **the export record**: the canonical URL and text hash of every story
  exported (``<spider>:stories:keys``, ``...:hashes``), so no story is
  exported twice by any worker, and a rerun exports nothing new;
- **politeness**: :class:`DomainLimitMiddleware`, a per-host limit of
  concurrent requests and of the delay between them that holds for all
  workers together.

A worker killed with ``kill -9`` loses nothing (a reliable queue):

- a request taken from the queue is moved, in the same Lua script, to the
  worker's in-flight set ``<spider>:inflight:<worker>``, and leaves it only
  once the engine has finished with it (downloaded, callback run, its
  requests queued, its items through the pipelines and the feed: when
  nothing refers to the request object any more, which a weak reference
  tells, as in crawler.scheduler);
- a story is claimed before its feed line is written (key and hash added to
  the record, and to the worker's pending set ``<spider>:pending:<worker>``)
  and committed (taken off the pending set) once the line is written;
- every worker beats (``<spider>:workers``, a sorted set by the Redis
  server's time) every NEWSFILTER_REDIS_HEARTBEAT seconds; a worker silent
  for NEWSFILTER_REDIS_WORKER_TIMEOUT is dead, and the next live worker to
  beat puts its in-flight requests back in the queue and frees its pending
  stories, atomically.  The requests are made again, their stories exported
  once.

**The bound**: a worker killed between writing a story's feed line and the
commit that follows it (one Redis round trip, well under a millisecond)
leaves that story in its feed *and* pending; the story is then exported once
more by the worker that re-makes the request.  So a kill loses no story and
repeats at most one (one line is written at a time).  A worker stopped with
Ctrl-C puts its unfinished requests back at once.

**What N workers mean for a site**: each worker has Scrapy's own per-domain
limits (CONCURRENT_REQUESTS_PER_DOMAIN, DOWNLOAD_DELAY, AutoThrottle), so on
their own N workers send up to N times as much to a site.  The shared limit
(:class:`DomainLimitMiddleware`, on by default) holds for all of them
together: at most NEWSFILTER_REDIS_DOMAIN_CONCURRENCY (2) requests at once
to a host and NEWSFILTER_REDIS_DOMAIN_DELAY (0.5 s) between two starts,
whatever N.  So more workers make a crawl of many sites faster, not the
crawl of one site harder on it.  Each worker takes up to CONCURRENT_REQUESTS
requests from the queue at a time; on one small site the first worker up may
take most of it.  Trap detection (crawler.traps) learns in each worker on
its own.

A worker stays up while any other live worker is busy or the queue has
requests (their pages may yield more requests), and closes when the whole
crawl is done; a dead worker's requests keep the others waiting until it is
reclaimed.

What scrapy-redis 0.9.1 (tested up to Scrapy 2.11) needed under Scrapy 2.19,
bridged in the subclasses here:

- its queue pops a request and forgets it (ZRANGE + ZREMRANGEBYRANK): a kill
  loses every request in flight.  :class:`ReliableQueue` pops into the
  worker's in-flight set, in one Lua script;
- its ``RedisSpider`` feeds start URLs through ``start_requests``, gone in
  Scrapy 2.16; our spiders' async ``start()`` is used instead (their start
  requests go through the dupefilter, so a second worker's are dropped);
- its scheduler says it has no requests when the shared queue is empty, so
  a worker would close while another worker's pages may still yield work;
  and Scrapy looks again at a scheduler that has requests but gives none
  only every 5 s.  :class:`RedisScheduler` reports work while others are
  busy and wakes the engine every 0.1 s (``engine._slot.nextcall``,
  Scrapy's own wake-up call; skipped if a future Scrapy renames it);
- its scheduler adds a request's fingerprint to the dupefilter and then
  pushes it, in two calls: a kill between them leaves a request seen and
  never queued, lost for good (the parent page's re-run finds it seen).
  Here one Lua script does both (with its dupefilter's fingerprint and key);
- it takes DUPEFILTER_CLASS from the settings, where Scrapy's default is the
  per-process filter: the Distributed add-on (crawler.addons) names
  scrapy-redis's, and the scheduler refuses any other;
- it passes ``spider=`` to the stats collector (deprecated in Scrapy 2.13+):
  our subclass counts without it.

Redis Cluster is not supported (the scripts touch keys they compute).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
import weakref
from collections import deque
from typing import Any, Self

import redis
from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.asyncio import create_looping_call, sleep
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler as ScrapyRedisScheduler

from .config import Config
from .feeds import ExportJournal, synced_feeds
from .stopping import Abandoned, stop_requested

logger = logging.getLogger(__name__)

DOMAIN_PREFIX = "newsfilter:domain"  # per-host politeness keys, shared by all spiders
DOMAIN_POLL = 0.05  # seconds between tries for a host whose requests are all taken
# An idle worker looks at the shared queue this often (Scrapy itself looks
# again only every 5 s at a scheduler that has requests but gives none).
WAKE_SECONDS = 0.1

# KEYS: dupefilter, queue; ARGV: fingerprint ('' for dont_filter), score, request
# -> 1 if queued, 0 if seen before
ENQUEUE = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""

# KEYS: queue, inflight, busy; ARGV: worker -> the request's bytes, or nil
POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
redis.call('ZADD', KEYS[2], r[2], r[1])
redis.call('HSET', KEYS[3], ARGV[1], '1')
return r[1]
"""

# KEYS: workers, busy; ARGV: worker, busy -> 1 if the worker was not registered
BEAT = """
local t = redis.call('TIME')
local added = redis.call('ZADD', KEYS[1], t[1] + t[2] / 1e6, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return added
"""

# Put a worker's in-flight requests back in the queue and free its pending
# stories; used for dead workers (RECLAIM) and by a worker closing (RETIRE).
RELEASE = """
local function release(prefix, w, queue, keys, hashes, requeue)
  local inflight = prefix .. ':inflight:' .. w
  local pending = prefix .. ':pending:' .. w
  local entries = redis.call('ZRANGE', inflight, 0, -1, 'WITHSCORES')
  if requeue then
    for i = 1, #entries, 2 do redis.call('ZADD', queue, entries[i + 1], entries[i]) end
  end
  local stories = redis.call('SMEMBERS', pending)
  for _, s in ipairs(stories) do
    local tab = string.find(s, '\\t', 1, true)
    redis.call('SREM', keys, string.sub(s, 1, tab - 1))
    redis.call('SREM', hashes, string.sub(s, tab + 1))
  end
  redis.call('DEL', inflight, pending)
  redis.call('ZREM', prefix .. ':workers', w)
  redis.call('HDEL', prefix .. ':busy', w)
  return {#entries / 2, #stories}
end
"""

# KEYS: workers, queue, keys, hashes; ARGV: prefix, timeout
# -> {dead workers, requests re-queued, stories freed}
RECLAIM = (
    RELEASE
    + """
local t = redis.call('TIME')
local now = t[1] + t[2] / 1e6
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local requests, stories = 0, 0
for _, w in ipairs(dead) do
  local n = release(ARGV[1], w, KEYS[2], KEYS[3], KEYS[4], true)
  requests = requests + n[1]
  stories = stories + n[2]
end
return {#dead, requests, stories}
"""
)

# KEYS: workers, queue, keys, hashes; ARGV: prefix, worker, requeue (1/0)
RETIRE = (
    RELEASE
    + """
return release(ARGV[1], ARGV[2], KEYS[2], KEYS[3], KEYS[4], ARGV[3] == '1')
"""
)

# KEYS: queue, workers, busy; ARGV: prefix, worker, timeout -> 1 if there may be work
HAS_WORK = """
if redis.call('ZCARD', KEYS[1]) > 0 then return 1 end
local t = redis.call('TIME')
local now = t[1] + t[2] / 1e6
local workers = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = 1, #workers, 2 do
  local w = workers[i]
  if w ~= ARGV[2] then
    if tonumber(workers[i + 1]) < now - tonumber(ARGV[3]) then
      local left = redis.call('EXISTS', ARGV[1] .. ':inflight:' .. w, ARGV[1] .. ':pending:' .. w)
      if left > 0 then return 1 end
    elseif redis.call('HGET', KEYS[3], w) == '1' then
      return 1
    end
  end
end
return 0
"""

# KEYS: keys, hashes, pending; ARGV: key, digest -> 1 if claimed, 0 if exported already
CLAIM = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 or
   redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 then
  return 0
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[3], ARGV[1] .. '\\t' .. ARGV[2])
return 1
"""

# KEYS: leases, next; ARGV: lease, limit, delay, lease ttl
# -> "0" when the request may go (its lease taken), else the seconds to wait
DOMAIN_TURN = """
local t = redis.call('TIME')
local now = t[1] + t[2] / 1e6
local limit, delay, ttl = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if limit > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= limit then return '-1' end
end
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if nxt > now then return tostring(nxt - now) end
if delay > 0 then
  local keep = math.ceil(delay * 1000) + 60000
  redis.call('SET', KEYS[2], string.format('%.6f', now + delay), 'PX', keep)
end
if limit > 0 then
  redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], math.ceil(ttl * 1000) + 60000)
end
return '0'
"""


def connect(url: str) -> redis.Redis:
    """A client for *url* that answers PING; a clear error naming the URL otherwise."""
    try:
        client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
        client.ping()
    except (redis.RedisError, ValueError) as exc:
        raise ValueError(f"NEWSFILTER_REDIS_URL={url}: cannot reach Redis: {exc}") from exc
    return client


def check_config(config: Config) -> None:
    if config.redis_heartbeat <= 0:
        raise ValueError(f"NEWSFILTER_REDIS_HEARTBEAT={config.redis_heartbeat}: must be > 0")
    if config.redis_worker_timeout < 2 * config.redis_heartbeat:
        raise ValueError(
            f"NEWSFILTER_REDIS_WORKER_TIMEOUT={config.redis_worker_timeout}: must be at least"
            f" twice NEWSFILTER_REDIS_HEARTBEAT ({config.redis_heartbeat})"
        )


class Keys:
    """The Redis keys of one spider's crawl (scrapy-redis's own names for the frontier)."""

    def __init__(
        self,
        spider_name: str,
        queue: str = "%(spider)s:requests",
        dupefilter: str = "%(spider)s:dupefilter",
    ) -> None:
        self.prefix = spider_name
        self.queue = queue % {"spider": spider_name}
        self.dupefilter = dupefilter % {"spider": spider_name}
        self.workers = f"{spider_name}:workers"
        self.busy = f"{spider_name}:busy"
        self.story_keys = f"{spider_name}:stories:keys"
        self.story_hashes = f"{spider_name}:stories:hashes"

    def inflight(self, worker: str) -> str:
        return f"{self.prefix}:inflight:{worker}"

    def pending(self, worker: str) -> str:
        return f"{self.prefix}:pending:{worker}"


_WORKERS: weakref.WeakKeyDictionary[Crawler, Worker] = weakref.WeakKeyDictionary()


class Worker:
    """This process's part in the crawl: its name, its Redis client and the scripts.

    One a crawler (:meth:`of`), shared by the scheduler, the export record
    and the per-domain limit.
    """

    def __init__(
        self, client: redis.Redis, spider_name: str, config: Config, keys: Keys | None = None
    ) -> None:
        self.client = client
        self.config = config
        self.keys = keys or Keys(spider_name)
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.inflight = self.keys.inflight(self.name)
        self.pending = self.keys.pending(self.name)
        self._enqueue = client.register_script(ENQUEUE)
        self._pop = client.register_script(POP)
        self._beat = client.register_script(BEAT)
        self._reclaim = client.register_script(RECLAIM)
        self._retire = client.register_script(RETIRE)
        self._has_work = client.register_script(HAS_WORK)
        self._claim = client.register_script(CLAIM)

    @classmethod
    def of(cls, crawler: Crawler) -> Worker:
        worker = _WORKERS.get(crawler)
        if worker is None:
            config = Config.from_settings(crawler.settings)
            if not config.redis_url:
                raise NotConfigured("NEWSFILTER_REDIS_URL is not set")
            check_config(config)
            assert crawler.spidercls is not None
            name = crawler.spidercls.name
            keys = Keys(
                name,
                crawler.settings.get("SCHEDULER_QUEUE_KEY") or "%(spider)s:requests",
                crawler.settings.get("SCHEDULER_DUPEFILTER_KEY") or "%(spider)s:dupefilter",
            )
            worker = cls(connect(config.redis_url), name, config, keys)
            _WORKERS[crawler] = worker
        return worker

    # -- the frontier -------------------------------------------------------
    def enqueue(self, fingerprint: str | None, priority: int, data: bytes) -> bool:
        """Mark seen and queue in one step (a kill between the two would lose the request)."""
        keys = [self.keys.dupefilter, self.keys.queue]
        return bool(self._enqueue(keys=keys, args=[fingerprint or "", -priority, data]))

    def pop(self) -> bytes | None:
        keys = self.keys
        data = self._pop(keys=[keys.queue, self.inflight, keys.busy], args=[self.name])
        return bytes(data) if data is not None else None

    def finished(self, members: list[bytes]) -> None:
        if members:
            self.client.zrem(self.inflight, *members)

    def beat(self, busy: bool) -> bool:
        """Say this worker is alive; False if it had been taken for dead (and reclaimed)."""
        added = self._beat(keys=[self.keys.workers, self.keys.busy], args=[self.name, int(busy)])
        return not added

    def reclaim(self) -> tuple[int, int, int]:
        """Dead workers' requests back to the queue: (workers, requests, stories freed)."""
        k = self.keys
        out = self._reclaim(
            keys=[k.workers, k.queue, k.story_keys, k.story_hashes],
            args=[k.prefix, self.config.redis_worker_timeout],
        )
        return int(out[0]), int(out[1]), int(out[2])

    def retire(self, requeue: bool) -> tuple[int, int]:
        """Leave the crawl: in-flight requests back (or dropped: done), pending stories freed."""
        k = self.keys
        out = self._retire(
            keys=[k.workers, k.queue, k.story_keys, k.story_hashes],
            args=[k.prefix, self.name, int(requeue)],
        )
        return int(out[0]), int(out[1])

    def others_have_work(self) -> bool:
        k = self.keys
        out = self._has_work(
            keys=[k.queue, k.workers, k.busy],
            args=[k.prefix, self.name, self.config.redis_worker_timeout],
        )
        return bool(out)

    # -- the export record ----------------------------------------------------
    def claim(self, key: str, digest: str) -> bool:
        k = self.keys
        return bool(
            self._claim(keys=[k.story_keys, k.story_hashes, self.pending], args=[key, digest])
        )

    def commit(self, key: str, digest: str) -> None:
        self.client.srem(self.pending, f"{key}\t{digest}")


class ReliableQueue(PriorityQueue):
    """scrapy-redis's priority queue whose pop keeps the request in the worker's in-flight set.

    The bytes popped (the in-flight entry) are in :attr:`last_popped`, for
    :class:`RedisScheduler` to take off the set once the request is done.
    """

    def __init__(self, server: Any, spider: Spider, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        assert spider.crawler is not None
        self.worker = Worker.of(spider.crawler)
        self.last_popped: bytes | None = None

    def pop(self, timeout: int = 0) -> Request | None:
        data = self.worker.pop()
        self.last_popped = data
        if data is None:
            return None
        return self._decode_request(data)


class RedisScheduler(ScrapyRedisScheduler):
    """scrapy-redis's scheduler, made to survive ``kill -9`` and to close when the crawl is done."""

    crawler: Crawler
    worker: Worker
    queue: ReliableQueue
    finished_members: deque[bytes]  # in-flight entries whose requests are done
    memory: deque[Request]  # requests that cannot be stored in Redis
    recording: bool  # False once the crawl is stopping: unfinished requests go back
    loop: Any
    last_beat: float  # monotonic() time of the last heartbeat

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        worker = Worker.of(crawler)  # first: a clear error if Redis cannot be reached
        instance = super().from_crawler(crawler)
        instance.crawler = crawler
        instance.worker = worker
        instance.finished_members = deque()
        instance.memory = deque()
        instance.recording = True
        instance.loop = create_looping_call(instance.tick)
        instance.last_beat = 0.0
        return instance

    def open(self, spider: Spider) -> None:
        if self.crawler.settings.get("JOBDIR"):
            logger.info(
                "NEWSFILTER_REDIS_URL is set: the frontier and the export record are in Redis,"
                " not in JOBDIR %s",
                self.crawler.settings.get("JOBDIR"),
            )
        super().open(spider)
        if not isinstance(self.queue, ReliableQueue):
            raise ValueError(
                f"SCHEDULER_QUEUE_CLASS={self.queue_cls}: the distributed crawl needs"
                " crawler.distributed.ReliableQueue (or a subclass)"
            )
        if self.df.key != self.worker.keys.dupefilter:
            raise ValueError(
                f"DUPEFILTER_CLASS={self.dupefilter_cls}: the distributed crawl needs"
                " scrapy-redis's dupefilter on SCHEDULER_DUPEFILTER_KEY"
            )
        self.crawler.signals.connect(self._stop_recording, signal=stop_requested)
        self.worker.beat(busy=True)
        self.beat()  # reclaim workers that died before this one came
        logger.info(
            "Worker %s on %s: %d requests queued, %d seen, %d stories exported so far",
            self.worker.name,
            self.worker.config.redis_url,
            len(self.queue),
            self.server.scard(self.worker.keys.dupefilter),
            self.server.scard(self.worker.keys.story_hashes),
        )
        self.last_beat = time.monotonic()
        self.loop.start(WAKE_SECONDS, now=False)

    def close(self, reason: str) -> None:
        if self.loop.running:
            self.loop.stop()
        self._flush_finished()
        # finished: the engine was idle, every request taken is done; else
        # (Ctrl-C, CLOSESPIDER_*) the requests not finished go back
        requeued, freed = self.worker.retire(requeue=reason != "finished")
        if reason != "finished" and (requeued or freed):
            logger.info(
                "Put %d unfinished requests back in the queue, freed %d unwritten stories",
                requeued,
                freed,
            )
        super().close(reason)

    def _stop_recording(self) -> None:
        self._flush_finished()
        self.recording = False

    def tick(self) -> None:
        """Wake the engine (there may be requests now); beat when it is time."""
        if time.monotonic() - self.last_beat >= self.worker.config.redis_heartbeat:
            self.last_beat = time.monotonic()
            self.beat()
        slot = getattr(self.crawler.engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None and hasattr(nextcall, "schedule"):
            nextcall.schedule()

    def beat(self) -> None:
        """Heartbeat: say we are alive, reclaim dead workers."""
        try:
            self._flush_finished()
            if not self.worker.beat(busy=self._busy()):
                logger.error(
                    "Worker %s was taken for dead (silent for more than"
                    " NEWSFILTER_REDIS_WORKER_TIMEOUT=%s s) and its requests given to others;"
                    " some pages may be fetched twice",
                    self.worker.name,
                    self.worker.config.redis_worker_timeout,
                )
            dead, requests, stories = self.worker.reclaim()
        except redis.RedisError as exc:
            logger.error("Redis heartbeat failed: %s", exc)
            return
        if dead:
            logger.warning(
                "Reclaimed %d dead worker(s): %d requests back in the queue, %d unwritten"
                " stories freed",
                dead,
                requests,
                stories,
            )
            self.crawler.stats.inc_value("newsfilter/redis/reclaimed_workers", dead)
            self.crawler.stats.inc_value("newsfilter/redis/reclaimed_requests", requests)

    def _busy(self) -> bool:
        engine = self.crawler.engine
        if engine is None:
            return False
        scraper_slot = getattr(engine.scraper, "slot", None)
        return bool(engine.downloader.active) or (
            scraper_slot is not None and not scraper_slot.is_idle()
        )

    # -- the queue ---------------------------------------------------------
    def enqueue_request(self, request: Request) -> bool:
        fingerprint = None if request.dont_filter else self.df.request_fingerprint(request)
        try:
            data = self.queue._encode_request(request)
        except (ValueError, TypeError, AttributeError) as exc:  # not serializable
            if fingerprint is not None and self.df.request_seen(request):
                return self._filtered(request)
            if not self.crawler.stats.get_value("scheduler/unserializable"):
                logger.warning(
                    "Keeping %s in this worker's memory, where a crash loses it: it cannot"
                    " be stored in Redis (%s)",
                    request,
                    exc,
                )
            self.crawler.stats.inc_value("scheduler/unserializable")
            self.memory.append(request)
        else:
            if not self.worker.enqueue(fingerprint, request.priority, data):
                return self._filtered(request)
            self.crawler.stats.inc_value("scheduler/enqueued/redis")
        self.crawler.stats.inc_value("scheduler/enqueued")
        return True

    def _filtered(self, request: Request) -> bool:
        self.df.log(request, self.spider)
        self.crawler.stats.inc_value("dupefilter/filtered")
        return False

    def next_request(self) -> Request | None:
        self._flush_finished()
        if self.memory:
            return self.memory.popleft()
        request = self.queue.pop()
        if request is None:
            return None
        data = self.queue.last_popped
        assert data is not None
        finalizer = weakref.finalize(request, self.finished_members.append, data)
        finalizer.atexit = False
        self.crawler.stats.inc_value("scheduler/dequeued/redis")
        self.crawler.stats.inc_value("scheduler/dequeued")
        return request

    def has_pending_requests(self) -> bool:
        if self.memory:
            return True
        try:
            return self.worker.others_have_work()
        except redis.RedisError as exc:
            logger.error("Redis unreachable (%s): waiting", exc)
            return True

    def _flush_finished(self) -> None:
        """Take the requests the engine is done with off the in-flight set."""
        if not self.finished_members:
            return
        done = []
        while self.finished_members:
            done.append(self.finished_members.popleft())
        if self.recording:
            self.worker.finished(done)


class RedisExportJournal(ExportJournal):
    """The export record in Redis: no story exported twice by any worker.

    :meth:`claim` is atomic (one Lua script): of two workers with the same
    story, one gets it.  The claim stays pending until :meth:`record`, called
    after the story's feed line is written; a dead worker's pending claims
    are freed, so that the worker re-making its request exports the story.
    Nothing is kept in JOBDIR, and feeds are not read back.
    """

    def __init__(self, worker: Worker, *, fsync: bool, synced: bool) -> None:
        super().__init__(None, fsync=fsync, synced=synced)
        self.worker = worker

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        config = Config.from_settings(crawler.settings)
        return cls(
            Worker.of(crawler),
            fsync=config.feed_fsync,
            synced=bool(synced_feeds(crawler.settings)),
        )

    def load(self) -> tuple[set[str], set[str]]:
        return self.keys, self.hashes  # empty: claim() asks Redis

    def claim(self, key: str, digest: str) -> bool:
        return self.worker.claim(key, digest)

    def record(self, key: str, digest: str) -> None:
        self.worker.commit(key, digest)


class DomainLimitMiddleware:
    """Per-host concurrency and delay that hold for all workers together (through Redis).

    Before a request is downloaded it waits for its host's turn: fewer than
    NEWSFILTER_REDIS_DOMAIN_CONCURRENCY requests of all workers under way to
    that host (a lease, held until the response or error, and expiring after
    twice DOWNLOAD_TIMEOUT should its worker die), and at least
    NEWSFILTER_REDIS_DOMAIN_DELAY seconds since the last one started.  The
    host is Scrapy's download slot key.  A waiting request holds one of this
    worker's CONCURRENT_REQUESTS, like a slow download.  Each worker's own
    per-domain limits (CONCURRENT_REQUESTS_PER_DOMAIN, DOWNLOAD_DELAY,
    AutoThrottle) still apply on top.
    """

    def __init__(self, crawler: Crawler, worker: Worker) -> None:
        self.crawler = crawler
        self.worker = worker
        config = worker.config
        self.limit = config.redis_domain_concurrency
        self.delay = config.redis_domain_delay
        self.ttl = 2 * crawler.settings.getfloat("DOWNLOAD_TIMEOUT", 180)
        self._turn = worker.client.register_script(DOMAIN_TURN)
        self.leases: dict[int, tuple[str, str]] = {}  # id(request) -> (leases key, lease)
        self.stopping = False
        crawler.signals.connect(self._stop, signal=stop_requested)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        config = Config.from_settings(crawler.settings)
        if not config.redis_url:
            raise NotConfigured
        if config.redis_domain_concurrency <= 0 and config.redis_domain_delay <= 0:
            raise NotConfigured
        return cls(crawler, Worker.of(crawler))

    def _stop(self) -> None:
        self.stopping = True

    async def process_request(self, request: Request) -> None:
        engine = self.crawler.engine
        host = engine.downloader.get_slot_key(request) if engine is not None else ""
        leases, nxt = f"{DOMAIN_PREFIX}:{host}:leases", f"{DOMAIN_PREFIX}:{host}:next"
        lease = f"{self.worker.name}:{uuid.uuid4().hex[:12]}"
        waited = False
        while True:
            if self.stopping:
                raise Abandoned(f"crawl stopping: {request.url}")
            wait = float(
                self._turn(keys=[leases, nxt], args=[lease, self.limit, self.delay, self.ttl])
            )
            if wait == 0:
                break
            waited = True
            await sleep(DOMAIN_POLL if wait < 0 else wait)
        if waited:
            self.crawler.stats.inc_value("newsfilter/redis/domain_waits")
        if self.limit > 0:
            self.leases[id(request)] = (leases, lease)

    def _release(self, request: Request) -> None:
        held = self.leases.pop(id(request), None)
        if held is not None:
            try:
                self.worker.client.zrem(held[0], held[1])
            except redis.RedisError as exc:  # the lease expires by itself
                logger.warning("Could not release a host lease in Redis: %s", exc)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        self._release(request)
        return response

    def process_exception(
        self, request: Request, exception: BaseException, spider: Spider | None = None
    ) -> None:
        self._release(request)

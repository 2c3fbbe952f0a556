"""The distributed crawl on a real Redis (crawler/distributed.py).

Workers are separate `scrapy crawl` processes, as users run them, on the
demo site (crawler/demo) served by the test; each writes its own feed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, cast

import pytest
import redis
from crawlsite import ROOT
from redis_server import redis_server_fixture  # noqa: F401  # gives `redis_url`

from classifier.sources import iter_inputs, iter_pages
from crawler.config import Config
from crawler.demo.distributed import (
    GatedHandler,
    expected_titles,
    feed_items,
    registered_workers,
    serve_gated,
    worker_command,
)
from crawler.distributed import DOMAIN_TURN, Worker, check_config, connect

FAST_FAILOVER = {"NEWSFILTER_REDIS_HEARTBEAT": "0.3", "NEWSFILTER_REDIS_WORKER_TIMEOUT": "2"}


def config(url: str, **overrides: Any) -> Config:
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings")
    settings.set("NEWSFILTER_REDIS_URL", url)
    for name, value in overrides.items():
        settings.set(f"NEWSFILTER_{name.upper()}", value)
    return Config.from_settings(settings)


def worker(url: str, **overrides: Any) -> Worker:
    return Worker(redis.Redis.from_url(url), "news", config(url, **overrides))


# -- the scripts, on their own ---------------------------------------------
def test_a_story_is_claimed_once_and_a_dead_workers_claims_are_freed(redis_url: str) -> None:
    a = worker(redis_url, redis_heartbeat=0.05, redis_worker_timeout=0.2)
    b = worker(redis_url, redis_heartbeat=0.05, redis_worker_timeout=0.2)
    a.beat(busy=True)
    b.beat(busy=True)
    assert a.claim("http://x/1", "h1") and a.claim("http://x/2", "h2")
    assert not b.claim("http://x/1", "other")  # same canonical URL
    assert not b.claim("http://x/1-print", "h1")  # same text
    a.commit("http://x/2", "h2")  # its feed line was written
    assert b.reclaim() == (0, 0, 0)  # a is alive
    time.sleep(0.3)
    b.beat(busy=True)
    dead, requests, stories = b.reclaim()
    assert (dead, requests, stories) == (1, 0, 1)  # only the unwritten story is freed
    assert b.claim("http://x/1", "h1")
    assert not b.claim("http://x/2", "h2")


def test_a_dead_workers_requests_go_back_to_the_queue(redis_url: str) -> None:
    a = worker(redis_url, redis_heartbeat=0.05, redis_worker_timeout=0.2)
    b = worker(redis_url, redis_heartbeat=0.05, redis_worker_timeout=0.2)
    queue = a.keys.queue
    assert a.enqueue("fp1", 10, b"first") and b.enqueue("fp2", 0, b"second")
    assert not b.enqueue("fp1", 10, b"first again")  # seen: not queued
    assert a.enqueue(None, 0, b"second")  # dont_filter: no fingerprint (same bytes: one entry)
    assert a.client.zcard(queue) == 2 and a.client.scard(a.keys.dupefilter) == 2
    a.beat(busy=False)
    b.beat(busy=False)
    assert a.pop() == b"first"  # highest priority first
    assert a.client.zrange(a.inflight, 0, -1) == [b"first"]
    assert b.pop() == b"second" and a.pop() is None
    b.finished([b"second"])
    assert b.others_have_work()  # a popped, so it is busy
    a.beat(busy=False)
    assert not b.others_have_work()  # idle, queue empty: the crawl is done for b
    a.beat(busy=True)
    time.sleep(0.3)
    b.beat(busy=False)
    assert b.others_have_work()  # a is dead with a request in flight: wait for it
    assert b.reclaim() == (1, 1, 0)
    assert b.client.zrange(queue, 0, -1, withscores=True) == [(b"first", -10.0)]
    assert not b.client.exists(a.inflight)
    assert a.beat(busy=True) is False  # a learns it was taken for dead


def test_the_domain_limit_holds_across_clients(redis_url: str) -> None:
    clients = [redis.Redis.from_url(redis_url) for _ in range(2)]
    turns = [c.register_script(DOMAIN_TURN) for c in clients]
    keys = ["newsfilter:domain:x:leases", "newsfilter:domain:x:next"]
    got = [float(turns[i % 2](keys=keys, args=[f"lease{i}", 2, 0, 60])) for i in range(3)]
    assert got == [0.0, 0.0, -1.0]  # two at a time, whoever asks
    clients[0].zrem(keys[0], "lease0")
    assert float(turns[1](keys=keys, args=["lease2", 2, 0, 60])) == 0.0
    delay_keys = ["newsfilter:domain:y:leases", "newsfilter:domain:y:next"]
    assert float(turns[0](keys=delay_keys, args=["l", 0, 5, 60])) == 0.0
    wait = float(turns[1](keys=delay_keys, args=["m", 0, 5, 60]))
    assert 4.0 < wait <= 5.0  # the other client waits for the delay


def test_a_redis_that_does_not_answer_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"NEWSFILTER_REDIS_URL=redis://127.0.0.1:9/0: cannot"):
        connect("redis://127.0.0.1:9/0")
    with pytest.raises(ValueError, match="NEWSFILTER_REDIS_WORKER_TIMEOUT"):
        check_config(config("redis://x", redis_heartbeat=5, redis_worker_timeout=6))


# -- real crawls ------------------------------------------------------------
class CountingHandler(GatedHandler):
    """Counts the requests the server handles at once."""

    lock = threading.Lock()
    now = 0
    most = 0

    def send_head(self) -> Any:
        cls = type(self)
        with cls.lock:
            cls.now += 1
            cls.most = max(cls.most, cls.now)
        try:
            return super().send_head()
        finally:
            with cls.lock:
                cls.now -= 1


def start_worker(
    base: str, url: str, feed: Path, log: Path, **settings: str
) -> subprocess.Popen[bytes]:
    cmd = worker_command(base, url, feed, settings)
    with open(log, "wb") as err:
        return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)


def wait_all(procs: list[subprocess.Popen[bytes]], logs: list[Path]) -> None:
    for proc, log in zip(procs, logs, strict=True):
        proc.wait(timeout=240)
        text = log.read_text(errors="replace")
        assert proc.returncode in (0, -signal.SIGKILL), text[-3000:]
        if proc.returncode == 0:
            assert "Traceback" not in text, text[text.index("Traceback") :][:3000]


def wait_until_up(url: str, n: int, procs: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 180
    while registered_workers(url) < n and time.monotonic() < deadline:
        assert all(p.poll() is None for p in procs), "a worker exited before the crawl"
        time.sleep(0.05)


def titles_of(feeds: list[Path]) -> Counter[str]:
    return Counter(item["title"] for feed in feeds for item in feed_items(feed))


def stats_of(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


@pytest.mark.slow
def test_three_workers_export_each_story_once_and_a_rerun_nothing(
    redis_url: str,
    tmp_path: Path,
) -> None:
    CountingHandler.most = 0
    with serve_gated(latency=0.02, handler=CountingHandler) as (base, gate):
        feeds = [tmp_path / f"feed{i}.jsonl" for i in range(3)]
        logs = [tmp_path / f"worker{i}.log" for i in range(3)]
        procs = [
            start_worker(
                base,
                redis_url,
                feed,
                log,
                CONCURRENT_REQUESTS="4",
                CONCURRENT_REQUESTS_PER_DOMAIN="8",
                NEWSFILTER_REDIS_DOMAIN_CONCURRENCY="2",
            )
            for feed, log in zip(feeds, logs, strict=True)
        ]
        wait_until_up(redis_url, 3, procs)
        gate.set()
        wait_all(procs, logs)
        titles = titles_of(feeds)
        assert [t for t, n in titles.items() if n > 1] == [], "exported twice"
        assert set(titles) == expected_titles()
        # politeness across workers: never more than the shared limit at once
        assert 1 <= CountingHandler.most <= 2
        client = redis.Redis.from_url(redis_url)
        assert client.zcard("news:requests") == 0 and client.zcard("news:workers") == 0
        assert client.scard("news:stories:hashes") == 24

        again, log = tmp_path / "again.jsonl", tmp_path / "again.log"
        stats = tmp_path / "again.json"
        rerun = start_worker(base, redis_url, again, log, NEWSFILTER_STATS_FILE=str(stats))
        wait_all([rerun], [log])
        assert again.read_bytes() == b""  # nothing new to export
        assert stats_of(stats).get("item_scraped_count", 0) == 0


@pytest.mark.slow
def test_a_worker_killed_mid_crawl_loses_nothing(
    redis_url: str,
    tmp_path: Path,
) -> None:
    warc = tmp_path / "warc"
    common = {
        **FAST_FAILOVER,
        "CONCURRENT_REQUESTS": "2",
        "NEWSFILTER_WARC_DIR": str(warc),
    }
    client = redis.Redis.from_url(redis_url)
    with serve_gated(latency=0.15) as (base, gate):
        feeds = [tmp_path / f"feed{i}.jsonl" for i in range(3)]
        logs = [tmp_path / f"worker{i}.log" for i in range(3)]
        stats = [tmp_path / f"stats{i}.json" for i in range(3)]
        procs = [
            start_worker(
                base, redis_url, feeds[i], logs[i], **common, NEWSFILTER_STATS_FILE=str(stats[i])
            )
            for i in range(2)
        ]
        wait_until_up(redis_url, 2, procs)
        gate.set()
        # kill the first worker seen with a story written and requests in flight
        victim = None
        deadline = time.monotonic() + 120
        while victim is None and time.monotonic() < deadline:
            for i, proc in enumerate(procs):
                names = cast(list[bytes], client.zrange("news:workers", 0, -1))
                name = next(
                    (w.decode() for w in names if w.decode().split(":")[1] == str(proc.pid)),
                    None,
                )
                written = feeds[i].exists() and b"\n" in feeds[i].read_bytes()
                if name and written and client.zcard(f"news:inflight:{name}") > 0:
                    os.kill(proc.pid, signal.SIGKILL)
                    victim = i
                    break
            time.sleep(0.01)
        assert victim is not None, "no worker was caught mid-crawl"
        procs.append(
            start_worker(
                base, redis_url, feeds[2], logs[2], **common, NEWSFILTER_STATS_FILE=str(stats[2])
            )
        )
        wait_all(procs, logs)
    assert procs[victim].returncode == -signal.SIGKILL
    titles = titles_of(feeds)
    assert set(titles) == expected_titles(), "a story was lost"
    # the documented bound: a kill repeats at most the one story being written
    assert sum(titles.values()) - len(titles) <= 1, titles.most_common(3)
    reclaimed = sum(stats_of(s).get("newsfilter/redis/reclaimed_requests", 0) for s in stats)
    assert reclaimed >= 1  # the victim's requests in flight were made again
    assert client.zcard("news:requests") == 0 and client.zcard("news:workers") == 0
    # the killed worker's WARC file holds complete records only
    files = list(iter_inputs([str(warc)]))
    assert len(files) >= 2  # the killed worker and the survivor
    pages = list(iter_pages(files))
    assert pages and [p.error for p in pages if p.error] == []

"""Crash-safe resume: kill -9, Ctrl-C, twice Ctrl-C and a corrupt queue lose and repeat nothing.

Every crawl here appends to one feed (``-o``) with one job directory and is
stopped the hard way, then resumed; the feed must end up holding every
healthy story of the fault site (tests/faultsite.py) exactly once, each line
complete JSON.  The kill points are random, from a seed
(``NEWSFILTER_KILL_SEED``, printed) so that a failure can be replayed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from crawlsite import FAST, ROOT
from faultsite import SOAK_SETTINGS, FaultServer, FaultSite, healthy_titles, serve

from crawler.feeds import SEEN_FILE
from crawler.scheduler import QUEUE_FILE

KILL_SEED = int(os.environ.get("NEWSFILTER_KILL_SEED", "20260501"))
STOP_SECONDS = 5.0  # Ctrl-C must stop the crawl within this
PARTIAL = b'{"url": "http://127.0.0.1/torn", "title": "A line a crash cut sh'


def crawl_command(server: FaultServer, jobdir: Path, feed: Path, *settings: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "news",
        "-a",
        f"url={server.base}/",
        "-o",
        str(feed),
        "-s",
        f"JOBDIR={jobdir}",
        *settings,
    ]


def fast(server: FaultServer, jobdir: Path, feed: Path) -> list[str]:
    return crawl_command(server, jobdir, feed, *FAST, *SOAK_SETTINGS)


def lines(feed: Path) -> int:
    return feed.read_bytes().count(b"\n") if feed.exists() else 0


def start(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as err:
        return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)


def wait_for(proc: subprocess.Popen[bytes], done: Callable[[], bool], timeout: float = 120) -> bool:
    """Wait until ``done()`` or the process ends; True if it is still running."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if done():
            return True
        time.sleep(0.05)
    return proc.poll() is None


def finish(cmd: list[str], log: Path) -> str:
    """Run a crawl to its end; return its log."""
    with open(log, "wb") as err:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, timeout=300)
    text = log.read_text(encoding="utf-8")
    assert proc.returncode == 0, text[-3000:]
    return text


def check_feed(feed: Path, site: FaultSite) -> None:
    """Every healthy story exactly once; every line complete and valid JSON."""
    raw = feed.read_bytes()
    assert raw.endswith(b"\n")
    items = [json.loads(line) for line in raw.splitlines()]  # a corrupt line raises here
    titles = Counter(i["title"] for i in items)
    assert [t for t, n in titles.items() if n > 1] == [], "exported twice"
    assert set(titles) == healthy_titles(site), (
        f"missing {sorted(healthy_titles(site) - set(titles))[:5]},"
        f" extra {sorted(set(titles) - healthy_titles(site))[:5]}"
    )


def no_traceback(log: str) -> None:
    assert "Traceback" not in log, log[log.index("Traceback") :][:3000]
    assert "unpack requires a buffer" not in log


@pytest.mark.slow
def test_kill_9_at_random_points_loses_and_repeats_nothing(tmp_path: Path) -> None:
    rng = random.Random(KILL_SEED)
    print(f"NEWSFILTER_KILL_SEED={KILL_SEED}")
    site = FaultSite(seed=7, stories_count=80)
    healthy = len(site.healthy)
    jobdir, feed = tmp_path / "job", tmp_path / "feed.jsonl"
    # Scrapy's own queue, half-written by an older version: not read, said so
    (jobdir / "requests.queue").mkdir(parents=True)
    (jobdir / "requests.queue" / "active.json").write_text("[0")
    # one kill early (maybe before any story), then three, each once the feed
    # has grown by a random number of stories
    targets = [0, *(rng.randint(2, healthy // 5) for _ in range(3))]
    kills, logs = 0, []
    with serve(site) as server:
        cmd = fast(server, jobdir, feed)
        for run, target in enumerate(targets):
            log = tmp_path / f"run{run}.log"
            proc = start(cmd, log)
            if target == 0:  # once it has begun crawling, before or after a first story
                running = wait_for(proc, lambda: len(server.log) >= 1)
                time.sleep(rng.uniform(0.0, 1.5))
            else:
                goal = lines(feed) + target

                def grown(goal: int = goal) -> bool:
                    return lines(feed) >= goal

                running = wait_for(proc, grown)
                time.sleep(rng.uniform(0.0, 0.5))  # past the write: mid-download, mid-parse
            running = running and proc.poll() is None
            if running:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait(timeout=60)
            logs.append(log.read_text(encoding="utf-8"))
            if run == 2:  # a write the crash tore: the resumed run cuts it off
                with open(feed, "ab") as fh:
                    fh.write(PARTIAL)
        last = finish(cmd, tmp_path / "last.log")
    assert kills >= 3, f"only {kills} kills landed before the crawl ended"
    assert "holds Scrapy's own request queue" in logs[0]
    assert "Resuming crawl from" in last
    assert "Cut a partial last line" in logs[3]
    for text in [*logs, last]:
        no_traceback(text)
    check_feed(feed, site)
    seen = (jobdir / SEEN_FILE).read_text(encoding="utf-8").splitlines()
    assert len({line.split("\t")[1] for line in seen}) == healthy  # the record agrees


@pytest.mark.slow
def test_ctrl_c_stops_within_seconds_and_resume_completes(tmp_path: Path) -> None:
    """Under the polite defaults (AutoThrottle, delays), with slow pages and Retry-After waits."""
    site = FaultSite(seed=11, stories_count=40)
    jobdir, feed = tmp_path / "job", tmp_path / "feed.jsonl"
    with serve(site) as server:
        polite = crawl_command(server, jobdir, feed, "-s", "LOG_LEVEL=INFO")
        proc = start(polite, tmp_path / "first.log")
        assert wait_for(proc, lambda: lines(feed) >= 2 and len(server.log) >= 12)
        asked = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        took = time.monotonic() - asked
        first = (tmp_path / "first.log").read_text(encoding="utf-8")
        assert proc.returncode == 0, first[-3000:]
        assert took < STOP_SECONDS, f"Ctrl-C took {took:.1f} s"
        assert "Closing spider (shutdown)" in first and "Stopping:" in first
        no_traceback(first)
        assert 2 <= lines(feed) < len(site.healthy)
        last = finish(fast(server, jobdir, feed), tmp_path / "last.log")
    no_traceback(last)
    check_feed(feed, site)


@pytest.mark.slow
def test_second_ctrl_c_loses_nothing(tmp_path: Path) -> None:
    site = FaultSite(seed=13, stories_count=40)
    jobdir, feed = tmp_path / "job", tmp_path / "feed.jsonl"
    with serve(site) as server:
        cmd = fast(server, jobdir, feed)
        proc = start(cmd, tmp_path / "first.log")
        assert wait_for(proc, lambda: lines(feed) >= 5)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.1)
        proc.send_signal(signal.SIGINT)  # "forcing unclean shutdown"
        proc.wait(timeout=30)
        assert lines(feed) < len(site.healthy)
        last = finish(cmd, tmp_path / "last.log")
    assert "Resuming crawl from" in last
    no_traceback(last)
    check_feed(feed, site)


@pytest.mark.slow
def test_corrupt_queue_is_reported_and_the_crawl_starts_over(tmp_path: Path) -> None:
    site = FaultSite(seed=17, stories_count=40)
    jobdir, feed = tmp_path / "job", tmp_path / "feed.jsonl"
    with serve(site) as server:
        cmd = fast(server, jobdir, feed)
        proc = start(cmd, tmp_path / "first.log")
        assert wait_for(proc, lambda: lines(feed) >= 5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        for suffix in ("-wal", "-shm"):
            Path(f"{jobdir / QUEUE_FILE}{suffix}").unlink(missing_ok=True)
        (jobdir / QUEUE_FILE).write_bytes(b"\x00garbage, not a database" * 100)
        last = finish(cmd, tmp_path / "last.log")
    assert f"The request queue {jobdir / QUEUE_FILE} cannot be read" in last
    assert list(jobdir.glob(f"{QUEUE_FILE}.unreadable-*"))
    no_traceback(last)
    check_feed(feed, site)

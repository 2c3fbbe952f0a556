"""`make demo-distributed`: three crawl workers on one Redis frontier, on the demo site.

    python -m crawler.demo.distributed [-n 3] [--feeds feeds] [--redis-url URL]

Starts a throw-away Redis (Debian's ``redis-server``, on 127.0.0.1, a free
port, a temporary folder; or uses ``--redis-url``), serves the bundled demo
site, and runs N ``scrapy crawl news`` processes, as a user would on N
machines, each writing ``feeds/demo-distributed-<n>.jsonl``.  It prints what
each worker did and checks that the 24 demo stories came out exactly once
across the feeds.

The site answers every page after LATENCY seconds, as a site across the
network would, and only once all the workers are up (a small site is
otherwise crawled by the first worker alone before the others have loaded
their model).  The workers share one limit of SITE_CONCURRENCY requests at a
time to the site (NEWSFILTER_REDIS_DOMAIN_CONCURRENCY), whatever their number.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .redis_server import RedisUnavailable, redis_server
from .server import DEFAULT_SITE, DemoHTTPServer, DemoRequestHandler

ROOT = Path(__file__).resolve().parent.parent.parent
EXPECTED = Path(__file__).resolve().parent / "expected.jsonl"
LATENCY = 0.05
SITE_CONCURRENCY = 4
START_TIMEOUT = 120.0  # seconds to wait for every worker to be up
# our own server on loopback: no AutoThrottle; the shared limit is the politeness
WORKER_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS": "2",
    "NEWSFILTER_REDIS_DOMAIN_CONCURRENCY": str(SITE_CONCURRENCY),
    "NEWSFILTER_REDIS_DOMAIN_DELAY": "0",
    "LOG_LEVEL": "INFO",
}


def worker_command(
    base_url: str, redis_url: str, feed: Path, settings: dict[str, str] | None = None
) -> list[str]:
    """The `scrapy crawl` command of one worker, writing (overwriting) *feed*."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"url={base_url}/"]
    cmd += ["-O", str(feed), "-s", f"NEWSFILTER_REDIS_URL={redis_url}"]
    for name, value in {**WORKER_SETTINGS, **(settings or {})}.items():
        cmd += ["-s", f"{name}={value}"]
    return cmd


def expected_titles() -> set[str]:
    lines = EXPECTED.read_text(encoding="utf-8").splitlines()
    return {json.loads(line)["title"] for line in lines if line.strip()}


def feed_items(feed: Path) -> list[dict[str, Any]]:
    if not feed.exists():
        return []
    return [json.loads(line) for line in feed.read_text(encoding="utf-8").splitlines()]


class GatedHandler(DemoRequestHandler):
    """The demo site's handler, answering after a network-like latency, once the gate opens."""

    def send_head(self) -> Any:
        gate: threading.Event = getattr(self.server, "gate")  # noqa: B009
        gate.wait()
        time.sleep(float(getattr(self.server, "latency")))  # noqa: B009
        return super().send_head()


@contextmanager
def serve_gated(
    latency: float = LATENCY, handler: type[GatedHandler] = GatedHandler
) -> Iterator[tuple[str, threading.Event]]:
    """Serve the demo site; yield its base URL and the gate that lets requests through."""
    httpd = DemoHTTPServer(DEFAULT_SITE, "127.0.0.1", 0)
    httpd.RequestHandlerClass = handler
    gate = threading.Event()
    httpd.gate = gate  # type: ignore[attr-defined]
    httpd.latency = latency  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        yield httpd.base_url, gate
    finally:
        gate.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def registered_workers(redis_url: str, spider: str = "news") -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.zcard(f"{spider}:workers"))
    finally:
        client.close()


def run(n: int, feeds: Path, redis_url: str, work: Path) -> dict[str, Any]:
    """Run *n* workers to the end; return what each did and the union of their feeds."""
    feeds.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with serve_gated() as (base_url, gate):
        print(f"serving the demo site at {base_url}; Redis at {redis_url}", flush=True)
        procs = []
        for i in range(1, n + 1):
            feed = feeds / f"demo-distributed-{i}.jsonl"
            stats = work / f"stats-{i}.json"
            cmd = worker_command(base_url, redis_url, feed, {"NEWSFILTER_STATS_FILE": str(stats)})
            log = open(work / f"worker-{i}.log", "wb")  # noqa: SIM115  # closed below
            procs.append((i, feed, stats, log, subprocess.Popen(cmd, cwd=ROOT, stderr=log)))
        deadline = time.monotonic() + START_TIMEOUT
        while registered_workers(redis_url) < n and time.monotonic() < deadline:
            if any(p.poll() is not None for *_, p in procs):
                break
            time.sleep(0.1)
        print(f"{registered_workers(redis_url)} workers up; crawling", flush=True)
        gate.set()
        workers = []
        for i, feed, stats_path, log, proc in procs:
            proc.wait()
            log.close()
            stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
            workers.append(
                {
                    "worker": i,
                    "returncode": proc.returncode,
                    "feed": str(feed),
                    "stories": len(feed_items(feed)),
                    "pages": stats.get("response_received_count", 0),
                    "duplicates_dropped": stats.get("newsfilter/duplicate", 0),
                    "log": str(work / f"worker-{i}.log"),
                }
            )
    titles = Counter(item["title"] for w in workers for item in feed_items(Path(w["feed"])))
    return {"workers": workers, "titles": titles, "seconds": time.perf_counter() - started}


def summary(result: dict[str, Any]) -> tuple[str, bool]:
    titles: Counter[str] = result["titles"]
    expected = expected_titles()
    twice = sorted(t for t, c in titles.items() if c > 1)
    missing = sorted(expected - set(titles))
    lines = [f"distributed demo crawl finished in {result['seconds']:.1f} s"]
    for w in result["workers"]:
        failed = f"  FAILED (exit {w['returncode']}, see {w['log']})" if w["returncode"] else ""
        lines.append(
            f"  worker {w['worker']}: {w['stories']:>2} stories, {w['pages']:>2} pages fetched,"
            f" {w['duplicates_dropped']} duplicates dropped  -> {w['feed']}{failed}"
        )
    total = sum(titles.values())
    lines.append(f"  stories across the feeds: {total}, distinct {len(titles)}")
    ok = not twice and not missing and len(titles) == len(expected)
    ok = ok and all(w["returncode"] == 0 for w in result["workers"])
    if ok:
        lines.append(f"  all {len(expected)} demo stories exported exactly once")
    if twice:
        lines.append(f"  exported more than once: {twice}")
    if missing:
        lines.append(f"  missing: {missing}")
    return "\n".join(lines), ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.demo.distributed", description=__doc__.splitlines()[0]
    )
    parser.add_argument("-n", "--workers", type=int, default=3, help="crawl processes (3)")
    parser.add_argument("--feeds", default="feeds", help="folder of the feeds (feeds)")
    parser.add_argument(
        "--redis-url", default="", help="use this Redis (default: start a throw-away one)"
    )
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    feeds = Path(args.feeds)
    with tempfile.TemporaryDirectory(prefix="newsfilter-demo-") as tmp:
        work = Path(tmp)
        try:
            if args.redis_url:
                result = run(args.workers, feeds, args.redis_url, work)
            else:
                with redis_server(work / "redis") as url:
                    result = run(args.workers, feeds, url, work)
        except RedisUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        text, ok = summary(result)
        print(text)
        if not ok:
            for w in result["workers"]:
                if w["returncode"]:
                    print(Path(w["log"]).read_text(errors="replace")[-3000:], file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Crawl benchmark: pages/s crawling the demo site with and without the classifier.

Both crawls run in this run, against the same demo server on 127.0.0.1, each
in its own process (Twisted's reactor starts once a process).  Two regimes:
the shipped polite settings (AutoThrottle and a download delay, as a real
crawl runs) and an unthrottled crawl, where the classifier's CPU cost shows
in full.

:func:`distributed_once` (for ``make bench-scale``) crawls several copies of
the demo site with N worker processes on one throw-away Redis.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from crawler.demo.server import serve

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "crawler" / "demo" / "site"
REGIMES = {
    "polite": [],  # the shipped settings
    "unthrottled": [
        "-s",
        "AUTOTHROTTLE_ENABLED=False",
        "-s",
        "DOWNLOAD_DELAY=0",
        "-s",
        "CONCURRENT_REQUESTS_PER_DOMAIN=8",
    ],
}
# An unthrottled crawl of ~40 pages takes a second or two, so one run is
# noise; the median of several, alternating with and without, is not.
REPEATS = {"polite": 1, "unthrottled": 5}


def scrapy_crawl(args: Sequence[str], settings: Mapping[str, object]) -> list[str]:
    """The command line of ``scrapy crawl news ARGS -s NAME=VALUE...`` in this Python."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", *args]
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    return cmd


def crawl_once(base_url: str, extra: list[str], classify: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        stats_file = Path(tmp) / "stats.json"
        settings = {
            "NEWSFILTER_STATS_FILE": stats_file,
            "LOG_LEVEL": "ERROR",
            "NEWSFILTER_CLASSIFY": classify,
            "FEEDS": "{}",
        }
        cmd = scrapy_crawl(["-a", f"url={base_url}/", *extra], settings)
        if not classify:
            cmd += ["-s", "ITEM_PIPELINES={}"]
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, timeout=600)
        stats = json.loads(stats_file.read_text())
    pages = stats.get("response_received_count", 0)
    seconds = float(stats.get("elapsed_time_seconds", 0.0)) or 1e-9
    return {
        "pages": pages,
        "seconds": seconds,
        "pages_per_s": pages / seconds,
        "items": stats.get("item_scraped_count", 0),
    }


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median pages/s, noting how many runs it was chosen from."""
    ordered = sorted(runs, key=lambda r: r["pages_per_s"])
    return {**ordered[len(ordered) // 2], "runs": len(runs)}


def run() -> dict[str, Any]:
    """``{"<regime>, plain": {...}, "<regime>, classifier": {...}}``,
    each with ``pages``, ``seconds``, ``pages_per_s``, ``items``; the "with" run
    also carries ``slowdown_pct`` against its regime's plain crawl."""
    out: dict[str, Any] = {}
    with serve(SITE) as base_url:
        for regime, extra in REGIMES.items():
            runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
            for _ in range(REPEATS[regime]):
                for classify in (False, True):
                    runs[classify].append(crawl_once(base_url, extra, classify))
            plain, full = (_median_run(runs[False]), _median_run(runs[True]))
            full["slowdown_pct"] = 100.0 * (1 - full["pages_per_s"] / plain["pages_per_s"])
            out[f"{regime}, plain"] = plain
            out[f"{regime}, classifier"] = full
    return out


def format_table(result: dict[str, Any]) -> str:
    lines = [f"{'crawl of the demo site':<24} {'pages/s':>8} {'pages':>6} {'slower':>8}"]
    for name, r in result.items():
        slower = f"{r['slowdown_pct']:7.1f}%" if "slowdown_pct" in r else ""
        lines.append(f"{name:<24} {r['pages_per_s']:8.1f} {r['pages']:6d} {slower:>8}")
    return "\n".join(lines)


# -- the distributed crawl: N workers on one Redis ------------------------------
COPIES = 8  # demo sites served at once (ports of their own): ~40 pages each
DISTRIBUTED_SETTINGS = {
    # loopback servers: no throttling, no shared per-host limit; what is
    # measured is the work the workers share (fetch, classify, export)
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "NEWSFILTER_REDIS_DOMAIN_CONCURRENCY": "0",
    "NEWSFILTER_REDIS_DOMAIN_DELAY": "0",
    "LOG_LEVEL": "WARNING",
}
UP_TIMEOUT = 300.0  # seconds for every worker to load its model and register


def sites_toml(bases: list[str]) -> str:
    return "".join(
        f'[[site]]\nname = "demo-{i}"\nstart_urls = ["{base}/"]\n\n'
        for i, base in enumerate(bases, 1)
    )


def _timestamp(value: object) -> float | None:
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None


def distributed_once(workers: int, copies: int = COPIES) -> dict[str, Any]:
    """Crawl *copies* demo sites with *workers* processes on a fresh Redis.

    The sites answer only once every worker is up (as ``make
    demo-distributed`` does), so that the time is the crawl's, from the
    first request to the last worker's end, not the workers' start-up.
    """
    import os
    import time
    from contextlib import ExitStack

    from crawler.demo.distributed import registered_workers, serve_gated
    from crawler.demo.redis_server import redis_server

    with tempfile.TemporaryDirectory(prefix="newsfilter-crawlbench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        url = stack.enter_context(redis_server(work / "redis"))
        served = [stack.enter_context(serve_gated(latency=0.0)) for _ in range(copies)]
        (work / "sites.toml").write_text(sites_toml([b for b, _ in served]), encoding="utf-8")
        procs = []
        for i in range(workers):
            cmd = scrapy_crawl(
                ["-a", f"sites_file={work / 'sites.toml'}", "-O", str(work / f"feed{i}.jsonl")],
                {
                    "NEWSFILTER_REDIS_URL": url,
                    "NEWSFILTER_STATS_FILE": work / f"stats{i}.json",
                    **DISTRIBUTED_SETTINGS,
                },
            )
            log = stack.enter_context(open(work / f"worker{i}.log", "wb"))
            procs.append(subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log))
        deadline = time.monotonic() + UP_TIMEOUT
        while registered_workers(url) < workers and time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs):
                break
            time.sleep(0.05)
        load_before = os.getloadavg()[0]
        opened = time.time()
        for _, gate in served:
            gate.set()
        for i, proc in enumerate(procs):
            if proc.wait(timeout=600) != 0:
                log_text = (work / f"worker{i}.log").read_text(errors="replace")
                raise RuntimeError(f"crawl worker {i} failed:\n{log_text[-3000:]}")
        stats = [json.loads((work / f"stats{i}.json").read_text()) for i in range(workers)]
        items = [
            json.loads(line)
            for i in range(workers)
            for line in (work / f"feed{i}.jsonl").read_text("utf-8").splitlines()
        ]
    ends = [t for t in (_timestamp(s.get("finish_time")) for s in stats) if t is not None]
    seconds = max(ends) - opened if ends else 0.0
    pages = sum(int(s.get("response_received_count", 0)) for s in stats)
    distinct = len({i["content_sha1"] for i in items})
    return {
        "workers": workers,
        "sites": copies,
        "pages": pages,
        "pages_by_worker": [int(s.get("response_received_count", 0)) for s in stats],
        "seconds": seconds,
        "pages_per_s": pages / seconds if seconds > 0 else 0.0,
        "stories": len(items),
        "distinct_stories": distinct,
        "exported_twice": len(items) - distinct,
        "duplicates_dropped": sum(int(s.get("newsfilter/duplicate", 0)) for s in stats),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
    }

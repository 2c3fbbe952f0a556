"""Crawl benchmark: pages/s crawling the demo site with and without the classifier.

Both crawls run in this run, against the same demo server on 127.0.0.1, each
in its own process (Twisted's reactor starts once a process).  Two regimes:
the shipped polite settings (AutoThrottle and a download delay, as a real
crawl runs) and an unthrottled crawl, where the classifier's CPU cost shows
in full.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
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


def crawl_once(base_url: str, extra: list[str], classify: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        stats_file = Path(tmp) / "stats.json"
        cmd = [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "news",
            "-a",
            f"url={base_url}/",
            "-s",
            f"NEWSFILTER_STATS_FILE={stats_file}",
            "-s",
            "LOG_LEVEL=ERROR",
            "-s",
            f"NEWSFILTER_CLASSIFY={classify}",
            "-s",
            "FEEDS={}",
            *extra,
        ]
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

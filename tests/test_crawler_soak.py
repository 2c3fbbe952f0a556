"""Soak: crawl a generated site that injects every fault a crawl meets (tests/faultsite.py).

The crawl must finish, export every healthy story exactly once with its
text intact, count each fault by reason, stay out of the traps, and keep its
memory flat (a 50 MB body or a gzip bomb must not show in it).

The small soak runs in ``make test``.  ``NEWSFILTER_SOAK=full`` also runs the
full one: a site ten times larger, crawled in one process with a job
directory, at least 2,000 pages; resident memory after warm-up may not grow
by more than 50 MB.  Its figures are printed (``pytest -s``) and written to
``$NEWSFILTER_SOAK_REPORT`` when that is set.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest
from crawlsite import ROOT, read_feed, scrapy_command
from faultsite import (
    SOAK_SETTINGS,
    FaultSite,
    Sample,
    expected_failures,
    healthy_titles,
    memory,
    serve,
    trap_path,
)

FULL = os.environ.get("NEWSFILTER_SOAK", "") == "full"
SEED = 2026
SMALL_STORIES = 120
FULL_STORIES = 1800
FULL_MIN_PAGES = 2000
WARM_UP_PAGES = 500  # the full soak's memory is measured from here on
MAX_GROWTH = 50 * 1024 * 1024  # after warm-up
# what the faults may add to the peak over the crawl's own memory: bodies of
# up to DOWNLOAD_MAXSIZE (8 MiB), several downloading at once, in a few
# buffers each; 50 MB bodies and the 1 GiB gzip bomb must not show
MAX_PEAK_OVER_START = 200 * 1024 * 1024
SAMPLE_SECONDS = 0.25
MiB = 1024 * 1024


@dataclass
class Soak:
    site: FaultSite
    seconds: float
    returncode: int
    stats: dict[str, Any]
    items: list[dict[str, Any]]
    requests: list[str]
    samples: list[Sample] = field(default_factory=list)
    log: str = ""

    @property
    def peak_rss(self) -> int:
        return max((s.hwm for s in self.samples), default=0)


def soak(tmp: Path, stories: int, *extra: str, timeout: float = 300) -> Soak:
    """Serve a fault site of *stories* stories and crawl it, sampling the crawl's memory."""
    site = FaultSite(seed=SEED, stories_count=stories)
    feed, stats, log = tmp / "feed.jsonl", tmp / "stats.json", tmp / "crawl.log"
    with serve(site) as server, open(log, "w", encoding="utf-8") as err:
        cmd = scrapy_command(
            [
                "news",
                "-a",
                f"url={server.base}/",
                *SOAK_SETTINGS,
                *extra,
                "-O",
                str(feed),
                "-s",
                f"NEWSFILTER_STATS_FILE={stats}",
            ]
        )
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
        samples = []
        while proc.poll() is None:
            if time.monotonic() - started > timeout:
                proc.kill()
                proc.wait()
                pytest.fail(f"the soak crawl did not finish in {timeout:.0f} s")
            rss, hwm = memory(proc.pid)
            if rss:
                samples.append(Sample(time.monotonic() - started, len(server.log), rss, hwm))
            time.sleep(SAMPLE_SECONDS)
        seconds = time.monotonic() - started
        requests = list(server.log)
    return Soak(
        site,
        seconds,
        proc.returncode,
        json.loads(stats.read_text()) if stats.exists() else {},
        read_feed(feed),
        requests,
        samples,
        log.read_text(encoding="utf-8"),
    )


def check_soak(run: Soak) -> None:
    """Everything a soak crawl must get right, whatever the size of the site."""
    assert run.returncode == 0, run.log[-3000:]
    stats, site = run.stats, run.site
    assert stats["finish_reason"] == "finished"
    assert "Traceback" not in run.log, run.log[run.log.index("Traceback") :][:3000]
    assert not [k for k in stats if k.startswith("spider_exceptions")]

    # every healthy story exactly once, with its text as written
    titles = Counter(i["title"] for i in run.items)
    assert [t for t, n in titles.items() if n > 1] == [], "exported twice"
    assert len({i["content_sha1"] for i in run.items}) == len(run.items)
    assert set(titles) == healthy_titles(site), (
        f"missing: {sorted(healthy_titles(site) - set(titles))[:5]},"
        f" not stories: {sorted(set(titles) - healthy_titles(site))[:5]}"
    )
    by_title = {s.title: s for s in site.stories}
    wrong = [
        (i["title"], by_title[i["title"]].fault)
        for i in run.items
        if i["text"].split("\n\n") != by_title[i["title"]].paragraphs
    ]
    assert wrong == [], f"text differs (charset?): {wrong[:5]}"

    # each fault counted by reason
    failed = {k: v for k, v in stats.items() if k.startswith("newsfilter/failed/")}
    failed.pop("newsfilter/failed/trap", None)  # queued trap requests: how many varies
    assert failed == expected_failures(site)
    faults = site.fault_counts()
    assert stats["newsfilter/mislabelled/html"] == faults["octet"]
    assert stats["newsfilter/mislabelled/binary"] == faults["pdf_as_html"]
    assert stats["newsfilter/non_html"] == faults["pdf_as_html"]
    assert stats["newsfilter/charset/mislabelled"] == (
        faults["utf8_as_latin1"] + faults["cp1252_as_utf8"]
    )
    assert stats["newsfilter/charset/undeclared"] == faults["no_charset"]
    assert stats["newsfilter/retry_after/waited"] == faults["retry_503"] + faults["retry_429"]
    assert stats["newsfilter/duplicate"] == 3 * faults["duplicate"]  # /print, ?ref=, /mobile

    # traps cut: by URL pattern, repeated segment, chrome depth or DEPTH_LIMIT
    traps = [p for p in run.requests if trap_path(site, p)]
    assert len(traps) <= 150, Counter(p.split("/")[1] for p in traps)
    assert len(run.requests) < 3 * len(site.stories) + 200

    # memory: the faults' big bodies do not show (start: when the engine started,
    # the model loaded)
    start = stats["memusage/startup"]
    assert run.peak_rss - start < MAX_PEAK_OVER_START, (
        f"peak {run.peak_rss / MiB:.0f} MiB, start {start / MiB:.0f} MiB"
    )


def window_medians(samples: list[Sample], pages: int) -> list[tuple[int, float]]:
    """``(first request, median RSS)`` of consecutive windows of *pages* requests."""
    windows: dict[int, list[int]] = {}
    for s in samples:
        windows.setdefault(s.requests // pages, []).append(s.rss)
    return [(k * pages, statistics.median(v)) for k, v in sorted(windows.items())]


def figures(run: Soak) -> dict[str, Any]:
    """The numbers a soak report gives.

    Memory after warm-up: the baseline is the median RSS over the 250
    requests after WARM_UP_PAGES; *growth* is the largest RSS seen after
    that minus the baseline (transient peaks included); *sustained growth*
    is the largest median of a later 250-request window minus the baseline.
    """
    after = [s for s in run.samples if s.requests >= WARM_UP_PAGES]
    windows = window_medians(after, 250)
    baseline = windows[0][1] if windows else 0
    later = [s for s in after if s.requests >= WARM_UP_PAGES + 250]
    return {
        "stories": len(run.site.stories),
        "healthy_stories": len(run.site.healthy),
        "exported": len(run.items),
        "duplicates_exported": len(run.items) - len({i["title"] for i in run.items}),
        "requests": len(run.requests),
        "responses": run.stats.get("response_received_count"),
        "trap_requests": sum(trap_path(run.site, p) for p in run.requests),
        "seconds": round(run.seconds, 1),
        "faults_injected": dict(sorted(run.site.fault_counts().items())),
        "counted": {
            k: v
            for k, v in sorted(run.stats.items())
            if k.startswith("newsfilter/") and not k.startswith("newsfilter/queue/")
        },
        "peak_rss_mib": round(run.peak_rss / MiB, 1),
        "rss_at_engine_start_mib": round(run.stats.get("memusage/startup", 0) / MiB, 1),
        "rss_after_warm_up_mib": round(baseline / MiB, 1) if windows else None,
        "rss_growth_after_warm_up_mib": (
            round((max(s.rss for s in later) - baseline) / MiB, 1) if later else None
        ),
        "rss_sustained_growth_after_warm_up_mib": (
            round((max(m for _, m in windows[1:]) - baseline) / MiB, 1)
            if len(windows) > 1
            else None
        ),
        # (requests served, median MiB resident) by 250 requests
        "rss_by_pages": [(n, round(m / MiB, 1)) for n, m in window_medians(run.samples, 250)],
    }


@pytest.mark.slow
def test_small_soak_exports_every_healthy_story_once(tmp_path: Path) -> None:
    run = soak(tmp_path, SMALL_STORIES)
    check_soak(run)
    assert run.stats["newsfilter/trap/patterns_cut"] >= 1 or run.stats.get(
        "depth/request_ignored_count"
    )
    print(json.dumps(figures(run), indent=1))


@pytest.mark.slow
@pytest.mark.skipif(not FULL, reason="the full soak runs with NEWSFILTER_SOAK=full")
def test_full_soak_memory_stays_flat(tmp_path: Path) -> None:
    jobdir = tmp_path / "job"
    run = soak(tmp_path, FULL_STORIES, "-s", f"JOBDIR={jobdir}", timeout=1800)
    report = figures(run)
    print(json.dumps(report, indent=1))
    if os.environ.get("NEWSFILTER_SOAK_REPORT"):
        out = Path(os.environ["NEWSFILTER_SOAK_REPORT"])
        out.write_text(json.dumps(report, indent=1) + "\n")
        samples = [(round(s.seconds, 2), s.requests, s.rss, s.hwm) for s in run.samples]
        out.with_suffix(".samples.json").write_text(json.dumps(samples) + "\n")
    check_soak(run)
    assert len(run.requests) >= FULL_MIN_PAGES
    assert report["rss_growth_after_warm_up_mib"] * MiB < MAX_GROWTH, report["rss_by_pages"]
    assert asdict(run.samples[-1])  # sampled to the end

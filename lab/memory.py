"""Memory over time: resident memory of one long extraction and one long crawl.

Two runs, each in a process of its own, sampled as they go:

- **extract**: 10,000 pages through one ``Extractor``
  (the corpora pages, held in memory and repeated as often as it takes;
  skipped without them).
  Its warm-up is the first pass over the distinct pages (at least 1,000):
  every page is new then, and the bounded caches fill; on the repeats that
  follow, any memory an extraction keeps shows as growth;
- **crawl**: the fault-injecting site of ``tests/faultsite.py`` (1,800
  stories: over 2,000 requests) crawled by ``scrapy crawl news`` with a job
  directory, as the full soak test does.

Definitions, the same for both (and as in tests/test_crawler_soak.py): the
samples are cut into windows of ``window`` pages; the *baseline* is the median
RSS of the first window after ``warm_up`` pages; *growth* is the largest RSS
sampled after that minus the baseline (transient peaks included);
*sustained growth* the largest later window median minus the baseline.
Growth may not pass 50 MiB (trafilatura#216 is the failure
users know: memory that climbs with every page until the process is killed).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import corpora

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"  # the fault site and its crawl settings live with the tests
MiB = 1024 * 1024
MAX_GROWTH_MB = 50.0
EXTRACT_PAGES = 10_000
EXTRACT_WARM_UP = 1_000  # at least; and at least one pass over the distinct pages
EXTRACT_EVERY = 50  # pages between two samples
EXTRACT_WINDOW = 500
CRAWL_STORIES = 1_800
CRAWL_MIN_PAGES = 2_000
CRAWL_WARM_UP = 500
CRAWL_WINDOW = 250
CRAWL_SEED = 2026
SAMPLE_SECONDS = 0.25
CRAWL_TIMEOUT = 1800.0

Sample = tuple[int, int]  # (pages so far, resident bytes)


def rss(pid: int | str = "self") -> int:
    """A process's resident set in bytes, from /proc (0 if unknown or gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def growth_report(
    samples: Sequence[Sample], warm_up: int, window: int, limit_mb: float = MAX_GROWTH_MB
) -> dict[str, Any]:
    """Baseline after warm-up, growth and sustained growth (MiB), and the
    RSS curve by window: see the module docstring for the definitions."""
    windows: dict[int, list[int]] = {}
    for pages, resident in samples:
        windows.setdefault(pages // window, []).append(resident)
    curve = [(k * window, statistics.median(v)) for k, v in sorted(windows.items())]
    out: dict[str, Any] = {
        "pages": max((p for p, _ in samples), default=0),
        "warm_up_pages": warm_up,
        "window_pages": window,
        "limit_mb": limit_mb,
        "rss_start_mb": round(samples[0][1] / MiB, 1) if samples else None,
        "rss_peak_mb": round(max(r for _, r in samples) / MiB, 1) if samples else None,
        "rss_by_pages": [(n, round(m / MiB, 1)) for n, m in curve],
        "samples": [(n, round(r / MiB, 1)) for n, r in samples],
    }
    after = [(n, m) for n, m in curve if n >= warm_up]
    if not after:
        return {**out, "rss_after_warm_up_mb": None, "growth_mb": None, "ok": None}
    start, baseline = after[0]
    later = [r for p, r in samples if p >= start + window]
    growth = (max(later) - baseline) / MiB if later else 0.0
    sustained = (max(m for _, m in after[1:]) - baseline) / MiB if len(after) > 1 else 0.0
    return {
        **out,
        "rss_after_warm_up_mb": round(baseline / MiB, 1),
        "growth_mb": round(growth, 1),
        "sustained_growth_mb": round(sustained, 1),
        "ok": growth <= limit_mb,
    }


# -- extraction -----------------------------------------------------------------


def sample_extraction(
    extract: Callable[[bytes, str | None], object],
    pages: Sequence[tuple[bytes, str | None]],
    total: int,
    every: int,
    measure: Callable[[], int] = rss,
) -> tuple[list[Sample], int]:
    """Run ``extract`` over ``pages`` cycled to ``total`` calls, sampling
    ``measure()`` every ``every`` calls; return the samples and how many
    calls raised (a page that fails is counted, and the run goes on)."""
    samples: list[Sample] = [(0, measure())]
    errors = 0
    for done in range(1, total + 1):
        data, url = pages[(done - 1) % len(pages)]
        try:
            extract(data, url)
        except Exception:  # noqa: BLE001 - counted; memory is what is measured here
            errors += 1
        if done % every == 0 or done == total:
            samples.append((done, measure()))
    return samples, errors


def extract_run(total: int = EXTRACT_PAGES, warm_up: int = EXTRACT_WARM_UP) -> dict[str, Any]:
    """The extraction measure, in this process: call it in a fresh one."""
    from classifier.extract import Extractor
    from classifier.model import single_threaded

    from .corpora import page_bytes

    single_threaded()
    pages = page_bytes(None)
    extractor = Extractor()
    started = time.perf_counter()
    samples, errors = sample_extraction(
        lambda data, url: extractor.extract(data, url=url), pages, total, EXTRACT_EVERY
    )
    report = growth_report(samples, max(warm_up, len(pages)), EXTRACT_WINDOW)
    return {
        **report,
        "distinct_pages": len(pages),
        "pages_held_mb": round(sum(len(data) for data, _ in pages) / MiB, 1),
        "passes": round(total / len(pages), 1),
        "errors": errors,
        "seconds": round(time.perf_counter() - started, 1),
    }


# -- crawl ----------------------------------------------------------------------


def _fault_site() -> Any:
    """tests/faultsite.py, imported as the tests import it."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    import faultsite

    return faultsite


def crawl_command(base_url: str, tmp: Path, settings: Sequence[str]) -> list[str]:
    """``scrapy crawl news`` over the fault site: the soak's settings, a job
    directory, one feed and the stats file in ``tmp``, nothing in the project."""
    from .crawlbench import scrapy_crawl

    feed = {(tmp / "feed.jsonl").as_uri(): {"format": "jsonlines"}}
    quiet = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "LOG_LEVEL": "WARNING"}
    files = {
        "JOBDIR": tmp / "job",
        "FEEDS": json.dumps(feed),
        "NEWSFILTER_STATS_FILE": tmp / "stats.json",
    }
    return scrapy_crawl(["-a", f"url={base_url}/", *settings], {**quiet, **files})


def crawl_run(stories: int = CRAWL_STORIES, warm_up: int = CRAWL_WARM_UP) -> dict[str, Any]:
    """Serve the fault site, crawl it in a child process, sample the child's
    RSS against the requests the site has served."""
    fs = _fault_site()
    site = fs.FaultSite(seed=CRAWL_SEED, stories_count=stories)
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory() as tmp_name, fs.serve(site) as server:
        tmp = Path(tmp_name)
        cmd = crawl_command(server.base, tmp, fs.SOAK_SETTINGS)
        started = time.monotonic()
        with open(tmp / "crawl.log", "w", encoding="utf-8") as log:
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
            while proc.poll() is None:
                if time.monotonic() - started > CRAWL_TIMEOUT:
                    proc.kill()
                    proc.wait()
                    raise RuntimeError(f"the crawl did not finish in {CRAWL_TIMEOUT:.0f} s")
                resident = rss(proc.pid)
                if resident:
                    samples.append((len(server.log), resident))
                time.sleep(SAMPLE_SECONDS)
        seconds = time.monotonic() - started
        stats_path = tmp / "stats.json"
        stats = json.loads(stats_path.read_text()) if stats_path.exists() else {}
        feed = tmp / "feed.jsonl"
        exported = len(feed.read_text(encoding="utf-8").splitlines()) if feed.exists() else 0
        if proc.returncode:
            tail = (tmp / "crawl.log").read_text(encoding="utf-8")[-2000:]
            raise RuntimeError(f"the crawl exited with {proc.returncode}:\n{tail}")
        requests = len(server.log)
    report = growth_report(samples, warm_up, CRAWL_WINDOW)
    return {
        **report,
        "requests": requests,
        "enough_pages": requests >= CRAWL_MIN_PAGES,
        "responses": stats.get("response_received_count"),
        "stories": stories,
        "healthy_stories": len(site.healthy),
        "exported": exported,
        "seconds": round(seconds, 1),
    }


# -- both, for `python -m lab bench` --------------------------------------------


def run(extract_pages: int | None = None, crawl_stories: int = CRAWL_STORIES) -> dict[str, Any]:
    """Both measures, each in a fresh process (extraction) or a child crawl."""
    from .fresh import in_fresh_process

    out: dict[str, Any] = {}
    if corpora.available():
        total = extract_pages or EXTRACT_PAGES
        out["extract"] = in_fresh_process("lab.memory", "extract_run", total)
    else:
        out["extract"] = {"skipped": f"no corpora at {corpora.corpora_dir()}"}
    out["crawl"] = crawl_run(crawl_stories)
    return out


def passed(result: dict[str, Any]) -> bool:
    """No measured run grew past the limit (a skipped one does not count)."""
    return all(part.get("ok") is not False for part in result.values())


def format_table(result: dict[str, Any]) -> str:
    lines = [
        f"{'memory over time':<18} {'pages':>6} {'after warm-up':>14} {'growth':>8} "
        f"{'sustained':>10} {'peak':>7}  (MiB; limit {MAX_GROWTH_MB:.0f} MiB growth)"
    ]
    for name, r in result.items():
        if "skipped" in r:
            lines.append(f"{name:<18} skipped: {r['skipped']}")
            continue
        verdict = "ok" if r.get("ok") else "GREW TOO MUCH" if r.get("ok") is False else "n/a"
        lines.append(
            f"{name:<18} {r['pages']:6d} {_mb(r.get('rss_after_warm_up_mb')):>14} "
            f"{_mb(r.get('growth_mb')):>8} {_mb(r.get('sustained_growth_mb')):>10} "
            f"{_mb(r.get('rss_peak_mb')):>7}  {verdict}"
        )
    for name, r in result.items():
        if r.get("rss_by_pages"):
            curve = ", ".join(f"{n}: {m:.0f}" for n, m in r["rss_by_pages"])
            lines.append(f"{name} RSS by pages (MiB): {curve}")
    return "\n".join(lines)


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def write_report(result: dict[str, Any], out_dir: Path) -> list[Path]:
    """``memory.json`` and ``memory.md`` in ``out_dir``; the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    as_json = out_dir / "memory.json"
    as_json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    md = out_dir / "memory.md"
    md.write_text(
        "# Memory over time\n\n"
        + (__doc__ or "").split("\n\n", 1)[1].strip()
        + "\n\n```\n"
        + format_table(result)
        + "\n```\n",
        encoding="utf-8",
    )
    return [as_json, md]

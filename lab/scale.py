"""Scale-out benchmark (``make bench-scale``): extract pages/s with -j 1, -j 2, ...;
crawl pages/s with 1, 2, 4 workers on one Redis.

The pages are the corpora's (``CORPORA/*/pages``: ``.html`` and ``.html.gz``),
in the order ``extract`` reads a folder.  Each setting runs in a fresh
process of its own, one after another, through the same code as
``python -m classifier extract -j N`` (:func:`classifier.batch.extract_rows`,
default model and rule, blocks included), and hashes its output: every
setting must write the same bytes as ``-j 1``.

Two rates per setting: *wall* counts everything from the start (workers
started, models loaded); *steady* counts from the first row to the last,
the rate a long run settles at.  Speed-up is against ``-j 1`` and against
the cores this process may use.  The machine may be shared: the load
average before and after each run is recorded, and the report says so.

The distributed crawl (:func:`run_crawl`, :func:`lab.crawlbench.distributed_once`)
serves COPIES copies of the demo site on loopback and crawls them with N
``scrapy crawl`` workers on a fresh Redis each time, from the first request
(once every worker is up) to the last worker's end: pages/s, stories
exported, and stories exported twice (must be 0).  It needs Debian's
``redis-server``, not the corpora.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import corpora
from .evaluate import REPORTS
from .fresh import in_fresh_process

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TARGET_SPEEDUP_2 = 1.7  # the aim for -j 2 on 2 cores
CRAWL_WORKERS = (1, 2, 4)


def cores() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def page_dirs() -> list[Path]:
    return sorted(p for p in corpora.corpora_dir().glob("*/pages") if p.is_dir())


def page_files(limit: int | None = None) -> list[Path]:
    """The corpora's page files, folder by folder (``limit``: the first N of each)."""
    from classifier.sources import iter_inputs

    files: list[Path] = []
    for folder in page_dirs():
        found = list(iter_inputs([str(folder)]))
        files += found[:limit] if limit else found
    return files


def measure_one(jobs: int, limit: int | None = None) -> dict[str, Any]:
    """Extract the corpora pages with ``jobs`` processes, in this process; time and hash it."""
    from classifier.batch import ExtractOptions, extract_rows
    from classifier.model import single_threaded
    from classifier.sources import iter_pages

    single_threaded()
    files = page_files(limit)
    digest = hashlib.sha256()
    rows = errors = 0
    load_before = os.getloadavg()[0]
    cpu_before = os.times()
    start = time.perf_counter()
    first = None
    for row in extract_rows(iter_pages(files), ExtractOptions(), jobs=jobs):
        if first is None:
            first = time.perf_counter()
        digest.update(row.line.encode("utf-8") + b"\n")
        rows += 1
        errors += row.error is not None
    end = time.perf_counter()
    cpu = os.times()
    busy = sum(getattr(cpu, k) - getattr(cpu_before, k) for k in ("user", "system")) + sum(
        getattr(cpu, k) - getattr(cpu_before, k) for k in ("children_user", "children_system")
    )
    wall = end - start
    steady = end - (first if first is not None else start)
    return {
        "jobs": jobs,
        "pages": rows,
        "errors": errors,
        "wall_s": wall,
        "pages_per_s": rows / wall if wall else 0.0,
        "steady_pages_per_s": (rows - 1) / steady if rows > 1 and steady else 0.0,
        "startup_s": (first - start) if first is not None else wall,
        "cpu_s": busy,
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "sha256": digest.hexdigest(),
    }


def run(jobs: Sequence[int], limit: int | None = None, repeat: int = 1) -> dict[str, Any]:
    """Every setting in a fresh process, one after another; speed-ups against the first.

    With ``repeat``, the settings run in turn that many times (-j 1, -j 2,
    -j 1, -j 2...), so that a load from elsewhere falls on all of them, and
    the fastest run of each is kept.
    """
    best: dict[int, dict[str, Any]] = {}
    for _ in range(max(1, repeat)):
        for j in jobs:
            r = in_fresh_process("lab.scale", "measure_one", j, limit)
            if j in best and best[j]["sha256"] != r["sha256"]:
                r["sha256"] = "differs between repeats"
            if j not in best or r["pages_per_s"] > best[j]["pages_per_s"]:
                best[j] = r
    runs = [best[j] for j in jobs]
    base = runs[0]
    for r in runs:
        for key in ("pages_per_s", "steady_pages_per_s"):
            prefix = "speedup" if key == "pages_per_s" else "steady_speedup"
            r[prefix] = r[key] / base[key] if base[key] else 0.0
        r["ideal"] = min(r["jobs"], cores()) / min(base["jobs"], cores())
        r["identical"] = r["sha256"] == base["sha256"]
    return {
        "runs": runs,
        "cores": cores(),
        "cpu_count": os.cpu_count(),
        "corpora": [p.parent.name for p in page_dirs()],
        "limit": limit,
        "repeat": max(1, repeat),
    }


def run_crawl(workers: Sequence[int], copies: int | None = None, repeat: int = 1) -> dict[str, Any]:
    """The distributed crawl with each number of workers (fastest of ``repeat`` turns)."""
    from .crawlbench import COPIES, distributed_once

    copies = copies or COPIES
    best: dict[int, dict[str, Any]] = {}
    for _ in range(max(1, repeat)):
        for n in workers:
            r = distributed_once(n, copies)
            if n not in best or r["pages_per_s"] > best[n]["pages_per_s"]:
                best[n] = r
    runs = [best[n] for n in workers]
    base = runs[0]
    for r in runs:
        r["speedup"] = r["pages_per_s"] / base["pages_per_s"] if base["pages_per_s"] else 0.0
        r["ideal"] = min(r["workers"], cores()) / min(base["workers"], cores())
    return {"runs": runs, "sites": copies, "repeat": max(1, repeat)}


def format_crawl_table(crawl: Mapping[str, Any]) -> str:
    lines = [
        f"{'workers':>7} {'pages':>6} {'s':>6} {'pages/s':>8} {'speed-up':>8} "
        f"{'stories':>7} {'twice':>5} {'load':>9}"
    ]
    for r in crawl["runs"]:
        lines.append(
            f"{r['workers']:>7} {r['pages']:>6} {r['seconds']:6.1f} {r['pages_per_s']:8.1f} "
            f"{r['speedup']:7.2f}x {r['stories']:>7} {r['exported_twice']:>5} "
            f"{r['load_before']:4.1f}>{r['load_after']:<4.1f}"
        )
    return "\n".join(lines)


def format_table(result: Mapping[str, Any]) -> str:
    lines = [
        f"{'-j':>3} {'pages':>6} {'pages/s':>8} {'speed-up':>8} {'steady/s':>8} "
        f"{'speed-up':>8} {'start s':>7} {'load':>9}  same output"
    ]
    for r in result["runs"]:
        lines.append(
            f"{r['jobs']:>3} {r['pages']:>6} {r['pages_per_s']:8.1f} {r['speedup']:7.2f}x "
            f"{r['steady_pages_per_s']:8.1f} {r['steady_speedup']:7.2f}x {r['startup_s']:7.1f} "
            f"{r['load_before']:4.1f}>{r['load_after']:<4.1f}  {'yes' if r['identical'] else 'NO'}"
        )
    return "\n".join(lines)


def write_report(result: Mapping[str, Any], out_dir: Path) -> list[Path]:
    """``scale.md`` and ``scale.png``; return the paths written."""
    from .reports import _save, _write

    runs = list(result.get("runs", []))
    crawl = result.get("crawl")
    n_cores = result.get("cores", cores())
    repeat = int(result.get("repeat", 1))
    turns = f", {repeat} times in turn (the fastest run of each kept)" if repeat > 1 else ""
    title = "# Scale-out: extract -j N" + (", crawl workers on one Redis" if crawl else "")
    lines = [title, "", "![pages/s and speed-up](scale.png)", ""]
    if runs:
        lines += _extract_lines(result, runs, n_cores, turns)
    if crawl:
        lines += _crawl_lines(crawl, n_cores)
    chart = _save(_chart(runs, n_cores, crawl), Path(out_dir) / "scale.png")
    return [_write(Path(out_dir) / "scale.md", lines), chart]


def _crawl_lines(crawl: Mapping[str, Any], n_cores: int) -> list[str]:
    from .reports import _fmt, _table

    runs = list(crawl["runs"])
    repeat = int(crawl.get("repeat", 1))
    turns = f", {repeat} times in turn (the fastest run of each kept)" if repeat > 1 else ""
    lines = [
        "",
        "## Distributed crawl: N workers on one Redis",
        "",
        f"{crawl.get('sites')} copies of the demo site served on 127.0.0.1 (ports of their own; "
        "the copies hold the same 24 stories, so each story text is exported once and its "
        "copies are dropped as duplicates), crawled by N `scrapy crawl news` processes with "
        "NEWSFILTER_REDIS_URL on a fresh Redis, unthrottled, without the shared per-host "
        f"limit{turns}. The time runs from the first request (the sites answer once every "
        "worker is up) to the last worker's end, so the workers' start-up (a few seconds "
        "each, loading the model) is not in it. *Exported twice* counts stories in more "
        f"than one feed line across the workers (must be 0). {n_cores} core(s) usable; "
        "*ideal* is min(N, cores).",
        "",
    ]
    lines += _table(
        [
            "workers",
            "pages",
            "pages by worker",
            "seconds",
            "pages/s",
            "speed-up",
            "ideal",
            "stories exported",
            "exported twice",
            "duplicates dropped",
            "load before → after",
        ],
        [
            [
                r["workers"],
                r["pages"],
                " / ".join(str(p) for p in r["pages_by_worker"]),
                _fmt(r["seconds"], ".1f"),
                _fmt(r["pages_per_s"], ".1f"),
                _fmt(r["speedup"], ".2f"),
                _fmt(r["ideal"], ".0f"),
                r["stories"],
                r["exported_twice"] if not r["exported_twice"] else f"**{r['exported_twice']}**",
                r["duplicates_dropped"],
                f"{r['load_before']:.2f} → {r['load_after']:.2f}",
            ]
            for r in runs
        ],
    )
    lines += [
        "",
        "The classifier is the crawl's main cost (see reports/bench.md), so the speed-up "
        "follows the cores, not the workers: past one worker a core, workers share them. "
        "Across machines it adds up, each worker a machine, until Redis or the sites' "
        "politeness limits are the bottleneck.",
    ]
    return lines


def _extract_lines(
    result: Mapping[str, Any], runs: list[dict[str, Any]], n_cores: int, turns: str
) -> list[str]:
    from .reports import _fmt, _table

    lines: list[str] = ["## Batch extraction: extract -j N", ""]
    lines += [
        f"{runs[0]['pages'] if runs else 0} corpus pages "
        f"({', '.join(result.get('corpora', []))}), default model and rule, blocks included; "
        f"{n_cores} core(s) usable (os.cpu_count {result.get('cpu_count')}). Each setting ran "
        f"in a fresh process, one after another{turns}. *Wall* counts worker start-up and "
        "model loading; *steady* runs from the first row to the last. Speed-up is against "
        "-j 1; *ideal* is min(j, cores).",
        "",
    ]
    lines += _table(
        [
            "-j",
            "pages",
            "errors",
            "wall s",
            "pages/s",
            "speed-up",
            "steady pages/s",
            "steady speed-up",
            "ideal",
            "efficiency",
            "start-up s",
            "CPU s",
            "cores used",
            "pages per CPU s",
            "load before → after",
            "output = -j 1",
        ],
        [
            [
                r["jobs"],
                r["pages"],
                r["errors"],
                _fmt(r["wall_s"], ".1f"),
                _fmt(r["pages_per_s"], ".1f"),
                _fmt(r["speedup"], ".2f"),
                _fmt(r["steady_pages_per_s"], ".1f"),
                _fmt(r["steady_speedup"], ".2f"),
                _fmt(r["ideal"], ".0f"),
                _fmt(r["speedup"] / r["jobs"] if r["jobs"] else 0.0, ".2f"),
                _fmt(r["startup_s"], ".1f"),
                _fmt(r["cpu_s"], ".1f"),
                _fmt(r["cpu_s"] / r["wall_s"] if r["wall_s"] else 0.0, ".2f"),
                _fmt(r["pages"] / r["cpu_s"] if r["cpu_s"] else 0.0, ".1f"),
                f"{r['load_before']:.2f} → {r['load_after']:.2f}",
                "yes" if r["identical"] else "**NO**",
            ]
            for r in runs
        ],
    )
    two = next((r for r in runs if r["jobs"] == 2), None)
    if two is not None and n_cores >= 2:
        met = two["speedup"] >= TARGET_SPEEDUP_2
        lines += [
            "",
            f"Target: -j 2 at least {TARGET_SPEEDUP_2}x -j 1 on 2 cores: "
            f"{two['speedup']:.2f}x wall, {two['steady_speedup']:.2f}x steady "
            f"({'met' if met else 'not met'}).",
        ]
    busy = max((r["load_before"] for r in runs), default=0.0)
    if busy >= 0.5:
        lines += [
            "",
            f"The machine was not idle (1-minute load average up to {busy:.2f} before a run, "
            f"on {n_cores} core(s)): other work shared the cores, so the rates are lower, and "
            "the speed-ups less certain, than on an idle machine. *Cores used* (CPU seconds "
            "of the run and its workers over wall seconds) shows what each run got; "
            "*pages per CPU s* does not depend on it: its fall from -j 1 is the cost of "
            "running in parallel (start-up, sending pages and rows between processes).",
        ]
    return lines


def _chart(
    runs: Sequence[Mapping[str, Any]], n_cores: int, crawl: Mapping[str, Any] | None = None
) -> Figure:
    from .reports import _figure

    panels = (2 if runs else 0) + (1 if crawl else 0)
    fig = _figure(4.6 * max(panels, 1), 3.4)
    axes = list(fig.subplots(1, panels)) if panels > 1 else [fig.subplots(1, 1)]
    if crawl:
        _crawl_panel(axes[-1], crawl, n_cores)
    if runs:
        _extract_panels(axes[0], axes[1], runs, n_cores)
    return fig


def _crawl_panel(ax: Any, crawl: Mapping[str, Any], n_cores: int) -> None:
    runs = list(crawl["runs"])
    workers = [int(r["workers"]) for r in runs]
    rates = [float(r["pages_per_s"]) for r in runs]
    base = rates[0] if rates else 0.0
    ax.plot(workers, rates, "o-", color="C2", label="pages/s")
    for n, rate in zip(workers, rates, strict=True):
        ax.annotate(
            f"{rate:.0f}",
            (n, rate),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=7,
        )
    ideal = [base * min(n, n_cores) / min(workers[0], n_cores) for n in workers]
    ax.plot(workers, ideal, "k:", label=f"ideal ({n_cores} cores)")
    ax.set_xticks(workers, [str(n) for n in workers])
    ax.set_xlabel("crawl workers (one Redis)")
    ax.set_ylabel("pages/s")
    ax.set_ylim(bottom=0)
    ax.margins(y=0.15)
    ax.legend(fontsize=7)
    ax.set_title("distributed crawl", fontsize=10)


def _extract_panels(left: Any, right: Any, runs: Sequence[Mapping[str, Any]], n_cores: int) -> None:
    xs = list(range(len(runs)))
    labels = [f"-j {r['jobs']}" for r in runs]
    wall = [float(r["pages_per_s"]) for r in runs]
    steady = [float(r["steady_pages_per_s"]) for r in runs]
    bars = left.bar([x - 0.2 for x in xs], wall, 0.4, label="wall", color="C0")
    left.bar_label(bars, fmt="%.1f", fontsize=7)
    bars = left.bar([x + 0.2 for x in xs], steady, 0.4, label="steady", color="C1")
    left.bar_label(bars, fmt="%.1f", fontsize=7)
    left.set_xticks(xs, labels)
    left.set_ylabel("pages/s")
    left.margins(y=0.15)
    left.legend(fontsize=7)
    left.set_title("extraction rate", fontsize=10)
    jobs = [int(r["jobs"]) for r in runs]
    right.plot(jobs, [float(r["speedup"]) for r in runs], "o-", label="wall", color="C0")
    right.plot(jobs, [float(r["steady_speedup"]) for r in runs], "s-", label="steady", color="C1")
    right.plot(jobs, [float(r["ideal"]) for r in runs], "k:", label=f"ideal ({n_cores} cores)")
    if 2 in jobs and n_cores >= 2:
        right.plot([2], [TARGET_SPEEDUP_2], "r_", ms=18, mew=2, label=f"target {TARGET_SPEEDUP_2}x")
    right.set_xticks(jobs, labels)
    right.set_ylabel("speed-up against -j 1")
    right.set_ylim(bottom=0)
    right.legend(fontsize=7)
    right.set_title("speed-up", fontsize=10)


def crawl_workers_arg(value: object) -> list[int]:
    """``"1,2,4"`` as ``[1, 2, 4]``; ``""`` or ``"0"``: no crawl benchmark."""
    text = str(value if value is not None else ",".join(map(str, CRAWL_WORKERS))).strip()
    workers = [int(v) for v in text.split(",") if v.strip() and int(v) > 0]
    if workers and workers[0] != 1:
        workers.insert(0, 1)  # the baseline
    return workers


def main(args: argparse.Namespace) -> int:
    from crawler.demo.redis_server import redis_server_path

    workers = crawl_workers_arg(getattr(args, "crawl_workers", None))
    if workers and redis_server_path() is None:
        print("redis-server is not installed (apt-get install redis-server): crawl part skipped")
        workers = []
    if not page_dirs():
        print(f"no corpora pages at {corpora.corpora_dir()}; extract part of the benchmark skipped")
        if not workers:
            return 0
        result: dict[str, Any] = {"runs": [], "cores": cores(), "cpu_count": os.cpu_count()}
    else:
        jobs = [int(j) for j in str(args.jobs).split(",")]
        if jobs[0] != 1:
            jobs.insert(0, 1)  # the baseline
        result = run(jobs, args.limit, args.repeat)
        print(format_table(result))
    if workers:
        result["crawl"] = run_crawl(workers, getattr(args, "crawl_sites", None), args.repeat)
        print(format_crawl_table(result["crawl"]))
    out_dir = Path(args.output) if args.output else REPORTS
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "scale.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    written = write_report(result, out_dir)
    print(f"wrote {out_dir / 'scale.json'} and {', '.join(str(p) for p in written)}")
    if not all(r["identical"] for r in result["runs"]):
        print("error: the output differs between -j settings", file=sys.stderr)
        return 1
    if any(r["exported_twice"] for r in result.get("crawl", {}).get("runs", [])):
        print("error: the distributed crawl exported a story twice", file=sys.stderr)
        return 1
    return 0

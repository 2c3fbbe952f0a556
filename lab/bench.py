"""Speed benchmark: ms/page on the corpora pages, ours beside the peers.

The floor is a bare lxml parse of the same bytes.  Every extractor sees the
same pages, read into memory first, in the same process and run, after one
warm-up pass over a few pages.  Then the crawl rate (:mod:`lab.crawlbench`)
and memory over time (:mod:`lab.memory`: 10,000 extractions and a 2,000-page
crawl of the fault site; ``--memory-only`` runs just that part).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import corpora
from .evaluate import REPORTS, available_peers
from .fresh import in_fresh_process

Fn = Callable[[bytes, "str | None"], object]


def _lxml_parse(data: bytes, url: str | None) -> object:
    import lxml.html

    return lxml.html.fromstring(data)


def time_pages(fn: Fn, pages: list[tuple[bytes, str | None]], repeat: int = 1) -> list[float]:
    """Per-page wall time in ms (best of ``repeat`` for each page)."""
    for data, url in pages[:5]:  # warm-up: imports, caches, model load
        try:
            fn(data, url)
        except Exception:  # noqa: BLE001 - a peer failing on a page is timed like any other
            pass
    out = []
    for data, url in pages:
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            try:
                fn(data, url)
            except Exception:  # noqa: BLE001
                pass
            best = min(best, time.perf_counter() - start)
        out.append(best * 1000)
    return out


def summarise(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "pages": len(ms),
        "mean_ms": statistics.fmean(ms),
        "median_ms": statistics.median(ms),
        "p95_ms": ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        "total_s": sum(ms) / 1000,
    }


FLOOR = "lxml parse (floor)"
PROFILED = "newsfilter+profile"


def _classifiers() -> tuple[Fn, Fn]:
    """One extractor's two ways to classify a page: alone, and as the crawler
    runs with a site profile (the page joins the profile, then is classified
    with it).  One profile for all pages (ready from the 8th), so that the
    site stage runs on every page and its whole cost is measured; the site
    stage is loaded before any timing, as the crawler loads it."""
    from classifier.extract import Extractor
    from classifier.profile import PageKeys, SiteProfile
    from classifier.segment import segment

    extractor = Extractor()
    _ = extractor.site_model
    col = extractor.labels.index("article")
    site = SiteProfile()

    def alone(data: bytes, url: str | None) -> object:
        page = segment(data, url=url, limits=extractor.limits)
        return extractor.extract_page(page, extractor.probabilities(page.blocks))

    def profiled(data: bytes, url: str | None) -> object:
        page = segment(data, url=url, limits=extractor.limits)
        proba = extractor.probabilities(page.blocks)
        keys = PageKeys.of(page)
        site.add(keys, proba[:, col])
        return extractor.extract_page(page, proba, site=site, keys=keys)

    return alone, profiled


def _extractor_fns() -> dict[str, Callable[[], Fn]]:
    """Factories: each builds its extractor only when asked (in its own process)."""

    def ours() -> Fn:
        from classifier.extract import Extractor

        extractor = Extractor()
        return lambda d, u: extractor.extract(d, url=u)

    def with_profile() -> Fn:
        return _classifiers()[1]

    fns: dict[str, Callable[[], Fn]] = {
        FLOOR: lambda: _lxml_parse,
        "newsfilter": ours,
        PROFILED: with_profile,
    }
    for name, peer in available_peers(PEERS).items():
        fns[name] = (lambda f: lambda: f)(peer)
    return fns


PEERS = ["trafilatura", "readability-lxml", "jusText", "boilerpy3"]


def measure_one(name: str, limit: int | None, repeat: int) -> dict[str, Any]:
    """Time one extractor over the pages, in this process; add its peak RSS."""
    import resource

    from classifier.model import single_threaded

    single_threaded()  # the same for every extractor: one core each
    pages = corpora.page_bytes(limit)
    fn = _extractor_fns()[name]()
    result = summarise(time_pages(fn, pages, repeat))
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def run(limit: int | None = None, repeat: int = 1) -> dict[str, Any]:
    """Every extractor in a fresh process of its own (clean peak memory), one after another."""
    out: dict[str, Any] = {}
    for name in _extractor_fns():
        out[name] = in_fresh_process("lab.bench", "measure_one", name, limit, repeat)
    return out


def profile_overhead(limit: int | None = None) -> dict[str, Any]:
    """What the site profile adds, measured in pairs: every page classified
    alone and with the profile (joining it first, as in the crawler) back to
    back in this one process, in alternating order, so that drift in the
    machine's speed between runs, which the rows above are exposed to, cancels
    out.  Returns both means and the overhead in per cent."""
    from classifier.model import single_threaded

    single_threaded()
    pages = corpora.page_bytes(limit)
    alone, profiled = _classifiers()

    for data, url in pages[:10]:  # warm-up; the profile is then ready
        profiled(data, url)
    spent = {"alone": 0.0, "profiled": 0.0}
    for k, (data, url) in enumerate(pages):
        order = (("alone", alone), ("profiled", profiled))
        for name, fn in order if k % 2 else order[::-1]:
            start = time.perf_counter()
            fn(data, url)
            spent[name] += time.perf_counter() - start
    n = max(len(pages), 1)
    return {
        "pages": len(pages),
        "alone_ms": 1000 * spent["alone"] / n,
        "profiled_ms": 1000 * spent["profiled"] / n,
        "overhead_pct": 100 * (spent["profiled"] / spent["alone"] - 1) if spent["alone"] else 0.0,
    }


def profile_memory(pages: int = 10_000, template: int = 30, story: int = 40) -> dict[str, Any]:
    """One site's profile over ``pages`` pages of ``template`` blocks repeated on
    every page and ``story`` blocks of their own: its size, and how far the
    sketch over-counts (a story block's true count is one page)."""
    import tracemalloc

    import numpy as np

    from classifier.profile import PageKeys, SiteProfile

    tracemalloc.start()
    site = SiteProfile("one-site")
    probe: list[PageKeys] = []
    for k in range(pages):
        texts = [f"Template line {j} of the site" for j in range(template)]
        texts += [f"Story {k} paragraph {j}: words of its own." for j in range(story)]
        paths = [f"body/div.t{j}" for j in range(template)] + ["body/article/p"] * story
        keys = PageKeys.from_units(texts, paths)
        site.add(keys, np.full(len(texts), 0.5))
        if k % (pages // 10 or 1) == 0:
            probe.append(keys)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    over = []
    for keys in probe:  # story blocks: counted once, estimated how often?
        counts = site._estimate("text", keys.pathtext[template:])
        over.extend((counts - 1).tolist())
    template_est = site._estimate("text", probe[0].pathtext[:template])
    return {
        "pages": pages,
        "blocks_a_page": template + story,
        "profile_bytes": site.nbytes,
        "peak_traced_bytes": peak,
        "story_overcount_mean_pages": float(np.mean(over)),
        "story_overcount_max_pages": float(np.max(over)),
        "template_count_min_pages": float(np.min(template_est)),
    }


def format_table(result: dict[str, Any]) -> str:
    lines = [f"{'extractor':<20} {'mean':>8} {'median':>8} {'p95':>8} {'peak MB':>8}  (ms/page)"]
    for name, s in result.items():
        lines.append(
            f"{name:<20} {s['mean_ms']:8.2f} {s['median_ms']:8.2f} {s['p95_ms']:8.2f} "
            f"{s['peak_mb']:8.0f}"
        )
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    out_dir = Path(args.output) if args.output else REPORTS
    memory_pages = getattr(args, "memory_pages", None)
    if getattr(args, "memory_only", False):
        return memory_main(out_dir, memory_pages)
    result: dict[str, Any] = {}
    if corpora.available():
        result["extractors"] = run(args.limit, args.repeat)
        result["floor"] = FLOOR
        print(format_table(result["extractors"]))
        po = result["profile_overhead"] = in_fresh_process(
            "lab.bench", "profile_overhead", args.limit
        )
        print(
            f"\nsite profile, paired on {po['pages']} pages: {po['alone_ms']:.2f} ms/page alone, "
            f"{po['profiled_ms']:.2f} with the profile ({po['overhead_pct']:+.1f} %)"
        )
    else:
        print(f"no corpora at {corpora.corpora_dir()}; extractor timing skipped")
    result["profile_memory"] = profile_memory()
    pm = result["profile_memory"]
    print(
        f"\nsite profile, {pm['pages']:,} pages of one site: {pm['profile_bytes'] / 2**20:.2f} MiB "
        f"(peak traced {pm['peak_traced_bytes'] / 2**20:.1f} MiB while building); a story "
        f"block's count is over-estimated by {pm['story_overcount_mean_pages']:.2f} pages on "
        f"average, {pm['story_overcount_max_pages']:.1f} at most; a template block on every "
        f"page is counted on {pm['template_count_min_pages']:.0f} at least"
    )
    if not args.no_crawl:
        from . import crawlbench as crawl_bench

        result["crawl"] = crawl_bench.run()
        print()
        print(crawl_bench.format_table(result["crawl"]))
    ok = True
    if not getattr(args, "no_memory", False):
        from . import memory

        print()
        result["memory"] = memory.run(memory_pages)
        print(memory.format_table(result["memory"]))
        memory.write_report(result["memory"], out_dir)
        ok = memory.passed(result["memory"])
    from .reports import write_bench_report

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    written = write_bench_report(result, out_dir)
    print(f"wrote {out_dir / 'bench.json'} and {', '.join(str(p) for p in written)}")
    if not ok:
        print(f"memory grew by more than {memory.MAX_GROWTH_MB:.0f} MiB after warm-up")
    return 0 if ok else 1


def memory_main(out_dir: Path, pages: int | None = None) -> int:
    """``bench --memory-only``: the memory-over-time measures and their report alone."""
    from . import memory

    result = memory.run(pages)
    print(memory.format_table(result))
    written = memory.write_report(result, out_dir)
    print(f"wrote {', '.join(str(p) for p in written)}")
    if not memory.passed(result):
        print(f"memory grew by more than {memory.MAX_GROWTH_MB:.0f} MiB after warm-up")
        return 1
    return 0

"""Speed benchmark: ms/page on the corpora pages, ours beside the peers.

The floor is a bare lxml parse of the same bytes.  Every extractor sees the
same pages, read into memory first, in the same process and run, after one
warm-up pass over a few pages.
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


def load_pages(limit: int | None) -> list[tuple[bytes, str | None]]:
    pages = []
    for name in corpora.corpus_names():
        rows = corpora.load(name)
        for p in rows[:limit] if limit else rows:
            pages.append((p.path.read_bytes(), p.url))
    return pages


def run(limit: int | None = None, repeat: int = 1, peers: list[str] | None = None) -> dict[str, Any]:
    from .extract import Extractor

    pages = load_pages(limit)
    extractor = Extractor()
    fns: dict[str, Fn] = {
        "lxml parse (floor)": _lxml_parse,
        "newsfilter": lambda d, u: extractor.extract(d, url=u),
    }
    fns.update(available_peers(peers))
    return {name: summarise(time_pages(fn, pages, repeat)) for name, fn in fns.items()}


def format_table(result: dict[str, Any]) -> str:
    lines = [f"{'extractor':<20} {'mean':>8} {'median':>8} {'p95':>8}  (ms/page)"]
    for name, s in result.items():
        lines.append(f"{name:<20} {s['mean_ms']:8.2f} {s['median_ms']:8.2f} {s['p95_ms']:8.2f}")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    if not corpora.available():
        print(f"no corpora at {corpora.corpora_dir()}; nothing to benchmark")
        return 0
    result = run(args.limit, args.repeat, ["trafilatura"])
    print(format_table(result))
    out = Path(args.output) if args.output else REPORTS / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0

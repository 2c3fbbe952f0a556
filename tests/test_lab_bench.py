"""lab/memory.py and the bench's --memory-only: the arithmetic and the plumbing, not timings."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from lab import bench, memory
from lab.cli import build_parser

MiB = memory.MiB


def test_flat_memory_passes_and_a_climb_fails() -> None:
    flat = [(n, 300 * MiB + (n % 3) * MiB) for n in range(0, 2001, 50)]
    report = memory.growth_report(flat, warm_up=500, window=500)
    assert report["rss_after_warm_up_mb"] == pytest.approx(301, abs=1)
    assert report["growth_mb"] <= 2 and report["ok"] is True
    assert [n for n, _ in report["rss_by_pages"]] == [0, 500, 1000, 1500, 2000]

    climb = [(n, 300 * MiB + n * 40 * 1024) for n in range(0, 4001, 50)]  # 40 KiB a page
    report = memory.growth_report(climb, warm_up=500, window=500)
    # baseline: the median of the window 500..999 (pages 500..950 sampled)
    assert report["rss_after_warm_up_mb"] == pytest.approx(300 + 725 * 40 / 1024, abs=0.1)
    assert report["growth_mb"] == pytest.approx((4000 - 725) * 40 / 1024, abs=0.1)
    assert report["growth_mb"] > memory.MAX_GROWTH_MB and report["ok"] is False
    assert 0 < report["sustained_growth_mb"] <= report["growth_mb"]


def test_a_transient_peak_counts_as_growth() -> None:
    samples = [(n, 200 * MiB) for n in range(0, 3001, 50)]
    samples[40] = (2000, 270 * MiB)  # one spike, gone at the next sample
    report = memory.growth_report(samples, warm_up=500, window=500)
    assert report["growth_mb"] == pytest.approx(70) and report["ok"] is False
    assert report["sustained_growth_mb"] == 0


def test_too_short_a_run_has_no_verdict() -> None:
    report = memory.growth_report([(0, MiB), (100, MiB)], warm_up=500, window=500)
    assert report["ok"] is None and report["growth_mb"] is None
    assert memory.passed({"extract": report})  # nothing measured is not a failure


def test_extraction_cycles_the_pages_counts_errors_and_samples() -> None:
    pages = [(b"a", None), (b"b", "http://x/b"), (b"bad", None)]
    seen: list[bytes] = []

    def extract(data: bytes, url: str | None) -> None:
        seen.append(data)
        if data == b"bad":
            raise ValueError("a page that fails")

    ticks = iter(range(1000))
    samples, errors = memory.sample_extraction(
        extract, pages, total=10, every=4, measure=lambda: next(ticks)
    )
    assert seen == [b"a", b"b", b"bad"] * 3 + [b"a"]
    assert errors == 3
    assert [n for n, _ in samples] == [0, 4, 8, 10]  # and the last call


def test_crawl_command_keeps_everything_in_its_folder(tmp_path: Path) -> None:
    cmd = memory.crawl_command("http://127.0.0.1:1", tmp_path, ["-s", "RETRY_TIMES=1"])
    settings = dict(cmd[i + 1].split("=", 1) for i, a in enumerate(cmd) if a == "-s")
    assert "-O" not in cmd and "-o" not in cmd
    feeds = json.loads(settings["FEEDS"])
    assert list(feeds) == [(tmp_path / "feed.jsonl").as_uri()]
    assert settings["JOBDIR"] == str(tmp_path / "job")
    assert settings["NEWSFILTER_STATS_FILE"] == str(tmp_path / "stats.json")
    assert settings["RETRY_TIMES"] == "1"
    assert cmd[cmd.index("-a") + 1] == "url=http://127.0.0.1:1/"


def canned(growth: float) -> dict[str, Any]:
    samples = [(n, 100 * MiB) for n in range(0, 2001, 50)] + [(2000, int((100 + growth) * MiB))]
    return {
        "extract": memory.growth_report(samples, 500, 500),
        "crawl": {"skipped": "no crawl in this test"},
    }


@pytest.mark.parametrize(("growth", "code"), [(10.0, 0), (80.0, 1)])
def test_memory_only_writes_its_report_and_fails_on_growth(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    growth: float,
    code: int,
) -> None:
    asked: list[int | None] = []

    def fake_run(pages: int | None = None) -> dict[str, Any]:
        asked.append(pages)
        return canned(growth)

    monkeypatch.setattr(memory, "run", fake_run)
    argv = ["bench", "--memory-only", "--memory-pages", "300", "-o", str(tmp_path)]
    args = build_parser().parse_args(argv)
    assert isinstance(args, argparse.Namespace) and args.memory_only
    assert bench.main(args) == code
    assert asked == [300]
    out = capsys.readouterr().out
    assert "skipped: no crawl in this test" in out
    assert ("GREW TOO MUCH" in out) == bool(code)
    written = json.loads((tmp_path / "memory.json").read_text(encoding="utf-8"))
    assert written["extract"]["growth_mb"] == pytest.approx(growth)
    assert "Memory over time" in (tmp_path / "memory.md").read_text(encoding="utf-8")
    assert not (tmp_path / "bench.json").exists()  # the speed report is left alone


def test_rss_reads_this_process() -> None:
    here = memory.rss()
    if not Path("/proc/self/status").exists():
        pytest.skip("no /proc on this system")
    assert here > 1024 * 1024
    assert memory.rss(2**22 + 12345) == 0  # no such process

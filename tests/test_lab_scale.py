"""The scale-out benchmark (lab.scale, ``python -m lab scale``)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from conftest import STORY

from lab import scale
from lab.cli import build_parser


def _run(jobs: int, rate: float, steady: float, load: float = 0.2) -> dict[str, object]:
    return {
        "jobs": jobs,
        "pages": 100,
        "errors": 1,
        "wall_s": 100 / rate,
        "pages_per_s": rate,
        "steady_pages_per_s": steady,
        "startup_s": 1.5,
        "cpu_s": 90.0,
        "load_before": load,
        "load_after": load + 0.5,
        "sha256": "same",
        "speedup": rate / 20.0,
        "steady_speedup": steady / 21.0,
        "ideal": float(jobs),
        "identical": True,
    }


def test_report_from_figures(tmp_path: Path) -> None:
    result = {
        "runs": [_run(1, 20.0, 21.0), _run(2, 36.0, 40.0, load=1.3)],
        "cores": 2,
        "cpu_count": 2,
        "corpora": ["a", "b"],
    }
    md, png = scale.write_report(result, tmp_path)
    text = md.read_text("utf-8")
    assert png.read_bytes().startswith(b"\x89PNG")
    assert "| 2 | 100 | 1 |" in text and "1.80" in text  # -j 2 row, wall speed-up
    assert "1.80x wall, 1.90x steady (met)" in text
    assert "not idle" in text and "1.30" in text
    assert "(floor)" not in scale.format_table(result) and "yes" in scale.format_table(result)


def test_no_corpora_is_a_clean_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWSFILTER_CORPORA", str(tmp_path / "absent"))
    args = build_parser().parse_args(["scale", "--crawl-workers", "", "-o", str(tmp_path / "r")])
    assert args.func(args) == 0
    assert "skipped" in capsys.readouterr().out and not (tmp_path / "r").exists()


def test_scale_runs_j1_and_j2_with_identical_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "corpora"
    for name in ("one", "two"):
        pages = root / name / "pages"
        pages.mkdir(parents=True)
        for i in range(3):
            (pages / f"{i}.html").write_text(STORY.replace("Sept 3", f"Sept {i}"), "utf-8")
        (pages / "9.html.gz").write_bytes(gzip.compress(STORY.encode()))
    monkeypatch.setenv("NEWSFILTER_CORPORA", str(root))
    out = tmp_path / "reports"
    argv = ["scale", "--jobs", "2", "--limit", "3", "--crawl-workers", "", "-o", str(out)]
    args = build_parser().parse_args(argv)
    assert args.func(args) == 0
    data = json.loads((out / "scale.json").read_text("utf-8"))
    assert [r["jobs"] for r in data["runs"]] == [1, 2]  # -j 1 added as the baseline
    assert all(r["pages"] == 6 and r["errors"] == 0 and r["identical"] for r in data["runs"])
    assert data["corpora"] == ["one", "two"]
    assert (out / "scale.md").exists() and (out / "scale.png").exists()


def _crawl_run(workers: int, rate: float, twice: int = 0) -> dict[str, object]:
    return {
        "workers": workers,
        "sites": 8,
        "pages": 320,
        "pages_by_worker": [320 // workers] * workers,
        "seconds": 320 / rate,
        "pages_per_s": rate,
        "stories": 24 + twice,
        "distinct_stories": 24,
        "exported_twice": twice,
        "duplicates_dropped": 168,
        "load_before": 0.3,
        "load_after": 1.1,
        "speedup": rate / 30.0,
        "ideal": float(min(workers, 2)),
    }


def test_report_with_the_distributed_crawl(tmp_path: Path) -> None:
    crawl = {"runs": [_crawl_run(1, 30.0), _crawl_run(2, 54.0), _crawl_run(4, 57.0, 1)], "sites": 8}
    result = {"runs": [_run(1, 20.0, 21.0), _run(2, 36.0, 40.0)], "cores": 2, "crawl": crawl}
    md, png = scale.write_report(result, tmp_path)
    text = md.read_text("utf-8")
    assert png.read_bytes().startswith(b"\x89PNG")
    assert "## Distributed crawl" in text and "## Batch extraction" in text
    assert "| 2 | 320 | 160 / 160 | 5.9 | 54.0 | 1.80 | 2 | 24 | 0 |" in text
    assert "| **1** |" in text  # a story exported twice stands out
    table = scale.format_crawl_table(crawl)
    assert "54.0" in table and "1.80x" in table
    # the crawl alone (no corpora): its section only
    md, _ = scale.write_report({"runs": [], "cores": 2, "crawl": crawl}, tmp_path / "crawl")
    text = md.read_text("utf-8")
    assert "## Distributed crawl" in text and "Batch extraction" not in text


def test_crawl_workers_argument() -> None:
    assert scale.crawl_workers_arg("1,2,4") == [1, 2, 4]
    assert scale.crawl_workers_arg("2,4") == [1, 2, 4]  # the baseline first
    assert scale.crawl_workers_arg("") == [] and scale.crawl_workers_arg("0") == []
    assert scale.crawl_workers_arg(None) == list(scale.CRAWL_WORKERS)

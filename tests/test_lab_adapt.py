"""The adaptation report (``make adapt-report``): learning curves on a small data root."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_training import TINY, VALLEY

from lab.adapt import read_folders, run
from lab.cli import main


def tiny_root(root: Path) -> Path:
    """Three layouts labelling a list of items teaser, and a site of five
    pages that labels the same list story."""
    for k, layout in enumerate(("one", "two", "three")):
        for n in range(2):
            path = root / "pages" / layout / f"p{n}.html"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(TINY.format(n=f"{k}{n}"), encoding="utf-8")
    for n in range(5):
        path = root / "sites" / "valley" / f"v{n}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(VALLEY.format(n=f"v{n}"), encoding="utf-8")
    return root


def test_a_new_site_is_learnt_from_its_pages(tmp_path: Path) -> None:
    base, folders = read_folders(tiny_root(tmp_path / "data"), None, None)
    assert [f.name for f in base] == ["one", "three", "two"]
    valley = next(f for f in folders if f.name == "valley")
    assert valley.group == "sites" and valley.points() == [0, 1, 3]  # one page left to score
    result = run([valley], base, points=(0, 3, 10))
    (row,) = result["folders"]
    by_k = {p["k"]: p for p in row["points"]}
    assert sorted(by_k) == [0, 3]
    assert by_k[0]["scored"] == 5 and by_k[3]["scored"] == 2
    # the shared model drops the site's list, three of its pages teach it
    assert by_k[3]["f1"] > max(0.99, by_k[0]["f1"] + 0.05), by_k
    sites = result["groups"]["sites"]
    assert sites["3"]["median"] == by_k[3]["f1"]
    assert sites["3"]["gain_of_worst_at_0"] == pytest.approx(
        by_k[3]["f1"] - by_k[0]["f1"], abs=1e-3
    )


def test_adapt_command_writes_the_report(tmp_path: Path) -> None:
    data = tiny_root(tmp_path / "data")
    out = tmp_path / "reports"
    argv = ["adapt", "--data", str(data), "--no-eval-sites", "--points", "0,1", "-o", str(out)]
    assert main([*argv, "--jobs", "2"]) == 0
    result = json.loads((out / "adapt.json").read_text(encoding="utf-8"))
    assert {r["folder"] for r in result["folders"]} == {"one", "two", "three", "valley"}
    assert result["fits"] == 8
    md = (out / "adapt.md").read_text(encoding="utf-8")
    assert "| valley | sites | 5 |" in md
    assert (out / "adapt.png").stat().st_size > 5_000

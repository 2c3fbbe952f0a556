"""The report writers turn small synthetic figures into markdown and valid PNGs."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import pytest
from conftest import page
from PIL import Image

from lab import reports

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

EVAL = {
    "full-text-corpus": {
        "metric": "full-text",
        "scores": {
            "trafilatura": {"f1": 0.8123, "precision": 0.85, "recall": 0.7777},
            "newsfilter": {"f1": 0.9012, "precision": 0.9234, "recall": 0.8811},
        },
    },
    "snippet-corpus": {
        "metric": "snippet",
        "scores": {
            "newsfilter": {
                "f1": 0.7,
                "precision": 0.6,
                "recall": 0.9,
                "leaked": 3,
                "missed": 2,
                "found": 20,
                "pages": 5,
            },
            "odd|name": {
                "f1": 0.5,
                "precision": 0.6,
                "recall": 0.4,
                "leaked": 1,
                "missed": 9,
                "found": 11,
                "pages": 5,
            },
        },
    },
}
CARD = {
    "labels": ["article", "teaser", "chrome"],
    "model_version": "block_model-0123456789ab",
    "n_pages": 12,
    "n_blocks": 450,
    "layouts": ["a", "b", "c"],
    "threshold": 0.5,
    "label_counts": {"article": 100, "teaser": 50, "chrome": 300},
    "cv_metrics": {
        "per_class": {
            "article": {"precision": 0.9111, "recall": 0.8, "f1": 0.852, "support": 100},
            "teaser": {"precision": 0.7, "recall": 0.6, "f1": 0.6462, "support": 50},
            "chrome": {"precision": 0.95, "recall": 0.97, "f1": 0.9599, "support": 300},
        },
        "accuracy": 0.9011,
        "grouped_by": "layout",
        "folds": 3,
        "confusion": [[80, 5, 15], [4, 30, 16], [3, 6, 291]],
    },
}


def assert_png(path: Path) -> None:
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.size[0] > 200 and image.size[1] > 150


@pytest.fixture
def explained(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace explain_html (tested in test_explain) by a recorder."""
    calls: list[dict[str, Any]] = []

    def fake(data: bytes, *, url: str | None = None, extractor: object = None) -> str:
        calls.append({"data": data, "url": url})
        return "<!doctype html><title>stub</title>"

    monkeypatch.setattr("classifier.explain.explain_html", fake)
    return calls


def test_eval_report(tmp_path: Path, explained: list[dict[str, Any]]) -> None:
    story = tmp_path / "pages" / "p1.html"
    story.parent.mkdir()
    story.write_text(page("<p>A story.</p>"), encoding="utf-8")
    worst = [
        {
            "corpus": "full-text-corpus",
            "id": "news/0001",
            "path": str(story),
            "url": "https://example.org/1",
            "f1": 0.1234,
            "precision": 0.2,
            "recall": 0.05,
        },
        {
            "corpus": "snippet-corpus",
            "id": "0042",
            "path": tmp_path / "gone.html",
            "tp": 1,
            "fp": 3,
            "fn": 2,
        },
    ]
    written = reports.write_eval_report(EVAL, worst, tmp_path / "reports")
    out = tmp_path / "reports"
    name = reports.explain_name("full-text-corpus", "news/0001")
    assert written == [out / "eval.md", out / "eval.png", out / "explain" / name]
    assert_png(out / "eval.png")
    md = (out / "eval.md").read_text(encoding="utf-8")
    assert "![" in md and "(eval.png)" in md
    for figure in ("0.901", "0.923", "0.881", "0.812", "0.850", "0.778", "| 3 |", "0.123"):
        assert figure in md, figure
    assert md.index("| newsfilter |") < md.index("| trafilatura |")  # ours first
    assert "odd\\|name" in md  # a pipe cannot break the table
    assert f"(explain/{name})" in md and "/" not in name
    assert "0042 (no report: FileNotFoundError)" in md
    assert (out / "explain" / name).read_text(encoding="utf-8").startswith("<!doctype html>")
    assert explained == [{"data": story.read_bytes(), "url": "https://example.org/1"}]


def test_eval_report_without_worst_pages(tmp_path: Path, explained: list[dict[str, Any]]) -> None:
    written = reports.write_eval_report(EVAL, [], tmp_path)
    assert written == [tmp_path / "eval.md", tmp_path / "eval.png"]
    assert "Worst pages" not in (tmp_path / "eval.md").read_text(encoding="utf-8")
    assert not explained


def test_bench_report_from_today_s_flat_dict(tmp_path: Path) -> None:
    flat = {  # what lab.bench.run returns
        "lxml parse (floor)": {
            "pages": 40,
            "mean_ms": 2.1,
            "median_ms": 1.84,
            "p95_ms": 4.2,
            "total_s": 0.08,
        },
        "newsfilter": {
            "pages": 40,
            "mean_ms": 21.0,
            "median_ms": 18.456,
            "p95_ms": 40.1,
            "total_s": 0.84,
        },
        "trafilatura": {
            "pages": 40,
            "mean_ms": 33.0,
            "median_ms": 25.0,
            "p95_ms": 61.0,
            "total_s": 1.3,
        },
    }
    written = reports.write_bench_report(flat, tmp_path)
    assert written == [tmp_path / "bench.md", tmp_path / "bench.png"]
    assert_png(tmp_path / "bench.png")
    md = (tmp_path / "bench.md").read_text(encoding="utf-8")
    assert "(bench.png)" in md and "`lxml parse (floor)`" in md
    for figure in ("18.46", "40.10", "1.84", "25.00", "61.00"):
        assert figure in md, figure
    assert "peak MiB" not in md and "Crawl" not in md


def test_bench_report_with_memory_and_crawl(tmp_path: Path) -> None:
    results = {
        "extractors": {
            "bare parse": {"median_ms": 1.5, "p95_ms": 3.0, "peak_mb": 31.25},
            "newsfilter": {"median_ms": 17.0, "p95_ms": 39.0, "peak_mb": 118.5},
        },
        "floor": "bare parse",
        "crawl": {
            "with_classifier": {"pages_per_s": 41.26, "pages": 200},
            "without_classifier": {"pages_per_s": 55.0, "pages": 200},
        },
        "environment": {"python": "3.11.2"},
        "profile_overhead": {
            "pages": 430,
            "alone_ms": 18.37,
            "profiled_ms": 19.78,
            "overhead_pct": 7.71,
        },
    }
    reports.write_bench_report(results, tmp_path)
    assert_png(tmp_path / "bench.png")
    md = (tmp_path / "bench.md").read_text(encoding="utf-8")
    for figure in ("118.5", "31.2", "41.3", "55.0", "with classifier", "`bare parse`", "3.11.2"):
        assert figure in md, figure
    assert "Each of 430 pages" in md and "18.37 and 19.78 ms/page, +7.7 %" in md


def test_train_report(tmp_path: Path) -> None:
    written = reports.write_train_report(CARD, tmp_path)
    assert written == [tmp_path / "train.md", tmp_path / "confusion.png"]
    assert_png(tmp_path / "confusion.png")
    md = (tmp_path / "train.md").read_text(encoding="utf-8")
    assert "(confusion.png)" in md and "block_model-0123456789ab" in md
    for figure in (
        "0.911",
        "0.852",
        "0.646",
        "0.960",
        "| 300 |",
        "0.901",
        "| teaser | 4 | 30 | 16 |",
    ):
        assert figure in md, figure


def test_train_report_without_cross_validation(tmp_path: Path) -> None:
    card = {**CARD, "cv_metrics": {}}
    assert reports.write_train_report(card, tmp_path) == [tmp_path / "train.md"]
    assert "--no-cv" in (tmp_path / "train.md").read_text(encoding="utf-8")
    assert not (tmp_path / "confusion.png").exists()


WORD = {
    "wcxb": {
        "metric": "word-F1",
        "pages": 5,
        "title_policy": "text",
        "headline_in_reference": {"pages": 1, "of": 5},
        "scores": {
            "newsfilter": {"f1": 0.8765, "precision": 0.9, "recall": 0.85},
            "trafilatura": {"f1": 0.9321, "precision": 0.95, "recall": 0.92},
        },
        "other_policy": {
            "policy": "title+text",
            "scores": {"newsfilter": {"f1": 0.8612}, "trafilatura": {"f1": 0.9255}},
        },
        "by_type": {
            name: {
                t: {
                    "f1": f1,
                    "precision": 0.9,
                    "recall": 0.8,
                    "pages": n,
                    "below_half": below,
                    "leaked": 7,
                    "fulltext_f1": 0.7654,
                }
                for t, f1, n, below in (
                    ("article", base, 3, 1),
                    ("forum", base - 0.2, 2, 2),
                    ("all", base - 0.1, 5, 3),
                )
            }
            for name, base in (("newsfilter", 0.8764), ("trafilatura", 0.9321))
        },
    }
}
CAUSES = [
    {
        "group": "wcxb article",
        "corpus": "wcxb",
        "pages": 3,
        "worst_n": 20,
        "below_half": 1,
        "causes_below_half": {"segmentation loss": 1, "dropped paragraphs": 0, "leaked blocks": 0},
        "causes_worst": {"segmentation loss": 1, "dropped paragraphs": 2, "leaked blocks": 0},
        "nothing_kept_below_half": 0,
        "rows": [
            {
                "corpus": "wcxb",
                "id": "0007",
                "page_type": "article",
                "f1": 0.1111,
                "precision": 0.5,
                "recall": 0.06,
                "coverage": 0.2222,
                "segmentation": 0.7778,
                "dropped": 0.1,
                "leaked": 0.5,
                "cause": "segmentation loss",
                "note": "",
                "below_half": True,
                "worst": True,
            }
        ],
    }
]


def test_eval_report_word_f1_by_page_type_and_causes(
    tmp_path: Path, explained: list[dict[str, Any]]
) -> None:
    story = tmp_path / "0007.html.gz"
    story.write_bytes(gzip.compress(page("<p>A story.</p>").encode()))
    worst = [{**CAUSES[0]["rows"][0], "path": str(story), "url": None}]  # type: ignore[index]
    written = reports.write_eval_report(WORD, worst, tmp_path, causes=CAUSES)
    md = (tmp_path / "eval.md").read_text(encoding="utf-8")
    assert "| extractor | article (3) | forum (2) | all (5) |" in md
    assert "| newsfilter | 0.876 | 0.676 | 0.776 |" in md
    assert "Scored as text only" in md
    assert "| wcxb | text only | 1 of 5 | headline + text | 0.861 | 0.925 |" in md
    assert "## Why our worst pages score low" in md
    assert "| wcxb article | 3 | 1 | 1 | 0 | 0 | 0 | 1 | 2 | 0 |" in md
    name = reports.explain_name("wcxb", "0007")
    assert f"[0007](explain/{name})" in md  # the cause list links to the explain report
    assert md.index("Why our worst") < md.index("## Worst pages")
    assert explained and explained[0]["data"].startswith(b"<!doctype html>")  # gunzipped
    assert tmp_path / "explain" / name in written
    assert_png(tmp_path / "eval.png")


def test_segloss_report(tmp_path: Path) -> None:
    result = {
        "parser": "selectolax 1.0.2 (Lexbor)",
        "split": "all",
        "corpora": {
            "wcxb": {
                "pages": 10,
                "lose_over_half": 2,
                "parse_lose_over_half": 1,
                "lose_over_tenth": 4,
                "parse_lose_over_tenth": 3,
                "mean_lost": 0.1234,
                "median_lost": 0.01,
                "mean_parse_lost": 0.05,
                "decoding_differs": 1,
                "not_segmented": 0,
            }
        },
        "worst": [
            {
                "corpus": "wcxb",
                "id": "0042",
                "url": "https://x.example/a|b",
                "browser_words": 900,
                "our_words": 100,
                "lost": 0.8889,
                "parse_lost": 0.75,
                "decoding_differs": True,
                "note": "",
            }
        ],
    }
    assert reports.write_segloss_report(result, tmp_path) == [tmp_path / "segloss.md"]
    md = (tmp_path / "segloss.md").read_text(encoding="utf-8")
    assert "| wcxb | 10 | 2 | 1 | 4 | 3 | 0.123 | 0.010 | 0.050 | 1 | 0 |" in md
    assert "| wcxb | 0042 | https://x.example/a\\|b | 900 | 100 | 0.889 | 0.750 | yes |  |" in md

"""The corpus loader on tiny fake corpora made here (never the real ones)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from conftest import page

from lab import cli, corpora

ARTICLE = page("<h1>Harbour reopens</h1><p>The harbour reopened on Monday after repairs.</p>")
SERVICE = page("<h1>Plumbing</h1><p>We fix pipes in the whole district, day and night.</p>")


def write_corpus(
    root: Path, name: str, pages: dict[str, bytes], rows: list[dict[str, object]]
) -> None:
    (root / name / "pages").mkdir(parents=True)
    for filename, data in pages.items():
        (root / name / "pages" / filename).write_bytes(data)
    (root / name / "truth.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows) + "\n", encoding="utf-8"
    )


@pytest.fixture
def fake_corpora(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "corpora"
    write_corpus(
        root,
        "wcxb",
        {
            "0001.html.gz": gzip.compress(ARTICLE.encode()),
            "0002.html.gz": gzip.compress(SERVICE.encode()),
            "0004.html.gz": gzip.compress(b"<p>no truth row</p>"),
            "notes.txt": b"not a page",
        },
        [
            {
                "id": "0001",
                "url": "https://news.example/harbour",
                "page_type": "article",
                "article_text": "The harbour reopened on Monday after repairs.",
                "with": ["The harbour reopened"],
                "without": ["Plumbing"],
            },
            {
                "id": "0002",
                "url": "https://pipes.example/",
                "page_type": "service",
                "article_text": "We fix pipes in the whole district, day and night.",
                "with": [],
                "without": [],
            },
            {
                "id": "0003",
                "url": None,
                "page_type": "forum",
                "article_text": "",
                "with": [],
                "without": [],
            },
        ],
    )
    write_corpus(
        root,
        "readability",
        {"003-metadata.preferred.html": ARTICLE.encode(), "base-url.html": SERVICE.encode()},
        [
            {"id": "003-metadata.preferred", "url": None, "article_text": "x"},
            {"id": "base-url", "url": None, "article_text": "y"},
        ],
    )
    monkeypatch.setenv(corpora.CORPORA_ENV, str(root))
    return root


def test_wcxb_gzipped_pages_match_their_ids(fake_corpora: Path) -> None:
    assert corpora.available()
    assert corpora.corpus_names() == ["readability", "wcxb"]
    pages = corpora.load("wcxb")
    # 0003 has no file, 0004 no truth row, notes.txt is no page
    assert [p.id for p in pages] == ["0001", "0002"]
    first = pages[0]
    assert first.path.name == "0001.html.gz"
    assert first.read() == ARTICLE.encode()  # decompressed
    assert first.page_type == "article" and pages[1].page_type == "service"
    assert first.url == "https://news.example/harbour"
    assert first.truth["with"] == ["The harbour reopened"]


def test_plain_pages_and_ids_with_dots(fake_corpora: Path) -> None:
    pages = corpora.load("readability")
    assert [p.id for p in pages] == ["003-metadata.preferred", "base-url"]
    assert pages[0].read() == ARTICLE.encode()
    assert pages[0].page_type is None and pages[0].url is None


def test_page_ids_from_file_names() -> None:
    assert corpora.page_id(Path("0001.html.gz")) == "0001"
    assert corpora.page_id(Path("a.b.HTML")) == "a.b"
    assert corpora.page_id(Path("story.htm")) == "story"
    assert corpora.page_id(Path("README.md")) is None
    assert corpora.page_id(Path(".html")) is None


def test_plain_file_wins_over_gzipped_twin(tmp_path: Path) -> None:
    (tmp_path / "7.html.gz").write_bytes(gzip.compress(b"<p>gz</p>"))
    (tmp_path / "7.html").write_bytes(b"<p>plain</p>")
    assert corpora.page_files(tmp_path) == {"7": tmp_path / "7.html"}
    assert corpora.page_files(tmp_path / "missing") == {}


def test_tools_skip_cleanly_without_corpora(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(corpora.CORPORA_ENV, str(tmp_path / "absent"))
    assert not corpora.available() and corpora.corpus_names() == []
    assert cli.main(["eval", "-o", str(tmp_path / "out")]) == 0
    assert cli.main(["segloss", "-o", str(tmp_path / "out")]) == 0
    assert cli.main(["tune"]) == 0
    assert "no corpora" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

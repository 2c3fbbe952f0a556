"""Crawler tests: real crawls in subprocesses against servers these tests start on 127.0.0.1."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import crawlsite
import pytest
from crawlsite import ROOT
from crawlsite import run_scrapy as scrapy

from crawler.demo.server import serve as serve_demo
from crawler.pipelines import content_sha1
from crawler.sites import SitesError, load_sites
from crawler.spiders.pages import read_targets

DEMO = ROOT / "crawler" / "demo"
Crawl = tuple[dict[str, Any], list[dict[str, Any]], list[str]]  # stats, items, requested paths


@pytest.fixture(scope="module")
def misbehaving_crawl(
    tmp_path_factory: pytest.TempPathFactory,
) -> Crawl:
    tmp = tmp_path_factory.mktemp("crawl")
    with crawlsite.serve() as (base, hits):
        stats, items = scrapy(
            [
                "news",
                "-a",
                f"url={base}/",
                "-s",
                "DOWNLOAD_TIMEOUT=1",
                "-s",
                "RETRY_TIMES=1",
                "-s",
                "REDIRECT_MAX_TIMES=5",
            ],
            tmp,
        )
    return stats, items, list(hits)


def test_crawl_finishes_and_counts_every_failure(misbehaving_crawl: Crawl) -> None:
    stats, _, _ = misbehaving_crawl
    assert stats["finish_reason"] == "finished"
    assert stats["newsfilter/failed/http_404"] >= 1
    assert stats["newsfilter/failed/http_500"] >= 1
    assert stats["downloader/response_status_count/500"] == 2  # retried once, then given up
    assert stats["newsfilter/failed/timeout"] == 1  # /slow, past DOWNLOAD_TIMEOUT
    assert stats["newsfilter/non_html"] == 2  # the PDF and the PNG
    assert stats["newsfilter/empty"] == 1
    assert stats["robotstxt/forbidden"] == 1
    assert stats["newsfilter/non_article"] >= 1  # the home page is a listing


def test_redirect_chain_is_followed_and_loop_is_cut(misbehaving_crawl: Crawl) -> None:
    stats, items, hits = misbehaving_crawl
    assert any(i["url"].endswith("/hospital.html") for i in items)
    # the loop ends when it comes back to a URL already fetched
    assert hits.count("/loop-a") == 1 and hits.count("/loop-b") == 1
    assert stats["downloader/response_status_count/302"] == 5
    assert stats["newsfilter/failed/robots"] == 1


def test_articles_are_exported_once_with_clean_text(misbehaving_crawl: Crawl) -> None:
    _, items, hits = misbehaving_crawl
    by_path = {i["url"].split("/", 3)[3]: i for i in items}
    story = by_path["story.html"]
    assert story["title"] == "Ferry service resumes on the lake"
    assert story["text"].startswith("Lakeside, May 2:")
    assert "Related Articles" not in story["text"] and "All rights reserved" not in story["text"]
    assert story["content_sha1"] == content_sha1(story["text"])
    assert story["word_count"] == len(story["text"].split())
    assert "/private/draft.html" not in hits
    assert sum(1 for i in items if i["title"] == story["title"]) == 1  # /slow served it again


@pytest.mark.xfail(
    strict=True,
    reason="known problem: the retrained model labels a related-posts list of bare "
    "headline links chrome (it looks like a menu), so its links are not teasers",
)
def test_related_posts_links_are_teasers(misbehaving_crawl: Crawl) -> None:
    _, items, _ = misbehaving_crawl
    story = next(i for i in items if i["url"].endswith("/story.html"))
    assert {t["url"].rsplit("/", 1)[1] for t in story["teasers"]} >= {"r1"}


def test_charset_only_in_http_header(misbehaving_crawl: Crawl) -> None:
    _, items, _ = misbehaving_crawl
    ru = next(i for i in items if i["url"].endswith("/cp1251.html"))
    assert ru["text"].startswith("\u041e\u0437\u0451\u0440\u0441\u043a, 4 \u043c\u0430\u044f.")
    assert ru["language"] == "ru"


def test_pages_spider_reads_files_and_urls(tmp_path: Path) -> None:
    saved = tmp_path / "saved.html"
    saved.write_text(crawlsite.STORY, encoding="utf-8")
    with crawlsite.serve() as (base, _):
        listing = tmp_path / "list.txt"
        listing.write_text(f"# saved pages\n{saved.name}\n\n{base}/hospital.html\n{base}/missing\n")
        stats, items = scrapy(["pages", "-a", f"urls={listing}"], tmp_path)
    assert sorted(i["title"] for i in items) == [
        "Ferry service resumes on the lake",
        "Hospital wing opens next month",
    ]
    assert stats["newsfilter/failed/http_404"] == 1


def test_pages_spider_without_classifier_fetches_the_list_only(tmp_path: Path) -> None:
    """A plain crawl (the benchmark baseline) of the pages spider: no sites, nothing followed."""
    with crawlsite.serve() as (base, hits):
        listing = tmp_path / "list.txt"
        listing.write_text(f"{base}/\n{base}/story.html\n")  # both pages link to others
        stats, items = scrapy(
            ["pages", "-a", f"urls={listing}", "-s", "NEWSFILTER_CLASSIFY=False"], tmp_path
        )
    assert stats["finish_reason"] == "finished"
    assert not [k for k in stats if k.startswith("spider_exceptions")]
    assert stats["response_received_count"] == 3  # robots.txt and the two pages
    assert sorted(hits) == ["/", "/robots.txt", "/story.html"]
    assert items == []


def test_read_targets_makes_file_urls(tmp_path: Path) -> None:
    lst = tmp_path / "l.txt"
    lst.write_text("a.html\nhttps://x.example/s\n# c\n")
    assert read_targets(lst) == [(tmp_path / "a.html").as_uri(), "https://x.example/s"]


def test_sites_file_is_validated(tmp_path: Path) -> None:
    assert {s.name for s in load_sites(ROOT / "crawler" / "sites.toml")}
    bad = tmp_path / "sites.toml"
    bad.write_text("[[site]]\nname = 'x'\nstart_urls = ['https://x.example/']\nexclude = ['(']\n")
    with pytest.raises(SitesError, match="bad pattern"):
        load_sites(bad)
    bad.write_text("[[site]]\nstart_urls = []\n")
    with pytest.raises(SitesError, match="'name' is required"):
        load_sites(bad)


def test_a_site_with_its_own_model_is_classified_by_it(tmp_path: Path) -> None:
    """A sites-file ``model`` (relative to the sites file) classifies that
    site's pages; a site model that cannot be loaded stops the crawl at its
    start, naming the site."""
    from classifier.model import BLOCK_MODEL, load_model, save_model

    model, card = load_model(BLOCK_MODEL)
    own = {k: v for k, v in card.items() if k not in ("file", "sha256", "model_version")}
    saved = save_model(model, tmp_path / "models" / "gazette.skops", own)
    sites = tmp_path / "sites.toml"
    with crawlsite.serve() as (base, _):
        sites.write_text(
            f'[[site]]\nname = "gazette"\nstart_urls = ["{base}/story.html"]\n'
            'model = "models/gazette.skops"\n',
            encoding="utf-8",
        )
        assert load_sites(sites)[0].model == str(tmp_path / "models" / "gazette.skops")
        args = ["news", "-a", f"sites_file={sites}", "-s", "NEWSFILTER_SITE_PROFILE=False"]
        _, items = scrapy(args, tmp_path)
        assert items and {i["model_version"] for i in items} == {saved["model_version"]}
        assert saved["model_version"] != card["model_version"]
    # with site profiles on (the default), the site's model needs its own site
    # stage beside it: the crawl's analyser refuses to start, naming the site
    from scrapy.settings import Settings

    from classifier.model import ModelError
    from crawler.analysis import PageAnalyser
    from crawler.config import Config

    settings = Settings()
    settings.setmodule("crawler.settings")
    with pytest.raises(ModelError, match="site gazette's model: .*site_model.skops"):
        PageAnalyser.from_config(Config.from_settings(settings), load_sites(sites))


def expected_demo() -> dict[str, dict]:
    rows = [
        json.loads(x) for x in (DEMO / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    return {r["path"]: r for r in rows}


def check_demo_items(items: list[dict]) -> None:
    expected = expected_demo()
    paths = [i["url"].split("/", 3)[3].split("?")[0] for i in items]
    assert sorted("/" + p for p in paths) == sorted(expected), (
        "every story exactly once, nothing else"
    )
    for item, path in zip(items, paths, strict=True):
        want = expected["/" + path]
        assert item["title"] == want["title"]
        assert item["text"].split("\n\n") == want["paragraphs"], f"/{path}: story text differs"
        for field in ("byline", "captions", "description"):  # out of the text, in their fields
            assert item[field] == want[field], f"/{path}: {field} differs"


@pytest.mark.slow
def test_make_demo_exports_every_story_once(tmp_path: Path) -> None:
    feed = tmp_path / "demo.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "crawler.demo", "-o", str(feed)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "articles exported" in proc.stdout
    items = [json.loads(x) for x in feed.read_text(encoding="utf-8").splitlines()]
    check_demo_items(items)
    hindi = next(i for i in items if i["language"] == "hi")
    assert any("\u0900" <= ch <= "\u097f" for ch in hindi["text"])
    assert all(i["published"] and i["published"].startswith("2026-") for i in items)


@pytest.mark.slow
def test_resume_after_interrupt_loses_and_repeats_nothing(tmp_path: Path) -> None:
    feed, jobdir = tmp_path / "feed.jsonl", tmp_path / "job"
    seen = jobdir / "newsfilter_seen.tsv"
    with serve_demo(DEMO / "site") as base:
        cmd = [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "news",
            "-a",
            f"url={base}/",
            "-o",
            str(feed),
            "-s",
            f"JOBDIR={jobdir}",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
            "-s",
            "CONCURRENT_REQUESTS=1",
            "-s",
            "DOWNLOAD_DELAY=0.3",
        ]
        first = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and first.poll() is None:
            if seen.exists() and len(seen.read_text().splitlines()) >= 5:
                break
            time.sleep(0.1)
        assert first.poll() is None, "the crawl ended before it could be interrupted"
        first.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=120)
        partial = len(feed.read_text().splitlines())
        assert 5 <= partial < len(expected_demo()), "the first run should stop midway"
        second = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr[-3000:]
    items = [json.loads(x) for x in feed.read_text(encoding="utf-8").splitlines()]
    check_demo_items(items)

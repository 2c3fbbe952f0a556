"""`-o`/`-O` write exactly the feed they name; without them, feeds/<spider>-<time>.jsonl.

Scrapy merges a project FEEDS setting with the feeds of `-o`/`-O`; the project
gives its default feed through the DefaultFeed add-on instead, only when the
command line names none.  The crawls run in a temporary directory (the
project found through SCRAPY_SETTINGS_MODULE) so that the relative default
path lands there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import crawlsite
import pytest
from crawlsite import ROOT, read_feed, run_scrapy
from scrapy.settings import Settings
from scrapy.utils.conf import feed_process_params_from_cli

from crawler.addons import DefaultFeed

TITLE = "Ferry service resumes on the lake"


def crawl_saved_story(tmp: Path, output: list[str]) -> None:
    """The pages spider over one saved story, run from *tmp*."""
    (tmp / "story.html").write_text(crawlsite.STORY, encoding="utf-8")
    (tmp / "list.txt").write_text("story.html\n", encoding="utf-8")
    env = {
        **os.environ,
        "SCRAPY_SETTINGS_MODULE": "crawler.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    run_scrapy(["pages", "-a", "urls=list.txt"], tmp, output=output, cwd=tmp, env=env)


def files(tmp: Path) -> list[str]:
    return sorted(
        str(p.relative_to(tmp))
        for p in tmp.rglob("*")
        if p.is_file() and p.name not in {"story.html", "list.txt", "stats.json"}
    )


@pytest.mark.parametrize("option", ["-O", "-o"])
def test_output_option_writes_only_its_feed(tmp_path: Path, option: str) -> None:
    crawl_saved_story(tmp_path, [option, "mine.jsonl"])
    assert files(tmp_path) == ["mine.jsonl"]  # no feeds/pages-<time>.jsonl beside it
    assert [i["title"] for i in read_feed(tmp_path / "mine.jsonl")] == [TITLE]


def test_without_output_option_the_default_feed_is_written(tmp_path: Path) -> None:
    crawl_saved_story(tmp_path, [])
    written = files(tmp_path)
    assert len(written) == 1 and re.fullmatch(r"feeds/pages-[\d\-T+]+\.jsonl", written[0]), written
    assert [i["title"] for i in read_feed(tmp_path / written[0])] == [TITLE]


def project_settings() -> Settings:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    return settings


def test_default_feed_gives_way_to_any_feed_setting() -> None:
    settings = project_settings()
    DefaultFeed().update_settings(settings)
    assert list(settings.getdict("FEEDS")) == ["feeds/%(name)s-%(time)s.jsonl"]

    settings = project_settings()  # what `scrapy crawl -O out.jsonl` sets
    feeds = feed_process_params_from_cli(settings, [], overwrite_output=["out.jsonl"])
    settings.set("FEEDS", feeds, priority="cmdline")
    DefaultFeed().update_settings(settings)
    assert list(settings.getdict("FEEDS")) == ["out.jsonl"]

    settings = project_settings()  # `-s FEEDS={}`: no feed at all
    settings.set("FEEDS", "{}", priority="cmdline")
    DefaultFeed().update_settings(settings)
    assert settings.getdict("FEEDS") == {}

    settings = project_settings()
    settings.set("NEWSFILTER_FEED", "", priority="cmdline")
    DefaultFeed().update_settings(settings)
    assert settings.getdict("FEEDS") == {}

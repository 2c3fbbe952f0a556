"""The crawler's WARC archive (crawler/warc.py) and its re-extraction."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from conftest import STORY
from crawlsite import FAST, ROOT
from fastwarc.warc import ArchiveIterator, WarcRecordType
from scrapy.http import HtmlResponse, Request

from classifier.cli import main as classifier_main
from classifier.sources import InputStats, iter_inputs, iter_pages
from crawler.demo.server import DEFAULT_SITE, serve
from crawler.warc import WarcWriter, http_request_block, http_response_block, record_bytes


def archive(writer: WarcWriter, response: HtmlResponse) -> None:
    _, data = record_bytes(
        WarcRecordType.response,
        http_response_block(response),
        "application/http; msgtype=response",
        {"WARC-Target-URI": response.url},
    )
    _, req = record_bytes(
        WarcRecordType.request,
        http_request_block(Request(response.url)),
        "application/http; msgtype=request",
        {"WARC-Target-URI": response.url},
    )
    writer.write([data, req])


def test_rotating_files_read_back_page_for_page(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path / "warc", max_size=3000)
    bodies = {}
    for i in range(6):
        body = STORY.replace("Sept 3", f"Sept {i}").encode()
        url = f"http://news.example/story-{i}?a=1"
        headers = {"Content-Type": "text/html; charset=utf-8", "Transfer-Encoding": "chunked"}
        if i % 2:  # archived as sent: still gzip-encoded
            headers["Content-Encoding"] = "gzip"
            wire = gzip.compress(body)
        else:
            wire = body
        archive(writer, HtmlResponse(url, status=200, headers=headers, body=wire))
        bodies[url] = body
    missing = HtmlResponse("http://news.example/gone", status=404, body=b"<html>gone</html>")
    archive(writer, missing)
    writer.close()
    files = list(iter_inputs([str(tmp_path / "warc")]))
    assert len(files) > 1 and all(f.name.endswith(".warc.gz") for f in files)  # rotated
    stats = InputStats()
    pages = list(iter_pages(files, stats=stats))
    assert [p.error for p in pages if p.error] == []
    assert {p.url: p.read() for p in pages} == bodies  # decoded, in full; the 404 skipped
    # each file opens with a warcinfo record; requests follow their responses
    with open(files[0], "rb") as fh:
        kinds = [r.record_type for r in ArchiveIterator(fh)]
    assert kinds[:3] == [WarcRecordType.warcinfo, WarcRecordType.response, WarcRecordType.request]
    assert stats.skipped == len(files) + 7 + 1  # warcinfos, requests, the 404


def test_a_crawl_archived_to_warc_extracts_to_the_same_stories(tmp_path: Path) -> None:
    warc, feed, out = tmp_path / "warc", tmp_path / "feed.jsonl", tmp_path / "out.jsonl"
    with serve(DEFAULT_SITE) as base:
        cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"url={base}/"]
        cmd += ["-O", str(feed), "-s", f"NEWSFILTER_WARC_DIR={warc}", *FAST]
        cmd += ["-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]
        crawl = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert "Archived" in crawl.stderr
    stories = [json.loads(line) for line in feed.read_text("utf-8").splitlines()]
    assert len(stories) == 24
    # `python -m classifier extract` (in this process: one start-up less), with
    # the crawler's decision rule (crawler/settings.py), on the archive
    extract = ["extract", str(warc), "--quiet", "--no-blocks", "-o", str(out)]
    assert classifier_main([*extract, "--threshold", "0.5", "--switch-cost", "0"]) == 0
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r for r in rows if "error" in r] == []
    by_url = {r["url"]: r for r in rows}
    assert {s["url"] for s in stories} <= set(by_url)
    assert [(s["url"], s["title"], s["text"]) for s in stories] == [
        (s["url"], by_url[s["url"]]["title"], by_url[s["url"]]["text"]) for s in stories
    ]

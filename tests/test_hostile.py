"""Hostile inputs: every one gets a row (the story, or a clear error), never a crash.

The cases are :data:`lab.hostile.CASES` (issue 10's list), generated into
``tmp_path``.  The huge ones run at ``SCALE`` of their size against the
default limits scaled by the same factor (:meth:`Limits.scaled`): the same
limits are hit in the same order as at full size, in a fraction of the
time.  ``python -m lab.hostile`` runs them at full size and measures them.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request, TextResponse
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from classifier.batch import ExtractOptions, extract_row, extract_rows
from classifier.clean import LineCleaner
from classifier.cli import main
from classifier.extract import Extractor
from classifier.lines import split_text
from classifier.segment import LIMITS, _jsonld_items, segment, truncation
from classifier.sources import iter_inputs, iter_pages, read_text
from lab.hostile import (
    CASES,
    HEADLINE,
    PARAGRAPHS,
    STORY_SENTENCE,
    Case,
    case_file,
    page,
    story_html,
)

SCALE = 0.01  # the huge cases at 1 % of their size, against limits at 1 %
SCALED = LIMITS.scaled(SCALE)
PAGE_CASES = [c for c in CASES if c.suffix != ".txt"]
TEXT_CASES = [c for c in CASES if c.suffix == ".txt"]


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor()


@pytest.fixture(scope="module")
def scaled() -> Extractor:
    return Extractor(limits=SCALED)


def scale(case: Case) -> float:
    return SCALE if case.huge else 1.0


def rows_of(extractor: Extractor, path: Path) -> list[dict[str, Any]]:
    return [json.loads(extract_row(extractor, p, False).line) for p in iter_pages([path])]


def has_story(row: dict[str, Any]) -> bool:
    return STORY_SENTENCE in (row.get("text") or "") and row.get("title") == HEADLINE


@pytest.mark.parametrize("case", PAGE_CASES, ids=[c.name for c in PAGE_CASES])
def test_every_hostile_page_gets_its_row(
    case: Case, extractor: Extractor, scaled: Extractor, tmp_path: Path
) -> None:
    path = case_file(case, tmp_path, scale(case))
    rows = rows_of(scaled if case.huge else extractor, path)
    assert rows, "no row at all"
    for row in rows:
        assert row["source"].startswith(str(path))
        assert ("error" in row) != ("text" in row)  # one or the other
    if case.expect == "error":
        assert len(rows) == 1 and rows[0]["error"]
    else:
        stories = [r for r in rows if "error" not in r]
        assert stories and all(has_story(r) for r in stories), [r.get("error") for r in rows]
        for row in stories:
            assert set(filter(None, row["truncated"].split(","))) >= case.truncated
            assert HEADLINE not in row["text"]  # the headline is the title, not text


def test_the_story_of_a_page_that_hits_no_limit_is_not_marked(extractor: Extractor) -> None:
    result = extractor.extract(page(story_html()).encode())
    assert has_story(result.to_dict()) and result.truncated == ""


def test_a_truncated_warc_gives_its_records_then_one_error(
    extractor: Extractor, tmp_path: Path
) -> None:
    case = next(c for c in CASES if c.name == "truncated WARC")
    rows = rows_of(extractor, case_file(case, tmp_path))
    assert [has_story(r) for r in rows[:-1]] == [True, True]
    assert "truncated" in rows[-1]["error"]


def test_errors_say_what_is_wrong(extractor: Extractor, tmp_path: Path) -> None:
    errors = {
        c.name: rows_of(extractor, case_file(c, tmp_path))[0]["error"]
        for c in CASES
        if c.expect == "error"
    }
    assert "binary data" in errors["binary junk"]
    assert "empty document" in errors["empty file"]
    assert "empty document" in errors["white space only"]
    assert "broken gzip file" in errors["broken gzip"]


# -- decoding: a stray byte costs that character, not the page ----------------


def body_text(data: bytes, **kw: Any) -> str:
    return "\n".join(b.text for b in segment(data, **kw).blocks)


def test_one_invalid_byte_in_utf8_costs_one_character() -> None:
    case = next(c for c in CASES if c.name == "invalid UTF-8")
    clean = body_text(case.make(1).replace(b"\xff", b""))
    got = body_text(case.make(1))
    assert "\u201cWe are ready,\u201d" in got and "\u0915\u093f\u0938\u093e\u0928" in got
    assert len(got) == len(clean) + 1 and got.replace("\xff", "") == clean  # read as windows-1252


def test_a_cut_utf8_sequence_is_one_replacement_character() -> None:
    data = page("<p>caf\u00e9 and \u201cquotes\u201d</p>").encode()
    cut = data.replace("\u201cquotes".encode(), b"\xe2\x80quotes")  # a 3-byte character cut short
    assert "caf\u00e9 and \ufffdquotes\u201d" in body_text(cut)


def test_cp1252_body_under_a_utf8_declaration() -> None:
    case = next(c for c in CASES if c.name == "cp1252 under utf-8")
    text = body_text(case.make(1), content_type="text/html; charset=utf-8")
    assert "A na\u00efve plan, the caf\u00e9 owners said \u2014 \u201cnot ours\u201d." in text


def test_utf16_bogus_charset_and_nul_bytes() -> None:
    by_name = {c.name: c for c in CASES}
    assert STORY_SENTENCE in body_text(by_name["UTF-16 with BOM"].make(1))
    assert "Caf\u00e9 prices rose." in body_text(by_name["meta charset=bogus"].make(1))
    nul = segment(by_name["NUL bytes"].make(1))
    assert nul.title.startswith(HEADLINE) and "\x00" not in body_text(by_name["NUL bytes"].make(1))


def test_deep_jsonld_is_skipped_not_raised() -> None:
    assert _jsonld_items("[" * 100_000 + "]" * 100_000) == []
    assert len(_jsonld_items("[" + '{"a": 1},' * 5000 + '{"a": 1}]')) == 1000  # JSONLD_MAX_ITEMS


# -- clean-text ----------------------------------------------------------------


@pytest.mark.parametrize("case", TEXT_CASES, ids=[c.name for c in TEXT_CASES])
def test_hostile_text_is_cut_and_keeps_its_story(case: Case, tmp_path: Path) -> None:
    assert case.huge
    path = case_file(case, tmp_path, SCALE)
    text, cut = read_text(path, SCALED.max_bytes)
    dump = split_text(text, str(path), SCALED)
    lines = LineCleaner(limits=SCALED).classify_dump(dump)
    assert len(lines) <= SCALED.max_blocks
    assert all(len(ln.text) <= SCALED.max_block_chars for ln in lines)
    kept = " ".join(ln.text for ln in lines if ln.label == "article")
    assert STORY_SENTENCE in kept
    assert (
        set(filter(None, truncation((["bytes"] if cut else []) + dump.truncated).split(",")))
        >= case.truncated
    )


def test_clean_text_cli_gives_every_input_a_row(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-binary.txt").write_bytes(bytes(range(256)) * 64)
    (folder / "b-story.txt").write_bytes(f"{HEADLINE}\n\n{PARAGRAPHS[1]}\n\x00\n".encode())
    (folder / "c-lines.txt").write_bytes(b"x\n" * 500)
    out = tmp_path / "out.jsonl"
    assert (
        main(["clean-text", "--jsonl", str(folder), "-o", str(out), "--limit", "blocks=100"]) == 0
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [Path(r["source"]).name for r in rows] == ["a-binary.txt", "b-story.txt", "c-lines.txt"]
    assert "binary" in rows[0]["error"]
    assert PARAGRAPHS[1] in rows[1]["text"] and rows[1]["truncated"] == ""
    assert rows[2]["truncated"] == "blocks"


# -- the command line: one line a file, whatever happens in it ------------------


def test_extract_cli_writes_a_line_for_every_file_and_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    names = []
    for case in PAGE_CASES:
        if case.suffix == ".warc" or case.name == "gzip bomb":
            continue
        names.append(case_file(case, folder, scale(case)).name)
    args = ["extract", str(folder), "--no-blocks", "-q", "--limit", "blocks=100"]
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    assert main([*args, "-o", str(one)]) == 0
    assert main([*args, "-o", str(two), "-j", "2"]) == 0
    lines = one.read_text().splitlines()
    assert [Path(json.loads(x)["source"]).name for x in lines] == sorted(names)
    assert two.read_text() == one.read_text()
    rows = [json.loads(x) for x in lines]
    assert any(r.get("truncated") == "blocks" for r in rows)  # 100,000 <br> at 1 %: 1,000 blocks


def test_an_unexpected_exception_is_that_pages_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bad, good = tmp_path / "a.html", tmp_path / "b.html"
    bad.write_bytes(page(story_html()).encode().replace(b"<body>", b"<body data-boom>"))
    good.write_bytes(page(story_html()).encode())
    real = Extractor.extract

    def extract(self: Extractor, html: bytes | str, **kw: Any) -> Any:
        if b"data-boom" in html:
            raise RecursionError("maximum recursion depth exceeded")
        return real(self, html, **kw)

    monkeypatch.setattr(Extractor, "extract", extract)
    rows = [
        json.loads(r.line)
        for r in extract_rows(iter_pages(iter_inputs([str(tmp_path)])), ExtractOptions())
    ]
    assert rows[0]["error"].startswith("RecursionError: maximum recursion depth exceeded")
    assert has_story(rows[1])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("blocks", "expected NAME=N"),
        ("frames=3", "expected NAME=N with NAME one of bytes, nesting, nodes"),
        ("blocks=0", "not a whole number of at least 1"),
        ("bytes=lots", "not a whole number of at least 1"),
    ],
)
def test_limit_option_is_checked(
    value: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["extract", "x.html", "--limit", value])
    assert message in capsys.readouterr().err


def test_limit_option_takes_sizes() -> None:
    from classifier.cli import _limit

    assert _limit("bytes=16MiB") == ("bytes", 16 << 20)
    assert _limit("block-chars=2k") == ("block_chars", 2048)
    assert LIMITS.replace(blocks=5).max_blocks == 5 and LIMITS.max_blocks == 5_000


# -- the crawler ------------------------------------------------------------------


def project_settings() -> dict[str, Any]:
    """The project's own NEWSFILTER_* settings (Scrapy's defaults for the rest:
    no reactor is needed to build a spider)."""
    from crawler import settings as project

    return {k: getattr(project, k) for k in dir(project) if k.startswith("NEWSFILTER_")}


def spider() -> Any:
    from crawler.spiders.news import NewsSpider

    # one page at a time: no site profile holding the first pages back
    crawler = get_crawler(NewsSpider, {**project_settings(), "NEWSFILTER_SITE_PROFILE": False})
    return NewsSpider.from_crawler(crawler, url="http://valley.example/")


def html_response(url: str, body: bytes) -> HtmlResponse:
    return HtmlResponse(
        url, body=body, headers={"Content-Type": "text/html; charset=utf-8"}, request=Request(url)
    )


def test_crawler_counts_a_page_error_by_type_and_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    news = spider()

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(news.analyser, "parse", boom)
    out = list(news.parse(html_response("http://valley.example/a", story_page_bytes())))
    assert out == []
    assert news.crawler.stats.get_value("newsfilter/error/RecursionError") == 1


def story_page_bytes() -> bytes:
    return page(story_html()).encode()


def test_crawler_reads_a_page_with_a_nul_and_a_deep_jsonld() -> None:
    news = spider()
    by_name = {c.name: c for c in CASES}
    for name in ("NUL bytes", "JSON-LD nested 1,000 deep", "invalid UTF-8"):
        out = list(news.parse(html_response("http://valley.example/a", by_name[name].make(1))))
        items = [o for o in out if not isinstance(o, Request)]
        assert len(items) == 1 and items[0].analysis.is_story, name
        assert STORY_SENTENCE in items[0].analysis.extraction.text


def test_crawler_pipeline_counts_truncated_pages() -> None:
    from crawler.items import PageItem
    from crawler.pipelines import ArticlePipeline

    news = spider()
    body = page(story_html() + "<div>" + "line<br>" * 20_000 + "</div>").encode()
    out = list(news.parse(html_response("http://valley.example/b", body)))
    item = next(o for o in out if isinstance(o, PageItem))
    pipeline = ArticlePipeline(news.crawler)
    pipeline.process_item(item)
    assert news.crawler.stats.get_value("newsfilter/truncated/blocks") == 1


def test_crawler_truncated_sitemap_yields_the_urls_before_the_cut() -> None:
    news = spider()
    urls = "".join(f"<url><loc>http://valley.example/news/{i}</loc></url>" for i in range(20))
    xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    cut = xml[: xml.index("/news/15<")].encode()
    response = TextResponse(
        "http://valley.example/sitemap.xml",
        body=cut,
        request=Request("http://valley.example/sitemap.xml"),
    )
    requests = list(news.parse_sitemap(response))
    assert [r.url for r in requests][:15] == [f"http://valley.example/news/{i}" for i in range(15)]


def test_tampered_model_stops_the_crawl_with_one_clear_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import shutil

    from classifier.model import BLOCK_MODEL, card_path
    from crawler.analysis import analyser_for_crawl
    from crawler.config import Config

    model = tmp_path / BLOCK_MODEL.name
    shutil.copy(BLOCK_MODEL, model)
    shutil.copy(card_path(BLOCK_MODEL), card_path(model))
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model.write_bytes(bytes(data))
    values = {**project_settings(), "NEWSFILTER_MODEL": str(model)}
    with caplog.at_level(logging.CRITICAL), pytest.raises(SystemExit) as stop:
        analyser_for_crawl(Config.from_settings(Settings(values)))
    assert stop.value.code == 2
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert str(model) in record.getMessage() and record.exc_info is None


def test_crawler_limits_setting(caplog: pytest.LogCaptureFixture) -> None:
    from crawler.analysis import analyser_for_crawl
    from crawler.config import Config

    values = {**project_settings(), "NEWSFILTER_LIMITS": {"blocks": 3}}
    analyser = analyser_for_crawl(Config.from_settings(Settings(values)))
    assert analyser.limits == LIMITS.replace(blocks=3)
    analysis = analyser.analyse(story_page_bytes(), url="http://valley.example/a")
    assert analysis.extraction.truncated == "blocks" and len(analysis.extraction.blocks) == 3
    values["NEWSFILTER_LIMITS"] = {"frames": 3}
    with caplog.at_level(logging.CRITICAL), pytest.raises(SystemExit):
        analyser_for_crawl(Config.from_settings(Settings(values)))
    assert "unknown limit(s) frames" in caplog.text

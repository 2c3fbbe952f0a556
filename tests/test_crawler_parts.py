"""The crawler's robustness parts, one at a time: feeds and the job record, charsets,
traps, failure reasons, content sniffing (the crawls are in test_crawler_soak/_resume)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scrapy.exceptions import (
    DownloadCancelledError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.settings import Settings
from twisted.internet.error import ConnectionDone, ConnectionLost
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed

from crawler.charset import page_encoding
from crawler.feeds import (
    FEEDS_FILE,
    SEEN_FILE,
    ExportJournal,
    complete_lines,
    repair_tail,
    synced_feeds,
)
from crawler.spiders.news import failure_reason, looks_binary, looks_like_html, looks_truncated
from crawler.stopping import Abandoned
from crawler.traps import TrapGuard, repeated_segment, url_pattern


def story_line(n: int) -> bytes:
    item = {"url": f"http://x.example/{n}", "canonical_url": None, "content_sha1": f"h{n}"}
    return json.dumps(item).encode() + b"\n"


# -- feeds and the job record ---------------------------------------------------


def test_repair_tail_cuts_only_a_partial_last_line(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(story_line(1) + story_line(2))
    assert repair_tail(feed) == 0
    feed.write_bytes(story_line(1) + story_line(2) + b'{"url": "http://x.exa')
    assert repair_tail(feed) == len(b'{"url": "http://x.exa')
    assert feed.read_bytes() == story_line(1) + story_line(2)
    feed.write_bytes(b"no newline at all" * 10_000)  # longer than one block read back
    assert repair_tail(feed) == 170_000 and feed.read_bytes() == b""


def test_complete_lines_skips_corrupt_and_partial_lines(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(story_line(1) + b"\x00\x00garbage\n" + story_line(3) + b'{"url": "tor')
    assert [v["url"] for v in complete_lines(feed)] == ["http://x.example/1", "http://x.example/3"]


def test_journal_trusts_the_feed_and_fills_in_the_record(tmp_path: Path) -> None:
    """A crash between the feed line and its record: the story is known, and recorded."""
    jobdir = tmp_path / "job"
    jobdir.mkdir()
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(story_line(1) + story_line(2) + b'{"url": "http://x.example/3", "con')
    (jobdir / SEEN_FILE).write_text("http://x.example/1\th1\nhttp://x.exam", encoding="utf-8")
    (jobdir / FEEDS_FILE).write_text(f"{feed.resolve()}\n", encoding="utf-8")
    journal = ExportJournal(jobdir, fsync=True, synced=True)
    keys, hashes = journal.load()
    journal.close()
    assert keys == {"http://x.example/1", "http://x.example/2"}
    assert hashes == {"h1", "h2"}  # the torn third line is not a story exported
    record = (jobdir / SEEN_FILE).read_text(encoding="utf-8").splitlines()
    assert record == ["http://x.example/1\th1", "http://x.example/2\th2"]
    journal.register_feed(feed)
    journal.register_feed(feed)
    assert (jobdir / FEEDS_FILE).read_text(encoding="utf-8").splitlines() == [str(feed.resolve())]


def test_journal_without_jobdir_keeps_nothing(tmp_path: Path) -> None:
    journal = ExportJournal(None, fsync=True, synced=False)
    assert journal.load() == (set(), set())
    journal.record("k", "h")
    journal.register_feed(tmp_path / "feed.jsonl")
    assert list(tmp_path.iterdir()) == []


def test_jsonlines_feeds_are_synced_others_not() -> None:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set(
        "FEEDS",
        {"a.jsonl": {"format": "jsonlines"}, "b.csv": {"format": "csv"}, "c.jl": {}},
        priority="cmdline",
    )
    assert synced_feeds(settings) == ["a.jsonl", "c.jl"]


# -- charsets -------------------------------------------------------------------

TEXT = (
    "<html><body><p>"
    + "The señora from Mälmo ate crème brûlée at the café, while Zoë watched “the parade”. " * 5
    + "</p></body></html>"
)


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (TEXT.encode(), "text/html; charset=utf-8", ("utf-8", None)),
        (TEXT.encode(), "text/html; charset=iso-8859-1", ("utf-8", "mislabelled")),
        (TEXT.encode("cp1252"), "text/html; charset=utf-8", ("cp1252", "mislabelled")),
        (TEXT.encode("cp1252"), "text/html", ("cp1252", "undeclared")),
        (TEXT.encode("cp1252"), "text/html; charset=windows-1252", ("cp1252", None)),
        (TEXT.encode(), None, ("utf-8", "undeclared")),
        (b"\xef\xbb\xbf" + TEXT.encode(), "text/html; charset=iso-8859-1", ("utf-8", None)),
        (
            ("<meta charset='windows-1251'>" + "Мост через реку откроют в июне. " * 4).encode(
                "cp1251"
            ),
            "text/html",
            ("cp1251", None),
        ),
        (("Мост через реку откроют в июне. " * 8).encode("cp1251"), None, ("cp1251", "undeclared")),
        # a stray byte in UTF-8: the declaration holds, the byte is repaired
        (
            TEXT.encode().replace(b"parade", b"par\x92ade"),
            "text/html; charset=utf-8",
            ("utf-8", "repaired"),
        ),
        (TEXT.encode().replace(b"parade", b"par\x92ade"), None, ("utf-8", "undeclared")),
        (TEXT.encode(), "text/html; charset=iso-8859-2", ("utf-8", "mislabelled")),
        (TEXT.encode(), "text/html; charset=bogus", ("utf-8", "undeclared")),
    ],
)
def test_page_encoding(body: bytes, content_type: str | None, expected: tuple[str, str]) -> None:
    assert page_encoding(body, content_type) == expected


# -- traps ----------------------------------------------------------------------


def test_url_pattern() -> None:
    assert url_pattern("http://x.example/calendar/2026/05/17") == "x.example/calendar/N/N/N"
    assert url_pattern("http://x.example:81/world?page=12&view=list") == (
        "x.example/world?page=N&view=list"
    )
    assert url_pattern("http://x.example/news/2026/05/ferry-resumes-4.html") == (
        "x.example/news/N/N/ferry-resumes-N.html"
    )


def test_repeated_segment() -> None:
    assert not repeated_segment("http://x.example/world/page/page/2", 2)
    assert repeated_segment("http://x.example/world/page/page/page/2", 2)
    assert not repeated_segment("http://x.example/a/a/a/a", 0)  # 0: no limit


def test_trap_guard_cuts_patterns_without_stories() -> None:
    guard = TrapGuard(max_pages=3, max_segment_repeats=2)
    day = "http://x.example/calendar/2026/05/{}"
    story = "http://x.example/story/{}"
    assert guard.observe(story.format(1), True) is None
    for n in range(1, 3):
        assert guard.observe(day.format(n), False) is None
        assert guard.observe(story.format(n + 1), False) is None  # briefs, not stories
    assert guard.observe(day.format(3), False) == "x.example/calendar/N/N/N"
    assert guard.trap(day.format(30)) == "pattern"
    for n in range(10):
        guard.observe(story.format(n + 10), False)
    assert guard.trap(story.format(99)) is None  # its pattern gave a story
    assert guard.trap("http://x.example/w/page/page/page/3") == "repeated_segment"
    assert TrapGuard(0, 0).observe(day.format(1), False) is None  # 0: no limit


# -- what went wrong ----------------------------------------------------------------


def data_loss(cause: type[Exception]) -> ResponseDataLossError:
    exc = ResponseDataLossError()
    exc.__cause__ = ResponseFailed([Failure(cause()), Failure(ValueError("_DataLoss"))])
    return exc


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (IgnoreRequest("Forbidden by robots.txt"), "robots"),
        (IgnoreRequest("max redirections reached"), "redirect_limit"),
        (IgnoreRequest("redirect loop: http://a/ -> http://b/"), "redirect_loop"),
        (IgnoreRequest("trap: http://a/calendar/1"), "trap"),
        (
            IgnoreRequest("Ignored response because its body exceeded ... during decompression."),
            "too_large_unpacked",
        ),
        (DownloadTimeoutError("took longer"), "timeout"),
        (DownloadCancelledError(""), "too_large"),
        (data_loss(ConnectionLost), "connection_reset"),
        (data_loss(ConnectionDone), "data_loss"),
        (OSError("Not a gzipped file"), "bad_compression"),
        (ConnectionRefusedError(), "connection_lost"),
        (KeyError("x"), "KeyError"),
    ],
)
def test_failure_reason(exc: Exception, reason: str) -> None:
    assert failure_reason(exc) == reason


def test_abandoned_is_an_ignored_request() -> None:
    assert isinstance(Abandoned("stopping"), IgnoreRequest)


def test_content_sniffing() -> None:
    assert looks_like_html(b"\xef\xbb\xbf\n  <!DOCTYPE html><html lang=en><head>")
    assert looks_like_html(b"<html><body>hi</body></html>")
    assert not looks_like_html(b"%PDF-1.4 <html>")
    assert not looks_like_html(b'{"json": "<html>"}')
    assert looks_binary(b"%PDF-1.4\n%\xe2\xe3") and looks_binary(b"\x89PNG\r\n")
    assert not looks_binary(b"<p>a page with a stray \x00 in it</p>")  # a NUL is dropped
    assert looks_binary(bytes(range(32)) * 8)  # control bytes: not text
    assert not looks_binary(b"<!doctype html><html>")


def test_truncated_only_when_unframed_and_unclosed() -> None:
    page = b"<html><body><p>" + b"words " * 500
    cut = Response("http://x.example/", body=page, flags=["partial"])
    whole = Response("http://x.example/", body=page + b"</p></body></html>", flags=["partial"])
    framed = Response("http://x.example/", body=page)  # Content-Length said it was all
    assert looks_truncated(cut)
    assert not looks_truncated(whole) and not looks_truncated(framed)


# -- the story test on unspaced scripts ------------------------------------------

JA_PARAS = [
    "北浜市の市議会は一日、老朽化した旧市民会館を取り壊し、跡地に図書館と子育て支援施設を合わせた複合施設を建てる計画を賛成多数で可決した。",
    "計画によると、新しい施設は地上四階建てで、二〇二八年春の開館を目指す。総事業費は約四十二億円で、国の補助金と市の基金を充てる。",
    "市民会館は一九六八年に建てられ、耐震性の不足が長年指摘されてきた。市は昨年、住民説明会を六回開き、寄せられた意見を設計に反映したという。",
    "一方、反対した議員からは「人口が減るなかで、これほど大きな施設が本当に必要なのか」との声も上がり、維持費の見通しを示すよう求めた。",
    "市長は記者会見で「子どもから高齢者までが集まれる場所にしたい」と述べ、来年度から基本設計に入る考えを示した。工事中は近くの公民館を仮の窓口とする。",
]
JA_BOX = "<aside class='related'><h3>関連記事</h3><ul><li><a href='/a'>北浜駅前の再開発、来月着工へ</a></li><li><a href='/b'>市立図書館、開館時間を延長</a></li></ul></aside>"


def test_a_short_japanese_story_split_by_a_related_box_is_a_story() -> None:
    """Characters of unspaced scripts count as the words they are (CJK_CHAR_WEIGHT),
    so a story of about 340 characters, cut in two by a 関連記事 box, is a story."""
    from scrapy.settings import Settings

    from crawler import settings as project_settings
    from crawler.analysis import PageAnalyser
    from crawler.config import Config

    body = "".join(f"<p>{p}</p>" for p in JA_PARAS[:2]) + JA_BOX
    body += "".join(f"<p>{p}</p>" for p in JA_PARAS[2:])
    html = (
        "<!doctype html><html lang='ja'><head><meta charset='utf-8'>"
        "<title>複合施設の建設計画を可決 | 北浜新報</title></head><body>"
        "<nav><a href='/'>トップ</a> <a href='/news'>ニュース</a> <a href='/sports'>スポーツ</a></nav>"
        f"<article><h1>複合施設の建設計画を可決</h1>{body}</article><footer>© 北浜新報社</footer>"
        "</body></html>"
    )
    settings = Settings()
    settings.setmodule(project_settings)
    analyser = PageAnalyser.from_config(Config.from_settings(settings))
    analysis = analyser.analyse(html.encode(), url="http://127.0.0.1/news/1.html")
    # counted as plain characters, neither half would reach the story size
    assert max(len("".join(JA_PARAS[:2])), len("".join(JA_PARAS[2:]))) < analyser.min_story_chars
    assert analysis.is_story
    assert analysis.extraction.text.split("\n\n")[:2] == JA_PARAS[:2]
    assert "北浜駅前" not in analysis.extraction.text

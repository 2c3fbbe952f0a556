"""Reading the command line's inputs (classifier.sources)."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest

from classifier.sources import (
    STDIN,
    GzipError,
    InputStats,
    is_warc,
    iter_inputs,
    iter_pages,
    iter_text_sources,
    iter_warc,
    read_page,
)


def test_folders_give_their_html_files_sorted_and_recursively(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    for name in ("b/z.htm", "a.html", "b/y.html.gz", "notes.txt", "c.HTML"):
        (tmp_path / name).write_bytes(b"<p>x</p>")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_inputs([str(tmp_path)])]
    assert found == ["a.html", "b/y.html.gz", "b/z.htm", "c.HTML"]
    assert list(iter_inputs([str(tmp_path / "notes.txt")])) == [tmp_path / "notes.txt"]


def test_read_page_unzips_gz_files(tmp_path: Path) -> None:
    (tmp_path / "p.html.gz").write_bytes(gzip.compress(b"<p>story</p>"))
    assert read_page(tmp_path / "p.html.gz") == b"<p>story</p>"


def test_read_page_reads_one_byte_past_the_limit_and_no_more(tmp_path: Path) -> None:
    (tmp_path / "p.html").write_bytes(b"x" * 1000)
    (tmp_path / "p.html.gz").write_bytes(gzip.compress(b"y" * 10_000_000))  # ~10 KB packed
    assert read_page(tmp_path / "p.html", 99) == b"x" * 100
    assert read_page(tmp_path / "p.html.gz", 99) == b"y" * 100
    assert len(read_page(tmp_path / "p.html", 5000)) == 1000


def test_read_page_names_a_broken_gzip_file(tmp_path: Path) -> None:
    packed = gzip.compress(b"<p>story</p>" * 100)
    for name, data in (("cut", packed[: len(packed) // 2]), ("junk", b"\x1f\x8bjunk" * 9)):
        (tmp_path / f"{name}.html.gz").write_bytes(data)
        with pytest.raises(GzipError, match="broken gzip file"):
            read_page(tmp_path / f"{name}.html.gz", 1 << 20)


def test_text_sources_default_to_stdin(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text("x")
    assert list(iter_text_sources([])) == [(STDIN, None)]
    assert list(iter_text_sources(["-", str(tmp_path)])) == [
        (STDIN, None),
        (str(tmp_path / "d.txt"), tmp_path / "d.txt"),
    ]


# -- WARC files


def http_response(
    body: bytes,
    status: str = "200 OK",
    content_type: str = "text/html; charset=utf-8",
    headers: tuple[tuple[str, str], ...] = (),
) -> bytes:
    """An HTTP response as a WARC response record's block."""
    lines = [
        f"HTTP/1.1 {status}",
        f"Content-Type: {content_type}",
        *(f"{k}: {v}" for k, v in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def warc_record(kind: str, uri: str | None, block: bytes, index: int = 0) -> bytes:
    """One WARC/1.1 record (written by hand: the reader is what is tested)."""
    headers = {
        "WARC-Type": kind,
        "WARC-Record-ID": f"<urn:uuid:00000000-0000-4000-8000-{index:012d}>",
        "WARC-Date": "2026-01-01T00:00:00Z",
    }
    if uri:
        headers["WARC-Target-URI"] = uri
    if kind in ("response", "request", "revisit"):
        msgtype = "request" if kind == "request" else "response"
        headers["Content-Type"] = f"application/http; msgtype={msgtype}"
    headers["Content-Length"] = str(len(block))
    head = "WARC/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode() + block + b"\r\n\r\n"


def write_warc(path: Path, records: list[bytes]) -> list[int]:
    """Write the records (one gzip member each for ``.gz``); return their byte offsets."""
    offsets, data = [], b""
    for rec in records:
        offsets.append(len(data))
        data += gzip.compress(rec, mtime=0) if path.name.endswith(".gz") else rec
    path.write_bytes(data)
    return offsets


def story(n: int) -> bytes:
    words = f"Words of story number {n}. " * 20
    return (
        f"<html><head><title>Story {n}</title></head><body><article><h1>Story {n}</h1>"
        f"<p>{words}</p></article></body></html>"
    ).encode()


def mixed_records() -> list[bytes]:
    """warcinfo, request, 3 HTML pages (one xhtml, one chunked+gzip), an image, a 404, a revisit."""
    chunked = gzip.compress(story(2), mtime=0)
    chunked = f"{len(chunked):x}\r\n".encode() + chunked + b"\r\n0\r\n\r\n"
    return [
        warc_record("warcinfo", None, b"software: test\r\n", 0),
        warc_record("request", "https://x.test/0", b"GET /0 HTTP/1.1\r\nHost: x.test\r\n\r\n", 1),
        warc_record("response", "https://x.test/0", http_response(story(0)), 2),
        warc_record(
            "response",
            "https://x.test/1",
            http_response(story(1), content_type="application/xhtml+xml"),
            3,
        ),
        warc_record(
            "response",
            "https://x.test/logo.png",
            http_response(b"\x89PNG", content_type="image/png"),
            4,
        ),
        warc_record(
            "response", "https://x.test/gone", http_response(story(9), status="404 Not Found"), 5
        ),
        warc_record(
            "response",
            "https://x.test/2",
            http_response(
                chunked,
                content_type="text/html; charset=ISO-8859-1",
                headers=(("Transfer-Encoding", "chunked"), ("Content-Encoding", "gzip")),
            ),
            6,
        ),
        warc_record("revisit", "https://x.test/0", http_response(b""), 7),
    ]


def test_folders_give_warc_files_too(tmp_path: Path) -> None:
    for name in ("b.warc.gz", "a.warc", "c.html", "d.warc.gz.tmp", "e.arc"):
        (tmp_path / name).write_bytes(b"")
    found = [p.name for p in iter_inputs([str(tmp_path)])]
    assert found == ["a.warc", "b.warc.gz", "c.html"]
    assert is_warc(Path("X.WARC.GZ")) and not is_warc(Path("x.html.gz"))


@pytest.mark.parametrize("name", ["crawl.warc.gz", "crawl.warc"])
def test_warc_gives_its_html_responses_with_url_and_offset(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    offsets = write_warc(path, mixed_records())
    stats = InputStats()
    pages = list(iter_warc(path, stats))
    assert [(p.source, p.url) for p in pages] == [
        (f"{path}#{offsets[2]}", "https://x.test/0"),
        (f"{path}#{offsets[3]}", "https://x.test/1"),
        (f"{path}#{offsets[6]}", "https://x.test/2"),
    ]
    assert all(p.error is None for p in pages)
    assert [p.read() for p in pages] == [story(0), story(1), story(2)]  # chunked, gzip decoded
    assert pages[2].content_type == "text/html; charset=ISO-8859-1"
    assert (stats.warc_files, stats.warc_records, stats.skipped) == (1, 8, 5)
    # the offset is where the record starts: a reader can seek to it
    with open(path, "rb") as fh:
        fh.seek(offsets[6])
        head = fh.read(4096)
    if name.endswith(".gz"):
        head = zlib.decompressobj(wbits=31).decompress(head)
    assert head.startswith(b"WARC/1.1\r\n") and b"https://x.test/2" in head[:400]


@pytest.mark.parametrize("name", ["cut.warc.gz", "cut.warc"])
def test_truncated_warc_gives_the_records_before_the_cut_and_one_error(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    records = [
        warc_record("response", f"https://x.test/{i}", http_response(story(i)), i) for i in range(3)
    ]
    starts = write_warc(path, records)
    data = path.read_bytes()
    ends = [*starts[1:], len(data)]
    for cut in range(0, len(data), 3):  # cuts in headers, bodies, gzip headers and trailers
        path.write_bytes(data[:cut])
        got = list(iter_warc(path))
        if cut in ends:  # a cut between two records: just a shorter file
            pages, errors = got, []
        else:
            pages, errors = got[:-1], got[-1:]
        assert all(p.error is None for p in pages), (cut, got)
        assert [p.url for p in pages] == [f"https://x.test/{i}" for i in range(len(pages))]
        assert [p.read() for p in pages] == [story(i) for i in range(len(pages))]
        # the whole records are pages (so is one whose gzip trailer or final CRLF
        # alone is cut: its content is all there); the file's error comes last
        whole = sum(1 for end in ends if end <= cut)
        assert whole <= len(pages) <= whole + 1, cut
        for err in errors:
            assert err.source == str(path) and err.url is None, cut
            assert err.error and err.error.startswith(("WarcError", "OSError")), (cut, err)


def test_empty_or_garbage_warc_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "empty.warc.gz").write_bytes(b"")
    (tmp_path / "junk.warc").write_bytes(b"<html>not a warc</html>\n" * 5)
    (tmp_path / "junk.warc.gz").write_bytes(gzip.compress(b"not a warc\n" * 5))
    for name in ("empty.warc.gz", "junk.warc", "junk.warc.gz", "missing.warc"):
        got = list(iter_warc(tmp_path / name))
        assert len(got) == 1 and got[0].error and got[0].source == str(tmp_path / name), got


def test_iter_pages_mixes_html_files_and_warc_records_in_order(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_bytes(story(7))
    offsets = write_warc(tmp_path / "b.warc.gz", mixed_records())
    pages = list(iter_pages(iter_inputs([str(tmp_path)]), url="https://given.test/"))
    assert [(Path(p.source).name, p.url) for p in pages] == [
        ("a.html", "https://given.test/"),
        (f"b.warc.gz#{offsets[2]}", "https://x.test/0"),
        (f"b.warc.gz#{offsets[3]}", "https://x.test/1"),
        (f"b.warc.gz#{offsets[6]}", "https://x.test/2"),
    ]
    assert pages[0].read() == story(7) and pages[0].data is None  # read where it is extracted

"""Hostile inputs: what each costs us and trafilatura, at full size.

``python -m lab.hostile [--out DIR] [--only NAME,...] [--peer-timeout S]``
writes every case of :data:`CASES` into a scratch folder (``DIR``, default
a temporary one, removed afterwards), then extracts each file in a fresh
process of its own, once with newsfilter (the command line's path:
:func:`classifier.batch.extract_row`, default limits) and once with
trafilatura, and prints one table: seconds of the extraction call, peak RSS
of the process, and the outcome (characters of text, ``truncated``, or the
error).  trafilatura runs under a time limit and an address-space limit
(it is not ours to bound), reported as ``>S s`` or ``out of memory``.

The cases are the issue's list (issue 10): generated here, never stored.
``tests/test_hostile.py`` builds the same cases at a fraction of their size
(``scale``) against limits scaled by the same factor
(:meth:`classifier.segment.Limits.scaled`), so the outcome it asserts is
the outcome at full size.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PEER_TIMEOUT = 300.0  # seconds trafilatura may take on one file
PEER_MEMORY = 8 << 30  # bytes of address space trafilatura may take

HEADLINE = "Valley farmers start the harvest two weeks early"
PARAGRAPHS = (
    "Greenford, Sept 3: Farmers across the upper valley began cutting paddy two weeks "
    "earlier than usual on Monday, after a dry August ripened the crop ahead of time.",
    "The district agriculture office said yields looked steady despite the weak monsoon, "
    "and that procurement centres would open on Thursday in six blocks of the district.",
    "Traders expect prices to stay firm until the festival season, when demand for rice "
    "and flour usually rises in the towns along the river.",
)
STORY_SENTENCE = "procurement centres would open on Thursday"  # in the text of every story case


def story_html(paragraphs: tuple[str, ...] = PARAGRAPHS, headline: str = HEADLINE) -> str:
    """The story's markup: headline and paragraphs in an article element."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"<article class='post'><h1>{headline}</h1>{body}</article>"


def page(body: str, head: str = "", charset: str | None = "utf-8") -> str:
    meta = f"<meta charset='{charset}'>" if charset else ""
    return (
        f"<!doctype html><html lang='en'><head>{meta}<title>{HEADLINE} - Valley Herald</title>"
        f"{head}</head><body><nav class='menu'><a href='/'>Home</a> <a href='/news'>News</a>"
        f"</nav>{body}<footer class='site-footer'>Valley Herald</footer></body></html>"
    )


def story_page(before: str = "", after: str = "", head: str = "") -> bytes:
    return page(before + story_html() + after, head).encode()


@dataclass(frozen=True, slots=True)
class Case:
    """One hostile input: how to make it at ``scale`` (1: full size), and what
    extracting it must give (``expect``): ``story`` (a row whose text holds
    the story), ``error`` (a row with a clear error), ``no story``."""

    name: str
    make: Callable[[float], bytes]
    expect: str
    suffix: str = ".html"
    truncated: frozenset[str] = frozenset()  # limits the row must name
    big: bool = False  # one of the worst cases: measured beside trafilatura
    # too large for the test suite at full size: tests make it at a fraction
    # of its size and scale the limits by the same factor
    huge: bool = False
    what: str = ""


def _n(count: int, scale: float) -> int:
    return max(1, int(count * scale))


def _random_bytes(size: int) -> bytes:
    return random.Random(10).randbytes(size)


def _nul_page(scale: float) -> bytes:
    data = story_page()
    head_at = data.index(b"<title>")
    text_at = data.index(b"upper valley")
    return data[:head_at] + b"\x00" + data[head_at:text_at] + b"\x00" + data[text_at:]


def _stray_byte_page(scale: float) -> bytes:
    quote = (
        "\u201cWe are ready,\u201d said the officer. "
        "\u0915\u093f\u0938\u093e\u0928 \u0916\u0941\u0936 \u0939\u0948\u0902\u0964"
    )
    data = page(story_html((*PARAGRAPHS, quote))).encode()
    at = data.index(b"upper valley")
    return data[:at] + b"\xff" + data[at:]


def _cp1252_page(scale: float) -> bytes:
    text = "A na\u00efve plan, the caf\u00e9 owners said \u2014 \u201cnot ours\u201d."
    return page(story_html((*PARAGRAPHS, text))).encode("cp1252")


def _paragraphs(scale: float) -> bytes:
    return story_page(after="<p>w</p>" * _n(4_000_000, scale))


def _text_node(scale: float) -> bytes:
    return story_page(after="<p>" + "word " * _n(6_000_000, scale) + "</p>")


def _links(scale: float) -> bytes:
    links = "".join(f"<li><a href='/n/{i}'>Story {i}</a></li>" for i in range(_n(200_000, scale)))
    return story_page(after=f"<ul class='links'>{links}</ul>")


def _brs(scale: float) -> bytes:
    return story_page(after="<div>" + "line<br>" * _n(100_000, scale) + "</div>")


def _attribute(scale: float) -> bytes:
    return story_page(before=f"<div class='{'x' * _n(5 << 20, scale)}'>", after="</div>")


def _nesting(scale: float) -> bytes:
    depth = _n(10_000, scale)
    return story_page(before="<div>" * depth, after="</div>" * depth)


def _tables(scale: float) -> bytes:
    depth = _n(3_000, scale)
    return story_page(before="<table><tr><td>" * depth, after="</td></tr></table>" * depth)


def _classed_divs(scale: float) -> bytes:
    depth = _n(3_000, scale)
    opening = "".join(f"<div class='box box-{i}'>" for i in range(depth))
    return story_page(before=opening, after="</div>" * depth)


def _jsonld(text: str) -> str:
    return f"<script type='application/ld+json'>{text}</script>"


def _jsonld_huge(scale: float) -> bytes:
    items = [{"@type": "Thing", "name": f"item {i}"} for i in range(_n(100_000, scale))]
    return story_page(head=_jsonld(json.dumps({"@graph": items})))


def _jsonld_malformed(scale: float) -> bytes:
    return story_page(head=_jsonld('{"@type": "NewsArticle", "headline": "Valley [{'))


def _jsonld_deep(scale: float) -> bytes:
    return story_page(head=_jsonld("[" * 1000 + "]" * 1000))


def _gzip_broken(scale: float) -> bytes:
    data = gzip.compress(story_page())
    return data[: len(data) // 2]


def _gzip_bomb(scale: float) -> bytes:
    """A story, then spaces: 1 GiB unpacked, about 1 MB packed."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(story_page())
        chunk = b" " * (1 << 20)
        for _ in range(_n(1024, scale)):
            gz.write(chunk)
    return out.getvalue()


def _warc_record(url: str, body: bytes) -> bytes:
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + body
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\n"
        f"WARC-Target-URI: {url}\r\nWARC-Record-ID: <urn:uuid:{zlib.crc32(url.encode()):08x}>\r\n"
        "WARC-Date: 2026-09-03T10:00:00Z\r\nContent-Type: application/http; msgtype=response\r\n"
        f"Content-Length: {len(http)}\r\n\r\n"
    )
    return head.encode() + http + b"\r\n\r\n"


def _warc_truncated(scale: float) -> bytes:
    records = b"".join(_warc_record(f"https://valley.example/{i}", story_page()) for i in range(3))
    return records[: len(records) - 200]


def _text_lines(scale: float) -> bytes:
    story = f"{HEADLINE}\n\n" + "\n\n".join(PARAGRAPHS) + "\n\n"
    return (story + "word\n" * _n(4_000_000, scale)).encode()


def _text_line(scale: float) -> bytes:
    return (
        f"{HEADLINE}\n\n" + "\n\n".join(PARAGRAPHS) + "\n" + "word " * _n(6_000_000, scale)
    ).encode()


CASES: tuple[Case, ...] = (
    Case(
        "binary junk", lambda s: _random_bytes(256 << 10), "error", what="256 KiB of random bytes"
    ),
    Case("empty file", lambda s: b"", "error"),
    Case("white space only", lambda s: b" \n\t\r\n" * 1000, "error"),
    Case("NUL bytes", _nul_page, "story", what="a NUL in the head and one in the text"),
    Case("invalid UTF-8", _stray_byte_page, "story", what="one 0xFF byte in UTF-8 text"),
    Case(
        "UTF-16 with BOM",
        lambda s: (
            "\ufeff".encode("utf-16-le") + page(story_html(), charset=None).encode("utf-16-le")
        ),
        "story",
    ),
    Case(
        "meta charset=bogus",
        lambda s: page(
            story_html((*PARAGRAPHS, "Caf\u00e9 prices rose.")), charset="bogus"
        ).encode(),
        "story",
    ),
    Case(
        "cp1252 under utf-8", _cp1252_page, "story", what="<meta charset=utf-8>, windows-1252 body"
    ),
    Case("10,000-deep nesting", _nesting, "story", truncated=frozenset({"nesting"}), big=True),
    Case("3,000 nested tables", _tables, "story", truncated=frozenset({"nesting"}), big=True),
    Case(
        "3,000 nested classed divs",
        _classed_divs,
        "story",
        truncated=frozenset({"nesting"}),
        big=True,
    ),
    Case(
        "4 million paragraphs",
        _paragraphs,
        "story",
        truncated=frozenset({"bytes"}),
        big=True,
        huge=True,
        what="32 MB",
    ),
    Case(
        "one 30 MB text node",
        _text_node,
        "story",
        truncated=frozenset({"bytes"}),
        big=True,
        huge=True,
    ),
    Case(
        "200,000 links",
        _links,
        "story",
        truncated=frozenset({"blocks"}),
        big=True,
        huge=True,
        what="one list item each",
    ),
    Case("100,000 <br>", _brs, "story", truncated=frozenset({"blocks"}), big=True, huge=True),
    Case(
        "5 MB attribute",
        _attribute,
        "story",
        truncated=frozenset({"attr_chars"}),
        big=True,
        huge=True,
    ),
    Case("huge JSON-LD", _jsonld_huge, "story", big=True, huge=True, what="100,000 objects, 4 MB"),
    Case("malformed JSON-LD", _jsonld_malformed, "story"),
    Case("JSON-LD nested 1,000 deep", _jsonld_deep, "story", what="a 2 KB page"),
    Case("broken gzip", _gzip_broken, "error", suffix=".html.gz", what="cut in half"),
    Case(
        "gzip bomb",
        _gzip_bomb,
        "story",
        suffix=".html.gz",
        truncated=frozenset({"bytes"}),
        big=True,
        huge=True,
        what="1 MB, unpacks to 1 GiB",
    ),
    Case(
        "truncated WARC",
        _warc_truncated,
        "story",
        suffix=".warc",
        what="3 records, cut in the third",
    ),
    Case(
        "4 million lines (clean-text)",
        _text_lines,
        "story",
        suffix=".txt",
        truncated=frozenset({"blocks"}),
        big=True,
        huge=True,
    ),
    Case(
        "one 30 MB line (clean-text)",
        _text_line,
        "story",
        suffix=".txt",
        truncated=frozenset({"bytes", "block_chars"}),
        big=True,
        huge=True,
    ),
)


def case_file(case: Case, folder: Path, scale: float = 1.0) -> Path:
    """Write one case into ``folder``; its path."""
    slug = "".join(c if c.isalnum() else "-" for c in case.name.lower()).strip("-")
    path = folder / f"{slug}{case.suffix}"
    path.write_bytes(case.make(scale))
    return path


# --------------------------------------------------------------------------
# measuring, each file in a fresh process


def run_ours(path: str) -> dict[str, Any]:
    """newsfilter on one file as the command line runs it: time, outcome."""
    from classifier.batch import extract_row
    from classifier.clean import LineCleaner
    from classifier.extract import Extractor
    from classifier.lines import split_text
    from classifier.segment import LIMITS, truncation
    from classifier.sources import iter_pages, read_text

    file = Path(path)
    started = time.perf_counter()
    if file.suffix == ".txt":
        cleaner = LineCleaner()
        started = time.perf_counter()
        text, cut = read_text(file, LIMITS.max_bytes)
        dump = split_text(text, path, LIMITS)
        lines = cleaner.classify_dump(dump)
        kept = "\n\n".join(ln.text for ln in lines if ln.label == "article")
        rows = [
            {"text": kept, "truncated": truncation((["bytes"] if cut else []) + dump.truncated)}
        ]
    else:
        extractor = Extractor()
        started = time.perf_counter()
        rows = [json.loads(extract_row(extractor, p, False).line) for p in iter_pages([file])]
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "outcome": _outcome(rows)}


def run_trafilatura(path: str) -> dict[str, Any]:
    """trafilatura 2 on the same file (gunzipped, as its users would)."""
    import trafilatura

    file = Path(path)
    if file.suffix in (".txt", ".warc"):
        return {"seconds": None, "outcome": "n/a (HTML pages only)"}
    started = time.perf_counter()
    try:
        data = file.read_bytes()
        if file.name.endswith(".gz"):
            data = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:  # what its user meets first
        return {"seconds": None, "outcome": f"gunzip: {type(exc).__name__}"}
    text = trafilatura.extract(data)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "outcome": f"{len(text or '')} chars"}


def _outcome(rows: list[dict[str, Any]]) -> str:
    parts = []
    for row in rows:
        if row.get("error"):
            parts.append(f"error: {row['error'][:60]}")
        else:
            cut = f", truncated: {row['truncated']}" if row.get("truncated") else ""
            story = "story" if STORY_SENTENCE in row.get("text", "") else "NO story"
            parts.append(f"{len(row.get('text', ''))} chars ({story}){cut}")
    return "; ".join(parts)


def _limit_peer() -> None:  # in the child, before exec
    resource.setrlimit(resource.RLIMIT_AS, (PEER_MEMORY, PEER_MEMORY))


def measure(function: str, path: Path, timeout: float | None) -> dict[str, Any]:
    """``lab.hostile.<function>(path)`` in a fresh process: its result, and the
    process's peak RSS (MB)."""
    call = f"{function}({str(path)!r})"
    code = f"import json; from lab.hostile import {function}; print(json.dumps({call}))"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    root = Path(__file__).resolve().parent.parent
    peer = function != "run_ours"
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=out,
            stderr=subprocess.DEVNULL,
            cwd=root,
            env=env,
            preexec_fn=_limit_peer if peer else None,
        )
        started = time.monotonic()
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if timeout is not None and time.monotonic() - started > timeout:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                return {
                    "seconds": None,
                    "outcome": f">{timeout:.0f} s",
                    "peak_mb": usage.ru_maxrss / 1024,
                }
            time.sleep(0.05)
        out.seek(0)
        lines = out.read().decode("utf-8", "replace").strip().splitlines()
    peak = usage.ru_maxrss / 1024
    if os.waitstatus_to_exitcode(status) != 0 or not lines:
        reason = "out of memory" if peer else f"crashed (status {status})"
        return {"seconds": None, "outcome": reason, "peak_mb": peak}
    return {**json.loads(lines[-1]), "peak_mb": peak}


def format_table(rows: list[dict[str, Any]]) -> str:
    head = "| case | size | newsfilter s | MB | outcome | trafilatura s | MB | outcome |"
    out = [head, "|" + "---|" * 8]
    for r in rows:
        ours, peer = r["ours"], r["peer"]

        def secs(m: dict[str, Any]) -> str:
            return "—" if m["seconds"] is None else f"{m['seconds']:.2f}"

        out.append(
            f"| {r['case']} | {r['size']} | {secs(ours)} | {ours['peak_mb']:.0f} "
            f"| {ours['outcome']} | {secs(peer)} | {peer['peak_mb']:.0f} | {peer['outcome']} |"
        )
    return "\n".join(out)


def _size(n: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n} B"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lab.hostile", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--out", help="folder for the generated files (kept); default: a temporary one"
    )
    parser.add_argument("--only", help="comma-separated case names (default: the worst cases)")
    parser.add_argument("--all", action="store_true", help="every case, not only the worst")
    parser.add_argument("--peer-timeout", type=float, default=PEER_TIMEOUT)
    args = parser.parse_args(argv)
    chosen = [c for c in CASES if args.all or c.big]
    if args.only:
        names = {n.strip() for n in args.only.split(",")}
        chosen = [c for c in CASES if c.name in names]
    with tempfile.TemporaryDirectory(dir=args.out) if not args.out else _keep(args.out) as folder:
        rows = []
        for case in chosen:
            path = case_file(case, Path(folder))
            ours = measure("run_ours", path, None)
            peer = measure("run_trafilatura", path, args.peer_timeout)
            row = {
                "case": case.name,
                "size": _size(path.stat().st_size),
                "ours": ours,
                "peer": peer,
            }
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
            if not args.out:
                path.unlink()
    print(format_table(rows))
    return 0


class _keep:
    """A given folder as a context manager (made, not removed)."""

    def __init__(self, name: str) -> None:
        self.path = Path(name)

    def __enter__(self) -> str:
        self.path.mkdir(parents=True, exist_ok=True)
        return str(self.path)

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    sys.exit(main())

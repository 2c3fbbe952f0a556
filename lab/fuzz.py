"""Fuzzing: random and mutated pages and text against the product's promises.

``python -m lab.fuzz --seconds N [--out DIR]`` (``make fuzz``) runs the
property checks of this module for N seconds on inputs that Hypothesis
generates, and saves every input that breaks a property, minimised, with
what it broke, in DIR (default ``reports/fuzz``).  ``tests/test_properties.py``
runs the same checks with a few hundred fixed examples, and replays the
regression corpus (``tests/data/fuzz``: inputs that once found a bug).

Inputs (:func:`html_cases`, :func:`text_cases`) start from the team's own
pages (``training_data/pages``, ``tests/data``, ``crawler/demo/site``; never
the evaluation corpora) or from a tag-soup grammar (random nesting of common
tags and attributes, entities, scripts, JSON-LD holding random JSON, deep
nesting), re-encoded in a random codec, given a BOM or a declared charset
that may lie, then mutated byte by byte (flips, insertions, deletions,
duplicated runs, spliced soup, truncation).

The properties, per target (:class:`Harness`):

- ``segment``: :func:`classifier.segment.segment` gives a page or raises
  :class:`~classifier.segment.SegmentationError`; its blocks are well
  formed; twice the same input, the same page.
- ``extract``: :func:`classifier.batch.extract_row` (the ``extract``
  command's line) never raises; the line is valid JSON of the documented
  row schema (README, "Extract pages you already have"), or an ``error``
  row; its blocks are the segmenter's blocks of that input, and ``text``,
  ``description``, ``byline`` and ``captions`` are made of those blocks'
  texts; the same line again, from a second, separately loaded Extractor,
  and without ``blocks`` under ``--no-blocks``.
- ``clean``: ``clean-text`` decoding refuses binary input with
  :class:`~classifier.lines.TextDecodeError` only; every labelled line is a
  line of the input, the cleaned text is made of its article lines, the
  ``--jsonl`` row is valid JSON; the same result twice and from a second
  LineCleaner.
- ``pipeline``: the crawler's charset choice
  (:func:`crawler.charset.page_encoding`), then
  :class:`crawler.pipelines.ArticlePipeline` on a page item: an article or
  ``DropItem``; the article exported by
  :class:`crawler.feeds.SyncedJsonLinesExporter` is one line of valid JSON
  of the documented feed schema (README, "Feed fields"), its ``text`` made
  of block texts; a fresh pipeline exports the same line, the same one
  drops the page again as a duplicate.
- ``cli``: ``python -m classifier extract`` and ``clean-text --jsonl``
  in-process on the input saved as ``.html``, ``.html.gz`` and ``.txt``
  files: one line per input, valid JSON of the schema, no traceback.

Why Hypothesis rather than atheris: the inputs that matter are structured
(markup, encodings, JSON-LD), which a grammar reaches and random bytes
rarely do; the code that parses them is mostly C (lexbor, json, lxml,
scikit-learn) that atheris cannot instrument without rebuilding, so its
coverage guidance would see only the Python glue; and Hypothesis shrinks
each failure to a small input and shares its strategies with the test
suite, so the long run and ``make test`` check exactly the same things.
"""

from __future__ import annotations

import argparse
import codecs
import gzip
import hashlib
import io
import json
import math
import os
import signal
import sys
import time
import traceback
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from types import FrameType, SimpleNamespace, TracebackType
from typing import Any

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
SEED_DIRS = (ROOT / "training_data" / "pages", ROOT / "tests" / "data", ROOT / "crawler" / "demo")
TEXT_SEED_DIRS = (ROOT / "training_data" / "dumps",)
CORPUS = ROOT / "tests" / "data" / "fuzz"  # the regression corpus (inputs that found bugs)
DEFAULT_OUT = ROOT / "reports" / "fuzz"
MAX_SEED_BYTES = 64 << 10
SOURCE = "fuzz-input.html"
URL = "https://fuzz.example/news/story.html"
FETCHED_AT = "2026-01-01T00:00:00+00:00"
TARGETS = ("segment", "extract", "clean", "pipeline", "cli")

# --------------------------------------------------------------------------
# inputs


@dataclass(frozen=True, slots=True)
class HtmlCase:
    """One page: its bytes and the charset an HTTP header would declare."""

    data: bytes
    charset: str | None = None
    gz: bool = False  # read as a .html.gz file: ``data`` is the file's bytes

    @property
    def content_type(self) -> str | None:
        return f"text/html; charset={self.charset}" if self.charset is not None else None

    def __repr__(self) -> str:  # a failing example is printed: keep it readable
        head = self.data[:160]
        more = f" + {len(self.data) - len(head)} bytes" if len(self.data) > len(head) else ""
        return f"HtmlCase({head!r}{more}, charset={self.charset!r}, gz={self.gz})"


@cache
def html_seeds() -> tuple[bytes, ...]:
    """The team's own pages, sorted by path (so every run draws the same seeds)."""
    paths = sorted(
        p
        for d in SEED_DIRS
        for p in d.rglob("*")
        if p.suffix in (".html", ".htm") and p.is_file() and CORPUS not in p.parents
    )
    return tuple(p.read_bytes()[:MAX_SEED_BYTES] for p in paths)


@cache
def text_seeds() -> tuple[bytes, ...]:
    """The team's labelled dumps with their label codes taken off (as a scraper wrote them)."""
    out = []
    for d in TEXT_SEED_DIRS:
        for p in sorted(d.rglob("*.txt")):
            lines = p.read_text(encoding="utf-8").splitlines()
            out.append("\n".join(ln.partition("\t")[2] or ln for ln in lines).encode("utf-8"))
    return tuple(out)


WORDS = (
    "the", "council", "said", "on", "Tuesday", "farmers", "harvest", "Read", "also",
    "Related", "Articles", "Hot", "this", "week", "Home", "News", "Sport", "spot_img",
    "Photo:", "By", "Staff", "Reporter", "Sept", "3,", "2026", "naïve", "café", "“quoted”",
    "किसानों", "ने", "कहा", "新闻", "市政府", "اخبار", "Ελλάδα", "Привет", "🙂", "e\u0301",
)  # fmt: skip
ENTITIES = (
    "&amp;", "&lt;", "&gt;", "&nbsp;", "&quot;", "&#0;", "&#x0;", "&#xD800;", "&#x110000;",
    "&#128512;", "&#x1F600;", "&bogus;", "&", "&#", "&#x", "&amp", "&notin;", "&NotANumber",
)  # fmt: skip
SPACES = (
    " ", " ", " ", "\n", "\t", "\r", "\r\n", "\xa0", "\u2028", "\u2029", "\x85", "\x0b", "\x0c",
    "\x1c", "\x00", "\u200b", "\ufeff", "\u202e",
)  # fmt: skip
TAGS = (
    "p", "p", "div", "div", "span", "a", "a", "h1", "h2", "h3", "ul", "ol", "li", "table",
    "tr", "td", "th", "tbody", "section", "article", "main", "nav", "header", "footer",
    "aside", "figure", "figcaption", "blockquote", "pre", "code", "b", "i", "em", "strong",
    "form", "button", "select", "option", "label", "textarea", "iframe", "noscript",
    "template", "svg", "math", "time", "dl", "dt", "dd", "details", "summary", "center",
    "font", "marquee", "frameset", "html", "body", "head", "title", "style", "script",
    "xmp", "plaintext", "object", "picture", "video", "x-widget", "p:custom",
)  # fmt: skip
VOID = ("br", "br", "hr", "img", "input", "meta", "link", "wbr", "source", "embed", "col")
ATTR_NAMES = (
    "class", "class", "id", "href", "href", "style", "hidden", "aria-hidden", "data-label",
    "role", "itemprop", "lang", "rel", "type", "name", "property", "content", "charset",
    "src", "alt", "title", "datetime", "http-equiv", "onclick", "CLASS", "xmlns",
)  # fmt: skip
ATTR_VALUES = (
    "", "main", "post-content", "entry-content", "related", "widget", "menu", "nav",
    "share", "byline", "caption", "td-post-content", "display:none", "visibility: hidden",
    "true", "article", "teaser", "chrome", "main", "articleBody", "canonical", "alternate",
    "application/rss+xml", "application/ld+json", "og:title", "og:url", "author",
    "description", "article:published_time", "2026-09-03T10:00:00Z", "not a date",
    "/news/other-story.html", "https://fuzz.example/a?b=1#c", "javascript:void(0)", "#",
    "mailto:x@y", "//cdn.example/x.js", "http://[::1", "utf-8", "bogus", "x-user-defined",
    "text/html; charset=shift_jis", "content-type", "\u0000", "a\"b", "a'b", "a>b",
)  # fmt: skip
CODECS = (
    "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "cp1252",
    "latin-1", "shift_jis", "euc-jp", "gb18030", "big5", "koi8-r", "euc-kr",
    "iso-8859-5", "iso-8859-7", "cp1251", "ascii", "utf-7", "cp437",
)  # fmt: skip
CHARSETS = CODECS + (
    "bogus", "x-user-defined", "utf8", "UTF-8;", "unicode-1-1-utf-8", "iso-2022-jp",
    "hz-gb-2312", "windows-1252", "", "utf-16\x00", "replacement",
)  # fmt: skip
BOMS = (
    codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE,
    codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE,
)  # fmt: skip
INTERESTING = (
    b"\x00", b"\xff", b"\xfe", b"\xc3", b"\xe2\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
    b"\x80", b"\r", b"<", b">", b"</", b"&#", b"<!--", b"-->", b"<script>", b"</script>",
    b"<![CDATA[", b"\xef\xbb\xbf", b"\xff\xfe", b"\x1f\x8b", b"<meta charset=utf-16>",
)  # fmt: skip
JSONLD_KEYS = (
    "@context", "@type", "@graph", "@id", "headline", "articleBody", "author", "name",
    "datePublished", "dateModified", "inLanguage", "url", "mainEntityOfPage", "image",
)  # fmt: skip
JSONLD_TYPES = ("NewsArticle", "Article", "WebPage", "Person", "BreadcrumbList")
DOCTYPES = (
    "<!doctype html>", "<!DOCTYPE html PUBLIC \"-//W3C//DTD HTML 4.01//EN\">",
    "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" "
    "\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">",
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>", "<!doctype>",
)  # fmt: skip

text_piece = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(WORDS),
    st.sampled_from(ENTITIES),
    st.sampled_from(SPACES),
    st.text(max_size=6),
)
text_run = st.lists(text_piece, max_size=16).map(" ".join)
# sentences long enough for the model to keep: what makes a page a story
prose = st.lists(st.sampled_from(WORDS[:26]), min_size=12, max_size=60).map(
    lambda words: " ".join(words).capitalize() + "."
)


def _attr(name: str, value: str, quote: int) -> str:
    if quote == 0:
        return name
    if quote == 1:
        return f'{name}="{value}"'
    if quote == 2:
        return f"{name}='{value}'"
    return f"{name}={value}"


attrs = st.lists(
    st.builds(
        _attr,
        st.sampled_from(ATTR_NAMES),
        st.one_of(st.sampled_from(ATTR_VALUES), text_run),
        st.integers(0, 3),
    ),
    max_size=4,
).map(lambda xs: "".join(" " + x for x in xs))

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.sampled_from(JSONLD_TYPES),
        text_run,
        prose,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(JSONLD_KEYS), st.text(max_size=5)), children, max_size=5
        ),
    ),
    max_leaves=24,
)


@st.composite
def jsonld_text(draw: st.DrawFn) -> str:
    """The content of a JSON-LD script: JSON, broken JSON, or very deep JSON."""
    kind = draw(st.integers(0, 4))
    if kind == 0:  # deep nesting: lists or objects, closed or not
        depth = draw(st.integers(1, 1500))
        opener, closer = draw(st.sampled_from((("[", "]"), ('{"a":', "}"), ('{"@graph":[', "]}"))))
        return (
            opener * depth
            + draw(st.sampled_from(("1", "", '"x"')))
            + closer * draw(st.integers(0, depth))
        )
    text = json.dumps(draw(json_values), ensure_ascii=draw(st.booleans()))
    if kind == 1:  # cut
        text = text[: draw(st.integers(0, len(text)))]
    elif kind == 2:  # a script end or markup inside
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(("</script>", "<!--", "</scr", "]]>"))) + text[at:]
    return text


@st.composite
def element(draw: st.DrawFn, children: st.SearchStrategy[str]) -> str:
    tag = draw(st.sampled_from(TAGS))
    if draw(st.integers(0, 9)) == 0:
        tag = tag.upper()
    inner = "".join(draw(st.lists(children, max_size=5)))
    close = draw(st.integers(0, 7))
    end = f"</{tag}>" if close < 5 else ""
    if close == 5:  # a stray end tag of another element
        end = f"</{draw(st.sampled_from(TAGS))}>"
    elif close == 6:
        end = f"</{tag} junk='1'>"
    return f"<{tag}{draw(attrs)}>{inner}{end}"


leaf = st.one_of(
    text_run,
    text_run,
    prose,
    st.builds(lambda t, a: f"<{t}{a}>", st.sampled_from(VOID), attrs),
    st.builds(lambda t, a: f"<{t}{a}/>", st.sampled_from(TAGS + VOID), attrs),
    st.builds(lambda t: f"<!--{t}-->", text_run),
    st.sampled_from(("<!--", "<!-->", "--!>", "<![CDATA[x]]>", "<?php echo 1 ?>", "</", "<", "<>")),
    st.builds(lambda s: f"<script>{s}</script>", text_run),
    st.builds(lambda s: f'<script type="application/ld+json">{s}</script>', jsonld_text()),
    st.builds(lambda s: f"<style>{s}</style>", text_run),
    st.builds(
        lambda tag, n, body: f"<{tag}>" * n + body + f"</{tag}>" * (n // 2),
        st.sampled_from(("div", "table", "b", "a", "li", "blockquote", "span")),
        st.integers(1, 1200),
        prose,
    ),
)
soup = st.recursive(leaf, lambda children: element(children), max_leaves=30)


URLISH = (
    "https://fuzz.example/news/story.html", "/news/story.html?utm_source=x", "story.html",
    "http://[::1", "http://[", "//[x]/", "https://fuzz.example:99999/", "http://a b/",
    "http://%zz/", "javascript:alert(1)", "", " ", "#top", "\x00", "https://\u00e9x.example/\u00e9",
    "mailto:", "http://", "file:///etc/passwd", "data:text/html,<p>x</p>",
)  # fmt: skip
DATEISH = (
    "2026-09-03", "2026-09-03T10:00:00Z", "2026-09-03T10:00:00+05:30", "2026-13-45",
    "0000-00-00", "2026-09-03T25:00:00Z", "2026-09-03T10:00:00+99:00", "9999999999",
    "Sept 3, 2026", "", "-1", "2026-02-30", "10000-01-01", "2026-09-03T10:00:00.123456789Z",
)  # fmt: skip
declared_url = st.one_of(st.sampled_from(URLISH), text_run)
declared_date = st.one_of(st.sampled_from(DATEISH), text_run)


@st.composite
def article_jsonld(draw: st.DrawFn) -> str:
    """A NewsArticle's JSON-LD whose fields hold odd values of odd types."""
    item: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": draw(st.sampled_from(JSONLD_TYPES)),
    }
    odd = st.one_of(json_values, declared_date, declared_url)
    for key in ("headline", "datePublished", "dateModified", "author", "inLanguage", "url"):
        if draw(st.booleans()):
            item[key] = draw(odd)
    if draw(st.booleans()):
        item["author"] = draw(
            st.one_of(
                st.builds(lambda n: {"@type": "Person", "name": n}, json_values),
                st.lists(st.one_of(text_run, st.builds(lambda n: {"name": n}, json_values))),
            )
        )
    value: Any = item
    if draw(st.booleans()):
        value = {"@graph": [item, draw(json_values)]}
    return json.dumps(value, ensure_ascii=draw(st.booleans()))


# What a page declares about itself, each with an odd value: the crawler's metadata
head_declaration = st.one_of(
    st.builds(lambda u: f'<link rel="canonical" href="{u}">', declared_url),
    st.builds(lambda u: f'<meta property="og:url" content="{u}">', declared_url),
    st.builds(
        lambda u: f'<link rel="alternate" type="application/rss+xml" href="{u}">', declared_url
    ),
    st.builds(lambda d: f'<meta property="article:published_time" content="{d}">', declared_date),
    st.builds(lambda d: f'<meta property="article:modified_time" content="{d}">', declared_date),
    st.builds(lambda a: f'<meta name="author" content="{a}">', text_run),
    st.builds(lambda t: f'<meta property="og:title" content="{t}">', text_run),
    st.builds(lambda t: f'<meta property="og:locale" content="{t}">', text_run),
    st.builds(lambda d: f'<time datetime="{d}">{d}</time>', declared_date),
    st.builds(lambda s: f'<script type="application/ld+json">{s}</script>', article_jsonld()),
)


@st.composite
def soup_document(draw: st.DrawFn) -> str:
    """A page of tag soup: doctype, head declarations, a body of random markup."""
    head = "".join(
        draw(
            st.lists(
                st.one_of(
                    st.builds(lambda t: f"<title>{t}</title>", text_run),
                    st.builds(lambda a: f"<meta{a}>", attrs),
                    st.builds(lambda c: f'<meta charset="{c}">', st.sampled_from(CHARSETS)),
                    st.builds(lambda a: f"<link{a}>", attrs),
                    head_declaration,
                    st.builds(
                        lambda s: f'<script type="application/ld+json">{s}</script>',
                        jsonld_text(),
                    ),
                ),
                max_size=5,
            )
        )
    )
    body = "".join(draw(st.lists(st.one_of(soup, prose.map(lambda p: f"<p>{p}</p>")), max_size=8)))
    shape = draw(st.integers(0, 3))
    doctype = draw(st.sampled_from(DOCTYPES)) if draw(st.booleans()) else ""
    if shape == 0:
        return body
    if shape == 1:
        return f"{doctype}{head}{body}"
    lang = draw(st.sampled_from(("", " lang=en", " lang=hi-IN", " lang", " lang='\"'")))
    return f"{doctype}<html{lang}><head>{head}</head><body>{body}</body></html>"


def _mutate(data: bytes, ops: list[tuple[Any, ...]]) -> bytes:
    buf = bytearray(data)
    for op, pos, *arg in ops:
        at = pos % (len(buf) + 1)
        if op == "flip" and buf:
            buf[at % len(buf)] ^= 1 << arg[0]
        elif op == "set" and buf:
            buf[at % len(buf)] = arg[0]
        elif op == "insert":
            buf[at:at] = arg[0]
        elif op == "delete":
            del buf[at : at + arg[0]]
        elif op == "duplicate":
            buf[at:at] = buf[at : at + arg[0]]
        elif op == "truncate":
            del buf[at:]
    return bytes(buf)


position = st.integers(0, 1 << 20)
mutations = st.lists(
    st.one_of(
        st.tuples(st.just("flip"), position, st.integers(0, 7)),
        st.tuples(st.just("set"), position, st.integers(0, 255)),
        st.tuples(
            st.just("insert"),
            position,
            st.one_of(st.sampled_from(INTERESTING), st.binary(min_size=1, max_size=8)),
        ),
        st.tuples(st.just("insert"), position, soup.map(lambda s: s.encode("utf-8", "replace"))),
        st.tuples(st.just("delete"), position, st.integers(1, 512)),
        st.tuples(st.just("duplicate"), position, st.integers(1, 512)),
        st.tuples(st.just("truncate"), position),
    ),
    max_size=6,
)


@st.composite
def _encode(draw: st.DrawFn, text: str) -> bytes:
    """``text`` in a random codec, maybe with a BOM that may not be its own."""
    codec = draw(st.sampled_from(CODECS))
    errors = draw(st.sampled_from(("replace", "ignore", "xmlcharrefreplace")))
    data = text.encode(codec, errors)
    if draw(st.integers(0, 5)) == 0:
        data = draw(st.sampled_from(BOMS)) + data
    return data


@st.composite
def html_cases(draw: st.DrawFn) -> HtmlCase:
    """A page: a team page or tag soup, re-encoded, with a charset, mutated."""
    kind = draw(st.sampled_from(("seed", "seed", "soup", "seed+soup", "seed+head", "binary")))
    if kind == "binary":
        data = draw(st.binary(max_size=4096))
    elif kind == "soup":
        data = draw(_encode(draw(soup_document())))
    else:
        data = draw(st.sampled_from(html_seeds()))
        if kind == "seed+soup":  # soup spliced into a real page
            at = draw(position) % (len(data) + 1)
            data = data[:at] + draw(soup).encode("utf-8", "replace") + data[at:]
        elif kind == "seed+head":  # a real story declaring odd metadata
            decls = "".join(draw(st.lists(head_declaration, min_size=1, max_size=4)))
            at = data.find(b"</head>")
            at = at if at >= 0 else 0
            data = data[:at] + decls.encode("utf-8", "replace") + data[at:]
        if draw(st.integers(0, 3)) == 0:
            data = draw(_encode(data.decode("utf-8", "replace")))
    data = _mutate(data, draw(mutations))
    charset = draw(st.sampled_from(CHARSETS)) if draw(st.booleans()) else None
    gz = draw(st.integers(0, 5)) == 0
    if gz:  # a .html.gz file, maybe damaged after compression
        data = _mutate(gzip.compress(data, mtime=0), draw(mutations))
    return HtmlCase(data, charset, gz)


@st.composite
def text_cases(draw: st.DrawFn) -> bytes:
    """Flattened text for clean-text: a team dump, a page, random lines; encoded, mutated."""
    kind = draw(st.sampled_from(("dump", "dump", "random", "page", "binary")))
    if kind == "binary":
        return draw(st.binary(max_size=4096))
    if kind == "page":
        data = draw(st.sampled_from(html_seeds()))
    elif kind == "dump":
        data = draw(st.sampled_from(text_seeds()))
    else:
        lines = draw(st.lists(st.one_of(text_run, prose, st.sampled_from(SPACES)), max_size=30))
        data = draw(_encode(draw(st.sampled_from(("\n", "\r\n", "\r", "\n\n"))).join(lines)))
    if kind != "random" and draw(st.integers(0, 3)) == 0:
        data = draw(_encode(data.decode("utf-8", "replace")))
    return _mutate(data, draw(mutations))


# --------------------------------------------------------------------------
# the properties


class PropertyFailure(AssertionError):
    """A documented property does not hold; ``name`` says which."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"{name}: {detail}")
        self.name = name


def require(ok: object, name: str, detail: str = "") -> None:
    if not ok:
        raise PropertyFailure(name, detail)


def _norm(text: str) -> str:
    return " ".join(text.split())


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(line: str) -> Any:
    """The value of one JSON line; NaN/Infinity, raw newlines or unencodable text fail."""
    require("\n" not in line, "one-line", f"a newline inside the line: {line[:200]!r}")
    try:
        line.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PropertyFailure("valid-json", f"not encodable as UTF-8 ({exc})") from None
    try:
        return json.loads(line, parse_constant=_no_constant)
    except ValueError as exc:
        raise PropertyFailure("valid-json", f"{exc}: {line[:200]!r}") from None


def _is(kind: str, value: Any) -> bool:
    if kind == "str":
        return isinstance(value, str)
    if kind == "str?":
        return value is None or isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if kind == "prob":
        return (
            isinstance(value, (int, float))
            and not isinstance(value, bool)
            and math.isfinite(value)
            and 0.0 <= value <= 1.0
        )
    if kind == "[str]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "list":
        return isinstance(value, list)
    if kind == "bool":
        return isinstance(value, bool)
    raise ValueError(kind)


def check_fields(obj: Any, required: dict[str, str], optional: dict[str, str], what: str) -> None:
    """Every required field, of its type; no field the schema does not name."""
    require(isinstance(obj, dict), f"{what}-schema", f"not an object: {obj!r:.200}")
    missing = sorted(set(required) - set(obj))
    require(not missing, f"{what}-schema", f"missing {missing}")
    unknown = sorted(set(obj) - set(required) - set(optional))
    require(not unknown, f"{what}-schema", f"undocumented fields {unknown}")
    for name, kind in {**required, **optional}.items():
        if name in obj:
            require(
                _is(kind, obj[name]), f"{what}-schema", f"{name} is not {kind}: {obj[name]!r:.200}"
            )


# The extract row (README, "Extract pages you already have").
ROW_FIELDS = {
    "source": "str",
    "url": "str?",
    "title": "str",
    "text": "str",
    "description": "str",
    "byline": "str",
    "captions": "[str]",
    "language": "str",
    "model_version": "str",
    "is_article": "bool",
    "article_share": "prob",
    "main_run_chars": "int",
    "truncated": "str",
}
ROW_OPTIONAL = {"blocks": "list"}
ERROR_FIELDS = {"source": "str", "url": "str?", "error": "str"}
BLOCK_FIELDS = {
    "text": "str",
    "label": "str",
    "probability": "prob",
    "p_article": "prob",
    "path": "str",
    "links": "list",
    "role": "str",
}
LABELS = ("article", "teaser", "chrome")
ROLES = ("", "headline", "standfirst", "byline", "caption", "body")
# The feed item (README, "Feed fields")
FEED_FIELDS = {
    "url": "str",
    "canonical_url": "str?",
    "site": "str",
    "title": "str",
    "published": "str?",
    "modified": "str?",
    "authors": "[str]",
    "language": "str?",
    "text": "str",
    "description": "str",
    "byline": "str",
    "captions": "[str]",
    "teasers": "list",
    "word_count": "int",
    "model_version": "str",
    "fetched_at": "str",
    "content_sha1": "str",
}
FEED_OPTIONAL = {"truncated": "str"}
LINE_FIELDS = {"text": "str", "label": "str", "probability": "prob", "p_article": "prob"}
CLEAN_ROW_FIELDS = {"source": "str", "text": "str"}
CLEAN_ROW_OPTIONAL = {"lines": "list", "truncated": "str"}


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n") if text else []


def check_made_of(parts: list[str], blocks: list[str], what: str, in_order: bool = True) -> None:
    """Every part is the text of a block, and (``in_order``) in the blocks' order."""
    it: Iterator[str] = iter(blocks)
    pool = set(blocks)
    for part in parts:
        if in_order:
            require(
                any(part == b for b in it),
                "text-of-blocks",
                f"{what} paragraph {part[:120]!r} is not the text of a later block",
            )
        else:
            require(part in pool, "text-of-blocks", f"{what} {part[:120]!r} is no block's text")


def check_row(obj: Any, block_texts: list[str] | None) -> None:
    """An extract row: the schema, and its texts made of the page's block texts."""
    if isinstance(obj, dict) and "error" in obj:
        check_fields(obj, ERROR_FIELDS, {}, "error-row")
        require(obj["error"].strip(), "error-row-schema", "empty error")
        return
    check_fields(obj, ROW_FIELDS, ROW_OPTIONAL, "row")
    if "blocks" not in obj:
        return
    texts = []
    for b in obj["blocks"]:
        check_fields(b, BLOCK_FIELDS, {}, "block")
        require(b["label"] in LABELS, "block-schema", f"label {b['label']!r}")
        require(b["role"] in ROLES, "block-schema", f"role {b['role']!r}")
        require(
            (b["label"] == "article") == bool(b["role"]),
            "block-schema",
            f"label {b['label']} with role {b['role']!r}",
        )
        require(b["text"] and b["text"] == _norm(b["text"]), "block-schema", f"{b['text']!r:.80}")
        for link in b["links"]:
            require(
                isinstance(link, list) and len(link) == 2 and all(isinstance(x, str) for x in link),
                "block-schema",
                f"link {link!r:.100}",
            )
        texts.append(b["text"])
    if block_texts is not None:
        require(
            texts == block_texts,
            "blocks-are-segments",
            f"{len(texts)} row blocks against {len(block_texts)} segmented blocks",
        )
    roles: dict[str, list[str]] = {}
    for b in obj["blocks"]:
        roles.setdefault(b["role"], []).append(b["text"])
    from classifier.extract import TEXT_ROLES

    # the default text: body and standfirst, and captions where they are the story
    body = [b["text"] for b in obj["blocks"] if b["role"] in TEXT_ROLES | {"caption"}]
    check_made_of(paragraphs(obj["text"]), body, "text")
    if obj["title"]:
        require(
            obj["title"] not in paragraphs(obj["text"]),
            "no-headline-in-text",
            f"{obj['title'][:80]!r}",
        )
    check_made_of(paragraphs(obj["description"]), roles.get("standfirst", []), "description")
    check_made_of(
        obj["byline"].split("\n") if obj["byline"] else [], roles.get("byline", []), "byline"
    )
    check_made_of(obj["captions"], roles.get("caption", []), "captions")


def check_feed_item(obj: Any, block_texts: list[str]) -> None:
    """A feed line: the schema, its derived fields, its text made of block texts."""
    from crawler.pipelines import content_sha1

    check_fields(obj, FEED_FIELDS, FEED_OPTIONAL, "feed")
    require(obj["text"], "feed-schema", "an exported story without text")
    require(obj["word_count"] == len(obj["text"].split()), "feed-schema", "word_count")
    require(obj["content_sha1"] == content_sha1(obj["text"]), "feed-schema", "content_sha1")
    for name in ("published", "modified"):
        if obj[name] is not None:
            try:
                datetime.fromisoformat(obj[name])
            except ValueError:
                raise PropertyFailure(
                    "feed-schema", f"{name} {obj[name]!r} is not ISO 8601"
                ) from None
    for teaser in obj["teasers"]:
        check_fields(teaser, {"title": "str", "url": "str"}, {}, "feed-teaser")
    check_made_of(paragraphs(obj["text"]), block_texts, "feed text")


# --------------------------------------------------------------------------
# the harness: loaded models and one check per target


def _errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """The documented error types: a page's (segment), and clean-text's decoding."""
    from classifier.lines import TextDecodeError
    from classifier.segment import SegmentationError

    return (SegmentationError,), (TextDecodeError,)


class Harness:
    """Models loaded once (two of each, for the fresh-instance check) and a work dir."""

    def __init__(self, workdir: Path) -> None:
        from classifier.clean import LineCleaner
        from classifier.extract import Extractor

        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.extractor = Extractor()
        self.fresh_extractor = Extractor()
        self.cleaner = LineCleaner()
        self.fresh_cleaner = LineCleaner()
        self._analyser: Any = None

    # -- segment ------------------------------------------------------------
    def segmented(self, data: bytes | str, content_type: str | None) -> Any:
        """The page, or None when segment raises a documented error."""
        from classifier.segment import segment

        try:
            return segment(data, content_type=content_type)
        except _errors()[0]:
            return None

    @staticmethod
    def page_facts(page: Any) -> Any:
        return (
            [
                (b.text, b.tag, b.path, b.element, b.n_links, b.link_chars, b.links)
                for b in page.blocks
            ],
            page.title,
            page.meta,
            page.jsonld,
            page.lang,
            page.encoding,
        )

    def check_page(self, page: Any) -> None:
        """A segmented page's blocks are well formed and its facts are JSON."""
        n_elements = len(page.elements.tag)
        for i, b in enumerate(page.blocks):
            require(b.index == i, "block-shape", f"index {b.index} at {i}")
            require(b.text and b.text == _norm(b.text), "block-shape", f"text {b.text!r:.80}")
            require(0 <= b.element < n_elements, "block-shape", f"element {b.element}")
            require(b.tag == page.elements.tag[b.element], "block-shape", f"tag {b.tag}")
            require(0 <= b.link_chars <= len(b.text), "block-shape", f"link_chars {b.link_chars}")
            require(b.n_links >= 0, "block-shape", f"n_links {b.n_links}")
            require(b.page is page, "block-shape", "block.page")
        strict_json(json.dumps(self.page_facts(page), ensure_ascii=False))

    def check_segment(self, case: HtmlCase) -> None:
        page = self.segmented(case.data, case.content_type)
        again = self.segmented(case.data, case.content_type)
        require((page is None) == (again is None), "deterministic", "segment failed only once")
        if page is not None:
            self.check_page(page)
            same = self.page_facts(page) == self.page_facts(again)
            require(same, "deterministic", "two segmentations differ")
        # the Python API takes text too, even text no codec gave (lone surrogates)
        text = self.segmented(case.data.decode("utf-8", "surrogateescape"), None)
        if text is not None:
            self.check_page(text)

    # -- extract ------------------------------------------------------------
    def _page_input(self, case: HtmlCase) -> Any:
        from classifier.sources import PageInput

        if case.gz:
            path = self.workdir / "fuzz-input.html.gz"
            path.write_bytes(case.data)
            return PageInput(str(path), URL, path=path, content_type=case.content_type)
        return PageInput(SOURCE, URL, data=case.data, content_type=case.content_type)

    def reraise(self, page_input: Any, error: str) -> None:
        """Extract an error row's page again, directly: an error of a documented
        type is fine; anything else is raised, with its own traceback (the row
        catches every exception, so that one bad page never stops a run)."""
        from classifier.batch import PAGE_ERRORS

        limits = getattr(self.extractor, "limits", None)
        try:
            data = page_input.read(limits.max_bytes) if limits is not None else page_input.read()
            self.extractor.extract(data, url=page_input.url, content_type=page_input.content_type)
        except PAGE_ERRORS:
            return
        raise PropertyFailure("deterministic", f"an error row ({error}) for a page that extracts")

    def check_extract(self, case: HtmlCase) -> None:
        from classifier.batch import extract_row

        page_input = self._page_input(case)
        row = extract_row(self.extractor, page_input)
        obj = strict_json(row.line)
        require(obj.get("error") == row.error, "error-row", "Row.error is not the line's error")
        if "error" in obj:
            self.reraise(page_input, obj["error"])
        blocks = None
        if "error" not in obj:
            raw = gzip.decompress(case.data) if case.gz else case.data
            page = self.segmented(raw, case.content_type)
            require(page is not None, "blocks-are-segments", "extracted a page segment refuses")
            blocks = [b.text for b in page.blocks]
        check_row(obj, blocks)
        require(
            extract_row(self.extractor, page_input).line == row.line,
            "deterministic",
            "a second extraction differs",
        )
        require(
            extract_row(self.fresh_extractor, page_input).line == row.line,
            "deterministic",
            "another Extractor gives another line",
        )
        bare = strict_json(extract_row(self.extractor, page_input, with_blocks=False).line)
        obj.pop("blocks", None)
        require(bare == obj, "no-blocks", "--no-blocks changes more than the blocks")

    # -- clean-text ---------------------------------------------------------
    def check_clean(self, data: bytes) -> None:
        from classifier.lines import _CONTROL, decode_text

        try:
            text = decode_text(data)
        except _errors()[1]:
            return
        source = text.splitlines()
        lines = self.cleaner.classify(text)
        last = 0
        for ln in lines:
            require(isinstance(ln.lineno, int) and ln.lineno > last, "line-shape", f"{ln.lineno}")
            last = ln.lineno
            require(ln.lineno <= len(source), "line-shape", f"line {ln.lineno} of {len(source)}")
            require(
                ln.text and ln.text == _norm(_CONTROL.sub(" ", source[ln.lineno - 1])),
                "lines-of-input",
                f"line {ln.lineno}: {ln.text!r:.80}",
            )
        row: dict[str, Any] = {
            "source": SOURCE,
            "text": "\n\n".join(ln.text for ln in lines if ln.label == "article"),
            "lines": [asdict(ln) for ln in lines],
        }
        obj = strict_json(json.dumps(row, ensure_ascii=False))
        check_fields(obj, CLEAN_ROW_FIELDS, CLEAN_ROW_OPTIONAL, "clean-row")
        for ln in obj["lines"]:
            check_fields(ln, LINE_FIELDS, {"lineno": "int"}, "clean-line")
            require(ln["label"] in LABELS, "clean-line-schema", f"label {ln['label']!r}")
        require(
            self.cleaner.clean(text) == row["text"],
            "text-of-lines",
            "clean() is not the article lines",
        )
        again = [asdict(ln) for ln in self.cleaner.classify(text)]
        require(again == row["lines"], "deterministic", "a second classification differs")
        fresh = [asdict(ln) for ln in self.fresh_cleaner.classify(text)]
        require(fresh == row["lines"], "deterministic", "another LineCleaner differs")

    # -- the crawler's pipeline ---------------------------------------------
    def new_crawler(self) -> Any:
        """A crawler of the project's settings (no extensions: no reactor here)
        whose spider holds the harness's analyser; its stories start unseen."""
        from scrapy.utils.test import get_crawler

        import crawler.settings as project
        from crawler.analysis import PageAnalyser
        from crawler.config import Config

        values = {k: getattr(project, k) for k in dir(project) if k.isupper()}
        values.pop("EXTENSIONS", None)
        values["EXTENSIONS_BASE"] = {}
        crawler: Any = get_crawler(settings_dict=values)
        if self._analyser is None:
            config = Config.from_settings(crawler.settings)
            self._analyser = PageAnalyser(self.extractor, config.min_story_chars)
        crawler.spider = SimpleNamespace(analyser=self._analyser)
        return crawler

    def _pipeline_line(self, pipeline: Any, case: HtmlCase, encoding: str) -> str | None:
        """The feed line of the page through ``pipeline``; None if dropped."""
        from scrapy.exceptions import DropItem

        from crawler.feeds import SyncedJsonLinesExporter
        from crawler.items import PageItem

        item = PageItem(URL, case.data, encoding, "fuzz", FETCHED_AT)
        try:
            with _quiet("crawler"):  # its error lines: the failure is ours to report
                article = pipeline.process_item(item)
        except DropItem as drop:
            # the pipeline drops a page whose analysis raised, so that one bad
            # page never stops a crawl: other than "no document", that is a bug
            cause = drop.__cause__
            if cause is not None and not isinstance(cause, _errors()[0]):
                raise cause from None
            return None
        out = io.BytesIO()
        exporter = SyncedJsonLinesExporter(out, encoding="utf-8")
        exporter.start_exporting()
        exporter.export_item(article)
        exporter.finish_exporting()
        raw = out.getvalue()
        require(raw.endswith(b"\n") and raw.count(b"\n") == 1, "one-line", f"{raw[:200]!r}")
        try:
            return raw.decode("utf-8")[:-1]
        except UnicodeDecodeError as exc:
            raise PropertyFailure("valid-json", f"feed line not UTF-8: {exc}") from None

    def check_pipeline(self, case: HtmlCase) -> None:
        from crawler.charset import page_encoding
        from crawler.pipelines import ArticlePipeline

        ctype = case.content_type.encode("latin-1", "replace") if case.content_type else None
        encoding, _ = page_encoding(case.data, ctype)
        pipeline = ArticlePipeline(self.new_crawler())
        pipeline.open_spider()
        line = self._pipeline_line(pipeline, case, encoding)
        if line is not None:
            page = self.segmented(case.data, f"text/html; charset={encoding}")
            require(page is not None, "text-of-blocks", "exported a page segment refuses")
            check_feed_item(strict_json(line), [b.text for b in page.blocks])
            require(
                self._pipeline_line(pipeline, case, encoding) is None,
                "duplicate-dropped",
                "the same story was exported twice",
            )
        pipeline.close_spider()
        fresh = ArticlePipeline(self.new_crawler())
        fresh.open_spider()
        again = self._pipeline_line(fresh, case, encoding)
        fresh.close_spider()
        require(again == line, "deterministic", "a fresh pipeline gives another result")

    # -- the command line ---------------------------------------------------
    def check_cli(self, case: HtmlCase) -> None:
        from classifier.cli import main

        folder = self.workdir / "cli"
        folder.mkdir(exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        raw = case.data
        if case.gz:
            try:
                raw = gzip.decompress(case.data)
            except (OSError, EOFError, zlib.error):
                pass  # a damaged .gz: its own bytes are the page's
        paths = [folder / "a.html", folder / "b.html.gz", folder / "c.txt"]
        paths[0].write_bytes(raw)
        paths[1].write_bytes(case.data if case.gz else gzip.compress(case.data, mtime=0))
        paths[2].write_bytes(raw)
        out = folder / "out.jsonl"
        sink = io.StringIO()
        with redirect_stdout(sink), redirect_stderr(sink), _quiet_logging():
            code = main(["extract", "--quiet", str(paths[0]), str(paths[1]), "-o", str(out)])
            require(code in (0, 1), "cli-exit", f"extract exit code {code}")
            lines = out.read_text(encoding="utf-8").splitlines()
            require(len(lines) == 2, "one-line-per-input", f"{len(lines)} lines for 2 files")
            for line in lines:
                check_row(strict_json(line), None)
            code = main(["clean-text", "--jsonl", "--labels", str(paths[2]), "-o", str(out)])
            require(code in (0, 1), "cli-exit", f"clean-text exit code {code}")
        lines = out.read_text(encoding="utf-8").splitlines()
        require(len(lines) == 1, "one-line-per-input", f"clean-text: {len(lines)} lines")
        obj = strict_json(lines[0])
        if "error" in obj:
            check_fields(obj, {"source": "str", "error": "str"}, {}, "clean-error-row")
        else:
            check_fields(obj, CLEAN_ROW_FIELDS, CLEAN_ROW_OPTIONAL, "clean-row")

    def check(self, target: str, case: Any) -> None:
        if target == "clean":
            self.check_clean(case.data if isinstance(case, HtmlCase) else case)
        elif isinstance(case, HtmlCase):
            getattr(self, f"check_{target}")(case)
        else:
            getattr(self, f"check_{target}")(HtmlCase(case))


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    import logging

    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def _quiet_logging() -> Iterator[None]:
    import logging

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def strategy_for(target: str) -> st.SearchStrategy[Any]:
    return text_cases() if target == "clean" else html_cases()


# --------------------------------------------------------------------------
# the regression corpus and findings


def case_from_file(path: Path) -> tuple[str, Any]:
    """``(target, case)`` of a saved input: ``NAME.bin`` beside its ``NAME.json``."""
    info = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    data = path.read_bytes()
    if info["target"] == "clean":
        return "clean", data
    return info["target"], HtmlCase(data, info.get("charset"), bool(info.get("gz")))


def corpus_files(folder: Path = CORPUS) -> list[Path]:
    return sorted(folder.glob("*.bin")) if folder.is_dir() else []


PROJECT_CODE = (f"{ROOT / 'classifier'}/", f"{ROOT / 'crawler'}/")


def signature(exc: BaseException) -> str:
    """What a failure is, for de-duplication: the property, or the exception
    type and the innermost line of project code it came from."""
    if isinstance(exc, PropertyFailure):
        return f"property:{exc.name}"
    if isinstance(exc, SlowInput):
        return "slow-input"
    tb: TracebackType | None = exc.__traceback__
    where = "?"
    fallback = "?"
    while tb is not None:
        frame: FrameType = tb.tb_frame
        name = frame.f_code.co_filename
        spot = f"{Path(name).name}:{tb.tb_lineno}"
        fallback = spot
        if name.startswith(PROJECT_CODE):
            where = f"{Path(name).relative_to(ROOT)}:{tb.tb_lineno}"
        tb = tb.tb_next
    kind = type(exc)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    return f"{name}@{where if where != '?' else fallback}"


class SlowInput(Exception):
    """An input took longer than the fuzzer's time limit."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`SlowInput` in the main thread after ``seconds`` (0: none)."""
    if seconds <= 0 or not hasattr(signal, "SIGALRM"):
        yield
        return

    def alarm(signum: int, frame: FrameType | None) -> None:
        raise SlowInput(f"over {seconds:g} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def minimise(data: bytes, fails: Callable[[bytes], bool], budget: float) -> bytes:
    """A smaller input that still ``fails``: remove runs of bytes, halving their length."""
    deadline = time.monotonic() + budget
    chunk = max(len(data) // 2, 1)
    while chunk >= 1 and time.monotonic() < deadline:
        i, changed = 0, False
        while i < len(data) and time.monotonic() < deadline:
            candidate = data[:i] + data[i + chunk :]
            if candidate and fails(candidate):
                data, changed = candidate, True
            else:
                i += chunk
        if not changed:
            if chunk == 1:
                break
            chunk //= 2
    return data


@dataclass
class Run:
    """A long fuzzing run: what it tried and found."""

    harness: Harness
    out: Path
    slow: float
    known: set[str] = field(default_factory=set)
    tried: Counter[str] = field(default_factory=Counter)
    hits: Counter[str] = field(default_factory=Counter)  # known failures met again
    findings: list[dict[str, Any]] = field(default_factory=list)

    def failure(self, target: str, case: Any) -> tuple[str, str] | None:
        """``(signature, traceback)`` when ``case`` breaks a property of ``target``."""
        try:
            with time_limit(self.slow):
                self.harness.check(target, case)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # everything else is a finding
            sig = signature(exc)
            # the same exception at the same line is one bug, whichever target met it
            key = sig if "@" in sig else f"{target}:{sig}"
            return key, traceback.format_exc().replace(f"{ROOT}/", "")
        return None

    def chunk(self, target: str, examples: int, seed_value: int) -> None:
        last: list[tuple[Any, str, str]] = []

        @seed(seed_value)
        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            phases=(Phase.generate, Phase.shrink),
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            verbosity=Verbosity.quiet,
            print_blob=False,
        )
        @given(strategy_for(target))
        def body(case: Any) -> None:
            self.tried[target] += 1
            found = self.failure(target, case)
            if found is None:
                return
            sig, tb = found
            if sig in self.known:
                self.hits[sig] += 1
                return
            last.append((case, sig, tb))
            raise AssertionError(sig)

        try:
            body()
        except Exception:  # noqa: BLE001 - a finding (or a flaky one): saved below
            pass
        if last:
            case, sig, tb = last[-1]
            self.save(target, case, sig, tb)

    def save(self, target: str, case: Any, sig: str, tb: str) -> None:
        data = case.data if isinstance(case, HtmlCase) else case

        def rebuild(b: bytes) -> Any:
            if isinstance(case, HtmlCase):
                return HtmlCase(b, case.charset, case.gz)
            return b

        def fails(b: bytes) -> bool:
            found = self.failure(target, rebuild(b))
            return found is not None and found[0] == sig

        small = minimise(data, fails, budget=60.0) if not getattr(case, "gz", False) else data
        found = self.failure(target, rebuild(small))
        tb = found[1] if found else tb
        self.known.add(sig)
        name = f"{target}-{hashlib.sha1(sig.encode()).hexdigest()[:10]}"
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / f"{name}.bin").write_bytes(small)
        info = {
            "target": target,
            "signature": sig,
            "original_bytes": len(data),
            "bytes": len(small),
            "charset": getattr(case, "charset", None),
            "gz": getattr(case, "gz", False),
            "traceback": tb,
        }
        (self.out / f"{name}.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        self.findings.append(info)
        print(f"FINDING {name}: {sig} ({len(data)} -> {len(small)} bytes)", flush=True)


CHUNK_EXAMPLES = 100
# relative share of the run per target (the CLI target loads two models an input)
WEIGHTS = {"segment": 2, "extract": 3, "clean": 2, "pipeline": 3, "cli": 1}


def run(seconds: float, out: Path, first_seed: int, targets: tuple[str, ...], slow: float) -> Run:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="newsfilter-fuzz-") as tmp:
        fuzz = Run(Harness(Path(tmp)), out, slow)
        for path in corpus_files(out) + corpus_files(CORPUS):  # found before: not again
            info = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            fuzz.known.add(info["signature"])
        plan = [t for t in targets for _ in range(WEIGHTS.get(t, 1))]
        deadline = time.monotonic() + seconds
        i = 0
        while time.monotonic() < deadline:
            target = plan[i % len(plan)]
            examples = CHUNK_EXAMPLES // (5 if target == "cli" else 1)
            fuzz.chunk(target, examples, first_seed + i)
            i += 1
        return fuzz


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600, help="how long to run (default 600)")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="findings folder (reports/fuzz)")
    parser.add_argument("--seed", type=int, default=0, help="first Hypothesis seed")
    parser.add_argument(
        "--targets", default=",".join(TARGETS), help=f"comma-separated, of {', '.join(TARGETS)}"
    )
    parser.add_argument(
        "--slow",
        type=float,
        default=10.0,
        help="an input slower than this is a finding (s; 0: none)",
    )
    args = parser.parse_args(argv)
    targets = tuple(t for t in args.targets.split(",") if t)
    unknown = set(targets) - set(TARGETS)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; choose from {', '.join(TARGETS)}")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    started = time.monotonic()
    fuzz = run(args.seconds, Path(args.out), args.seed, targets, args.slow)
    elapsed = time.monotonic() - started
    print(
        f"{sum(fuzz.tried.values())} inputs in {elapsed:.0f} s: "
        + ", ".join(f"{t} {n}" for t, n in sorted(fuzz.tried.items()))
    )
    print(f"{len(fuzz.findings)} new finding(s) in {args.out}")
    for sig, n in sorted(fuzz.hits.items()):
        print(f"  known, met again {n}x: {sig}")
    return 1 if fuzz.findings else 0


if __name__ == "__main__":
    sys.exit(main())

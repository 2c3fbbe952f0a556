"""Blockify: bytes or text of an HTML page in, a :class:`Page` of text blocks out.

The blocks are the units a person would label: paragraphs, headings, list
items, table rows, captions, ``<br>``-separated lines of a bare ``<div>``.
Invisible content (script, style, noscript, template, ``hidden``,
``aria-hidden``, ``display:none``) never becomes text.

Two layers, as in html-text: :func:`parse_html` decodes and parses once;
:func:`blockify` walks an already parsed tree.  :func:`segment` does both.

The tree is built as a browser builds it: the HTML5 tree construction of
lexbor (selectolax), so mis-nested markup (an unclosed ``<div>`` in a
``<button>``, a stray ``</p>``, a ``<form>`` in a table) gives the blocks a
reader sees.  A link around block elements (card markup) is a link of each
block inside it, with that block's text as its anchor.
"""

from __future__ import annotations

import codecs
import dataclasses
import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from itertools import accumulate
from operator import sub
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

from . import vocab

LABELS = ("article", "teaser", "chrome")
LABEL_ATTR = "data-label"
ROLE_ATTR = "data-role"  # article roles in the training pages (headline, byline, caption...)
SNIFF_BYTES = 4096  # binary data is told from text on this many bytes
DETECT_BYTES = 65536  # charset detection reads this much
JSONLD_MAX_ITEMS = 1000  # JSON-LD objects kept from a page (a real one has a handful)
ARTICLE_BODY_MIN_CHARS = 50  # a shorter JSON-LD articleBody is a placeholder, not the story
TOKENS_CACHE_SIZE = 100_000  # class/id values memoised (bounded for long crawls)

_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


class SegmentationError(ValueError):
    """The input cannot be turned into a document (empty after decoding...)."""


@dataclass(slots=True)
class Block:
    """One text block of a page, in document order."""

    index: int
    text: str
    tag: str  # tag of the innermost block element holding the text
    path: str  # DOM path of that element, e.g. "body/div.main/article/p"
    element: int  # index of that element in Page.elements
    # links with text in the block; a link around blocks is a link of each
    # (its anchor: the block's text), an inline one of its paragraph
    n_links: int = 0
    link_chars: int = 0
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, anchor text)
    label: str | None = None  # training label (data-label), if asked for
    label_line: int = 0  # source line of the labelled ancestor's start tag (0: unknown)
    mixed: tuple[str, ...] = ()  # labels found in the block beside `label`
    role: str = ""  # training role (data-role of the block's element or an ancestor), if asked for
    page: Page | None = field(default=None, repr=False, compare=False)


@dataclass(slots=True)
class Elements:
    """Per-element arrays, in document (pre)order, computed once a page."""

    parent: list[int] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)
    depth: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)  # last descendant's index
    flags: list[int] = field(default_factory=list)  # inherited containers
    tokens: list[tuple[str, ...]] = field(default_factory=list)  # class/id


@dataclass(slots=True)
class Page:
    """A segmented page: its blocks and the page-level facts features need."""

    blocks: list[Block]
    elements: Elements
    title: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    jsonld: list[dict[str, Any]] = field(default_factory=list)
    lang: str = ""
    url: str | None = None
    encoding: str = "utf-8"
    # the limits (:class:`Limits` names) this page hit, in the order met
    truncated: list[str] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def headline(self) -> str:
        """The best headline the page declares (JSON-LD, OpenGraph, <title>)."""
        for item in self.jsonld:
            value = item.get("headline")
            if isinstance(value, str) and value.strip():
                return " ".join(value.split())
        return self.meta.get("og:title") or self.meta.get("twitter:title") or self.title

    @property
    def article_body(self) -> str:
        """JSON-LD ``articleBody`` when the page has one, else ``""``."""
        for item in self.jsonld:
            value = item.get("articleBody")
            if isinstance(value, str) and len(value) > ARTICLE_BODY_MIN_CHARS:
                return value
        return ""


_TITLE_SEPARATORS = re.compile(r"\s+(?:[|\-–—:»·/]|::)\s+")


def clean_title(title: str) -> str:
    """Drop a site name suffix or prefix: the longest part between separators."""
    parts = [p for p in _TITLE_SEPARATORS.split(title) if p.strip()]
    return max(parts, key=len).strip() if len(parts) > 1 else title.strip()


# --------------------------------------------------------------------------
# limits


@dataclass(frozen=True, slots=True)
class Limits:
    """What one page may cost, whatever it holds: time and memory grow with
    these, not with the input.

    Past a limit the page is cut, not refused, and the cut is named in the
    output's ``truncated`` field (the limit's name, without ``max_``): the
    story of a real page comes before the point where a hostile one runs
    away.  The defaults are several times what real pages need (measured on
    the 2,056 pages of the evaluation corpora: 5.3 MB, 15,799 elements,
    2,641 blocks, 3,852 links and 50,618 characters in one block at most)
    and keep every page within a few seconds and a few hundred MB.
    """

    # bytes of a page read, or unpacked from a .gz (characters of a str page);
    # the crawler's DOWNLOAD_MAXSIZE is the same 8 MiB
    max_bytes: int = 8 << 20
    # elements deeper than this are flattened into their ancestor at this
    # depth (their text is kept), as Blink does (kMaximumHTMLParserDOMTreeDepth)
    max_nesting: int = 512
    # DOM nodes (elements, text, comments) walked; the rest of the page is not read
    max_nodes: int = 200_000
    # blocks kept; the rest of the page is not read.  Classifying a block
    # costs ~0.3 ms: 5,000 blocks are under two seconds
    max_blocks: int = 5_000
    # characters of one block (white space collapsed); the rest of its text is
    # dropped.  High: a dump for clean-text may hold a whole story on one line
    max_block_chars: int = 1_000_000
    # links recorded (in ``blocks[].links``); further links keep their text
    max_links: int = 10_000
    # characters of an attribute value read (class, id, href, style, meta content...)
    max_attr_chars: int = 8192

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The limits' names, as ``--limit NAME=N`` and ``truncated`` give them."""
        return tuple(f.name.removeprefix("max_") for f in fields(cls))

    def replace(self, **values: int) -> Limits:
        """These limits with some changed, by name (``blocks=500``)."""
        unknown = set(values) - set(self.names())
        if unknown:
            raise ValueError(
                f"unknown limit(s) {', '.join(sorted(unknown))}; "
                f"choose from {', '.join(self.names())}"
            )
        bad = [f"{k}={v}" for k, v in values.items() if not isinstance(v, int) or v < 1]
        if bad:
            raise ValueError(f"a limit is a whole number of at least 1, not {', '.join(bad)}")
        return dataclasses.replace(self, **{f"max_{k}": v for k, v in values.items()})

    def scaled(self, factor: float) -> Limits:
        """Every limit but nesting times ``factor`` (at least 1): the hostile-input
        tests run the huge cases at a fraction of their size this way."""
        return dataclasses.replace(
            self,
            **{
                f.name: max(1, int(getattr(self, f.name) * factor))
                for f in fields(self)
                if f.name != "max_nesting"
            },
        )


LIMITS = Limits()


def truncation(names: Iterable[str]) -> str:
    """The ``truncated`` field: the limits hit, in :meth:`Limits.names` order, comma-separated."""
    hit = set(names)
    return ",".join(n for n in Limits.names() if n in hit)


# --------------------------------------------------------------------------
# decoding

# Binary data: a file signature, or more than 1 in BINARY_CONTROL_SHARE
# control characters (NUL and the other C0 controls but white space) in the
# first SNIFF_BYTES.  Text has almost none; random bytes have one in nine.
# A stray NUL or two in a page is dropped by the parser, as browsers do.
BINARY_CONTROL_SHARE = 20
BINARY_MAGIC = (
    b"%PDF-",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"\x7fELF",
    b"BZh",
    b"\xfd7zXZ",
    b"OggS",
    b"RIFF",
    b"\x00\x00\x01\x00",
)
_CONTROL_BYTES = bytes([*range(9), 11, *range(14, 32), 127])
_TEXT_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
# decoding never fails in these, so a wrong one goes unnoticed
# (Python's codec names, as codecs.lookup gives them)
SINGLE_BYTE = frozenset(
    {"ascii", "koi8-r", "koi8-u", "mac-roman"}
    | {f"cp{i}" for i in range(1250, 1259)}
    | {f"iso8859-{i}" for i in range(1, 17)}
)
WIDE = ("utf-16", "utf-32")  # encodings whose ASCII holds NUL bytes
# below this share of non-ASCII letters a page is in a Latin-script language
LATIN_OTHER_SHARE = 0.3
REPAIR = "newsfilter.repair"  # the codecs error handler of stray bytes


def looks_binary(data: bytes) -> bool:
    """Whether ``data`` is a binary file (an image, PDF, archive...), not text."""
    head = data[:SNIFF_BYTES]
    if head.startswith(BINARY_MAGIC):
        return True
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls * BINARY_CONTROL_SHARE > len(head)


def _repair(exc: UnicodeError) -> tuple[str, int]:
    """A stray byte in text of a multi-byte encoding: read it as windows-1252
    (a quote or accented letter pasted from a legacy page: ``\\x93``, ``\\xef``),
    or U+FFFD; a cut multi-byte sequence is one U+FFFD."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    return (bad.decode("cp1252", "replace") if len(bad) == 1 else "\ufffd"), exc.end


codecs.register_error(REPAIR, _repair)


def _codec(name: str | None) -> str | None:
    """The Python codec of a declared charset (WHATWG's aliases: latin-1 is
    cp1252); None if unknown."""
    if not name:
        return None
    resolved = resolve_encoding(name)
    if resolved is None:
        return None
    try:
        return codecs.lookup(resolved).name
    except LookupError:
        return None


def _fits(data: bytes, encoding: str) -> bool:
    """Whether ``data`` is in ``encoding``: it decodes, or all but a few stray
    bytes do (more characters outside ASCII decode than fail)."""
    try:
        data.decode(encoding)
        return True
    except UnicodeDecodeError:
        pass
    except LookupError:
        return False
    if encoding in SINGLE_BYTE:
        return False  # a byte it leaves undefined: another encoding
    text = data.decode(encoding, "replace")
    bad = text.count("\ufffd")
    other = len(text) - len(text.encode("ascii", "ignore"))
    return other - bad > bad


def _mostly_ascii_letters(data: bytes) -> bool:
    """Letters mostly ASCII with a few others: a Latin-script language."""
    head = data[:DETECT_BYTES]
    ascii_letters = len(head) - len(head.translate(None, _ASCII_LETTERS))
    other = len(head) - len(head.translate(None, _HIGH_LETTERS))
    return other < LATIN_OTHER_SHARE * (ascii_letters + other)


_ASCII_LETTERS = bytes(b for b in range(256) if 65 <= b <= 90 or 97 <= b <= 122)
_HIGH_LETTERS = bytes(range(0xC0, 0x100))


def detect_encoding(data: bytes) -> str:
    """The encoding of bytes that declare none, or whose declaration they break.

    UTF-8 when it fits (:func:`_fits`: stray bytes aside); windows-1252 for a
    Latin-script page; else charset-normalizer's guess.  windows-1252 is the
    web's usual legacy encoding (the HTML standard's fallback): detection
    libraries often mistake it for a Baltic or Central European code page on
    news text, which is mostly ASCII (``naïve`` read as ``naďve``).
    """
    if _fits(data, "utf-8"):
        return "utf-8"
    if _mostly_ascii_letters(data) and _fits(data, "cp1252"):
        return "cp1252"
    from charset_normalizer import from_bytes

    best = from_bytes(data[:DETECT_BYTES]).best()
    found = _codec(best.encoding) if best is not None else None
    return found or "cp1252"


def choose_encoding(data: bytes, content_type: str | bytes | None = None) -> tuple[str, str | None]:
    """``(encoding, correction)``: the codec to read page bytes with, as a browser
    would (BOM, HTTP header, ``<meta charset>``, then the bytes), where the
    declarations hold.

    *correction* is None when the page's own declaration was right;
    ``"repaired"`` when it was, but a few stray bytes break it (they are read
    one by one, :func:`decode_bytes`); ``"mislabelled"`` when the bytes
    overruled a declared charset (a single-byte charset declared for valid
    UTF-8, or a charset the bytes do not follow); ``"undeclared"`` when
    nothing declared one.  An unknown charset (``<meta charset=bogus>``)
    declares nothing.
    """
    bom, _ = read_bom(data)
    if bom:
        return _codec(bom) or bom, None
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    declared = [
        _codec(http_content_type_encoding(content_type or "")),
        _codec(html_body_declared_encoding(data)),
    ]
    non_ascii = not data.isascii()
    mislabelled = False
    for encoding in declared:
        if encoding is None:
            continue
        if non_ascii and encoding != "utf-8" and _is_utf8(data, encoding):
            return "utf-8", "mislabelled"
        if _fits(data, encoding):
            if mislabelled:
                return encoding, "mislabelled"
            return encoding, "repaired" if _breaks(data, encoding) else None
        mislabelled = True
    return detect_encoding(data), "mislabelled" if mislabelled else "undeclared"


def _is_utf8(data: bytes, declared: str) -> bool:
    """Bytes declared ``declared`` that are UTF-8 all the same (a page saved as
    UTF-8 that keeps its old ``<meta charset>``).  Under a single-byte
    declaration, UTF-8 with stray bytes counts (:func:`_fits`); under a
    multi-byte one (gb2312, Shift_JIS...), which reads most bytes without an
    error, only valid UTF-8 does: legacy CJK text is almost never that."""
    if declared in SINGLE_BYTE:
        return _fits(data, "utf-8")
    return not _breaks(data, "utf-8")


def _breaks(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return True
    return False


def decode_bytes(data: bytes, encoding: str) -> str:
    """``data`` in ``encoding`` (a BOM dropped); a stray byte costs one character,
    not the page (:func:`_repair`)."""
    bom, mark = read_bom(data)
    if bom and mark and _codec(bom) == encoding:
        data = data[len(mark) :]
    try:
        return data.decode(encoding, REPAIR)
    except LookupError:
        return data.decode("cp1252", REPAIR)


def decode_html(
    data: bytes | str, content_type: str | None = None, max_bytes: int | None = None
) -> tuple[str, str]:
    """Decode page bytes the way a browser does: BOM, HTTP header, meta, detection
    (:func:`choose_encoding`), repairing stray bytes.

    Returns ``(encoding, text)``.  Binary data (:func:`looks_binary`) raises
    :class:`SegmentationError`, unless a BOM or the header says UTF-16 or
    UTF-32 (whose ASCII holds NULs).  With ``max_bytes``, only that many
    bytes are read (characters of a ``str``); the caller flags the cut.
    """
    if isinstance(data, str):
        return "utf-8", data[:max_bytes] if max_bytes is not None else data
    encoding, _ = choose_encoding(data, content_type)
    if not encoding.startswith(WIDE) and looks_binary(data):
        raise SegmentationError("binary data, not an HTML document")
    if max_bytes is not None and len(data) > max_bytes:
        data = _cut(data, max_bytes, encoding)
    return encoding, decode_bytes(data, encoding)


def _cut(data: bytes, size: int, encoding: str) -> bytes:
    """The first ``size`` bytes, not ending inside a UTF-8 or UTF-16 character."""
    cut = data[:size]
    if encoding == "utf-8":
        lead = len(cut) - 1
        while lead > 0 and len(cut) - lead < 4 and 0x80 <= cut[lead] < 0xC0:
            lead -= 1  # back over continuation bytes to the character's first byte
        first = cut[lead] if cut else 0
        need = 4 if first >= 0xF0 else 3 if first >= 0xE0 else 2 if first >= 0xC0 else 1
        if len(cut) - lead < need:
            cut = cut[:lead]
    elif encoding.startswith("utf-16"):
        cut = cut[: len(cut) // 2 * 2]
    elif encoding.startswith("utf-32"):
        cut = cut[: len(cut) // 4 * 4]
    return cut


# --------------------------------------------------------------------------
# parsing

# Deeper than this, elements are flattened into their ancestor at this depth,
# as Blink does (kMaximumHTMLParserDOMTreeDepth).  The HTML5 tree builder
# scans the stack of open elements at every block start tag, so its cost
# grows with depth times tags: 10,000 nested divs take 0.25 s to parse,
# 100,000 take 25 s.  Only generated or hostile pages nest this deep.
MAX_NESTING = LIMITS.max_nesting
# A page with fewer tags parses in ~10 ms however it nests: not scanned.
NESTING_SCAN_TAGS = 2048
# Tags that never deepen the stack of open elements for long: void elements,
# and elements a later sibling of their kind closes (p, li, td, a...).
_FLAT_TAGS = (
    "area|base|br|col|embed|hr|img|input|link|meta|source|track|wbr|param|keygen|frame|image"
    "|p|li|dt|dd|tr|td|th|tbody|thead|tfoot|colgroup|caption|option|optgroup|rb|rt|rp|a"
)
# The estimate: every start and end tag but the flat ones, and closed <svg>
# islands as one step of zero (their <path/> tags close themselves).  Both
# letter cases are listed: a case-insensitive lookahead is three times slower.
# Tags inside scripts and comments count too: it can only overestimate.
_NESTING_STEP = re.compile(
    r"<(?:([sS])[vV][gG]\b[^<]*(?:<(?!/?[sS][vV][gG]\b)[^<]*)*</[sS][vV][gG]\s*>"
    rf"|(/?)(?!(?:{_FLAT_TAGS}|{_FLAT_TAGS.upper()})[\s/>])[a-zA-Z])"
)
_STEP = {("", ""): 1, ("", "/"): -1, ("s", ""): 0, ("S", ""): 0}
# The cut: the same tags, whole, and the markup that holds no elements for the
# tree builder, kept as it is: comments, doctype and other bogus comments,
# raw-text elements (script content is not markup), and closed svg/math
# islands, whose self-closing tags (<path/>) open nothing.
_NESTING_TAG = re.compile(
    r"<!--(?:-?>|[^-]*(?:-(?!-!?>)[^-]*)*(?:--!?>)?)|<[!?][^>]*>"
    r"|<(script|style|textarea|title|xmp|iframe|noembed|noframes|noscript|plaintext)\b"
    r"[^<]*(?:<(?!/\1[\s/>])[^<]*)*(?:</\1[^>]*>)?"
    r"|<(svg|math)\b[^<]*(?:<(?!/?(?:svg|math)\b)[^<]*)*</\2\s*>"
    rf"|(</?)(?!(?:{_FLAT_TAGS})[\s/>])[a-z][^\s/>]*(?:[^>\"']|\"[^\"]*\"|'[^']*')*>?",
    re.I,
)


def _max_nesting(text: str) -> int:
    """How deep the markup's start tags can nest, in C-level passes: prefix
    sums of +1 a start tag and -1 an end tag, never below zero."""
    depth = list(accumulate(map(_STEP.__getitem__, _NESTING_STEP.findall(text)), initial=0))
    return max(map(sub, depth, accumulate(depth, min)))


def bound_nesting(text: str, limit: int = MAX_NESTING, scan_tags: int = NESTING_SCAN_TAGS) -> str:
    """``text`` with the start and end tags of elements nested deeper than
    ``limit`` removed (their content stays, in the ancestor at the limit).

    Pages with at most ``scan_tags`` tags, and pages whose tags cannot nest
    that deep, are returned as they are.  Removed tags leave their line
    breaks, so source lines (the labelled-page format reports them) stay.
    """
    if text.count("<") <= max(limit, scan_tags) or _max_nesting(text) <= limit:
        return text
    out, last, depth = [], 0, 0
    for m in _NESTING_TAG.finditer(text):
        slash = m.group(3)
        if slash is None:  # comment, raw-text element, svg or math island
            continue
        if slash == "<":
            depth += 1
            deep = depth > limit
        else:
            deep = depth > limit
            depth = max(depth - 1, 0)
        if deep:
            start, end = m.span()
            out.append(text[last:start])
            out.append("\n" * text.count("\n", start, end))
            last = end
    out.append(text[last:])
    return "".join(out)


@dataclass(slots=True)
class Document:
    """A parsed page: its tree, the encoding it was read in, and the limits
    (:class:`Limits` names) its parse hit: ``bytes`` (cut), ``nesting`` (flattened)."""

    tree: LexborHTMLParser
    encoding: str
    truncated: tuple[str, ...] = ()


def parse_document(
    data: bytes | str, content_type: str | None = None, limits: Limits = LIMITS
) -> Document:
    """Decode and parse as a browser does (HTML5, lexbor), within ``limits``.

    The tree is the document :func:`blockify` walks; :func:`serialize` gives
    its HTML back.  Raises :class:`SegmentationError` when there is no
    document at all.
    """
    encoding, text = decode_html(data, content_type, limits.max_bytes)
    truncated = ["bytes"] if len(data) > limits.max_bytes else []
    if not text.strip():
        raise SegmentationError("empty document")
    bounded = bound_nesting(text, limits.max_nesting)
    if bounded is not text:
        truncated.append("nesting")
    # scripting on, as in a browser that runs scripts: <noscript> is raw text
    try:
        tree = LexborHTMLParser(bounded.encode("utf-8", "replace"), scripting=True)
    except SelectolaxError as exc:  # lexbor could not allocate or build the tree
        raise SegmentationError(f"cannot parse the document: {exc}") from exc
    if tree.root is None:
        raise SegmentationError("no HTML element could be parsed")
    return Document(tree, encoding, tuple(truncated))


def parse_html(data: bytes | str, content_type: str | None = None) -> tuple[LexborHTMLParser, str]:
    """:func:`parse_document` with the default limits; ``(tree, encoding)``."""
    doc = parse_document(data, content_type)
    return doc.tree, doc.encoding


def serialize(tree: LexborHTMLParser) -> str:
    """The parsed document as HTML text (what a browser's DOM serialises to)."""
    return tree.html or ""


# --------------------------------------------------------------------------
# the walk


Attrs = dict[str, str | None]  # lexbor gives None for an attribute without a value
_TOKENS_CACHE: dict[str, tuple[str, ...]] = {}
_NO_LINK = ("#", "javascript:", "mailto:", "tel:")


def class_tokens(value: str) -> tuple[str, ...]:
    """Split class/id values into lower-case tokens: ``tdPostContent x-1`` ->
    ``("td", "post", "content", "x", "1")``."""
    hit = _TOKENS_CACHE.get(value)
    if hit is None:
        hit = tuple(t for t in _TOKEN_SPLIT.split(_CAMEL.sub("-", value).lower()) if t)
        if len(_TOKENS_CACHE) < TOKENS_CACHE_SIZE:
            _TOKENS_CACHE[value] = hit
    return hit


def _norm(text: str) -> str:
    return " ".join(text.split())


@dataclass(slots=True)
class _Link:
    """An open ``<a href>`` of the walk: where its text starts in the block buffer."""

    href: str
    start: int
    counted: bool  # in the current buffer's n_links


class _Walker:
    """State of one walk over a tree; :func:`blockify` is its public face."""

    def __init__(self, with_labels: bool, limits: Limits = LIMITS) -> None:
        self.with_labels = with_labels
        self.limits = limits
        self.truncated: list[str] = []  # limits hit
        self.full = False  # max_blocks reached: the walk stops
        self.nodes = 0  # nodes walked (the walk stops past max_nodes)
        self.chars = 0  # characters in the block buffer
        self.page_links = 0  # links recorded on the page
        self.el = Elements()
        self.blocks: list[Block] = []
        self.meta: dict[str, str] = {}
        self.jsonld: list[dict[str, Any]] = []
        self.title = ""
        self.lang = ""
        # current block buffer
        self.parts: list[str] = []
        self.link_chars = 0
        self.n_links = 0
        self.links: list[tuple[str, str]] = []
        self.open_links: list[_Link] = []
        self.label_chars: dict[tuple[str, int], int] = {}  # label_stack entry: chars
        # stacks
        self.stack: list[int] = []  # element indexes of open elements
        self.owners: list[int] = []  # open block elements
        self.segs: list[str] = []  # DOM path segments of open elements
        # (label, k): the k-th element carrying data-label (1-based, 0: none)
        self.label_stack: list[tuple[str, int]] = [("", 0)]
        self.element_roles: list[str] = []  # inherited data-role of every element
        self.labelled: list[tuple[str, str]] = []  # (tag, value) of those elements, in order
        self.in_link = 0
        self.noscript_chars = 0  # the longest <noscript> skipped

    # -- limits -----------------------------------------------------------
    def hit(self, name: str) -> None:
        """A limit was reached (recorded once)."""
        if name not in self.truncated:
            self.truncated.append(name)

    def attr(self, attrs: Attrs, name: str) -> str | None:
        """An attribute value, at most ``max_attr_chars`` of it."""
        value = attrs.get(name)
        if value is not None and len(value) > self.limits.max_attr_chars:
            self.hit("attr_chars")
            value = value[: self.limits.max_attr_chars]
        return value

    def add_link(self, href: str, anchor: str) -> None:
        if self.page_links >= self.limits.max_links:
            self.hit("links")
            return
        self.page_links += 1
        self.links.append((href, anchor))

    # -- text -------------------------------------------------------------
    def add_text(self, text: str | None) -> None:
        if not text:
            return
        # the buffer holds raw text (white space not yet collapsed): room for
        # four times the block's limit before its text is cut
        room = 4 * self.limits.max_block_chars - self.chars
        if len(text) > room:
            self.hit("block_chars")
            if room <= 0:
                return
            text = text[:room]
        self.chars += len(text)
        self.parts.append(text)
        if self.in_link:
            self.link_chars += len(text.strip())
        if self.with_labels and not text.isspace():
            key = self.label_stack[-1]
            self.label_chars[key] = self.label_chars.get(key, 0) + len(text.strip())

    def flush(self) -> None:
        """End the current block; links and link text without text of their
        own in it (an image link) end with it."""
        if self.open_links:
            self.split_links()
        if not self.parts:
            self.link_chars = self.n_links = 0
            if self.links:
                self.links = []
            return
        text = _norm("".join(self.parts))
        if len(text) > self.limits.max_block_chars:
            self.hit("block_chars")
            text = text[: self.limits.max_block_chars]
        if text and len(self.blocks) >= self.limits.max_blocks:
            self.hit("blocks")
            self.full = True
        elif text:
            owner = self.owners[-1] if self.owners else 0
            block = Block(
                index=len(self.blocks),
                text=text,
                tag=self.el.tag[owner] if self.el.tag else "",
                path=self.path_of(owner),
                element=owner,
                n_links=self.n_links,
                link_chars=min(self.link_chars, len(text)),
                links=self.links,
            )
            if self.with_labels:
                self.set_label(block)
            self.blocks.append(block)
        self.parts = []
        self.chars = 0
        self.link_chars = self.n_links = 0
        self.links = []
        self.label_chars = {}

    def split_links(self) -> None:
        """A block ends inside open links (``<a href><h3>...</h3></a>``): each
        link that holds text of this block is one of its links, with that text
        as its anchor; the next block starts its share of the link afresh."""
        for link in self.open_links:
            anchor = _norm("".join(self.parts[link.start :]))
            if anchor:
                if not link.counted:
                    self.n_links += 1
                if link.href:
                    self.add_link(link.href, anchor)
            elif link.counted:
                self.n_links -= 1
            link.start = 0
            link.counted = False

    def set_label(self, block: Block) -> None:
        """The label of most of the block's text, and the labelled element
        that gave most of that text (its line, once blockify resolves it)."""
        counts = {k: v for k, v in self.label_chars.items() if v} or {self.label_stack[-1]: 1}
        totals: dict[str, int] = {}
        for (label, _), n in counts.items():
            totals[label] = totals.get(label, 0) + n
        best = max(totals, key=totals.__getitem__)
        block.label = best or None
        block.label_line = max((k for k in counts if k[0] == best), key=counts.__getitem__)[1]
        block.mixed = tuple(sorted(k or "(none)" for k in totals if k != best))
        if self.element_roles and block.label == "article":
            block.role = self.element_roles[block.element] or "body"

    def path_of(self, owner: int) -> str:
        depth = self.el.depth[owner] if self.el.depth else 0
        return "/".join(self.segs[: depth + 1])

    # -- elements ---------------------------------------------------------
    def head_element(self, node: LexborNode, tag: str, attrs: Attrs) -> None:
        """Collect what the page declares about itself from <head> elements."""
        if tag == "title" and not self.title:
            self.title = _norm(node.text()[: self.limits.max_block_chars])
        elif tag == "meta":
            key = (self.attr(attrs, "property") or self.attr(attrs, "name") or "").lower()
            content = self.attr(attrs, "content")
            if key and content and key not in self.meta:
                self.meta[key] = _norm(content)
        elif tag == "link":
            rel = (self.attr(attrs, "rel") or "").lower()
            if "canonical" in rel:
                self.meta.setdefault("canonical", self.attr(attrs, "href") or "")
            elif "alternate" in rel and any(
                t in (self.attr(attrs, "type") or "") for t in ("rss", "atom")
            ):
                self.meta.setdefault("feed", self.attr(attrs, "href") or "")
        elif tag == "script" and "ld+json" in (attrs.get("type") or ""):
            room = JSONLD_MAX_ITEMS - len(self.jsonld)
            if room > 0:
                self.jsonld.extend(_jsonld_items(node.text())[:room])

    def skipped(self, node: LexborNode, tag: str) -> None:
        """An invisible subtree: read its metadata, count its labelled elements."""
        if tag == "head":
            for child in node.traverse(include_text=False):
                self.nodes += 1
                if self.nodes > self.limits.max_nodes:
                    self.hit("nodes")
                    break
                name = child.tag
                if name in ("title", "meta", "link", "script"):
                    self.head_element(child, name, child.attributes)
        elif tag in ("title", "script"):
            self.head_element(node, tag, node.attributes)
        elif tag == "noscript":  # raw text while scripting is on
            self.noscript_chars = max(self.noscript_chars, len(node.text() or ""))
        if self.with_labels:
            for child in node.css(f"[{LABEL_ATTR}]"):  # the node itself too
                self.labelled.append((child.tag or "", child.attributes[LABEL_ATTR] or ""))

    def open(self, tag: str, attrs: Attrs) -> None:
        """Record an element; flush and push it when it starts a block."""
        parent = self.stack[-1] if self.stack else -1
        idx = len(self.el.tag)
        flags = self.el.flags[parent] if parent >= 0 else 0
        container = vocab.TAG_CONTAINER.get(tag)
        if container:
            flags |= vocab.CONTAINER_FLAGS[container]
        cls = eid = None
        tokens: tuple[str, ...] = ()
        if attrs:
            cls = self.attr(attrs, "class")
            eid = self.attr(attrs, "id")
            if cls or eid:
                tokens = class_tokens(f"{cls or ''} {eid or ''}")
            role = self.attr(attrs, "role")
            if role and role.lower() in vocab.ROLE_CONTAINER:
                flags |= vocab.CONTAINER_FLAGS[vocab.ROLE_CONTAINER[role.lower()]]
            prop = self.attr(attrs, "itemprop")
            if prop and prop.lower() in vocab.ITEMPROP_CONTAINER:
                flags |= vocab.CONTAINER_FLAGS["articlebody"]
        self.el.parent.append(parent)
        self.el.tag.append(tag)
        self.el.depth.append(len(self.stack))
        self.el.end.append(idx)
        self.el.flags.append(flags)
        self.el.tokens.append(tokens)
        self.stack.append(idx)
        seg = tag
        if cls:
            first = cls.split()
            if first:
                seg = f"{tag}.{first[0]}"
        elif eid:
            seg = f"{tag}#{eid}"
        del self.segs[len(self.stack) - 1 :]
        self.segs.append(seg)
        if self.with_labels:
            parent_role = self.element_roles[parent] if parent >= 0 else ""
            self.element_roles.append((attrs.get(ROLE_ATTR) or parent_role).strip())
            if LABEL_ATTR in attrs:
                label = attrs[LABEL_ATTR] or ""
                self.labelled.append((tag, label))
                self.label_stack.append((label.strip(), len(self.labelled)))
            else:
                self.label_stack.append(self.label_stack[-1])
        if tag in vocab.BLOCK_TAGS:
            self.flush()
            self.owners.append(idx)
        elif tag == "a":
            self.in_link += 1
            self.n_links += 1
            href = self.attr(attrs, "href") or ""
            self.open_links.append(
                _Link("" if href.startswith(_NO_LINK) else href, len(self.parts), True)
            )
        elif tag in vocab.CELL_TAGS:
            self.parts.append(" \t ")

    def close(self, tag: str) -> None:
        idx = self.stack.pop()
        self.el.end[idx] = len(self.el.tag) - 1
        if self.with_labels:
            self.label_stack.pop()
        if tag in vocab.BLOCK_TAGS:
            self.flush()
            self.owners.pop()
        elif tag == "a":
            self.in_link -= 1
            link = self.open_links.pop()
            anchor = _norm("".join(self.parts[link.start :]))
            if not link.counted and anchor:  # the tail of a link that held blocks
                self.n_links += 1
            if link.href and (link.counted or anchor):
                self.add_link(link.href, anchor)

    def line_break(self) -> None:
        owner_tag = self.el.tag[self.owners[-1]] if self.owners else ""
        if owner_tag in vocab.BR_INLINE_OWNERS:
            self.parts.append("\n")
        else:
            self.flush()


def _hidden(attrs: Attrs, max_chars: int) -> bool:
    if "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return True
    style = attrs.get("style")
    return bool(style and _HIDDEN_STYLE.search(style[:max_chars]))


def _jsonld_items(text: str) -> list[dict[str, Any]]:
    """Flatten a JSON-LD script into its objects (``@graph`` and lists too), at
    most :data:`JSONLD_MAX_ITEMS`; a script that is not JSON, or nests deeper
    than the JSON decoder goes (``[`` a thousand deep), gives none."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return []
    out: list[dict[str, Any]] = []
    todo = [data]
    while todo and len(out) < JSONLD_MAX_ITEMS:
        item = todo.pop()
        if isinstance(item, list):
            todo.extend(item)
        elif isinstance(item, dict):
            out.append(item)
            graph = item.get("@graph")
            if isinstance(graph, list):
                todo.extend(graph)
    return out


# React's streamed server rendering: a Suspense boundary's content arrives
# later in the page as ``<div hidden id="S:n">``, and a script on load moves
# it to the boundary's ``<template id="B:n">`` (or a ``P:n`` placeholder).
# A browser shows it there; without this, a Next.js page's whole story is a
# hidden div.  The walk does the same move: a template naming a segment is
# walked as that segment's content (each segment once).
_REACT_SLOT = re.compile(r"[BP]:(\w+)\Z")
FALLBACK_SCAN = 1000  # siblings looked at for a fallback's end (a page cannot make it quadratic)


class _Segments:
    """The hidden streamed segments of a page by id, looked up when first needed."""

    def __init__(self, root: LexborNode) -> None:
        self.root = root
        self.by_id: dict[str, LexborNode] | None = None

    def take(self, slot_id: str) -> LexborNode | None:
        m = _REACT_SLOT.match(slot_id)
        if m is None:
            return None
        if self.by_id is None:
            self.by_id = {}
            for seg in self.root.css('div[hidden][id^="S:"]'):
                self.by_id.setdefault(seg.attributes.get("id") or "", seg)
        return self.by_id.pop("S:" + m.group(1), None)


def _boundary_end(w: _Walker, slot: LexborNode) -> LexborNode:
    """The ``<!--/$-->`` closing a boundary's fallback after its slot (React
    drops the fallback, a "Loading..." placeholder, when the content comes),
    or the slot itself when there is none within :data:`FALLBACK_SCAN` siblings.
    The siblings looked at count towards the page's node limit."""
    depth = 0
    node = slot.next
    for _ in range(FALLBACK_SCAN):
        if node is None:
            break
        w.nodes += 1
        if node.tag == "-comment":
            mark = node.comment_content or ""
            if mark == "/$":
                if depth == 0:
                    return node
                depth -= 1
            elif mark.startswith("$"):
                depth += 1
        node = node.next
    return slot


def _walk(w: _Walker, root: LexborNode, skip: frozenset[str] = vocab.SKIP_TAGS) -> None:
    """Depth first over the tree, without recursion: open an element, walk its
    children, close it; invisible subtrees are not entered, except React's
    streamed segments, walked where their slot is (:data:`_REACT_SLOT`)."""
    node = root
    stack: list[tuple[LexborNode, str]] = []  # entered elements, for closing
    limit = w.limits.max_nodes
    segments = _Segments(root)
    while True:
        w.nodes += 1
        if w.nodes > limit or w.full:  # past a limit: close what is open and stop
            if not w.full:
                w.hit("nodes")
            while stack:
                w.close(stack.pop()[1])
            return
        tag = node.tag
        if tag == "-text":
            w.add_text(node.text_content)
        elif tag and tag[0] != "-":  # an element, not a comment or doctype
            attrs: Attrs = node.attributes
            slot = (attrs.get("id") or "") if tag == "template" and attrs else ""
            segment = segments.take(slot) if slot else None
            if segment is not None and segment.first_child is not None:
                w.open("div", {})  # the segment's content, in the slot's place
                stack.append((_boundary_end(w, node) if slot[0] == "B" else node, "div"))
                node = segment.first_child
                continue
            if tag in skip or (attrs and _hidden(attrs, w.limits.max_attr_chars)):
                w.skipped(node, tag)
            else:
                if tag in ("meta", "link"):
                    w.head_element(node, tag, attrs)
                elif tag == "html":
                    w.lang = w.attr(attrs, "lang") or ""
                w.open(tag, attrs)
                if tag == "br":
                    w.line_break()
                child = node.first_child
                if child is not None:
                    stack.append((node, tag))
                    node = child
                    continue
                w.close(tag)
        while stack:  # to the next node: a sibling, or the next sibling up
            sibling = node.next
            if sibling is not None:
                node = sibling
                break
            node, tag = stack.pop()
            w.close(tag)
        else:
            return


# Start tags carrying data-label in the source, and the markup that holds no
# elements (comments, raw text, template content) so that what it holds is
# not counted.  Attribute values may hold ">" inside quotes.
_LABEL_SOURCE = re.compile(
    rb"<!--(?:-?>|[^-]*(?:-(?!-!?>)[^-]*)*(?:--!?>)?)|<[!?][^>]*>"
    rb"|<(script|style|textarea|title|xmp|iframe|noembed|noframes|noscript|plaintext|template)\b"
    rb"((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>(?:[^<]*(?:<(?!/\1[\s/>])[^<]*)*)"
    rb"|<([a-zA-Z][^\s/>]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
    re.I,
)
_ATTRIBUTE = re.compile(
    rb"([^\s\"'>/=][^\s\"'>/=]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?"
)
_LABEL_NAME = LABEL_ATTR.encode()


def _source_label(attrs: bytes) -> str | None:
    """The data-label value of a start tag's attribute text, if it has one
    (the first, as the tree builder keeps the first of duplicates)."""
    if _LABEL_NAME not in attrs.lower():
        return None
    for m in _ATTRIBUTE.finditer(attrs):
        if m.group(1).lower() == _LABEL_NAME:
            raw = m.group(2) if m.group(2) is not None else m.group(3) or m.group(4) or b""
            return html.unescape(raw.decode("utf-8", "replace"))
    return None


def _label_lines(source: bytes, labelled: list[tuple[str, str]]) -> list[int]:
    """Source line of each element carrying data-label, in tree order.

    The tree has no source positions.  The k-th such element of the tree is
    matched with the next start tag in the source that has the same tag name
    and the same label: the two lists agree except where the tree builder
    moved, cloned or dropped an element (foster parenting, the adoption
    agency).  An element without a match ahead takes the nearest unused
    one behind it (a table's row fostered out before the table); with none
    at all it gets 0 (check-data then says line 1).
    """
    found: list[tuple[str, str, int]] = []
    line, pos = 1, 0
    for m in _LABEL_SOURCE.finditer(source):
        name, attrs = (m.group(3), m.group(4)) if m.group(3) else (m.group(1), m.group(2))
        value = _source_label(attrs) if attrs else None
        if value is not None:
            line += source.count(b"\n", pos, m.start())
            pos = m.start()
            found.append((name.decode("ascii", "replace").lower(), value, line))
    used = [False] * len(found)
    lines, j = [], 0
    for key in labelled:
        ahead = (i for i in range(j, len(found)) if found[i][:2] == key)
        behind = (i for i in range(j - 1, -1, -1) if not used[i] and found[i][:2] == key)
        k = next(ahead, None)
        if k is not None:
            j = k + 1
        else:
            k = next(behind, None)
        if k is None:
            lines.append(0)
        else:
            used[k] = True
            lines.append(found[k][2])
    return lines


# A page with a <noscript> of at least this many characters is walked again as
# a browser without JavaScript shows it, <noscript> content included; that walk
# is the page when it shows at least this many characters of text the first
# did not (an "enable JavaScript" notice does not): an app shell whose story
# is in <noscript> (Discourse's crawler view), or a Blogger post whose body a
# script renders from a template, with a <noscript> copy beside it.
NOSCRIPT_FALLBACK_CHARS = 500
# a block of the <noscript> reading whose text opens with a tag is markup
# escaped into the page (a tracking pixel written as "&lt;img ...&gt;"), not text
_MARKUP_TEXT = re.compile(r"<[a-zA-Z!/]")


def _new_chars(plain: _Walker, w: _Walker) -> int:
    """Characters of text that ``plain`` shows and ``w`` does not: its blocks
    whose text is none of ``w``'s blocks' (a <noscript> copy of a story that
    already shows adds nothing) and is not markup."""
    shown = {b.text for b in w.blocks}
    return sum(
        len(b.text) for b in plain.blocks if b.text not in shown and not _MARKUP_TEXT.match(b.text)
    )


def _without_scripting(
    tree: LexborHTMLParser, with_labels: bool, limits: Limits
) -> tuple[_Walker, LexborHTMLParser] | None:
    """The page as a browser without JavaScript shows it: an app shell whose
    story is in <noscript> (Discourse's crawler view, say), parsed as markup,
    which it is only with scripting off.  None when lexbor cannot build it."""
    try:
        plain_tree = LexborHTMLParser(tree.raw_html, scripting=False)
    except SelectolaxError:
        return None
    if plain_tree.root is None:
        return None
    plain = _Walker(with_labels, limits)
    _walk(plain, plain_tree.root, vocab.SKIP_TAGS - {"noscript"})
    plain.flush()
    return plain, plain_tree


def blockify(
    tree: LexborHTMLParser | Document,
    *,
    with_labels: bool = False,
    limits: Limits = LIMITS,
) -> Page:
    """Walk a parsed document (:func:`parse_document`) and return its :class:`Page`.

    A page with a ``<noscript>`` of :data:`NOSCRIPT_FALLBACK_CHARS` characters
    is also read with scripting off (``<noscript>`` as markup), and that
    reading is kept when it shows that many characters of new text.

    With ``with_labels`` every block also carries the ``data-label`` of its
    nearest labelled ancestor (the training-data format) and that element's
    source line.  Past ``limits.max_nodes`` or ``limits.max_blocks`` the
    walk stops; the page's ``truncated`` names every limit hit, the parse's
    too when given a :class:`Document`.
    """
    truncated: list[str] = []
    if isinstance(tree, Document):
        truncated.extend(tree.truncated)
        tree = tree.tree
    w = _Walker(with_labels, limits)
    if tree.root is not None:
        _walk(w, tree.root)
    w.flush()
    # the <noscript> reading only for the few pages with a long one
    if w.noscript_chars >= NOSCRIPT_FALLBACK_CHARS:
        plain = _without_scripting(tree, with_labels, limits)
        if plain is not None and _new_chars(plain[0], w) >= NOSCRIPT_FALLBACK_CHARS:
            w, tree = plain
    if with_labels:
        lines = _label_lines(tree.raw_html, w.labelled)
        for block in w.blocks:
            block.label_line = lines[block.label_line - 1] if block.label_line else 0
    page = Page(
        blocks=w.blocks,
        elements=w.el,
        title=w.title,
        meta=w.meta,
        jsonld=w.jsonld,
        lang=w.lang,
        truncated=truncated + w.truncated,
    )
    for block in page.blocks:
        block.page = page
    return page


def segment(
    data: bytes | str,
    *,
    url: str | None = None,
    content_type: str | None = None,
    with_labels: bool = False,
    limits: Limits = LIMITS,
) -> Page:
    """Decode, parse and blockify one page, within ``limits``."""
    doc = parse_document(data, content_type, limits)
    page = blockify(doc, with_labels=with_labels, limits=limits)
    page.url = url
    page.encoding = doc.encoding
    return page

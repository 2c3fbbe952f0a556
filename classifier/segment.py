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

import html
import json
import re
from dataclasses import dataclass, field
from itertools import accumulate
from operator import sub
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError
from w3lib.encoding import html_to_unicode

from . import vocab

LABELS = ("article", "teaser", "chrome")
LABEL_ATTR = "data-label"
ROLE_ATTR = "data-role"  # article roles in the training pages (headline, byline, caption...)
SNIFF_BYTES = 4096  # a NUL byte this early means binary data
DETECT_BYTES = 65536  # charset detection reads this much
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
# decoding and parsing


def detect_encoding(data: bytes) -> str | None:
    """Fallback when nothing declares an encoding: UTF-8 if valid, else guess."""
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:DETECT_BYTES]).best()
    return best.encoding if best is not None else None


def decode_html(data: bytes | str, content_type: str | None = None) -> tuple[str, str]:
    """Decode page bytes the way a browser does: BOM, HTTP header, meta, detection.

    Returns ``(encoding, text)``.  A declared charset that the bytes do not
    follow (a page saying UTF-8 and holding cp1252) is replaced by detection.
    """
    if isinstance(data, str):
        return "utf-8", data
    head = data[:SNIFF_BYTES]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SegmentationError("binary data, not an HTML document")
    encoding, text = html_to_unicode(content_type, data, auto_detect_fun=detect_encoding)
    if "\ufffd" in text:
        guess = detect_encoding(data)
        if guess and guess.lower() != encoding.lower():
            try:
                return guess, data.decode(guess)
            except (UnicodeDecodeError, LookupError):
                pass
    return encoding, text


# Deeper than this, elements are flattened into their ancestor at this depth,
# as Blink does (kMaximumHTMLParserDOMTreeDepth).  The HTML5 tree builder
# scans the stack of open elements at every block start tag, so its cost
# grows with depth times tags: 10,000 nested divs take 0.25 s to parse,
# 100,000 take 25 s.  Only generated or hostile pages nest this deep.
MAX_NESTING = 512
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


def parse_html(data: bytes | str, content_type: str | None = None) -> tuple[LexborHTMLParser, str]:
    """Decode and parse as a browser does (HTML5, lexbor); return ``(tree, encoding)``.

    The tree is the document :func:`blockify` walks; :func:`serialize` gives
    its HTML back.  Raises :class:`SegmentationError` when there is no
    document at all.
    """
    encoding, text = decode_html(data, content_type)
    if not text.strip():
        raise SegmentationError("empty document")
    text = bound_nesting(text)
    # scripting on, as in a browser that runs scripts: <noscript> is raw text
    try:
        tree = LexborHTMLParser(text.encode("utf-8", "replace"), scripting=True)
    except SelectolaxError as exc:  # lexbor could not allocate or build the tree
        raise SegmentationError(f"cannot parse the document: {exc}") from exc
    if tree.root is None:
        raise SegmentationError("no HTML element could be parsed")
    return tree, encoding


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

    def __init__(self, with_labels: bool) -> None:
        self.with_labels = with_labels
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

    # -- text -------------------------------------------------------------
    def add_text(self, text: str | None) -> None:
        if not text:
            return
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
        if text:
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
                    self.links.append((link.href, anchor))
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
            self.title = _norm(node.text())
        elif tag == "meta":
            key = (attrs.get("property") or attrs.get("name") or "").lower()
            content = attrs.get("content")
            if key and content and key not in self.meta:
                self.meta[key] = _norm(content)
        elif tag == "link":
            rel = (attrs.get("rel") or "").lower()
            if "canonical" in rel:
                self.meta.setdefault("canonical", attrs.get("href") or "")
            elif "alternate" in rel and any(
                t in (attrs.get("type") or "") for t in ("rss", "atom")
            ):
                self.meta.setdefault("feed", attrs.get("href") or "")
        elif tag == "script" and "ld+json" in (attrs.get("type") or ""):
            self.jsonld.extend(_jsonld_items(node.text()))

    def skipped(self, node: LexborNode, tag: str) -> None:
        """An invisible subtree: read its metadata, count its labelled elements."""
        if tag == "head":
            for child in node.traverse():
                name = child.tag
                if name in ("title", "meta", "link", "script"):
                    self.head_element(child, name, child.attributes)
        elif tag in ("title", "script"):
            self.head_element(node, tag, node.attributes)
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
            cls = attrs.get("class")
            eid = attrs.get("id")
            if cls or eid:
                tokens = class_tokens(f"{cls or ''} {eid or ''}")
            role = attrs.get("role")
            if role and role.lower() in vocab.ROLE_CONTAINER:
                flags |= vocab.CONTAINER_FLAGS[vocab.ROLE_CONTAINER[role.lower()]]
            prop = attrs.get("itemprop")
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
            href = attrs.get("href") or ""
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
                self.links.append((link.href, anchor))

    def line_break(self) -> None:
        owner_tag = self.el.tag[self.owners[-1]] if self.owners else ""
        if owner_tag in vocab.BR_INLINE_OWNERS:
            self.parts.append("\n")
        else:
            self.flush()


def _hidden(attrs: Attrs) -> bool:
    if "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return True
    style = attrs.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _jsonld_items(text: str) -> list[dict[str, Any]]:
    """Flatten a JSON-LD script into its objects (``@graph`` and lists too)."""
    try:
        data = json.loads(text)
    except ValueError:
        return []
    out: list[dict[str, Any]] = []
    todo = [data]
    while todo:
        item = todo.pop()
        if isinstance(item, list):
            todo.extend(item)
        elif isinstance(item, dict):
            out.append(item)
            graph = item.get("@graph")
            if isinstance(graph, list):
                todo.extend(graph)
    return out


def _walk(w: _Walker, root: LexborNode) -> None:
    """Depth first over the tree, without recursion: open an element, walk its
    children, close it; invisible subtrees are not entered."""
    node = root
    stack: list[tuple[LexborNode, str]] = []  # entered elements, for closing
    while True:
        tag = node.tag
        if tag == "-text":
            w.add_text(node.text_content)
        elif tag and tag[0] != "-":  # an element, not a comment or doctype
            attrs: Attrs = node.attributes
            if tag in vocab.SKIP_TAGS or (attrs and _hidden(attrs)):
                w.skipped(node, tag)
            else:
                if tag in ("meta", "link"):
                    w.head_element(node, tag, attrs)
                elif tag == "html":
                    w.lang = attrs.get("lang") or ""
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


def blockify(tree: LexborHTMLParser, *, with_labels: bool = False) -> Page:
    """Walk a parsed document (:func:`parse_html`) once and return its :class:`Page`.

    With ``with_labels`` every block also carries the ``data-label`` of its
    nearest labelled ancestor (the training-data format) and that element's
    source line.
    """
    w = _Walker(with_labels)
    if tree.root is not None:
        _walk(w, tree.root)
    w.flush()
    if with_labels:
        lines = _label_lines(tree.raw_html, w.labelled)
        for block in w.blocks:
            block.label_line = lines[block.label_line - 1] if block.label_line else 0
    page = Page(
        blocks=w.blocks, elements=w.el, title=w.title, meta=w.meta, jsonld=w.jsonld, lang=w.lang
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
) -> Page:
    """Decode, parse and blockify one page."""
    tree, encoding = parse_html(data, content_type)
    page = blockify(tree, with_labels=with_labels)
    page.url = url
    page.encoding = encoding
    return page

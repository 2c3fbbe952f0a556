"""Blockify: bytes or text of an HTML page in, a :class:`Page` of text blocks out.

The blocks are the units a person would label: paragraphs, headings, list
items, table rows, captions, ``<br>``-separated lines of a bare ``<div>``.
Invisible content (script, style, noscript, template, ``hidden``,
``aria-hidden``, ``display:none``) never becomes text.

Two layers, as in html-text: :func:`parse_html` decodes and parses once;
:func:`blockify` walks an already parsed tree.  :func:`segment` does both.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from w3lib.encoding import html_to_unicode

from . import vocab

LABELS = ("article", "teaser", "chrome")
LABEL_ATTR = "data-label"
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
    n_links: int = 0
    link_chars: int = 0
    links: list[tuple[str, str]] = field(default_factory=list)  # (href, anchor text)
    label: str | None = None  # training label (data-label), if asked for
    label_line: int = 0  # source line of the labelled ancestor
    mixed: tuple[str, ...] = ()  # labels found in the block beside `label`
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


_WRAPPER_RUN = re.compile(r"(<[a-zA-Z][a-zA-Z0-9]*>|</[a-zA-Z][a-zA-Z0-9]*>)(?:\s*\1){63,}")
_PARSER = etree.HTMLParser(
    remove_comments=True,
    remove_pis=True,
    huge_tree=True,
    encoding="utf-8",
    no_network=True,
    collect_ids=False,
)


def parse_html(data: bytes | str, content_type: str | None = None) -> tuple[etree._Element, str]:
    """Decode and parse; return ``(root element, encoding)``.

    Raises :class:`SegmentationError` when there is no document at all.
    """
    encoding, text = decode_html(data, content_type)
    if not text.strip():
        raise SegmentationError("empty document")
    # lxml refuses str input with an XML encoding declaration; feed UTF-8.
    root = etree.fromstring(text.encode("utf-8", "surrogatepass"), _PARSER)
    if any("Excessive depth" in e.message for e in _PARSER.error_log):
        # libxml2 stops at a fixed depth even with huge_tree; only pathological
        # pages nest that deep, always as long runs of bare wrapper tags.
        flat = _WRAPPER_RUN.sub(r"\1", text)
        root = etree.fromstring(flat.encode("utf-8", "surrogatepass"), _PARSER)
    if root is None:
        raise SegmentationError("no HTML element could be parsed")
    return root, encoding


# --------------------------------------------------------------------------
# the walk


_NO_ATTRS: dict[str, str] = {}
_TOKENS_CACHE: dict[str, tuple[str, ...]] = {}


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
        self.open_links: list[tuple[str, int]] = []  # (href, index into parts)
        self.label_chars: dict[str, int] = {}
        # stacks
        self.stack: list[int] = []  # element indexes of open elements
        self.owners: list[int] = []  # open block elements
        self.segs: list[str] = []  # DOM path segments of open elements
        self.label_stack: list[tuple[str, int]] = [("", 0)]
        self.in_link = 0

    # -- text -------------------------------------------------------------
    def add_text(self, text: str | None) -> None:
        if not text:
            return
        self.parts.append(text)
        if self.in_link:
            self.link_chars += len(text.strip())
        if self.with_labels and not text.isspace():
            label = self.label_stack[-1][0]
            self.label_chars[label] = self.label_chars.get(label, 0) + len(text.strip())

    def flush(self) -> None:
        if not self.parts:
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

    def set_label(self, block: Block) -> None:
        counts = {k: v for k, v in self.label_chars.items() if v}
        if not counts:
            counts = {self.label_stack[-1][0]: 1}
        best = max(counts, key=counts.__getitem__)
        block.label = best or None
        block.label_line = self.label_stack[-1][1]
        block.mixed = tuple(sorted(k or "(none)" for k in counts if k != best))

    def path_of(self, owner: int) -> str:
        depth = self.el.depth[owner] if self.el.depth else 0
        return "/".join(self.segs[: depth + 1])

    # -- elements ---------------------------------------------------------
    def head_element(self, el: etree._Element, tag: str) -> None:
        """Collect what the page declares about itself from <head> elements."""
        if tag == "title" and not self.title:
            self.title = _norm(el.text or "")
        elif tag == "meta":
            key = (el.get("property") or el.get("name") or "").lower()
            content = el.get("content")
            if key and content and key not in self.meta:
                self.meta[key] = _norm(content)
        elif tag == "link":
            rel = (el.get("rel") or "").lower()
            if "canonical" in rel:
                self.meta.setdefault("canonical", el.get("href") or "")
            elif "alternate" in rel and any(t in (el.get("type") or "") for t in ("rss", "atom")):
                self.meta.setdefault("feed", el.get("href") or "")
        elif tag == "script" and "ld+json" in (el.get("type") or ""):
            self.jsonld.extend(_jsonld_items(el.text or ""))

    def open(self, el: etree._Element, tag: str, attrs: dict[str, str]) -> None:
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
            label = attrs.get(LABEL_ATTR)
            self.label_stack.append(
                (label.strip(), el.sourceline or 0) if label is not None else self.label_stack[-1]
            )
        if tag in vocab.BLOCK_TAGS:
            self.flush()
            self.owners.append(idx)
        elif tag == "a":
            self.in_link += 1
            self.n_links += 1
            self.open_links.append((attrs.get("href") or "", len(self.parts)))
        elif tag in vocab.CELL_TAGS:
            self.parts.append(" \t ")

    def close(self, el: etree._Element, tag: str) -> None:
        idx = self.stack.pop()
        self.el.end[idx] = len(self.el.tag) - 1
        if self.with_labels:
            self.label_stack.pop()
        if tag in vocab.BLOCK_TAGS:
            self.flush()
            self.owners.pop()
        elif tag == "a":
            self.in_link -= 1
            href, start = self.open_links.pop() if self.open_links else ("", 0)
            if href and not href.startswith(("#", "javascript:", "mailto:", "tel:")):
                self.links.append((href, _norm("".join(self.parts[start:]))))

    def line_break(self) -> None:
        owner_tag = self.el.tag[self.owners[-1]] if self.owners else ""
        if owner_tag in vocab.BR_INLINE_OWNERS:
            self.parts.append("\n")
        else:
            self.flush()


def _hidden(attrs: dict[str, str]) -> bool:
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


def blockify(root: etree._Element, *, with_labels: bool = False) -> Page:
    """Walk a parsed tree once and return its :class:`Page`.

    With ``with_labels`` every block also carries the ``data-label`` of its
    nearest labelled ancestor (the training-data format).
    """
    w = _Walker(with_labels)
    walker = etree.iterwalk(root, events=("start", "end"))
    skipping: list[etree._Element] = []
    for event, el in walker:
        tag = el.tag
        if not isinstance(tag, str):  # comments and PIs if the parser kept any
            if event == "end" and not skipping:
                w.add_text(el.tail)
            continue
        tag = tag.lower()
        if event == "start":
            if skipping:
                continue
            items = el.items()
            attrs = dict(items) if items else _NO_ATTRS
            if tag in vocab.SKIP_TAGS or (items and _hidden(attrs)):
                if tag in ("title", "script"):
                    w.head_element(el, tag)
                elif tag == "head":
                    for child in el.iter("title", "meta", "link", "script"):
                        w.head_element(child, child.tag)
                skipping.append(el)
                walker.skip_subtree()
                continue
            if tag in ("title", "meta", "link"):
                w.head_element(el, tag)
            if tag == "html":
                w.lang = el.get("lang") or ""
            w.open(el, tag, attrs)
            if tag == "br":
                w.line_break()
            w.add_text(el.text)
        else:
            if skipping:
                if skipping[-1] is el:
                    skipping.pop()
                    w.add_text(el.tail)
                continue
            w.close(el, tag)
            w.add_text(el.tail)
    w.flush()
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
    root, encoding = parse_html(data, content_type)
    page = blockify(root, with_labels=with_labels)
    page.url = url
    page.encoding = encoding
    return page

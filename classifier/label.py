"""Label pages in the browser: ``python -m classifier label PAGES_OR_URLS...``.

A small web app on 127.0.0.1 shows each page as the reader sees it, with
every block outlined in its label's colour (article, teaser, chrome) and the
model's probability; a click or a key relabels a block, or everything inside
a container, and *save* writes the page in the training-data format
(``data-label`` on the page's own elements, training_data/README.md) to
``<data>/pages/<site>/<slug>.html``, checked as ``check-data`` checks it.

How the pieces fit:

- **Blocks to elements.** :func:`element_nodes` walks the parsed tree with the
  segmenter's own rules (:func:`classifier.segment.parse_document`, the
  skipped and hidden elements of :func:`classifier.segment.blockify`), so the
  k-th element it yields is ``page.elements`` index k, the index every
  :class:`~classifier.segment.Block` names in ``element``; the tags are
  checked to agree.  A *unit* is a block element with its blocks: the app
  labels units, and a unit's blocks share its label (the format labels
  elements, not text runs).
- **The frame.** The page's markup, with ``data-nf`` element indexes added
  and every script removed (``<script>``, ``on*`` handlers, ``javascript:``
  URLs, ``<meta http-equiv=refresh>``, frames, objects, ``<base>``), is served
  with a ``Content-Security-Policy`` of ``script-src 'none'`` and shown in an
  ``<iframe sandbox="allow-same-origin">``: no ``allow-scripts``, so nothing
  of the page can run even if the stripping missed something; the app's own
  script (same origin) outlines the blocks and listens to clicks.
- **Saving.** :func:`compact_labels` puts the fewest labels that give every
  block its label under the nearest-labelled-ancestor rule (``<body>`` the
  most common label, then overrides on the largest elements wholly one
  label); :func:`labelled_html` writes them into a fresh parse of the page's
  own bytes (scripts kept: the training pages are real pages) and
  :func:`save_page` re-reads the file with the training loader's checks
  (:func:`classifier.training.check_page`) before it replaces anything.
- **Active learning.** Pages are offered least confident first: the lowest
  mean margin between the two most probable labels over the page's blocks;
  a unit whose margin is below :data:`UNSURE_MARGIN` is marked.  After a
  save, with ``--refit``, a background thread refits the block booster on
  the data root's pages (the new ones weighted :data:`SESSION_WEIGHT` times)
  without the calibration folds (:class:`Refitter`), then re-scores and
  re-orders the pages not yet labelled.
- **Self-labels.** A page with JSON-LD ``articleBody`` or an
  ``itemprop=articleBody`` element gets its pre-labels from that
  (:mod:`classifier.selflabel`), marked in the app; ``--auto`` writes such
  pages without a person (:func:`auto_label`).

Security: the server binds 127.0.0.1 only, answers only requests whose
``Host`` is that address (or ``localhost``) and port (no DNS rebinding),
wants a per-run token in a header on every POST (no cross-site writes), and
serves files only from its own fixed static list and the pages it was given:
a ``path`` parameter must name one of the input files or a page under the
output pages folder, anything else is refused (403).
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
import re
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import webbrowser
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
from selectolax.lexbor import LexborHTMLParser, LexborNode

from . import vocab
from .model import SITE_WEIGHT
from .segment import (
    LABEL_ATTR,
    LABELS,
    LIMITS,
    Block,
    Page,
    SegmentationError,
    _hidden,
    blockify,
    parse_document,
)

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "label_static"
STATIC_TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
HOST = "127.0.0.1"
# the crawler's identity and politeness (crawler/settings.py: USER_AGENT,
# DOWNLOAD_TIMEOUT, AUTOTHROTTLE_START_DELAY; DOWNLOAD_MAXSIZE is Limits.max_bytes);
# the classifier does not import the crawler, a test checks the values agree
USER_AGENT = (
    "newsfilter/0.1 (+https://github.com/newsfilter/newsfilter; regional news research crawler)"
)
FETCH_TIMEOUT = 30.0
FETCH_DELAY = 1.0  # seconds between two requests to one host
HTML_TYPES = ("text/html", "application/xhtml+xml")
UNSURE_MARGIN = 0.4  # a unit whose top two labels are closer than this is marked
SESSION_WEIGHT = SITE_WEIGHT  # weight of a block of a page saved in this run, in a refit
TEXT_PREVIEW = 160  # characters of a unit's text sent to the app
MAX_POST_BYTES = 4 << 20
ORIGIN_FILE, ORIGIN_METADATA, ORIGIN_MODEL = "file", "metadata", "model"
DEFAULT_SITE = "new-site"

_SLUG = re.compile(r"[^a-z0-9]+")
_URL_ATTRS = ("href", "src", "action", "formaction", "xlink:href", "data", "poster", "background")
# gone from the frame: what runs, navigates or embeds (scripts, frames, refresh, base)
_FRAME_DROP = frozenset(
    {
        "script",
        "noscript",
        "template",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "portal",
        "base",
    }
)
_HEAD_OPEN = re.compile(r"<head(?:\s[^>]*)?>", re.I)


class LabelError(ValueError):
    """A page that cannot be labelled or saved; the message names it."""


# --------------------------------------------------------------------------
# blocks to elements


def element_nodes(tree: LexborHTMLParser, page: Page) -> list[LexborNode]:
    """The tree's element nodes in ``page.elements`` order (index k is element k).

    The walk is :func:`classifier.segment.blockify`'s: depth first, skipping
    the subtrees it skips (:data:`~classifier.vocab.SKIP_TAGS`, hidden
    elements).  Raises :class:`LabelError` if the tags disagree (a page cut
    by a limit mid-way keeps its agreeing prefix).
    """
    want = page.elements.tag
    out: list[LexborNode] = []
    root = tree.root
    if root is None:
        raise LabelError("the page has no document")
    stack: list[LexborNode] = [root]
    max_chars = LIMITS.max_attr_chars
    while stack and len(out) < len(want):
        node = stack.pop()
        tag = node.tag or ""
        if not tag or tag[0] == "-":
            continue
        attrs = node.attributes
        if tag in vocab.SKIP_TAGS or (attrs and _hidden(attrs, max_chars)):
            continue
        out.append(node)
        children = []
        child = node.first_child
        while child is not None:
            children.append(child)
            child = child.next
        stack.extend(reversed(children))
    if len(out) != len(want) or any(n.tag != t for n, t in zip(out, want, strict=True)):
        raise LabelError("the page's elements do not match its blocks")
    return out


@dataclass(slots=True)
class Unit:
    """A block element and its blocks: what the app labels."""

    element: int
    blocks: list[int]
    label: str
    origin: str  # ORIGIN_FILE, ORIGIN_METADATA or ORIGIN_MODEL
    predicted: str = ""
    probability: float = 0.0  # of the predicted label
    p: dict[str, float] = field(default_factory=dict)
    margin: float = 1.0
    metadata: bool = False  # article-or-not comes from the page's own metadata

    @property
    def unsure(self) -> bool:
        return self.margin < UNSURE_MARGIN


def units_of(page: Page) -> list[Unit]:
    """One unit per block element, in document order, without labels yet."""
    by_element: dict[int, Unit] = {}
    for b in page.blocks:
        unit = by_element.get(b.element)
        if unit is None:
            unit = by_element[b.element] = Unit(b.element, [], "", "")
        unit.blocks.append(b.index)
    return list(by_element.values())


def margins(proba: np.ndarray) -> np.ndarray:
    """Per row: the top probability minus the second."""
    if not len(proba):
        return np.zeros(0)
    top2 = np.sort(proba, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def page_confidence(proba: np.ndarray) -> float:
    """The mean margin between the two most probable labels (1: sure; low first)."""
    m = margins(proba)
    return float(m.mean()) if len(m) else 1.0


# --------------------------------------------------------------------------
# writing labels


def unit_labels(page: Page, block_labels: Sequence[str]) -> list[str]:
    """``block_labels`` made one a unit: each block takes the label of most of
    its element's text (the format labels elements, not text runs)."""
    size: dict[int, dict[str, int]] = {}
    for b in page.blocks:
        per = size.setdefault(b.element, {})
        per[block_labels[b.index]] = per.get(block_labels[b.index], 0) + len(b.text)
    best = {e: max(per, key=per.__getitem__) for e, per in size.items()}
    return [best[b.element] for b in page.blocks]


def compact_labels(page: Page, block_labels: Sequence[str]) -> dict[int, str]:
    """The ``data-label`` values to write, element index -> label.

    ``<body>`` (the element holding every block) takes the most common label;
    below it, the largest block elements whose blocks all share one label get
    it where it differs from what they inherit, and an element of mixed
    content gets the label of its own blocks.  Labels go on block elements
    only (:data:`~classifier.vocab.BLOCK_TAGS`): every text node of such an
    element belongs to a block of it or of a block element inside it, so the
    nearest-labelled-ancestor rule gives each block its label and no block
    mixes two.
    """
    el = page.elements
    n = len(el.tag)
    if not page.blocks:
        return {}
    own: dict[int, str] = {}
    for b in page.blocks:
        own.setdefault(b.element, block_labels[b.index])
    # labels of the blocks in each element's subtree, from the leaves up
    below: list[set[str]] = [set() for _ in range(n)]
    for e, lab in own.items():
        below[e].add(lab)
    for e in range(n - 1, 0, -1):
        p = el.parent[e]
        if p >= 0 and below[e]:
            below[p] |= below[e]
    counts: dict[str, int] = {}
    for lab in block_labels:
        counts[lab] = counts.get(lab, 0) + 1
    body = next((e for e in range(n) if el.tag[e] == "body"), 0)
    # body's own text (if any) decides; else the most common label, chrome on a tie
    top = own.get(body) or max(reversed(LABELS), key=lambda lab: counts.get(lab, 0))
    out = {body: top}
    # depth first below body with the inherited label
    todo: list[tuple[int, str]] = [(body, top)]
    children: dict[int, list[int]] = {}
    for e in range(n):
        children.setdefault(el.parent[e], []).append(e)
    while todo:
        e, inherited = todo.pop()
        for c in children.get(e, ()):
            labs = below[c]
            if not labs:
                continue
            block_el = el.tag[c] in vocab.BLOCK_TAGS
            if block_el and len(labs) == 1:
                (lab,) = labs
                if lab != inherited:
                    out[c] = lab
                continue
            here = inherited
            if block_el and c in own and own[c] != inherited:
                out[c] = here = own[c]
            todo.append((c, here))
    # text outside body (none after an HTML5 parse) keeps the root's label
    for e, lab in own.items():
        if not _inside(el.parent, e, body) and e != body:
            out[e] = lab
    return out


def _inside(parent: list[int], e: int, ancestor: int) -> bool:
    while e >= 0:
        if e == ancestor:
            return True
        e = parent[e]
    return False


def labelled_html(data: bytes, block_labels: Sequence[str]) -> str:
    """The page's own markup with ``data-label`` attributes for ``block_labels``.

    The page is parsed as the segmenter parses it and written back as the
    browser's DOM serialises (UTF-8, the charset declaration made to say so);
    labels it already carried are replaced.
    """
    doc = parse_document(data)
    page = blockify(doc)
    if len(block_labels) != len(page.blocks):
        raise LabelError(f"{len(block_labels)} labels for {len(page.blocks)} blocks")
    nodes = element_nodes(doc.tree, page)
    for node in doc.tree.root.traverse(include_text=False) if doc.tree.root else ():
        if LABEL_ATTR in node.attributes:
            del node.attrs[LABEL_ATTR]
        if node.tag == "meta":
            _utf8_meta(node)
    for e, lab in compact_labels(page, block_labels).items():
        nodes[e].attrs[LABEL_ATTR] = lab
    return doc.tree.html or ""


def _utf8_meta(node: LexborNode) -> None:
    attrs = node.attributes
    if "charset" in attrs:
        node.attrs["charset"] = "utf-8"
    elif (attrs.get("http-equiv") or "").lower() == "content-type":
        node.attrs["content"] = "text/html; charset=utf-8"


def check_labels(path: Path, text: str, block_labels: Sequence[str]) -> list[str]:
    """``check-data``'s errors for a labelled page, and any block whose label
    differs from the one asked for."""
    from .segment import segment
    from .training import check_page

    page = segment(text.encode("utf-8"), with_labels=True)
    errors = check_page(path, page)
    if not errors:
        got = [b.label or "" for b in page.blocks]
        if len(got) != len(block_labels):
            errors.append(
                f"{path}:1: {len(got)} blocks on re-reading, {len(block_labels)} labelled"
            )
        else:
            errors += [
                f"{path}:{b.label_line or 1}: block {b.text[:50]!r} reads back as {b.label}, "
                f"labelled {want}"
                for b, want in zip(page.blocks, block_labels, strict=True)
                if b.label != want
            ]
    return errors


def save_page(data: bytes, block_labels: Sequence[str], out: Path) -> Path:
    """Write the labelled page to ``out`` once it passes the checks; raise
    :class:`LabelError` with check-data's messages otherwise."""
    bad = sorted(set(block_labels) - set(LABELS))
    if bad:
        raise LabelError(f"{out}: unknown label(s) {', '.join(bad)}")
    text = labelled_html(data, block_labels)
    errors = check_labels(out, text, block_labels)
    if errors:
        raise LabelError("\n".join(errors))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return out


# --------------------------------------------------------------------------
# the frame


def frame_html(data: bytes, base_url: str | None, static_origin: str) -> str:
    """The page for the sandboxed frame: element indexes as ``data-nf``, nothing
    that runs or navigates, the app's outline stylesheet last in ``<head>``."""
    doc = parse_document(data)
    page = blockify(doc)
    for i, node in enumerate(element_nodes(doc.tree, page)):
        node.attrs["data-nf"] = str(i)
    root = doc.tree.root
    drop: list[LexborNode] = []
    if root is not None:
        for node in root.traverse(include_text=False):
            tag = node.tag or ""
            attrs = node.attributes
            if tag in _FRAME_DROP or (
                tag == "meta"
                and (attrs.get("http-equiv") or "").lower()
                in ("refresh", "set-cookie", "content-security-policy")
            ):
                drop.append(node)
                continue
            if tag == "link" and "stylesheet" not in (attrs.get("rel") or "").lower():
                drop.append(node)
                continue
            for name in list(attrs):
                low = name.lower()
                value = (attrs[name] or "").strip().lower()
                if (
                    low.startswith("on")
                    or low in ("srcdoc", "ping", "formaction", "http-equiv")
                    or (low in _URL_ATTRS and _scripted_url(value))
                    or (low == "style" and ("expression(" in value or "javascript:" in value))
                ):
                    del node.attrs[name]
    for node in reversed(drop):  # descendants before their ancestors
        node.decompose()
    text = doc.tree.html or ""
    head = '<meta charset="utf-8"><meta name="referrer" content="no-referrer">' + (
        f'<base href="{html.escape(base_url, quote=True)}">' if base_url else ""
    )
    tail = f'<link rel="stylesheet" href="{html.escape(static_origin)}/static/frame.css">'
    m = _HEAD_OPEN.search(text)
    if m is None:
        return head + tail + text
    close = text.lower().find("</head>", m.end())
    at = close if close >= 0 else m.end()
    return text[: m.end()] + head + text[m.end() : at] + tail + text[at:]


def _scripted_url(value: str) -> bool:
    compact = re.sub(r"[\s\x00-\x1f]+", "", value)
    return compact.startswith(("javascript:", "vbscript:", "data:text/html", "data:image/svg"))


def frame_csp(base_url: str | None, offline: bool) -> str:
    """The frame's policy: no script, no frames, no forms, no connections;
    styles, images and fonts from the page's site unless ``offline``."""
    remote = "" if offline else " http: https:"
    base = "'none'"
    if base_url:
        parts = urllib.parse.urlsplit(base_url)
        base = f"{parts.scheme}://{parts.netloc}"
    return (
        "default-src 'none'; script-src 'none'; object-src 'none'; frame-src 'none'; "
        "child-src 'none'; worker-src 'none'; connect-src 'none'; form-action 'none'; "
        f"media-src 'none'; manifest-src 'none'; base-uri {base}; "
        f"style-src 'self' 'unsafe-inline'{remote}; img-src 'self' data:{remote}; "
        f"font-src data:{remote}"
    )


APP_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


# --------------------------------------------------------------------------
# inputs


@dataclass(slots=True)
class Source:
    """One page given to the app: a file (or a WARC record) or a fetched URL."""

    name: str  # shown, and in messages
    data: bytes
    url: str | None = None
    path: Path | None = None  # the input file


def _slug(text: str, default: str = "page") -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:80] or default


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".html", ".htm"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def read_url_list(path: Path) -> list[str]:
    """The ``url`` fields of a JSONL file; bad lines are reported and skipped."""
    urls = []
    for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            url = row["url"] if isinstance(row, dict) else None
        except (ValueError, KeyError):
            url = None
        if not isinstance(url, str) or urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            print(f"error: {path}:{k}: not a JSON object with an http(s) `url`", file=sys.stderr)
            continue
        urls.append(url)
    return urls


class Fetcher:
    """One polite GET a URL: robots.txt obeyed (Protego), the crawler's user
    agent, :data:`FETCH_DELAY` between requests to a host, pages up to
    ``Limits.max_bytes``."""

    def __init__(self, delay: float = FETCH_DELAY, timeout: float = FETCH_TIMEOUT) -> None:
        self.delay = delay
        self.timeout = timeout
        self.robots: dict[str, Any] = {}
        self.last: dict[str, float] = {}

    def _get(self, url: str) -> tuple[bytes, str]:
        host = urllib.parse.urlsplit(url).netloc
        wait = self.last.get(host, 0.0) + self.delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                data = resp.read(LIMITS.max_bytes + 1)
                ctype = resp.headers.get("Content-Type", "")
        finally:
            self.last[host] = time.monotonic()
        return data, ctype

    def allowed(self, url: str) -> bool:
        from protego import Protego

        parts = urllib.parse.urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        if key not in self.robots:
            try:
                body, _ = self._get(key + "/robots.txt")
                self.robots[key] = Protego.parse(body.decode("utf-8", "replace"))
            except urllib.error.HTTPError as exc:
                # as Scrapy: no robots.txt (4xx) allows all; a server error disallows all
                self.robots[key] = (
                    None if exc.code < 500 else Protego.parse("User-agent: *\nDisallow: /")
                )
            except (urllib.error.URLError, OSError):
                self.robots[key] = None
        rules = self.robots[key]
        return rules is None or bool(rules.can_fetch(url, USER_AGENT))

    def fetch(self, url: str) -> bytes:
        if not self.allowed(url):
            raise LabelError(f"{url}: robots.txt disallows it for {USER_AGENT.split()[0]}")
        try:
            data, ctype = self._get(url)
        except (urllib.error.URLError, OSError) as exc:
            raise LabelError(f"{url}: {type(exc).__name__}: {exc}") from exc
        if ctype and ctype.split(";")[0].strip().lower() not in HTML_TYPES:
            raise LabelError(f"{url}: not an HTML page (Content-Type {ctype})")
        if len(data) > LIMITS.max_bytes:
            raise LabelError(f"{url}: larger than {LIMITS.max_bytes} bytes")
        return data


def iter_sources(inputs: Iterable[str], fetcher: Fetcher | None = None) -> Iterator[Source]:
    """Pages of the inputs: HTML files, folders of them (and WARC files, as
    ``extract`` reads them), JSONL files of URLs (fetched once).  An input
    that cannot be read is reported on stderr and skipped."""
    from .sources import iter_inputs, iter_pages

    for raw in inputs:
        path = Path(raw)
        if path.is_file() and path.name.lower().endswith(".jsonl"):
            fetcher = fetcher or Fetcher()
            for url in read_url_list(path):
                try:
                    yield Source(url, fetcher.fetch(url), url=url)
                except LabelError as exc:
                    print(f"error: {exc}", file=sys.stderr)
            continue
        if not path.exists():
            print(f"error: {raw}: no such file or folder", file=sys.stderr)
            continue
        for item in iter_pages(iter_inputs([raw])):
            if item.error is not None:
                print(f"error: {item.source}: {item.error}", file=sys.stderr)
                continue
            try:
                data = item.read(LIMITS.max_bytes)
            except (OSError, EOFError) as exc:
                print(f"error: {item.source}: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
            yield Source(item.source, data, url=item.url, path=item.path)


# --------------------------------------------------------------------------
# the model the app uses


class Predictor:
    """What the app asks of a model: labels, probabilities, a version."""

    def __init__(self, model: Any, version: str) -> None:
        self.model = model
        self.labels = [str(c) for c in model.classes_]
        self.version = version

    def probabilities(self, blocks: Sequence[Block]) -> np.ndarray:
        if not len(blocks):
            return np.zeros((0, len(LABELS)))
        proba = self.model.predict_proba(blocks)
        order = [self.labels.index(lab) for lab in LABELS]
        return np.asarray(proba)[:, order]


class Refitter:
    """A quick refit of the block model: the shipped pipeline's booster on the
    data root's pages, without the calibration folds (one fit instead of
    four), a page saved in this run weighing :data:`SESSION_WEIGHT` times.
    Features are computed once a file (cached by path and modification time)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache: dict[Path, tuple[float, np.ndarray, np.ndarray]] = {}
        self.session: set[Path] = set()
        self.seconds: list[float] = []

    def fit(self) -> Predictor:
        from sklearn.pipeline import Pipeline

        from .features import BlockFeatures
        from .model import quick_block_fit, single_threaded
        from .segment import segment
        from .training import check_page, page_files

        single_threaded()
        start = time.perf_counter()
        features = BlockFeatures()
        xs, ys, ws = [], [], []
        for path in page_files(self.root):
            mtime = path.stat().st_mtime
            hit = self.cache.get(path)
            if hit is None or hit[0] != mtime:
                try:
                    page = segment(path.read_bytes(), with_labels=True)
                except (OSError, SegmentationError):
                    continue
                if check_page(path, page) or not page.blocks:
                    continue
                hit = (
                    mtime,
                    features.transform(page.blocks),
                    np.array([b.label for b in page.blocks]),
                )
                self.cache[path] = hit
            xs.append(hit[1])
            ys.append(hit[2])
            weight = SESSION_WEIGHT if path.resolve() in self.session else 1.0
            ws.append(np.full(len(hit[2]), weight))
        if not xs:
            raise LabelError(f"{self.root}: no labelled pages to refit on")
        y = np.concatenate(ys)
        if set(y) != set(LABELS):
            raise LabelError(f"{self.root}: a refit needs blocks of every label")
        booster = quick_block_fit(np.vstack(xs), y, np.concatenate(ws))
        took = time.perf_counter() - start
        self.seconds.append(took)
        logger.info("refit on %d blocks of %d pages in %.1f s", len(y), len(xs), took)
        return Predictor(
            Pipeline([("features", features), ("model", booster)]),
            f"refit-{len(self.seconds)} ({len(xs)} pages, uncalibrated)",
        )


# --------------------------------------------------------------------------
# the pages of a session


@dataclass(slots=True)
class Item:
    """One page in the app."""

    id: str
    source: Source
    site: str
    slug: str
    page: Page
    units: list[Unit]
    confidence: float = 1.0
    model_version: str = ""
    self_source: str = ""  # where self-labels came from, if any
    self_coverage: float = 0.0
    saved: str = ""  # path written in this run

    def block_labels(self, by_element: dict[int, str] | None = None) -> list[str]:
        labels = [""] * len(self.page.blocks)
        for u in self.units:
            lab = (by_element or {}).get(u.element, u.label)
            for i in u.blocks:
                labels[i] = lab
        return labels


class Session:
    """The pages, the model and the saved state of one run of the app."""

    def __init__(
        self,
        sources: Iterable[Source],
        *,
        data_root: Path,
        site: str | None = None,
        model_path: Path | None = None,
        refit: bool = False,
        offline: bool = False,
    ) -> None:
        from .extract import Extractor
        from .model import BLOCK_MODEL

        self.data_root = data_root.resolve()
        self.pages_dir = self.data_root / "pages"
        self.site = site
        self.offline = offline
        self.extractor = Extractor(model_path or BLOCK_MODEL)
        self.predictor = Predictor(self.extractor.model, self.extractor.model_version)
        self.lock = threading.RLock()
        self.items: dict[str, Item] = {}
        self.order: list[str] = []
        self.input_paths: dict[Path, str] = {}
        self.refitter = Refitter(self.data_root) if refit else None
        self.refit_state = "off" if not refit else "idle"
        self.refit_error = ""
        self._refit_wanted = False
        self._refit_thread: threading.Thread | None = None
        used: set[tuple[str, str]] = set()
        for source in sources:
            try:
                item = self._item(f"p{len(self.items)}", source, used)
            except (LabelError, SegmentationError) as exc:
                print(f"error: {source.name}: {exc}", file=sys.stderr)
                continue
            self.items[item.id] = item
            if source.path is not None:
                self.input_paths[source.path.resolve()] = item.id
        self.reorder()

    # -- building ------------------------------------------------------------
    def _site_slug(self, source: Source, used: set[tuple[str, str]]) -> tuple[str, str]:
        site = self.site
        if source.path is not None:
            parent = source.path.resolve().parent
            stem = _stem(source.path)
            if site is None and parent.parent.name == "pages":
                site = parent.name  # a training page: saved where it is
        else:
            parts = urllib.parse.urlsplit(source.url or "")
            stem = Path(parts.path.rstrip("/")).name or parts.netloc
            if site is None:
                site = parts.netloc.removeprefix("www.")
        site = _slug(site or DEFAULT_SITE, DEFAULT_SITE)
        slug, k = _slug(stem), 2
        base = slug
        while (site, slug) in used:
            slug, k = f"{base}-{k}", k + 1
        used.add((site, slug))
        return site, slug

    def _item(self, item_id: str, source: Source, used: set[tuple[str, str]]) -> Item:
        from .segment import segment

        page = segment(source.data, url=source.url, with_labels=True)
        if not page.blocks:
            raise LabelError("no text blocks to label")
        element_nodes(parse_document(source.data).tree, page)  # the frame can show it
        site, slug = self._site_slug(source, used)
        item = Item(item_id, source, site, slug, page, units_of(page))
        from_file = all(b.label in LABELS and not b.mixed for b in page.blocks)
        self._predict(item, first=True, from_file=from_file)
        return item

    def _predict(self, item: Item, *, first: bool = False, from_file: bool = False) -> None:
        """Model probabilities and pre-labels (file labels, else self-labels, else the model)."""
        from .selflabel import self_label

        page = item.page
        proba = self.predictor.probabilities(page.blocks)
        item.confidence = page_confidence(proba)
        item.model_version = self.predictor.version
        m = margins(proba)
        labels = list(LABELS)
        selfl = None
        if first:
            shipped = self.extractor.probabilities(page.blocks)
            selfl = None if from_file else self_label(page, self.extractor, shipped)
            if selfl is not None and selfl.labels:
                item.self_source, item.self_coverage = selfl.source, selfl.coverage
        for u in item.units:
            lead = max(u.blocks, key=lambda i: len(page.blocks[i].text))
            row = proba[lead]
            u.p = {lab: round(float(row[k]), 4) for k, lab in enumerate(labels)}
            u.predicted = labels[int(row.argmax())]
            u.probability = round(float(row.max()), 4)
            u.margin = round(float(m[lead]), 4)
            if first:
                if from_file:
                    u.label, u.origin = page.blocks[lead].label or "", ORIGIN_FILE
                elif selfl is not None and selfl.labels:
                    u.label, u.origin = selfl.labels[lead], ORIGIN_METADATA
                    u.metadata = selfl.from_metadata[lead]
                else:
                    u.label, u.origin = u.predicted, ORIGIN_MODEL
            elif u.origin == ORIGIN_MODEL:
                u.label = u.predicted

    def reorder(self) -> None:
        """Least confident first; pages saved in this run last."""
        with self.lock:
            self.order = sorted(
                self.items,
                key=lambda k: (bool(self.items[k].saved), self.items[k].confidence, int(k[1:])),
            )

    # -- lookups ---------------------------------------------------------------
    def out_path(self, item: Item) -> Path:
        return self.pages_dir / item.site / f"{item.slug}.html"

    def resolve_path(self, raw: str) -> Item | None:
        """The page a ``path`` names: one of the input files, or a page saved
        under the output pages folder.  Raises PermissionError for any other path."""
        if "\x00" in raw:
            raise PermissionError(raw)
        path = Path(raw).expanduser().resolve()
        hit = self.input_paths.get(path)
        if hit is not None:
            return self.items[hit]
        if not path.is_relative_to(self.pages_dir):
            raise PermissionError(raw)
        for item in self.items.values():
            if self.out_path(item).resolve() == path:
                return item
        return None

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "pages": [
                    {
                        "id": k,
                        "name": self.items[k].source.name,
                        "site": self.items[k].site,
                        "slug": self.items[k].slug,
                        "confidence": round(self.items[k].confidence, 4),
                        "unsure": sum(u.unsure for u in self.items[k].units),
                        "saved": self.items[k].saved,
                        "self_labels": self.items[k].self_source,
                    }
                    for k in self.order
                ],
                "model": self.predictor.version,
                "refit": self.refit_status(),
                "data": str(self.pages_dir),
                "labels": list(LABELS),
            }

    def page_json(self, item: Item) -> dict[str, Any]:
        with self.lock:
            if item.model_version != self.predictor.version:
                self._predict(item)
            page = item.page
            return {
                "id": item.id,
                "name": item.source.name,
                "url": item.source.url,
                "site": item.site,
                "slug": item.slug,
                "out": str(self.out_path(item)),
                "saved": item.saved,
                "confidence": round(item.confidence, 4),
                "model": item.model_version,
                "self_labels": item.self_source,
                "self_coverage": item.self_coverage,
                "unsure_margin": UNSURE_MARGIN,
                "units": [
                    {
                        "element": u.element,
                        "label": u.label,
                        "origin": u.origin,
                        "predicted": u.predicted,
                        "probability": u.probability,
                        "p": u.p,
                        "margin": u.margin,
                        "unsure": u.unsure,
                        "metadata": u.metadata,
                        "tag": page.elements.tag[u.element],
                        "text": " ".join(page.blocks[i].text for i in u.blocks)[:TEXT_PREVIEW],
                    }
                    for u in item.units
                ],
            }

    def frame(self, item: Item, origin: str) -> tuple[str, str]:
        url = item.source.url or item.page.meta.get("canonical") or item.page.meta.get("og:url")
        if not url or urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            url = None
        if self.offline:
            url = None
        return frame_html(item.source.data, url, origin), frame_csp(url, self.offline)

    # -- saving and refitting ---------------------------------------------------
    def save(self, item: Item, labels: dict[str, Any]) -> Path:
        """Save the page with ``labels`` (element index -> label) for its units."""
        elements = {u.element for u in item.units}
        by_element: dict[int, str] = {}
        for key, lab in labels.items():
            try:
                e = int(key)
            except (TypeError, ValueError):
                raise LabelError(f"{item.source.name}: {key!r} is not an element index") from None
            if e not in elements:
                raise LabelError(f"{item.source.name}: element {e} holds no block")
            if lab not in LABELS:
                raise LabelError(f"{item.source.name}: {lab!r} is not one of {', '.join(LABELS)}")
            by_element[e] = lab
        out = self.out_path(item)
        with self.lock:
            save_page(item.source.data, item.block_labels(by_element), out)
            for u in item.units:
                if u.element in by_element and by_element[u.element] != u.label:
                    u.label, u.origin = by_element[u.element], "you"
            item.saved = str(out)
            if self.refitter is not None:
                self.refitter.session.add(out.resolve())
            self.reorder()
        logger.info("saved %s", out)
        if self.refitter is not None:
            self.start_refit()
        return out

    def refit_status(self) -> dict[str, Any]:
        seconds = self.refitter.seconds if self.refitter else []
        return {
            "state": self.refit_state,
            "error": self.refit_error,
            "last_seconds": round(seconds[-1], 2) if seconds else None,
            "count": len(seconds),
        }

    def start_refit(self) -> None:
        with self.lock:
            if self._refit_thread is not None and self._refit_thread.is_alive():
                self._refit_wanted = True  # once more when this one ends
                return
            self._refit_thread = threading.Thread(target=self._refit_loop, daemon=True)
            self.refit_state = "running"
            self._refit_thread.start()

    def _refit_loop(self) -> None:
        assert self.refitter is not None
        while True:
            try:
                predictor = self.refitter.fit()
            except Exception as exc:  # a refit that fails leaves the old model in use
                logger.exception("refit failed")
                with self.lock:
                    self.refit_state, self.refit_error = "failed", f"{type(exc).__name__}: {exc}"
                return
            with self.lock:
                self.predictor = predictor
                for item in self.items.values():
                    if not item.saved:
                        self._predict(item)
                self.reorder()
                if not self._refit_wanted:
                    self.refit_state, self.refit_error = "idle", ""
                    return
                self._refit_wanted = False

    def wait_refit(self, timeout: float | None = None) -> None:
        thread = self._refit_thread
        if thread is not None:
            thread.join(timeout)


# --------------------------------------------------------------------------
# the server


def _static_files() -> dict[str, tuple[bytes, str]]:
    """The app's own files, read once: the only files the server serves by name."""
    out = {}
    for path in sorted(STATIC_DIR.iterdir()):
        kind = STATIC_TYPES.get(path.suffix)
        if kind and path.is_file():
            out[path.name] = (path.read_bytes(), kind)
    return out


class LabelServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, session: Session, port: int = 0) -> None:
        self.session = session
        self.token = secrets.token_urlsafe(24)
        self.static = _static_files()
        super().__init__((HOST, port), LabelHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"


class LabelHandler(BaseHTTPRequestHandler):
    server: LabelServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.address_string(), *args)

    # -- replies -----------------------------------------------------------------
    def reply(
        self,
        status: int,
        body: bytes | str,
        kind: str = "text/plain; charset=utf-8",
        csp: str = APP_CSP,
    ) -> None:
        data = body.encode("utf-8", "replace") if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Security-Policy", csp)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def reply_json(self, value: Any, status: int = HTTPStatus.OK) -> None:
        self.reply(status, json.dumps(value, ensure_ascii=False), "application/json")

    def refuse(self, status: int, why: str) -> None:
        self.reply(status, f"{status} {why}\n")

    # -- checks -------------------------------------------------------------------
    def host_ok(self) -> bool:
        host = (self.headers.get("Host") or "").lower()
        port = self.server.port
        return host in (f"{HOST}:{port}", f"localhost:{port}")

    def origin_ok(self) -> bool:
        origin = self.headers.get("Origin")
        allowed = (self.server.origin, f"http://localhost:{self.server.port}")
        return (origin is None or origin in allowed) and secrets.compare_digest(
            self.headers.get("X-Label-Token", ""), self.server.token
        )

    def item(self, item_id: str) -> Item | None:
        return self.server.session.items.get(item_id)

    # -- routes -------------------------------------------------------------------
    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if not self.host_ok():
            return self.refuse(HTTPStatus.FORBIDDEN, "unknown Host")
        parts = urllib.parse.urlsplit(self.path)
        route = parts.path
        query = urllib.parse.parse_qs(parts.query)
        session = self.server.session
        if route in ("/", "/index.html"):
            page = self.server.static["index.html"][0].decode("utf-8")
            page = page.replace("__TOKEN__", html.escape(self.server.token, quote=True))
            return self.reply(HTTPStatus.OK, page, "text/html; charset=utf-8")
        if route.startswith("/static/"):
            hit = self.server.static.get(route.removeprefix("/static/"))
            if hit is None or route.count("/") != 2:
                return self.refuse(HTTPStatus.NOT_FOUND, "not found")
            return self.reply(HTTPStatus.OK, hit[0], f"{hit[1]}; charset=utf-8")
        if route == "/api/pages":
            return self.reply_json(session.summary())
        if route == "/api/page" or route.startswith("/api/page/"):
            item = self._item_of(route.removeprefix("/api/page").strip("/"), query)
            if item is None:
                return None
            return self.reply_json(session.page_json(item))
        if route.startswith("/frame/"):
            item = self.item(route.removeprefix("/frame/"))
            if item is None:
                return self.refuse(HTTPStatus.NOT_FOUND, "no such page")
            try:
                body, csp = session.frame(item, self.server.origin)
            except (LabelError, SegmentationError) as exc:
                return self.refuse(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc))
            return self.reply(HTTPStatus.OK, body, "text/html; charset=utf-8", csp)
        return self.refuse(HTTPStatus.NOT_FOUND, "not found")

    def _item_of(self, item_id: str, query: dict[str, list[str]]) -> Item | None:
        """The page a request names, by id or by ``path``; refuses otherwise."""
        if "path" in query:
            try:
                item = self.server.session.resolve_path(query["path"][0])
            except (PermissionError, OSError, ValueError):
                self.refuse(HTTPStatus.FORBIDDEN, "path outside the inputs and the pages folder")
                return None
        else:
            item = self.item(item_id)
        if item is None:
            self.refuse(HTTPStatus.NOT_FOUND, "no such page")
        return item

    def do_POST(self) -> None:
        if not self.host_ok():
            return self.refuse(HTTPStatus.FORBIDDEN, "unknown Host")
        if not self.origin_ok():
            return self.refuse(HTTPStatus.FORBIDDEN, "missing or wrong token")
        route = urllib.parse.urlsplit(self.path).path
        if not route.startswith("/api/save/"):
            return self.refuse(HTTPStatus.NOT_FOUND, "not found")
        item = self.item(route.removeprefix("/api/save/"))
        if item is None:
            return self.refuse(HTTPStatus.NOT_FOUND, "no such page")
        try:
            size = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            size = -1
        if not 0 < size <= MAX_POST_BYTES:
            return self.refuse(HTTPStatus.BAD_REQUEST, "a JSON body is needed")
        try:
            body = json.loads(self.rfile.read(size))
            labels = body["labels"]
            if not isinstance(labels, dict):
                raise TypeError("labels is not an object")
        except (ValueError, KeyError, TypeError) as exc:
            return self.reply_json({"ok": False, "errors": [f"bad request: {exc}"]}, 400)
        try:
            out = self.server.session.save(item, labels)
        except LabelError as exc:
            return self.reply_json({"ok": False, "errors": str(exc).splitlines()}, 422)
        self.reply_json({"ok": True, "path": str(out), "refit": self.server.session.refit_status()})


def serve(
    session: Session,
    port: int = 0,
    *,
    open_browser: bool = True,
    ready: Callable[[LabelServer], None] | None = None,
) -> None:
    """Run the app until Ctrl-C."""
    server = LabelServer(session, port)
    url = server.origin + "/"
    print(f"labelling {len(session.items)} page(s) at {url}  (Ctrl-C to stop)", flush=True)
    if ready is not None:
        ready(server)
    if open_browser:
        try:
            webbrowser.open(url)
        except webbrowser.Error:
            pass
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    finally:
        server.server_close()


# --------------------------------------------------------------------------
# --auto


@dataclass(slots=True)
class AutoResult:
    written: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (page, reason)


def auto_label(
    sources: Iterable[Source],
    data_root: Path,
    site: str | None = None,
    model_path: Path | None = None,
) -> AutoResult:
    """Write the pages whose own metadata labels them (:mod:`classifier.selflabel`):
    alignment coverage at least ``MIN_COVERAGE``, little story text outside
    it, and the page passing check-data."""
    from .selflabel import MAX_UNHELD, MIN_COVERAGE, self_label

    session = Session([], data_root=data_root, site=site, model_path=model_path)
    result = AutoResult()
    used: set[tuple[str, str]] = set()
    for source in sources:
        try:
            from .segment import segment

            page = segment(source.data, url=source.url)
            labels = None
            found = self_label(page, session.extractor) if page.blocks else None
            if found is None:
                reason = "no JSON-LD articleBody or itemprop=articleBody"
            elif not found.labels or found.coverage < MIN_COVERAGE:
                reason = (
                    f"{found.source} alignment covers {found.coverage:.0%} "
                    f"(needs {MIN_COVERAGE:.0%})"
                )
            elif found.unheld > MAX_UNHELD * found.article_chars:
                reason = (
                    f"the model keeps {found.unheld} characters of story that the "
                    f"{found.source} lacks (a truncated body?)"
                )
            else:
                labels, reason = unit_labels(page, found.labels), ""
            if labels is None:
                result.skipped.append((source.name, reason))
                continue
            site_name, slug = session._site_slug(source, used)
            out = data_root / "pages" / site_name / f"{slug}.html"
            save_page(source.data, labels, out)
            result.written.append(out)
        except (LabelError, SegmentationError) as exc:
            first = str(exc).splitlines()[0]
            result.skipped.append((source.name, f"check-data: {first}"))
    return result


# --------------------------------------------------------------------------
# command line


def add_parser(sub: Any) -> None:
    """Register ``label`` on the command line's subparsers."""
    p = sub.add_parser(
        "label",
        help="label pages in the browser (or --auto from their own metadata) as training data",
        description="A local web app (127.0.0.1) to label blocks of pages; saves them in the "
        "training-data format to DATA/pages/SITE/SLUG.html.",
    )
    p.add_argument(
        "inputs",
        nargs="+",
        help="HTML files (.html, .htm, .html.gz), folders of them, or JSONL files of URLs "
        "(field `url`, fetched once, robots.txt obeyed)",
    )
    p.add_argument(
        "--site",
        help="the site (layout folder) to save under (default: the input's layout folder, "
        "the URL's host, or new-site)",
    )
    p.add_argument("--data", help="training data folder to save into (default: training_data/)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--model", help="block model file (default: the shipped one)")
    p.add_argument(
        "--refit",
        action="store_true",
        help="after each save, refit the model in the background (uncalibrated, about a "
        "minute on the shipped data) and pre-label the next pages with it",
    )
    p.add_argument(
        "--offline",
        action="store_true",
        help="load no styles or images from the pages' sites (the frame shows bare markup)",
    )
    p.add_argument(
        "--auto",
        action="store_true",
        help="no app: write the pages whose JSON-LD articleBody (or itemprop=articleBody) "
        "labels them, and say which were skipped and why",
    )
    p.set_defaults(func=cmd_label)


def cmd_label(args: argparse.Namespace) -> int:
    from .training import TRAINING_DIR

    root = Path(args.data) if args.data else TRAINING_DIR
    model = Path(args.model) if args.model else None
    sources = iter_sources(args.inputs)
    if args.auto:
        result = auto_label(sources, root, args.site, model)
        for path in result.written:
            print(f"wrote {path}")
        for name, reason in result.skipped:
            print(f"skipped {name}: {reason}")
        print(f"{len(result.written)} written, {len(result.skipped)} skipped")
        return 0 if result.written or not result.skipped else 1
    session = Session(
        sources,
        data_root=root,
        site=args.site,
        model_path=model,
        refit=args.refit,
        offline=args.offline,
    )
    if not session.items:
        print("error: no page to label", file=sys.stderr)
        return 1
    serve(session, args.port, open_browser=not args.no_browser)
    return 0

"""Block features, computed per page in bulk.

Feature families (all language-independent: lengths are counted in
characters beside words, so scripts without spaces work):

- shallow text features: word and character counts, average word and
  sentence length, punctuation, digit and upper-case ratios, text density and
  link density (Kohlschütter, Frankhauser & Nejdl, "Boilerplate detection
  using shallow text features", WSDM 2010);
- structure: the block's tag, inherited semantic containers (article, main,
  aside, nav, header, footer, itemprop=articleBody, role=...), depth;
- class/id tokens of the block and its ancestors, counted by family
  (content / teaser / chrome stems in :mod:`classifier.vocab`) and hashed;
- main container: the share of the page's prose under the block's
  ancestors, and whether the block sits in the deepest element holding most
  of the page's prose;
- page context: relative position, runs of blocks of the same shape (a
  teaser list), similarity to the page's headline, overlap with a JSON-LD
  ``articleBody``, and the features of the previous and next blocks.

:func:`text_features` is the pure per-block function; :func:`page_matrix`
computes every block of one page at once; :class:`BlockFeatures` is the
scikit-learn transformer over sequences of blocks.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from . import vocab
from .segment import Page, clean_title

PUNCTUATION = ",.;:!?\"'()[]{}|/-–—«»“”‘’„·•।。，、！？：；（）《》"
DIGITS = "0123456789०१२३४५६७८९০১২৩৪৫৬৭৮৯"
# str.translate tables that delete a character class: len(text) minus the
# translated length counts that class in one C-level pass
DEL_PUNCT = str.maketrans("", "", PUNCTUATION)
DEL_DIGITS = str.maketrans("", "", DIGITS)
DEL_SENT_END = str.maketrans("", "", vocab.SENTENCE_END)
# one CJK character, or a run of letters/digits in any other script
CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
TOKEN = re.compile(f"[{CJK_CLASS}]|[^\\W_]+")
CJK_CHAR = re.compile(f"[{CJK_CLASS}]")  # one CJK character
# for story sizes, a CJK character counts as this many characters of a spaced
# script: about a word is 2 characters in Japanese or Chinese, 6 in English
CJK_CHAR_WEIGHT = 3


def context_names(offsets: Sequence[int], sources: Sequence[str]) -> tuple[str, ...]:
    """Column names of :func:`add_context`: ``prev2_x``, ``next1_y``..."""
    return tuple(
        f"{'prev' if off < 0 else 'next'}{abs(off)}_{name}" for off in offsets for name in sources
    )


WRAP_WIDTH = 80  # Kohlschütter's line width for text density
HASH_BUCKETS = 16  # hashed class/id tokens of the block's element and parents
PROSE_MIN_CHARS = 25  # a block counts as prose from this length...
PROSE_MAX_LINK_DENSITY = 0.35  # ...when at most this share is link text
MAIN_SHARE = 0.6  # the main container holds at least this share of prose
# blocks up to this long are compared with the headline (a headline is short;
# token sets of long blocks cost time and never match it)
TITLE_SIM_MAX_CHARS = 400
# memo tables of class/id tokens: bounded, so a crawl of millions of pages
# with ever new class names cannot grow them without end
TOKEN_CACHE_SIZE = 200_000
ELEMENT_CACHE_SIZE = 100_000

TEXT_FEATURES = (
    "n_chars",
    "n_words",
    "avg_word_len",
    "n_sentences",
    "avg_sentence_len",
    "punct_ratio",
    "digit_ratio",
    "upper_ratio",
    "text_density",
    "link_density",
    "n_links",
    "ends_ellipsis",
    "ends_sentence",
    "starts_digit",
)
TAGS = (
    "p",
    "div",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "tr",
    "figcaption",
    "blockquote",
    "dd",
    "dt",
    "td",
    "pre",
    "section",
    "body",
)
_TAG_INDEX = {t: i for i, t in enumerate(TAGS)}
_TAG_INDEX.update(
    {
        "h5": _TAG_INDEX["h4"],
        "h6": _TAG_INDEX["h4"],
        "article": _TAG_INDEX["section"],
        "main": _TAG_INDEX["section"],
        "aside": _TAG_INDEX["section"],
        "header": _TAG_INDEX["section"],
        "footer": _TAG_INDEX["section"],
        "nav": _TAG_INDEX["section"],
        "html": _TAG_INDEX["body"],
    }
)
FAMILIES = tuple(vocab.TOKEN_FAMILIES)
STRUCT_FEATURES = (
    *(f"tag_{t}" for t in TAGS),
    "tag_other",
    *(f"in_{c}" for c in vocab.CONTAINER_FLAGS),
    "depth",
    "main_depth_delta",
    *(f"own_{f}" for f in FAMILIES),
    *(f"anc_{f}" for f in FAMILIES),
    *(f"hash_{i}" for i in range(HASH_BUCKETS)),
)
PAGE_FEATURES = (
    "position",
    "char_position",
    "in_main_text",
    "main_share",
    "prose_share_1",
    "prose_share_2",
    "prose_share_3",
    "local_prose_density",
    "is_prose",
    "path_count",
    "sibling_blocks",
    "sibling_link_density",
    "title_sim",
    "title_exact",
    "body_overlap",
    "page_blocks",
    "page_log_chars",
)
CONTEXT_SOURCES = (
    "link_density",
    "n_chars",
    "is_prose",
    "in_main_text",
    "ends_ellipsis",
    "tag_p",
    "tag_li",
    "title_sim",
    "prose_share_1",
)
CONTEXT_OFFSETS = (-2, -1, 1, 2)
BASE_FEATURES = TEXT_FEATURES + STRUCT_FEATURES + PAGE_FEATURES
FEATURE_NAMES = BASE_FEATURES + context_names(CONTEXT_OFFSETS, CONTEXT_SOURCES)
_COL = {name: i for i, name in enumerate(BASE_FEATURES)}
_CONTEXT_COLS = [_COL[n] for n in CONTEXT_SOURCES]
_N_TEXT = len(TEXT_FEATURES)
_N_STRUCT = len(STRUCT_FEATURES)


def tokens(text: str) -> list[str]:
    """Word tokens for any script: runs of letters/digits, single CJK characters."""
    return TOKEN.findall(text.casefold())


def story_chars(text: str) -> int:
    """The size of a text as characters of a spaced script, so that size limits
    treat scripts without spaces fairly (:data:`CJK_CHAR_WEIGHT`)."""
    return len(text) + (CJK_CHAR_WEIGHT - 1) * len(CJK_CHAR.findall(text))


def text_features(text: str, link_chars: int = 0, n_links: int = 0) -> tuple[float, ...]:
    """Shallow text features of one block, in :data:`TEXT_FEATURES` order."""
    n_chars = len(text)
    words = text.split()
    n_words = max(len(words), 1)
    n_sent = n_chars - len(text.translate(DEL_SENT_END))
    n_punct = n_chars - len(text.translate(DEL_PUNCT))
    n_digits = n_chars - len(text.translate(DEL_DIGITS))
    upper = sum(1 for w in words if w[:1].isupper())
    lines = max(1, -(-n_chars // WRAP_WIDTH))
    last = text[-1:] if text else ""
    return (
        n_chars,
        len(words),
        n_chars / n_words,
        n_sent,
        n_chars / max(n_sent, 1),
        n_punct / max(n_chars, 1),
        n_digits / max(n_chars, 1),
        upper / n_words,
        len(words) / lines,
        link_chars / max(n_chars, 1),
        n_links,
        float(text.endswith(vocab.ELLIPSIS)),
        float(last in vocab.SENTENCE_END),
        float(text[:1].isdigit()),
    )


_FAMILY_CACHE: dict[str, tuple[int, ...]] = {}
_HASH_CACHE: dict[str, int] = {}


def _families(token: str) -> tuple[int, ...]:
    hit = _FAMILY_CACHE.get(token)
    if hit is None:
        hit = tuple(int(token.startswith(vocab.TOKEN_FAMILIES[f])) for f in FAMILIES)
        if len(_FAMILY_CACHE) < TOKEN_CACHE_SIZE:
            _FAMILY_CACHE[token] = hit
    return hit


def _bucket(token: str) -> int:
    hit = _HASH_CACHE.get(token)
    if hit is None:
        hit = zlib.crc32(token.encode()) % HASH_BUCKETS
        if len(_HASH_CACHE) < TOKEN_CACHE_SIZE:
            _HASH_CACHE[token] = hit
    return hit


_OWN_CACHE: dict[tuple[str, ...], tuple[int, ...]] = {}


def _own_families(toks: tuple[str, ...]) -> tuple[int, ...]:
    """Token-family counts of one element's class/id tokens (memoised)."""
    hit = _OWN_CACHE.get(toks)
    if hit is None:
        counts = [0] * len(FAMILIES)
        for tok in toks:
            for k, flag in enumerate(_families(tok)):
                counts[k] += flag
        hit = tuple(counts)
        if len(_OWN_CACHE) < ELEMENT_CACHE_SIZE:
            _OWN_CACHE[toks] = hit
    return hit


def _inherited(
    e: int, parent: list[int], own: list[tuple[int, ...]], memo: dict[int, tuple[int, ...]]
) -> tuple[int, ...]:
    """Family counts summed over an element and all its ancestors."""
    chain = []
    while e >= 0 and e not in memo:
        chain.append(e)
        e = parent[e]
    acc = memo[e] if e >= 0 else (0,) * len(FAMILIES)
    for i in reversed(chain):
        acc = tuple(a + b for a, b in zip(acc, own[i], strict=True)) if own[i] != _ZERO else acc
        memo[i] = acc
    return acc


_ZERO = (0,) * len(FAMILIES)


def _element_tables(page: Page) -> tuple[list[tuple[int, ...]], list[float], list[float]]:
    """Per element: own token-family counts, prose and character totals.

    Plain lists: these loops touch every element, and numpy scalar access
    would cost more than the arithmetic.
    """
    el = page.elements
    n = len(el.tag)
    own = [_own_families(t) if t else _ZERO for t in el.tokens]
    prose = [0.0] * n
    chars = [0.0] * n
    for b in page.blocks:
        size = len(b.text)
        chars[b.element] += size
        if size >= PROSE_MIN_CHARS and b.link_chars <= PROSE_MAX_LINK_DENSITY * size:
            prose[b.element] += size - b.link_chars
    parent = el.parent
    for i in range(n - 1, 0, -1):
        if chars[i]:
            p = parent[i]
            prose[p] += prose[i]
            chars[p] += chars[i]
    return own, prose, chars


def _main_container(el_depth: list[int], prose: list[float]) -> int:
    """The deepest element holding at least MAIN_SHARE of the page's prose."""
    total = max(prose, default=0.0)
    if total <= 0:
        return -1
    best, best_depth = -1, -1
    for i, value in enumerate(prose):
        if value >= MAIN_SHARE * total and el_depth[i] > best_depth:
            best, best_depth = i, el_depth[i]
    return best


def _title_sim(block_tokens: set[str], title_tokens: set[str]) -> float:
    if not block_tokens or not title_tokens:
        return 0.0
    shared = len(block_tokens & title_tokens)
    return shared / max(len(title_tokens), len(block_tokens))


def page_matrix(page: Page) -> np.ndarray:
    """The feature matrix of every block of one page (rows in block order)."""
    cached = page.cache.get("features")
    if cached is not None:
        return cached
    blocks = page.blocks
    n = len(blocks)
    X = np.zeros((n, len(FEATURE_NAMES)))
    if n == 0:
        page.cache["features"] = X
        return X
    el = page.elements
    own, prose, chars = _element_tables(page)
    main = _main_container(el.depth, prose)
    total_prose = max(max(prose), 1.0)
    total_chars = max(max(chars), 1.0)
    headline = clean_title(page.headline)
    title_tokens = set(tokens(headline)) if headline else set()
    title_norm = headline.casefold().strip()
    body = page.article_body
    body_tokens = set(tokens(body)) if body else None
    paths = Counter(b.path for b in blocks)
    # blocks sharing a parent element: a list's items, a grid's cards
    sib_count: Counter[int] = Counter()
    sib_chars: Counter[int] = Counter()
    sib_links: Counter[int] = Counter()
    for b in blocks:
        p = el.parent[b.element]
        sib_count[p] += 1
        sib_chars[p] += len(b.text)
        sib_links[p] += b.link_chars
    flag_items = tuple(vocab.CONTAINER_FLAGS.values())
    n_tags = len(TAGS) + 1
    memo: dict[int, tuple[int, ...]] = {}
    parent = el.parent
    main_depth = el.depth[main] if main >= 0 else 0
    main_end = el.end[main] if main >= 0 else -1
    main_share = prose[main] / total_prose if main >= 0 else 0.0
    log_chars = float(np.log1p(total_chars))
    rows = []
    cum = 0
    for b in blocks:
        e = b.element
        text = b.text
        size = len(text)
        tag_onehot = [0.0] * n_tags
        tag_onehot[_TAG_INDEX.get(b.tag, len(TAGS))] = 1.0
        flags = el.flags[e]
        in_main = main >= 0 and main <= e <= main_end
        p = parent[e]
        hashed = [0.0] * HASH_BUCKETS
        for tok in el.tokens[e]:
            hashed[_bucket(tok)] += 1.0
        if p >= 0:
            for tok in el.tokens[p]:
                hashed[_bucket(tok)] += 1.0
        c1 = p if p >= 0 else e
        c2 = parent[c1] if parent[c1] >= 0 else c1
        c3 = parent[c2] if parent[c2] >= 0 else c2
        short = size < TITLE_SIM_MAX_CHARS
        btoks = set(tokens(text)) if short or body_tokens is not None else set()
        is_prose = size >= PROSE_MIN_CHARS and b.link_chars <= PROSE_MAX_LINK_DENSITY * size
        rows.append(
            [
                *text_features(text, b.link_chars, b.n_links),
                *tag_onehot,
                *[1.0 if flags & f else 0.0 for f in flag_items],
                el.depth[e],
                (el.depth[e] - main_depth) if in_main else -1.0,
                *own[e],
                *_inherited(e, parent, own, memo),
                *hashed,
                b.index / n,
                cum / total_chars,
                float(in_main),
                main_share,
                prose[c1] / total_prose,
                prose[c2] / total_prose,
                prose[c3] / total_prose,
                prose[c2] / max(chars[c2], 1.0),
                float(is_prose),
                paths[b.path],
                sib_count[p],
                sib_links[p] / max(sib_chars[p], 1),
                _title_sim(btoks, title_tokens) if short else 0.0,
                float(bool(title_norm) and text.casefold().strip() == title_norm),
                (len(btoks & body_tokens) / len(btoks) if btoks else 0.0)
                if body_tokens is not None
                else -1.0,
                n,
                log_chars,
            ]
        )
        cum += size
    X[:, : len(BASE_FEATURES)] = rows
    add_context(X, _CONTEXT_COLS, CONTEXT_OFFSETS, len(BASE_FEATURES))
    page.cache["features"] = X
    return X


def add_context(X: np.ndarray, sources: list[int], offsets: Sequence[int], start: int) -> None:
    """Copy the ``sources`` columns of the units ``offsets`` away into each row.

    Written in place from column ``start`` on, one group of ``len(sources)``
    columns per offset; a unit with no neighbour there gets -1.  Shared by
    the block and the line features.
    """
    n = len(X)
    src = X[:, sources]
    width = len(sources)
    for k, off in enumerate(offsets):
        shifted = np.full((n, width), -1.0)  # no neighbour there
        if off < 0 and n > -off:
            shifted[-off:] = src[:off]
        elif off > 0 and n > off:
            shifted[:-off] = src[off:]
        X[:, start + k * width : start + (k + 1) * width] = shifted


class DocumentFeatures(TransformerMixin, BaseEstimator):
    """A stateless transformer over units (blocks, lines) that know their document.

    Each document's matrix is computed once, in bulk, whatever order its
    units arrive in.  Subclasses name the document attribute of a unit, the
    unit list of a document, the matrix function and the feature names.
    """

    doc_attr = ""
    units_attr = ""
    feature_names: tuple[str, ...] = ()

    def matrix(self, doc: Any) -> np.ndarray:
        """The feature matrix of one whole document."""
        raise NotImplementedError

    def fit(self, X: Sequence[Any], y: object = None) -> DocumentFeatures:
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True  # stateless: nothing is learned

    def transform(self, X: Sequence[Any]) -> np.ndarray:
        doc = getattr(X[0], self.doc_attr) if len(X) else None
        if doc is not None:
            units = getattr(doc, self.units_attr)
            if len(X) == len(units) and all(a is b for a, b in zip(X, units, strict=True)):
                return self.matrix(doc)  # the common case: one whole document
        out = np.empty((len(X), len(self.feature_names)))
        for i, unit in enumerate(X):
            owner = getattr(unit, self.doc_attr)
            if owner is None:
                raise ValueError(f"{type(unit).__name__} {unit.text[:40]!r} has no document")
            out[i] = self.matrix(owner)[unit.index]
        return out

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(self.feature_names, dtype=object)


class BlockFeatures(DocumentFeatures):
    """Blocks (which carry their ``page``) to the :data:`FEATURE_NAMES` matrix."""

    doc_attr = "page"
    units_attr = "blocks"
    feature_names = FEATURE_NAMES

    def matrix(self, doc: Any) -> np.ndarray:
        return page_matrix(doc)

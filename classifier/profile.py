"""Site profiles: what repeats across a site's pages, as evidence for the model.

A site's menus, share bars, newsletter prompts and widget headings stand on
every page; its stories stand on one.  A :class:`SiteProfile` records, for
every block of every page of one site:

- a fingerprint of the block's normalised text (case folded, white space
  collapsed; digits kept, so that date and time lines, which are the
  story's own, differ from page to page);
- a fingerprint of its DOM path with volatile parts removed (digit runs in
  class and id tokens: ``post-1234``);
- a fingerprint of the two together (the same text at the same place);
- for each, on how many distinct pages of the site it stood; for each path
  the block model's mean P(article) there (a site's story paragraphs sit at
  the same few paths on every page), and the same for each text (a story's
  text is its own page's: text the block model keeps as story on *other*
  pages is template prose).

It stores counts, never text, in count-min sketches (Cormode and
Muthukrishnan, 2005) of a fixed size, :data:`TEXT_WIDTH` and
:data:`PATH_WIDTH` cells in each of :data:`DEPTH` rows: 1.19 MiB a site
whatever the number of pages (``make bench`` reports it for 10,000 pages of
one site).  Collisions only ever add to a cell; text counts are read with
count-mean-min (each row's cell less its typical load), which stays close to
the true count as a site grows, where count-min alone would drift upward.
Counts are integer sums (P(article) is added in thousandths), so a profile
is the same whatever order its pages were added in.

:func:`site_matrix` turns a page's blocks, their first-stage probabilities
and the profile into the second-stage features (:data:`SITE_FEATURES`).
The page's own contribution is always taken out (leave-one-out): the profile
must hold the page, and the features describe the *other* pages of its site.
Training computes them the same way, from the other pages of a layout
folder of ``training_data/pages/`` and ``training_data/sites/`` (the
latter's folders also in halves, for the evidence of smaller samples):
:func:`classifier.training.site_rows`.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xxhash
from sklearn.base import BaseEstimator, TransformerMixin

from .lines import Dump
from .segment import Page

# a profile is used once its site has this many pages (the page itself
# included); before that a page is classified by the block model alone
MIN_PAGES = 8
DEPTH = 4  # rows of each sketch: 16 bits of a 64-bit fingerprint each
TEXT_WIDTH = 1 << 15  # cells a row for text and path+text fingerprints
PATH_WIDTH = 1 << 12  # cells a row for paths (a template has few)
P_SCALE = 1000  # P(article) is summed in thousandths: integer, order-free sums
NEAR = 2  # blocks either side that count as a block's neighbourhood
AFTER = 6  # units after a unit that count as what it leads into
FORMAT = 5  # the saved format's version (4: text openings; 5: text-at-path keys combined)
NOISE_SAMPLE = 32  # a sketch row's typical load is read from every 32nd cell

SITE_FEATURES = (
    "p_article",  # the block model's probabilities (out-of-fold in training)
    "p_teaser",
    "text_share",  # share of the site's other pages showing this text
    "pathtext_share",  # ... this text at this path
    "path_share",  # ... this path
    "path_p_article",  # mean P(article) at this path on the other pages (NaN: unseen)
    "path_p_gap",  # path_p_article - p_article
    "near_template",  # highest pathtext_share of the NEAR blocks either side
    "log_chars",
    "log_pages",  # log of the number of other pages
    "page_template_share",  # share of the page's characters in repeated (path, text)
    "text_pages",  # log(1 + other pages showing this text): three pages are evidence
    "pathtext_pages",  # ... this text at this path, on a site of any size
    "first_kept",  # the first stage's own decision rule kept it (smoothing included)
    "prev_kept",
    "next_kept",
    "prev_p_article",
    "next_p_article",
    # mean P(article) the block model gave this text on the other pages that
    # show it (NaN: none): a story's text is its own page's, so text kept as
    # story elsewhere is template prose; a lede quoted by teasers elsewhere is not
    "text_p_article",
    # share of the characters of the NEAR units either side whose text no
    # other page shows: a story's headline and lede, quoted by teasers all over
    # the site, stand next to its own paragraphs; their quotes, next to quotes
    "near_unique",
    # the same over the AFTER units that follow: a story's headline and byline
    # lead into its own paragraphs, a teaser's quote into other quotes
    "after_unique",
    "prefix_share",  # share of the site's other pages showing a text opening as this one's
)
# P(article) from the site stage needed to keep a unit: the stage has learned
# the context (it sees the first stage's smoothed decision and the neighbours),
# so its calibrated probability is used as it is, without smoothing again
SITE_THRESHOLD = 0.5

# the site stage's two classes: in the story or not (teaser and chrome keep
# the block model's proportions between them)
SITE_LABELS = ("article", "noise")
# monotonic constraints of the site stage, by feature (1: never lowers
# P(article), -1: never raises it).  None: constraining pathtext_share and
# pathtext_pages to -1 (and p_article to +1) let more template lines through
# on tests/data/sites, for blocks and lines alike
SITE_MONOTONIC: dict[str, int] = {}

_DIGITS = re.compile(r"\d+")


def normal_text(text: str) -> str:
    """Text as fingerprinted: case folded, white space collapsed (``str.split``
    and the regex ``\\s`` know the same white space: ``str.isspace``)."""
    return " ".join(text.casefold().split())


def normal_path(path: str) -> str:
    """A DOM path without its volatile parts: digit runs in tokens as ``0``."""
    return _DIGITS.sub("0", path)


_ZEROS = bytes.maketrans(b"123456789", b"000000000")


def _normal_path_bytes(path: str) -> bytes:
    """``normal_path(path)`` encoded, byte for byte; an ASCII path (nearly
    all are) without the regex, which costs ten times the hash: its digits
    as zeros, then each run of zeros as one."""
    if not path.isascii():
        return normal_path(path).encode("utf-8", "surrogatepass")
    out = path.encode("ascii").translate(_ZEROS)
    while b"00" in out:
        out = out.replace(b"00", b"0")
    return out


# a fingerprint is XXH3's 64 bits (five times quicker than blake2b here, and
# as well spread for a sketch); each kind of key is its own seeded stream
TEXT_SEED, PATH_SEED, PREFIX_SEED = 1, 3, 4
# a text at a path is the two fingerprints combined, not a third hash of the
# two strings joined: splitmix64's finaliser (Steele et al., 2014) over the
# text's fingerprint xor the path's times an odd constant (a bijection of
# that value, so as well spread as its inputs)
_MIX_PATH = np.uint64(0x9E3779B97F4A7C15)
_MIX_1, _MIX_2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
# a longer text's opening, fingerprinted too: a box repeated with a word or a
# button more on some pages (an in-story newsletter prompt with its "Sign up"
# link run into the line) still shows as repeated
PREFIX_CHARS = 48
# DOM paths, normalised and fingerprinted, remembered: a site's pages share
# their few hundred paths, and normalising costs more than the lookup.  Only
# paths of up to PATH_CACHE_CHARS characters (nearly all: 176 on average over
# the corpora) are kept, so the cache holds at most about 8 MiB of them
# whatever a hostile page nests
PATH_CACHE = 1 << 14
PATH_CACHE_CHARS = 512


def _fingerprint(seed: int, value: str) -> int:
    return xxhash.xxh3_64_intdigest(value.encode("utf-8", "surrogatepass"), seed)


def _path_fingerprint(raw: str) -> int:
    if len(raw) > PATH_CACHE_CHARS:
        return _path_hash(raw)
    return _cached_path_hash(raw)


def _path_hash(raw: str) -> int:
    return xxhash.xxh3_64_intdigest(_normal_path_bytes(raw), PATH_SEED)


_cached_path_hash = functools.lru_cache(maxsize=PATH_CACHE)(_path_hash)


def _combine(text: np.ndarray, path: np.ndarray) -> np.ndarray:
    """The fingerprints of texts at paths, from the two (uint64 arrays)."""
    z = text ^ (path * _MIX_PATH)
    z = (z ^ (z >> np.uint64(30))) * _MIX_1
    z = (z ^ (z >> np.uint64(27))) * _MIX_2
    return z ^ (z >> np.uint64(31))


def _cells(fingerprints: np.ndarray, width: int) -> np.ndarray:
    """(len, DEPTH) cell indices: row r takes bits 16r..16r+15 of each fingerprint."""
    fp = np.asarray(fingerprints, dtype=np.uint64).reshape(-1, 1)
    shifts = np.arange(DEPTH, dtype=np.uint64) * np.uint64(16)
    return ((fp >> shifts) & np.uint64(width - 1)).astype(np.intp)


@dataclass(slots=True)
class PageKeys:
    """One page's fingerprints, computed once: per block, and each distinct
    one once (a page counts once for a key however often it shows it)."""

    text: np.ndarray  # (n_blocks, DEPTH) cells in the text sketch
    pathtext: np.ndarray
    prefix: np.ndarray  # ... of the text's first PREFIX_CHARS characters
    path: np.ndarray  # (n_blocks, DEPTH) cells in the path sketch
    path_of: np.ndarray  # per block: index into the page's distinct paths
    keys_of: np.ndarray  # per block, its text, path+text and prefix keys: indices into text_cells
    text_cells: np.ndarray  # distinct text, path+text and prefix keys: (k, DEPTH)
    path_cells: np.ndarray  # distinct paths: (m, DEPTH)
    chars: np.ndarray  # characters per block

    @classmethod
    def of(cls, page: Page) -> PageKeys:
        """The keys of a page's blocks: their text, DOM path and both."""
        return cls.from_units([b.text for b in page.blocks], [b.path for b in page.blocks])

    @classmethod
    def of_dump(cls, dump: Dump) -> PageKeys:
        """The keys of a flattened page's lines.  A line has no DOM path: its
        place is the line before it, so the first item under a fixed heading
        keeps its place while its text rotates, and a menu repeats as a whole."""
        texts = [ln.text for ln in dump.lines]
        return cls.from_units(texts, ["\x01" + normal_text(t) for t in ["", *texts[:-1]]])

    @classmethod
    def from_units(cls, unit_texts: Sequence[str], unit_paths: Sequence[str]) -> PageKeys:
        """Keys of units whose texts are white-space collapsed, as
        :class:`~classifier.segment.Block` and :class:`~classifier.lines.Line`
        texts are (``" ".join(text.split())``)."""
        n = len(unit_texts)
        # normal_text, for texts already white-space collapsed (a block's and a
        # line's are), is casefold alone: no character's case folding is white space
        normal = [text.casefold() for text in unit_texts]
        xxh3, seed = xxhash.xxh3_64_intdigest, TEXT_SEED
        texts = np.fromiter(
            (xxh3(t.encode("utf-8", "surrogatepass"), seed) for t in normal), np.uint64, n
        )
        # sibling blocks share a path: each distinct one is fingerprinted once
        path_fp = {raw: _path_fingerprint(raw) for raw in dict.fromkeys(unit_paths)}
        paths = np.fromiter((path_fp[raw] for raw in unit_paths), np.uint64, n)
        pathtexts = _combine(texts, paths)
        # a text no longer than an opening is its own opening (the same key)
        prefixes = texts.copy()
        longer = [i for i, t in enumerate(normal) if len(t) > PREFIX_CHARS]
        if longer:
            prefixes[longer] = [_fingerprint(PREFIX_SEED, normal[i][:PREFIX_CHARS]) for i in longer]
        distinct_paths, path_of = np.unique(paths, return_inverse=True)
        distinct_text, keys_of = np.unique(
            np.concatenate((texts, pathtexts, prefixes)), return_inverse=True
        )
        keys_of = keys_of.reshape(-1)
        text_cells = _cells(distinct_text, TEXT_WIDTH)
        path_cells = _cells(distinct_paths, PATH_WIDTH)
        path_of = path_of.reshape(-1)
        per_unit = text_cells[keys_of]  # (3n, DEPTH): each unit's three keys' cells
        return cls(
            text=per_unit[:n],
            pathtext=per_unit[n : 2 * n],
            prefix=per_unit[2 * n :],
            path=path_cells[path_of],
            path_of=path_of,
            keys_of=keys_of,
            text_cells=text_cells,
            path_cells=path_cells,
            chars=np.array([len(t) for t in unit_texts], dtype=float),
        )

    def fingerprint(self) -> int:
        """What makes two pages the same for a profile: their blocks' paths and
        texts, in order (as fingerprinted).  A copy of a page already counted
        (the same story under another URL or file name) is not counted again:
        counted twice, its story's own lines would look repeated across the site."""
        cells = np.ascontiguousarray(self.pathtext, dtype=np.int64)
        return xxhash.xxh3_64_intdigest(cells.tobytes())

    def text_p(self, p_article: np.ndarray) -> np.ndarray:
        """Per distinct text (and path+text) key: the page's mean P(article)
        of the blocks showing it, in thousandths."""
        weights = np.concatenate((p_article, p_article, p_article))
        sums = np.bincount(self.keys_of, weights=weights, minlength=len(self.text_cells))
        counts = np.bincount(self.keys_of, minlength=len(self.text_cells))
        return np.rint(P_SCALE * sums / np.maximum(counts, 1)).astype(np.int64)

    def path_p(self, p_article: np.ndarray) -> np.ndarray:
        """Per distinct path: the page's mean P(article) there, in thousandths."""
        sums = np.bincount(self.path_of, weights=p_article, minlength=len(self.path_cells))
        counts = np.bincount(self.path_of, minlength=len(self.path_cells))
        return np.rint(P_SCALE * sums / np.maximum(counts, 1)).astype(np.int64)


_ROWS = np.arange(DEPTH)


def _row_medians(sample: np.ndarray) -> np.ndarray:
    """``np.median(sample, axis=1)`` for rows of an even number of values, bit
    for bit (the mean of the middle two, from the same partition), without
    np.median's general machinery, which costs more than the partition here
    (a sketch row's sample of cells, a key's DEPTH cells)."""
    mid = sample.shape[1] // 2
    part = np.partition(sample, (mid - 1, mid), axis=1)
    return (part[:, mid - 1].astype(np.float64) + part[:, mid]) / 2


def _add(table: np.ndarray, cells: np.ndarray, values: np.ndarray | int) -> None:
    """Add ``values`` (one per key) to each key's cell in every row of
    ``table``, keys sharing a cell adding up (``np.add.at``; on the flat table,
    with values of its dtype: numpy's fast path, 30 times quicker here)."""
    assert table.flags.c_contiguous  # reshape(-1) is then a view, added to in place
    flat = (cells + _ROWS * table.shape[1]).reshape(-1)
    per_cell = np.broadcast_to(np.asarray(values, dtype=table.dtype)[..., None], cells.shape)
    np.add.at(table.reshape(-1), flat, per_cell.reshape(-1))


_TABLES = ("text", "path", "path_p", "text_p")  # the arrays a profile is made of


class SiteProfile:
    """Counts of one site's text and path fingerprints over its pages."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.n_pages = 0
        self.text = np.zeros((DEPTH, TEXT_WIDTH), dtype=np.int32)
        self.path = np.zeros((DEPTH, PATH_WIDTH), dtype=np.int32)
        self.path_p = np.zeros((DEPTH, PATH_WIDTH), dtype=np.int64)
        # P(article) summed per text key: what the block model made of this
        # text on the site's other pages
        self.text_p = np.zeros((DEPTH, TEXT_WIDTH), dtype=np.int32)
        self._noise: dict[str, tuple[int, np.ndarray]] = {}  # table -> (n_pages, per-row load)

    @property
    def ready(self) -> bool:
        """Whether the profile has enough pages to count (:data:`MIN_PAGES`)."""
        return self.n_pages >= MIN_PAGES

    @property
    def nbytes(self) -> int:
        return self.text.nbytes + self.path.nbytes + self.path_p.nbytes + self.text_p.nbytes

    def add(self, keys: PageKeys, p_article: np.ndarray) -> None:
        """Count one page: its keys, and the block model's P(article) per path."""
        self.n_pages += 1
        _add(self.text, keys.text_cells, 1)
        _add(self.path, keys.path_cells, 1)
        _add(self.path_p, keys.path_cells, keys.path_p(p_article))
        _add(self.text_p, keys.text_cells, keys.text_p(p_article))

    def merge(self, other: SiteProfile) -> None:
        """Add another profile of the same site (another worker's pages)."""
        self.n_pages += other.n_pages
        self._noise = {}
        self.text += other.text
        self.path += other.path
        self.path_p += other.path_p
        self.text_p += other.text_p

    def _count(self, table: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Count-min estimates for (n, DEPTH) cells, and the row that gave each."""
        counts = table[_ROWS, cells]
        row = counts.argmin(axis=1)
        return counts[np.arange(len(cells)), row], row

    def _estimate(self, name: str, cells: np.ndarray) -> np.ndarray:
        """Count-mean-min estimates (Deng and Rafiei, 2007) for (n, DEPTH) cells:
        each row's cell less that row's typical load (its median cell), the median
        over the rows, and never above the count-min estimate.  ``name``: the
        text sketch, ``"text"`` (counts) or ``"text_p"`` (P(article) sums).  On a small site
        this is the exact count; on a site of 10,000 pages a key seen on one page
        is estimated at about one page, where count-min alone says about twenty."""
        table = getattr(self, name)
        counts = table[_ROWS, cells].astype(float)
        known = self._noise.get(name)
        if known is None or known[0] != self.n_pages:
            # a row's typical load: its median cell (the mean would count the
            # template's heavy keys as noise on every cell), over a fixed
            # sample of its cells (every NOISE_SAMPLE-th: 32 times cheaper)
            known = (self.n_pages, _row_medians(table[:, ::NOISE_SAMPLE]))
            self._noise[name] = known
        estimate = _row_medians(counts - known[1][None, :])  # over the DEPTH rows (even)
        return np.clip(np.minimum(estimate, counts.min(axis=1)), 0.0, None)

    def features(
        self, keys: PageKeys, proba: np.ndarray, labels: Sequence[str], kept: np.ndarray
    ) -> np.ndarray:
        """The :data:`SITE_FEATURES` of a page this profile holds, leave-one-out."""
        return site_matrix(self, keys, proba, labels, kept)

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        np.savez_compressed(
            buf,
            format=np.int64(FORMAT),
            n_pages=np.int64(self.n_pages),
            text=self.text,
            path=self.path,
            path_p=self.path_p,
            text_p=self.text_p,
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes, name: str = "") -> SiteProfile:
        """A saved profile; ValueError for anything that is not one of this format."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as z:
                arrays = {k: z[k] for k in ("format", "n_pages", *_TABLES)}
        except Exception as exc:  # noqa: BLE001 - a damaged file fails in many ways
            raise ValueError(f"not a site profile ({type(exc).__name__}: {exc})") from None
        profile = cls(name)
        if int(arrays["format"]) != FORMAT:
            raise ValueError(f"site profile format {int(arrays['format'])}, expected {FORMAT}")
        for attr in _TABLES:
            want = getattr(profile, attr)
            got = arrays[attr]
            if got.shape != want.shape or got.dtype != want.dtype:
                raise ValueError(f"site profile {attr} has shape {got.shape} {got.dtype}")
            setattr(profile, attr, got.copy())
        profile.n_pages = int(arrays["n_pages"])
        return profile


def site_matrix(
    profile: SiteProfile,
    keys: PageKeys,
    proba: np.ndarray,
    labels: Sequence[str],
    kept: np.ndarray,
) -> np.ndarray:
    """Second-stage features of one page that ``profile`` holds (leave-one-out);
    ``kept``: the first stage's decision (:func:`classifier.decision.decide`)."""
    n = len(keys.chars)
    out = np.zeros((n, len(SITE_FEATURES)))
    if not n:
        return out
    p_art = proba[:, list(labels).index("article")]
    out[:, 0] = p_art
    out[:, 1] = proba[:, list(labels).index("teaser")]
    others = max(profile.n_pages - 1, 1)
    every = np.rint(
        profile._estimate("text", np.concatenate((keys.text, keys.pathtext, keys.prefix)))
    )
    text, pathtext, prefix = every[:n], every[n : 2 * n], every[2 * n :]
    path, row = profile._count(profile.path, keys.path)
    # take the page itself out: it added 1 to each of its keys' cells
    # (np.maximum, not np.clip: the same numbers at a fraction of the cost)
    text_others = np.maximum(text - 1, 0)
    pathtext_others = np.maximum(pathtext - 1, 0)
    text_share = text_others / others
    pathtext_share = pathtext_others / others
    path_others = np.maximum(path - 1, 0)
    own_p = keys.path_p(p_art)[keys.path_of]
    p_sum = profile.path_p[row, keys.path[np.arange(n), row]] - own_p
    with np.errstate(invalid="ignore", divide="ignore"):
        path_p = np.where(path_others > 0, p_sum / (P_SCALE * np.maximum(path_others, 1)), np.nan)
    out[:, 2] = np.minimum(text_share, 1.0)
    out[:, 3] = np.minimum(pathtext_share, 1.0)
    out[:, 4] = np.minimum(path_others / others, 1.0)
    out[:, 5] = np.clip(path_p, 0.0, 1.0)
    out[:, 6] = out[:, 5] - p_art
    padded = np.zeros(n + 2 * NEAR)
    padded[NEAR : NEAR + n] = out[:, 3]
    near = np.zeros(n)
    for off in range(1, NEAR + 1):
        near = np.maximum(near, padded[NEAR - off : NEAR - off + n])
        near = np.maximum(near, padded[NEAR + off : NEAR + off + n])
    out[:, 7] = near
    out[:, 8] = np.log1p(keys.chars)
    out[:, 9] = np.log(others)
    total = keys.chars.sum()
    out[:, 10] = float(keys.chars @ (out[:, 3] >= 0.5)) / total if total else 0.0
    out[:, 11] = np.log1p(text_others)
    out[:, 12] = np.log1p(pathtext_others)
    k = np.asarray(kept, dtype=float)
    out[:, 13] = k
    out[:, 14] = np.concatenate(([0.0], k[:-1]))
    out[:, 15] = np.concatenate((k[1:], [0.0]))
    out[:, 16] = np.concatenate(([0.0], p_art[:-1]))
    out[:, 17] = np.concatenate((p_art[1:], [0.0]))
    own_text_p = keys.text_p(p_art)[keys.keys_of[:n]]
    text_p_sum = profile._estimate("text_p", keys.text) - own_text_p
    with np.errstate(invalid="ignore", divide="ignore"):
        text_p = np.where(
            text_others > 0, text_p_sum / (P_SCALE * np.maximum(text_others, 1)), np.nan
        )
    out[:, 18] = np.clip(text_p, 0.0, 1.0)
    window = np.ones(2 * NEAR + 1)
    window[NEAR] = 0.0  # the unit itself is not its neighbourhood
    unique = keys.chars * (text_others == 0)
    unique_chars = np.convolve(unique, window)[NEAR : NEAR + n]
    near_chars = np.convolve(keys.chars, window)[NEAR : NEAR + n]
    out[:, 19] = np.divide(unique_chars, near_chars, out=np.zeros(n), where=near_chars > 0)
    ahead = np.ones(AFTER + 1)
    ahead[-1] = 0.0  # convolution flips: the last tap is the unit itself
    unique_after = np.convolve(unique, ahead)[AFTER : AFTER + n]
    chars_after = np.convolve(keys.chars, ahead)[AFTER : AFTER + n]
    out[:, 20] = np.divide(unique_after, chars_after, out=np.zeros(n), where=chars_after > 0)
    out[:, 21] = np.minimum(np.maximum(prefix - 1, 0) / others, 1.0)
    return out


class SiteFeatures(TransformerMixin, BaseEstimator):
    """The site model's feature step: rows of :data:`SITE_FEATURES`, as given."""

    feature_names = SITE_FEATURES

    def fit(self, X: Any, y: object = None) -> SiteFeatures:
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def transform(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != len(SITE_FEATURES):
            raise ValueError(f"site features need {len(SITE_FEATURES)} columns, got {X.shape}")
        return X

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(self.feature_names, dtype=object)

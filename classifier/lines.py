"""The line model: clean plain text that a naive scraper flattened from news pages.

The HTML is gone, but the noise still shows in the text: runs of short
headline lines, "..." snippets under them, datelines, list headings such as
"Hot this week", one-word menu entries, copyright lines.  Every non-blank
line is labelled ``article``, ``teaser`` or ``chrome`` by one scikit-learn
pipeline (text-only features, then calibrated gradient boosting), trained
like the block model from ``training_data/``:

- the labelled training pages, flattened by :func:`flatten_page` (one line a
  block, labels carried over);
- hand-written dumps in ``training_data/dumps/<layout>/*.txt`` (format in
  training_data/README.md, parsed by :func:`parse_dump`).

Cross-validation is grouped by layout; the model is saved with the block
model's card and hash check (:mod:`classifier.model`).  Layers, lowest
first: :func:`split_text` (text to :class:`Dump`), :func:`dump_matrix`
(features of a whole dump in bulk), :class:`LineCleaner` (model plus
decision rule), :func:`add_clean_text_parser` (the ``clean-text`` command).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from . import vocab
from .features import DIGITS, PUNCTUATION
from .metrics import fulltext_page, fulltext_summary
from .model import MODEL_DIR, load_model, save_model
from .segment import LABELS, Page

logger = logging.getLogger(__name__)

LINE_MODEL = MODEL_DIR / "line_model.joblib"
DUMPS = "dumps"  # training_data/dumps/<layout>/<name>.txt
DUMP_SUFFIX = ".txt"
LABEL_CODES = {"A": "article", "T": "teaser", "C": "chrome"}
CODE_OF = {label: code for code, label in LABEL_CODES.items()}

# P(article) needed to keep a line.  Chosen on the dev half of the real
# readability corpus, flattened with html-text (see THRESHOLD_NOTE); the
# written training data separates too well to choose it there.
DEFAULT_THRESHOLD = 0.2
THRESHOLD_NOTE = (
    "best full-text F1 on the dev half of the readability corpus flattened by "
    "html-text (sweep 0.05-0.45 step 0.05; 0.2-0.4 within 0.003)"
)
# When no line passes the threshold, keep the best contiguous region if its
# best line reaches this share of the threshold (as the block extractor does).
FALLBACK_SHARE = 0.5
# html-text settings of the flattened-corpus evaluation: its default
# layout guessing (newline after div/li/tr, blank line around p/h1-h6/ul...).
HTML_TEXT_OPTIONS: dict[str, Any] = {"guess_layout": True}

# Block tags after which the flattener leaves a blank line, the way the
# example dumps (and html-text's DOUBLE_NEWLINE_TAGS) separate paragraphs.
PARAGRAPH_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "figcaption", "dd", "table"}
)

PROSE_MIN_TOKENS = 12  # a line is prose from this many tokens...
SHORT_TOKENS = 15  # ...and "short" (headline-, menu-like) up to this many
WINDOW = 4  # lines either side for the neighbourhood densities
MAX_CHARS = 20_000  # longer lines are cut for the features (not in the output)

_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|[^\W_]+")
_LETTER = re.compile(r"[^\W\d_]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_DEL_PUNCT = str.maketrans("", "", PUNCTUATION)
_DEL_DIGITS = str.maketrans("", "", DIGITS)
_DEL_SENT_END = str.maketrans("", "", vocab.SENTENCE_END)
_SEPARATORS = str.maketrans("", "", "|•·»›/")
# Datelines in any script: "Shillong, Jan 14:", "By A. Roy Tura, Oct 25:",
# "Madrid, 14 ene (EFE).-", "नई दिल्ली, 14 जनवरी:", "(Reuters) -", "1月14日电".
_DATELINE = re.compile(
    r"^\W{0,3}(?:\w+\s+){0,4}?[^\W\d_][^,:\n]{1,30},\s*[^,:\n]{0,15}\d{1,4}[^,:\n]{0,15}"
    r"(?:\([^)\n]{1,25}\))?\s*(?:[:：।]|[.]?\s*[-–—])"
    r"|^[^\W\d_][^()\n]{1,30}\([^)\n]{2,25}\)\s*[-–—:]"
    r"|^.{0,24}\d{1,2}\s*月\s*\d{1,2}\s*日.{0,6}电",
)
_CREDIT = re.compile(r"\s*[(\[][^()\[\]]{1,25}[)\]]$")
_BULLET = re.compile(r"^[-–—•·*►▶»>#|]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


class DumpError(ValueError):
    """A labelled dump that breaks the format; the message names file and line."""


class TextDecodeError(ValueError):
    """Input that is not text (binary data)."""


# --------------------------------------------------------------------------
# documents and lines


@dataclass(slots=True)
class Line:
    """One non-blank line of a dump."""

    index: int  # among the dump's non-blank lines
    lineno: int  # 1-based line number in the source text
    text: str
    label: str | None = None
    blank_before: bool = False
    doc: Dump | None = field(default=None, repr=False, compare=False)


@dataclass(slots=True)
class Dump:
    """A flattened page: its non-blank lines, and a cache for their features."""

    lines: list[Line]
    source: str = ""
    cache: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(slots=True)
class LabelledLine:
    text: str
    label: str
    probability: float  # probability of `label`
    p_article: float
    lineno: int


def _attach(lines: list[Line], source: str) -> Dump:
    dump = Dump(lines, source)
    for line in lines:
        line.doc = dump
    return dump


def decode_text(data: bytes) -> str:
    """Bytes to text: BOM, UTF-8, else detection; binary data is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    head = data[:4096]
    if b"\x00" in head or (head and sum(b < 9 or 13 < b < 32 for b in head) > len(head) // 20):
        raise TextDecodeError("binary data, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[:65536]).best()
    if best is None:
        raise TextDecodeError("binary data, not text (no text encoding fits)")
    return data.decode(best.encoding, errors="replace")


def split_text(text: str, source: str = "") -> Dump:
    """Plain text to a :class:`Dump`: any line ending, blank lines dropped.

    A line's white space is collapsed; control characters are removed.
    """
    lines: list[Line] = []
    blank = True
    for lineno, raw in enumerate(text.splitlines(), 1):
        clean = " ".join(_CONTROL.sub(" ", raw).split())
        if not clean:
            blank = True
            continue
        lines.append(Line(len(lines), lineno, clean, blank_before=blank))
        blank = False
    return _attach(lines, source)


# --------------------------------------------------------------------------
# the flattener and the dump format


def flatten_page(page: Page) -> list[tuple[str, str | None]]:
    """A segmented page as a naive scraper flattens it: one line a block.

    A blank line (``("", None)``) follows paragraph-like blocks (p, headings,
    quotes, captions, tables) as in the example dumps and html-text;
    list items and bare div lines follow each other directly.  Each line
    carries its block's label (None on pages segmented without labels).
    """
    out: list[tuple[str, str | None]] = []
    for block in page.blocks:
        out.append((block.text, block.label))
        if block.tag in PARAGRAPH_TAGS:
            out.append(("", None))
    while out and not out[-1][0]:
        out.pop()
    return out


def dump_from_pairs(pairs: Iterable[tuple[str, str | None]], source: str = "") -> Dump:
    """A :class:`Dump` from ``(text, label)`` pairs; empty texts are blank lines."""
    lines: list[Line] = []
    blank = True
    for lineno, (text, label) in enumerate(pairs, 1):
        clean = " ".join(_CONTROL.sub(" ", text).split())
        if not clean:
            blank = True
            continue
        lines.append(Line(len(lines), lineno, clean, label, blank_before=blank))
        blank = False
    return _attach(lines, source)


def format_dump(pairs: Iterable[tuple[str, str | None]]) -> str:
    """``(text, label)`` pairs in the labelled dump format (one ``CODE<TAB>text`` a line)."""
    rows = [
        f"{CODE_OF[label]}\t{text}" if text else ""
        for text, label in pairs
        if not text or label in CODE_OF
    ]
    return "\n".join(rows) + "\n"


def parse_dump(path: Path) -> tuple[Dump, list[str]]:
    """Read one labelled dump; return it and its format errors (``file:line: ...``)."""
    errors: list[str] = []
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return _attach([], str(path)), [f"{path}:1: cannot read as UTF-8 text: {exc}"]
    pairs: list[tuple[str, str | None]] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            pairs.append(("", None))
            continue
        if raw.startswith("#"):
            pairs.append(("", None))  # a comment keeps line numbers, acts as a blank
            continue
        code, tab, body = raw.partition("\t")
        if not tab:
            errors.append(
                f"{path}:{lineno}: expected CODE<TAB>text (CODE one of "
                f"{', '.join(LABEL_CODES)}), got {raw[:50]!r}"
            )
        elif code not in LABEL_CODES:
            errors.append(
                f"{path}:{lineno}: label code {code!r} is not one of "
                + ", ".join(f"{c} ({lab})" for c, lab in LABEL_CODES.items())
            )
        elif not body.strip():
            errors.append(f"{path}:{lineno}: label {code} on an empty line")
        else:
            pairs.append((body, LABEL_CODES[code]))
            continue
        pairs.append(("", None))
    dump = dump_from_pairs(pairs, str(path))
    # dump_from_pairs numbers by pair, which is the file line: keep that.
    if not dump.lines and not errors:
        errors.append(f"{path}:1: no labelled lines")
    return dump, errors


def dump_files(root: Path) -> list[Path]:
    return sorted((root / DUMPS).glob(f"*/*{DUMP_SUFFIX}"))


def check_dumps(root: Path) -> tuple[list[tuple[str, Dump]], list[str]]:
    """Every labelled dump under ``root/dumps``: ``(layout, dump)`` pairs and errors."""
    out, errors = [], []
    for path in dump_files(root):
        dump, problems = parse_dump(path)
        errors.extend(problems)
        if not problems:
            out.append((path.parent.name, dump))
    return out, errors


# --------------------------------------------------------------------------
# features


LINE_FEATURES = (
    "log_chars",
    "n_words",
    "n_tokens",
    "chars_per_token",
    "cjk_ratio",
    "n_sentences",
    "punct_ratio",
    "digit_ratio",
    "letter_ratio",
    "separator_count",
    "title_case_ratio",
    "all_caps",
    "ends_ellipsis",
    "ends_sentence",
    "ends_colon",
    "ends_open",
    "starts_bullet",
    "starts_quote",
    "starts_digit",
    "has_dateline",
    "has_copyright",
    "has_at_or_url",
    "blank_before",
    "is_prose",
    "is_short",
    "repeats",
)
DOC_FEATURES = (
    "position",
    "char_position",
    "prose_before",
    "prose_after",
    "prose_window",
    "short_window",
    "ellipsis_window",
    "dateline_window",
    "ellipsis_next3",
    "short_next3",
    "run_short",
    "run_position",
    "in_main",
    "main_distance",
    "before_first_prose",
    "lines_to_first_prose",
    "doc_log_lines",
    "doc_log_chars",
    "doc_prose_share",
)
CONTEXT_SOURCES = (
    "log_chars",
    "ends_ellipsis",
    "ends_sentence",
    "is_prose",
    "has_dateline",
    "title_case_ratio",
    "is_short",
    "punct_ratio",
)
CONTEXT_OFFSETS = (-2, -1, 1, 2)
BASE_FEATURES = LINE_FEATURES + DOC_FEATURES
FEATURE_NAMES = BASE_FEATURES + tuple(
    f"{'prev' if off < 0 else 'next'}{abs(off)}_{name}"
    for off in CONTEXT_OFFSETS
    for name in CONTEXT_SOURCES
)
_COL = {name: i for i, name in enumerate(BASE_FEATURES)}


def line_features(text: str, blank_before: bool = False) -> tuple[float, ...]:
    """Text-only features of one line, in :data:`LINE_FEATURES` order (``repeats`` 0)."""
    text = text[:MAX_CHARS]
    n_chars = max(len(text), 1)
    words = text.split()
    toks = _TOKEN.findall(text)
    n_tok = max(len(toks), 1)
    n_cjk = len(_CJK.findall(text))
    n_sent = n_chars - len(text.translate(_DEL_SENT_END))
    n_punct = n_chars - len(text.translate(_DEL_PUNCT))
    n_digits = n_chars - len(text.translate(_DEL_DIGITS))
    n_letters = len(_LETTER.findall(text))
    upper = sum(1 for w in words if w[:1].isupper())
    lower = sum(1 for w in words if w[:1].islower())
    # a wire credit after the full stop ("... he said. (AP)") still ends a sentence
    last = _CREDIT.sub("", text).rstrip("\"'”’»)]")[-1:]
    first = text[:1]
    is_short = len(toks) <= SHORT_TOKENS and n_cjk < 25
    ends_ell = text.endswith(vocab.ELLIPSIS)
    ends_sent = last in vocab.SENTENCE_END and not ends_ell
    is_prose = (len(toks) >= PROSE_MIN_TOKENS or n_cjk >= 40) and ends_sent
    return (
        float(np.log1p(len(text))),
        len(words),
        len(toks),
        len(text) / n_tok,
        n_cjk / n_chars,
        n_sent,
        n_punct / n_chars,
        n_digits / n_chars,
        max(n_letters, 0) / n_chars,
        len(text) - len(text.translate(_SEPARATORS)),
        upper / (upper + lower) if upper + lower else -1.0,
        float(upper + lower > 0 and text.isupper()),
        float(ends_ell),
        float(ends_sent),
        float(last in ":：-–—"),
        float(bool(last) and last.isalnum()),
        float(bool(_BULLET.match(text))),
        float(first in "\"'“‘«„「"),
        float(first.isdigit()),
        float(bool(_DATELINE.match(text))),
        float("©" in text or "®" in text),
        float("@" in text or "://" in text or "www." in text),
        float(blank_before),
        float(is_prose),
        float(is_short),
        0.0,
    )


def _window_sum(values: np.ndarray, width: int) -> np.ndarray:
    """Sum of ``values`` over the ``width`` lines either side of each line (itself included)."""
    c = np.concatenate(([0.0], np.cumsum(values)))
    n = len(values)
    idx = np.arange(n)
    return c[np.minimum(idx + width + 1, n)] - c[np.maximum(idx - width, 0)]


def _max_region(gain: np.ndarray) -> tuple[int, int]:
    """The contiguous run ``[start, end)`` with the largest summed gain (vectorised Kadane)."""
    c = np.concatenate(([0.0], np.cumsum(gain)))
    low = np.minimum.accumulate(c[:-1])
    end = int(np.argmax(c[1:] - low))
    start = int(np.argmin(c[: end + 1]))
    return start, end + 1


def _runs(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each line: length of the run of equal flags holding it, and its place in it."""
    n = len(flags)
    change = np.concatenate(([True], flags[1:] != flags[:-1]))
    run_id = np.cumsum(change) - 1
    lengths = np.bincount(run_id)
    starts = np.flatnonzero(change)
    place = np.arange(n) - starts[run_id]
    return lengths[run_id].astype(float), place / np.maximum(lengths[run_id] - 1, 1)


def dump_matrix(dump: Dump) -> np.ndarray:
    """The feature matrix of every line of one dump (rows in line order)."""
    cached = dump.cache.get("features")
    if cached is not None:
        return cached
    n = len(dump.lines)
    X = np.zeros((n, len(FEATURE_NAMES)))
    if n == 0:
        dump.cache["features"] = X
        return X
    X[:, : len(LINE_FEATURES)] = [line_features(ln.text, ln.blank_before) for ln in dump.lines]
    counts = Counter(ln.text for ln in dump.lines)
    X[:, _COL["repeats"]] = [counts[ln.text] - 1 for ln in dump.lines]
    _doc_features(X, n)
    _add_context(X, n)
    dump.cache["features"] = X
    return X


def _doc_features(X: np.ndarray, n: int) -> None:
    """Position, prose density, short-line runs and the main prose region, in bulk."""
    col = _COL
    chars = np.expm1(X[:, col["log_chars"]])
    prose = X[:, col["is_prose"]]
    short = X[:, col["is_short"]]
    ell = X[:, col["ends_ellipsis"]]
    prose_chars = prose * np.minimum(chars, 1500)
    total_chars = max(chars.sum(), 1.0)
    total_prose = max(prose_chars.sum(), 1.0)
    cum_prose = np.cumsum(prose_chars)
    idx = np.arange(n)
    X[:, col["position"]] = idx / max(n - 1, 1)
    X[:, col["char_position"]] = (np.cumsum(chars) - chars) / total_chars
    X[:, col["prose_before"]] = (cum_prose - prose_chars) / total_prose
    X[:, col["prose_after"]] = (total_prose - cum_prose) / total_prose
    X[:, col["prose_window"]] = _window_sum(prose_chars, WINDOW) / total_prose
    X[:, col["short_window"]] = _window_sum(short, WINDOW) / (2 * WINDOW + 1)
    X[:, col["ellipsis_window"]] = _window_sum(ell, WINDOW)
    X[:, col["dateline_window"]] = _window_sum(X[:, col["has_dateline"]], WINDOW)
    # a list heading ("Hot this week") opens a run of snippets and short lines
    ahead_e = np.concatenate((ell, np.zeros(3)))
    ahead_s = np.concatenate((short, np.zeros(3)))
    X[:, col["ellipsis_next3"]] = ahead_e[1 : n + 1] + ahead_e[2 : n + 2] + ahead_e[3 : n + 3]
    X[:, col["short_next3"]] = ahead_s[1 : n + 1] + ahead_s[2 : n + 2] + ahead_s[3 : n + 3]
    X[:, col["run_short"]], X[:, col["run_position"]] = _runs(short > 0)
    # the main region: most prose, least snippet and menu lines (cf. the block
    # model's "main container")
    gain = np.where(prose > 0, np.minimum(chars, 600) / 100.0, np.where(ell > 0, -2.0, -0.4))
    start, end = _max_region(gain)
    X[:, col["in_main"]] = (idx >= start) & (idx < end)
    X[:, col["main_distance"]] = np.where(
        idx < start, idx - start, np.where(idx >= end, idx - end + 1, 0)
    )
    first = int(np.argmax(prose)) if prose.any() else n
    X[:, col["before_first_prose"]] = idx < first
    X[:, col["lines_to_first_prose"]] = np.clip(first - idx, -5, 20)
    X[:, col["doc_log_lines"]] = np.log1p(n)
    X[:, col["doc_log_chars"]] = np.log1p(total_chars)
    X[:, col["doc_prose_share"]] = prose_chars.sum() / total_chars


def _add_context(X: np.ndarray, n: int) -> None:
    """Copy selected features of the lines around each line into its row."""
    src = X[:, [_COL[s] for s in CONTEXT_SOURCES]]
    width = src.shape[1]
    start = len(BASE_FEATURES)
    for k, off in enumerate(CONTEXT_OFFSETS):
        shifted = np.full((n, width), -1.0)  # no neighbour there
        if off < 0 and n > -off:
            shifted[-off:] = src[:off]
        elif off > 0 and n > off:
            shifted[:-off] = src[off:]
        X[:, start + k * width : start + (k + 1) * width] = shifted


class LineFeatures(TransformerMixin, BaseEstimator):
    """Turn a sequence of :class:`Line` into a feature matrix, one dump at a time."""

    def fit(self, X: Sequence[Line], y: object = None) -> LineFeatures:
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True  # stateless

    def transform(self, X: Sequence[Line]) -> np.ndarray:
        if (
            X
            and X[0].doc is not None
            and len(X) == len(X[0].doc.lines)
            and all(a is b for a, b in zip(X, X[0].doc.lines))
        ):
            return dump_matrix(X[0].doc)
        out = np.empty((len(X), len(FEATURE_NAMES)))
        for i, line in enumerate(X):
            if line.doc is None:
                raise ValueError(f"line {line.lineno} ({line.text[:40]!r}) has no dump")
            out[i] = dump_matrix(line.doc)[line.index]
        return out

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return np.asarray(FEATURE_NAMES, dtype=object)


def build_line_pipeline(cv: Any = 3) -> Pipeline:
    """Line features, then calibrated gradient boosting (as the block model)."""
    booster = HistGradientBoostingClassifier(
        max_iter=120,
        learning_rate=0.08,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        class_weight="balanced",
        early_stopping=False,
        random_state=0,
    )
    return Pipeline(
        [
            ("features", LineFeatures()),
            ("model", CalibratedClassifierCV(booster, method="isotonic", cv=cv, ensemble=False)),
        ]
    )


# --------------------------------------------------------------------------
# training


def load_line_data(root: Path) -> tuple[list[Dump], list[str], list[str]]:
    """Flattened training pages and hand-written dumps: dumps, layouts, errors."""
    from .training import load_pages

    pages, errors = load_pages(root)
    docs = [dump_from_pairs(flatten_page(lp.page), str(lp.path)) for lp in pages]
    layouts = [lp.layout for lp in pages]
    written, dump_errors = check_dumps(root)
    for layout, dump in written:
        docs.append(dump)
        layouts.append(layout)
    return docs, layouts, errors + dump_errors


def line_data_hash(root: Path) -> str:
    """SHA-256 over the pages, the dumps and the config, by relative path and bytes."""
    from .training import CONFIG_FILE, page_files

    digest = hashlib.sha256()
    files = page_files(root) + dump_files(root) + ([CONFIG_FILE] if CONFIG_FILE.exists() else [])
    for path in files:
        digest.update(
            str(path.relative_to(root) if path.is_relative_to(root) else path.name).encode()
        )
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _arrays(
    docs: list[Dump], layouts: list[str]
) -> tuple[list[Line], np.ndarray, np.ndarray, np.ndarray]:
    lines = [ln for d in docs for ln in d.lines]
    labels = np.array([ln.label for ln in lines], dtype=object)
    groups = np.array([lay for d, lay in zip(docs, layouts) for _ in d.lines])
    doc_ids = np.array([k for k, d in enumerate(docs) for _ in d.lines])
    return lines, labels, groups, doc_ids


def cross_validate_lines(docs: list[Dump], layouts: list[str]) -> dict[str, Any]:
    """Out-of-fold line labels grouped by layout; per-class metrics and full-text F1."""
    from .training import cv_report, grouped_splits

    lines, labels, groups, doc_ids = _arrays(docs, layouts)
    predicted = np.empty(len(lines), dtype=object)
    p_article = np.zeros(len(lines))
    for train, test in grouped_splits(groups):
        model = build_line_pipeline(cv=grouped_splits(groups[train], 3))
        model.fit([lines[i] for i in train], labels[train])
        proba = model.predict_proba([lines[i] for i in test])
        classes = list(model.classes_)
        predicted[test] = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
        p_article[test] = proba[:, classes.index("article")]
    scores = []
    for k in range(len(docs)):
        rows = np.flatnonzero(doc_ids == k)
        truth = "\n\n".join(lines[i].text for i in rows if labels[i] == "article")
        kept = "\n\n".join(lines[i].text for i in rows if predicted[i] == "article")
        scores.append(fulltext_page(kept, truth))
    report = cv_report(labels, predicted, groups)
    report["fulltext_f1"] = round(fulltext_summary(scores)["f1"], 4)
    return report


def train_lines(
    root: Path | None = None, out: Path = LINE_MODEL, evaluate: bool = True
) -> dict[str, Any]:
    """Train the line model from ``root`` (training_data/); write model and card; return the card."""
    from .training import TRAINING_DIR, DataError, grouped_splits

    root = TRAINING_DIR if root is None else Path(root)
    docs, layouts, errors = load_line_data(root)
    if errors:
        raise DataError("training data has errors:\n" + "\n".join(errors))
    lines, labels, groups, _ = _arrays(docs, layouts)
    missing = set(LABELS) - set(labels)
    if missing:
        raise DataError(f"{root}: no line labelled {', '.join(sorted(missing))}")
    logger.info(
        "training the line model on %d lines from %d dumps, %d layouts",
        len(lines),
        len(docs),
        len(set(layouts)),
    )
    # One thread: on small data OpenMP threads cost more than they give, and
    # on a busy machine they oversubscribe (ten times slower measured).
    with threadpool_limits(limits=1):
        metrics = cross_validate_lines(docs, layouts) if evaluate else {}
        model = build_line_pipeline(cv=grouped_splits(groups, 3))
        model.fit(lines, labels)
    n_written = len(dump_files(root))
    card = {
        "labels": list(LABELS),
        "threshold": DEFAULT_THRESHOLD,
        "threshold_note": THRESHOLD_NOTE,
        "training_data_sha256": line_data_hash(root),
        "n_dumps": len(docs),
        "n_flattened_pages": len(docs) - n_written,
        "n_written_dumps": n_written,
        "n_lines": len(lines),
        "layouts": sorted(set(layouts)),
        "label_counts": {lab: int(np.sum(labels == lab)) for lab in LABELS},
        "feature_names": list(FEATURE_NAMES),
        "cv_metrics": metrics,
    }
    return save_model(model, Path(out), card)


# --------------------------------------------------------------------------
# cleaning


def _best_region(p: np.ndarray, threshold: float) -> slice | None:
    """The contiguous run of lines with the largest summed ``p - threshold * share``."""
    if len(p) == 0 or p.max() < threshold * FALLBACK_SHARE:
        return None
    start, end = _max_region(p - threshold * FALLBACK_SHARE)
    return slice(start, end)


def _extend_to_prose(
    keep: np.ndarray, p: np.ndarray, X: np.ndarray, threshold: float
) -> np.ndarray:
    """Hysteresis: a prose line next to a kept line is kept at half the threshold.

    jusText's context-sensitive pass in spirit (Pomikálek 2011): a story's
    last or first paragraph, beside a list heading, is less certain than the
    ones around it, but a full sentence touching the story belongs to it.
    """
    prose = X[:, _COL["is_prose"]] > 0
    weak = prose & (p >= threshold * FALLBACK_SHARE) & ~keep
    keep = keep.copy()
    changed = weak.any()
    while changed:
        near = np.zeros_like(keep)
        near[1:] |= keep[:-1]
        near[:-1] |= keep[1:]
        grow = weak & near & ~keep
        keep |= grow
        changed = grow.any()
    return keep


class LineCleaner:
    """A loaded line model and the decision rule around it."""

    def __init__(self, model_path: Path | str = LINE_MODEL, threshold: float | None = None):
        self.model, self.card = load_model(Path(model_path))
        self.labels = [str(c) for c in self.model.classes_]
        self.threshold = float(
            threshold if threshold is not None else self.card.get("threshold", DEFAULT_THRESHOLD)
        )
        self.model_version = str(self.card.get("model_version", ""))

    def classify_dump(self, dump: Dump) -> list[LabelledLine]:
        """Label every line of an already split :class:`Dump`."""
        if not dump.lines:
            return []
        proba = self.model.predict_proba(dump.lines)
        art = self.labels.index("article")
        p_art = proba[:, art]
        keep = p_art >= self.threshold
        if not keep.any():
            region = _best_region(p_art, self.threshold)
            if region is not None:
                keep[region] = True
        keep = _extend_to_prose(keep, p_art, dump_matrix(dump), self.threshold)
        noise = [i for i in range(len(self.labels)) if i != art]
        out = []
        for line, row, kept in zip(dump.lines, proba, keep):
            if kept:
                label, prob = "article", float(row[art])
            else:
                j = max(noise, key=lambda k: row[k])
                label, prob = self.labels[j], float(row[j])
            out.append(
                LabelledLine(
                    line.text, label, round(prob, 4), round(float(row[art]), 4), line.lineno
                )
            )
        return out

    def classify(self, text: str) -> list[LabelledLine]:
        """Label every non-blank line of ``text`` (article / teaser / chrome)."""
        return self.classify_dump(split_text(text))

    def clean(self, text: str) -> str:
        """The article lines of ``text``, in order, separated by blank lines."""
        return "\n\n".join(ln.text for ln in self.classify(text) if ln.label == "article")


# --------------------------------------------------------------------------
# the clean-text command


def _iter_sources(paths: list[str]) -> Iterator[tuple[str, Path | None]]:
    """``(name, path)`` per input; directories give their *.txt files; none means stdin."""
    if not paths:
        yield "<stdin>", None
    for raw in paths:
        path = Path(raw)
        if raw == "-":
            yield "<stdin>", None
        elif path.is_dir():
            for child in sorted(path.rglob(f"*{DUMP_SUFFIX}")):
                if child.is_file():
                    yield str(child), child
        else:
            yield raw, path


def _read_source(path: Path | None) -> str:
    data = sys.stdin.buffer.read() if path is None else path.read_bytes()
    return decode_text(data)


def _label_rows(lines: list[LabelledLine]) -> str:
    return "".join(f"{ln.label}\t{ln.probability:.4f}\t{ln.text}\n" for ln in lines)


def cmd_clean_text(args: argparse.Namespace) -> int:
    cleaner = LineCleaner(args.model or LINE_MODEL, threshold=args.threshold)
    out: IO[str] = sys.stdout
    if args.output and args.output != "-":
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        out = open(args.output, "w", encoding="utf-8")
    total = failures = 0
    try:
        for name, path in _iter_sources(args.paths):
            total += 1
            try:
                lines = cleaner.classify(_read_source(path))
            except (OSError, TextDecodeError) as exc:
                failures += 1
                message = f"{type(exc).__name__}: {exc}"
                print(f"{name}: {message}", file=sys.stderr)
                if args.jsonl:
                    out.write(json.dumps({"source": name, "error": message}) + "\n")
                continue
            if args.jsonl:
                row: dict[str, Any] = {
                    "source": name,
                    "text": "\n\n".join(ln.text for ln in lines if ln.label == "article"),
                }
                if args.labels:
                    row["lines"] = [asdict(ln) for ln in lines]
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            elif args.labels:
                out.write(_label_rows(lines))
            else:
                kept = [ln.text for ln in lines if ln.label == "article"]
                if kept:
                    out.write("\n\n".join(kept) + "\n")
            out.flush()
    finally:
        if out is not sys.stdout:
            out.close()
    return 1 if failures and failures == total else 0


def add_clean_text_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``clean-text`` on the CLI's subparsers; return its parser."""
    p = subparsers.add_parser(
        "clean-text",
        help="keep the story lines of already flattened plain text",
        description="Label every line of plain-text dumps (article / teaser / chrome) "
        "and print the article lines. Reads stdin when no file is given.",
    )
    p.add_argument("paths", nargs="*", help="text files or folders of *.txt (default: stdin)")
    p.add_argument(
        "--labels",
        action="store_true",
        help="print every line as label<TAB>probability<TAB>text "
        "(with --jsonl: add a `lines` list)",
    )
    p.add_argument(
        "--jsonl",
        action="store_true",
        help="one JSON line a file: source, text (and lines with --labels)",
    )
    p.add_argument("-o", "--output", help="output file (default: stdout)")
    p.add_argument("--threshold", type=float, help="P(article) needed to keep a line")
    p.add_argument("--model", help="line model file (default: the shipped line model)")
    p.set_defaults(func=cmd_clean_text)
    return p


# --------------------------------------------------------------------------
# evaluation on flattened real pages


def flatten_html(data: bytes) -> str:
    """A whole page flattened by html-text (the "common converter" of the evaluation)."""
    import html_text

    from .segment import decode_html

    _, text = decode_html(data)
    return html_text.extract_text(text, **HTML_TEXT_OPTIONS)


def evaluate_flattened(
    split: str | None = None,
    *,
    line_model: Path = LINE_MODEL,
    block_model: Path | None = None,
    threshold: float | None = None,
    corpus: str = "readability",
) -> dict[str, Any]:
    """Full-text F1 of the line model on html-text dumps of a corpus, beside the
    block model on the same pages (``title + "\\n\\n" + text``)."""
    from importlib import metadata

    from . import corpora
    from .extract import Extractor
    from .model import BLOCK_MODEL, ModelError
    from .segment import SegmentationError

    if corpus not in corpora.corpus_names():
        return {"corpus": corpus, "error": f"no corpus {corpus!r} at {corpora.corpora_dir()}"}
    pages = [p for p in corpora.load(corpus) if split is None or p.split == split]
    cleaner = LineCleaner(line_model, threshold=threshold)
    try:
        extractor: Extractor | None = Extractor(block_model or BLOCK_MODEL)
        block_error = ""
    except ModelError as exc:
        extractor, block_error = None, str(exc)
    line_scores, block_scores = [], []
    for page in pages:
        data = page.path.read_bytes()
        ref = page.truth["article_text"]
        try:
            flat = flatten_html(data)
        except (SegmentationError, ValueError) as exc:
            logger.warning("html-text failed on %s: %s", page.path, exc)
            flat = ""
        line_scores.append(fulltext_page(cleaner.clean(flat), ref))
        if extractor is not None:
            try:
                res = extractor.extract(data, url=page.url)
                text = "\n\n".join(t for t in (res.title, res.text) if t)
            except SegmentationError:
                text = ""
            block_scores.append(fulltext_page(text, ref))
    result: dict[str, Any] = {
        "corpus": corpus,
        "split": split or "all",
        "pages": len(pages),
        "flattener": f"html-text {metadata.version('html-text')} "
        f"extract_text({', '.join(f'{k}={v!r}' for k, v in HTML_TEXT_OPTIONS.items())})",
        "line_model": {
            **fulltext_summary(line_scores),
            "threshold": cleaner.threshold,
            "model_version": cleaner.model_version,
        },
    }
    result["block_model"] = (
        fulltext_summary(block_scores) if extractor is not None else {"error": block_error}
    )
    return result


def sweep_flattened(
    thresholds: Iterable[float],
    split: str = "dev",
    *,
    line_model: Path = LINE_MODEL,
    corpus: str = "readability",
) -> dict[float, float]:
    """Full-text F1 of the line model per threshold on one split (probabilities once)."""
    from . import corpora

    pages = [p for p in corpora.load(corpus) if p.split == split]
    cleaner = LineCleaner(line_model)
    dumps = [split_text(flatten_html(p.path.read_bytes())) for p in pages]
    labelled = [cleaner.classify_dump(d) for d in dumps]
    out = {}
    for t in thresholds:
        scores = []
        for page, dump, lines in zip(pages, dumps, labelled):
            p = np.array([ln.p_article for ln in lines])
            keep = p >= t
            if len(p) and not keep.any():
                region = _best_region(p, t)
                if region is not None:
                    keep[region] = True
            keep = _extend_to_prose(keep, p, dump_matrix(dump), t)
            text = "\n\n".join(ln.text for ln, k in zip(lines, keep) if k)
            scores.append(fulltext_page(text, page.truth["article_text"]))
        out[round(float(t), 3)] = fulltext_summary(scores)["f1"]
    return out


def format_flattened(result: dict[str, Any]) -> str:
    """The evaluation as a short table for the terminal."""
    if "error" in result:
        return f"flattened {result['corpus']}: {result['error']}"
    rows = [
        f"\n{result['corpus']} flattened by {result['flattener']} "
        f"(full-text, {result['pages']} pages, split {result['split']})",
        f"  {'model':<18} {'F1':>6} {'prec':>6} {'recall':>6}",
    ]
    for name in ("line_model", "block_model"):
        s = result[name]
        if "error" in s:
            rows.append(f"  {name:<18} unavailable: {s['error']}")
        else:
            rows.append(f"  {name:<18} {s['f1']:6.3f} {s['precision']:6.3f} {s['recall']:6.3f}")
    return "\n".join(rows)

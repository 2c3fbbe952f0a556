"""Line features, computed per dump in bulk: the twin of :mod:`classifier.features`.

Text-only evidence, since a dump has no markup left: lengths in words,
tokens and characters (scripts without spaces work), punctuation, digits
and capitals, how a line ends (sentence, "...", colon), datelines and
copyright lines; then the dump around each line: position, prose density
in a window, runs of short lines (a teaser list or a menu), the main prose
region, and selected features of the lines before and after.  The
tokeniser, character tables and context columns are the block stack's.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import numpy as np

from . import vocab
from .decision import max_region
from .features import (
    CJK_CHAR,
    DEL_DIGITS,
    DEL_PUNCT,
    DEL_SENT_END,
    TOKEN,
    DocumentFeatures,
    add_context,
    context_names,
)
from .lines import Dump

PROSE_MIN_TOKENS = 12  # a line is prose from this many tokens...
SHORT_TOKENS = 15  # ...and "short" (headline-, menu-like) up to this many
CJK_PROSE_CHARS = 40  # ...or, in scripts without spaces, this many CJK characters
CJK_SHORT_CHARS = 25
WINDOW = 4  # lines either side for the neighbourhood densities
AHEAD = 3  # lines looked at after a possible list heading
MAX_CHARS = 20_000  # longer lines are cut for the features (not in the output)
PROSE_CHARS_CAP = 1500  # one huge line does not outweigh the rest of the dump's prose
# the main region's gain: prose counts by length (capped), a snippet line and
# any other line against it
MAIN_PROSE_CAP, MAIN_PROSE_SCALE = 600, 100.0
MAIN_SNIPPET_COST, MAIN_OTHER_COST = -2.0, -0.4
FIRST_PROSE_CLIP = (-5, 20)

_LETTER = re.compile(r"[^\W\d_]")
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
FEATURE_NAMES = BASE_FEATURES + context_names(CONTEXT_OFFSETS, CONTEXT_SOURCES)
_COL = {name: i for i, name in enumerate(BASE_FEATURES)}
_CONTEXT_COLS = [_COL[n] for n in CONTEXT_SOURCES]


def line_features(text: str, blank_before: bool = False) -> tuple[float, ...]:
    """Text-only features of one line, in :data:`LINE_FEATURES` order (``repeats`` 0)."""
    text = text[:MAX_CHARS]
    n_chars = max(len(text), 1)
    words = text.split()
    toks = TOKEN.findall(text)
    n_tok = max(len(toks), 1)
    n_cjk = len(CJK_CHAR.findall(text))
    n_sent = n_chars - len(text.translate(DEL_SENT_END))
    n_punct = n_chars - len(text.translate(DEL_PUNCT))
    n_digits = n_chars - len(text.translate(DEL_DIGITS))
    n_letters = len(_LETTER.findall(text))
    upper = sum(1 for w in words if w[:1].isupper())
    lower = sum(1 for w in words if w[:1].islower())
    # a wire credit after the full stop ("... he said. (AP)") still ends a sentence
    last = _CREDIT.sub("", text).rstrip("\"'”’»)]")[-1:]
    first = text[:1]
    is_short = len(toks) <= SHORT_TOKENS and n_cjk < CJK_SHORT_CHARS
    ends_ell = text.endswith(vocab.ELLIPSIS)
    ends_sent = last in vocab.SENTENCE_END and not ends_ell
    is_prose = (len(toks) >= PROSE_MIN_TOKENS or n_cjk >= CJK_PROSE_CHARS) and ends_sent
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


def _ahead_sum(values: np.ndarray, width: int) -> np.ndarray:
    """Sum of ``values`` over the ``width`` lines after each line (itself excluded)."""
    n = len(values)
    padded = np.concatenate((values, np.zeros(width)))
    return sum((padded[k : n + k] for k in range(1, width + 1)), np.zeros(n))


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
    add_context(X, _CONTEXT_COLS, CONTEXT_OFFSETS, len(BASE_FEATURES))
    dump.cache["features"] = X
    return X


def _doc_features(X: np.ndarray, n: int) -> None:
    """Position, prose density, short-line runs and the main prose region, in bulk."""
    col = _COL
    chars = np.expm1(X[:, col["log_chars"]])
    prose = X[:, col["is_prose"]]
    short = X[:, col["is_short"]]
    ell = X[:, col["ends_ellipsis"]]
    prose_chars = prose * np.minimum(chars, PROSE_CHARS_CAP)
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
    X[:, col["ellipsis_next3"]] = _ahead_sum(ell, AHEAD)
    X[:, col["short_next3"]] = _ahead_sum(short, AHEAD)
    X[:, col["run_short"]], X[:, col["run_position"]] = _runs(short > 0)
    # the main region: most prose, least snippet and menu lines (cf. the block
    # model's "main container")
    gain = np.where(
        prose > 0,
        np.minimum(chars, MAIN_PROSE_CAP) / MAIN_PROSE_SCALE,
        np.where(ell > 0, MAIN_SNIPPET_COST, MAIN_OTHER_COST),
    )
    start, end = max_region(gain)
    X[:, col["in_main"]] = (idx >= start) & (idx < end)
    X[:, col["main_distance"]] = np.where(
        idx < start, idx - start, np.where(idx >= end, idx - end + 1, 0)
    )
    first = int(np.argmax(prose)) if prose.any() else n
    X[:, col["before_first_prose"]] = idx < first
    X[:, col["lines_to_first_prose"]] = np.clip(first - idx, *FIRST_PROSE_CLIP)
    X[:, col["doc_log_lines"]] = np.log1p(n)
    X[:, col["doc_log_chars"]] = np.log1p(total_chars)
    X[:, col["doc_prose_share"]] = prose_chars.sum() / total_chars


class LineFeatures(DocumentFeatures):
    """Lines (which carry their ``doc``) to the :data:`FEATURE_NAMES` matrix."""

    doc_attr = "doc"
    units_attr = "lines"
    feature_names = FEATURE_NAMES

    def matrix(self, doc: Any) -> np.ndarray:
        return dump_matrix(doc)


def prose_column(X: np.ndarray) -> np.ndarray:
    """Which lines of a dump's matrix are prose (full sentences), for the decision rule."""
    return X[:, _COL["is_prose"]] > 0

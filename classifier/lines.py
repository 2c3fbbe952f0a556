"""Plain text to lines: the line model's twin of :mod:`classifier.segment`.

A naive scraper's dump has no HTML left: its units are lines.
:func:`decode_text` turns bytes into text, :func:`split_text` text into a
:class:`Dump` of :class:`Line` (blank lines dropped but remembered, as
``blank_before``).  The labelled-dump format of ``training_data/dumps/``
(one ``CODE<TAB>text`` a line) is read by :func:`parse_dump` and written by
:func:`format_dump`; :func:`flatten_page` turns a segmented page into the
lines a naive scraper would have printed, carrying the blocks' labels over.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from w3lib.encoding import read_bom

from .segment import LIMITS, Limits, Page, decode_bytes, detect_encoding, looks_binary

DUMPS = "dumps"  # training_data/dumps/<layout>/<name>.txt
DUMP_SUFFIX = ".txt"
LABEL_CODES = {"A": "article", "T": "teaser", "C": "chrome"}
CODE_OF = {label: code for code, label in LABEL_CODES.items()}
# Block tags after which the flattener leaves a blank line, the way the
# example dumps (and html-text's DOUBLE_NEWLINE_TAGS) separate paragraphs.
PARAGRAPH_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "figcaption", "dd", "table"}
)
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
    # the limits hit (``blocks``: lines, ``block_chars``: a line cut), as for pages
    truncated: list[str] = field(default_factory=list)


def _attach(lines: list[Line], source: str) -> Dump:
    dump = Dump(lines, source)
    for line in lines:
        line.doc = dump
    return dump


def decode_text(data: bytes) -> str:
    """Bytes to text, as pages are decoded: a BOM, else UTF-8 (a stray byte
    costs one character), else detection
    (:func:`~classifier.segment.detect_encoding`).  Binary data
    (:func:`~classifier.segment.looks_binary`) is refused; a stray NUL is not.
    """
    bom, _ = read_bom(data)
    if bom:
        return decode_bytes(data, _bom_codec(bom))
    if looks_binary(data):
        raise TextDecodeError("binary data, not text")
    return decode_bytes(data, detect_encoding(data))


def _bom_codec(name: str) -> str:
    import codecs

    return codecs.lookup(name).name


def split_text(text: str, source: str = "", limits: Limits = LIMITS) -> Dump:
    """Plain text to a :class:`Dump`: any line ending, blank lines dropped.

    A line's white space is collapsed; control characters are removed.
    Within ``limits``: at most ``max_blocks`` lines (the rest is not read)
    of at most ``max_block_chars`` characters each; the dump's
    ``truncated`` names the limits hit.
    """
    lines: list[Line] = []
    truncated: list[str] = []
    blank = True
    cap = limits.max_block_chars
    for lineno, raw in enumerate(_lines(text), 1):
        if len(raw) > 4 * cap:  # room to collapse white space first
            raw = raw[: 4 * cap]
            truncated.append("block_chars")
        clean = " ".join(_CONTROL.sub(" ", raw).split())
        if not clean:
            blank = True
            continue
        if len(clean) > cap:
            clean = clean[:cap]
            truncated.append("block_chars")
        if len(lines) >= limits.max_blocks:
            truncated.append("blocks")
            break
        lines.append(Line(len(lines), lineno, clean, blank_before=blank))
        blank = False
    dump = _attach(lines, source)
    dump.truncated = list(dict.fromkeys(truncated))
    return dump


_LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` as :meth:`str.splitlines` gives them, one at a time
    (a 30 MB text is not copied into a list of four million strings)."""
    start = 0
    for m in _LINE_BREAK.finditer(text):
        yield text[start : m.start()]
        start = m.end()
    if start < len(text):
        yield text[start:]


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
        f"{CODE_OF[label]}\t{text}" if text and label is not None else ""
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

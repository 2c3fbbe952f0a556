"""Reading the inputs of the command line: HTML pages and plain-text dumps.

Files are taken as given; folders are walked recursively (sorted, so a run
is repeatable) for the suffixes of each kind.  ``-`` (or no input, for
text) is standard input.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from pathlib import Path

from .lines import DUMP_SUFFIX, decode_text

HTML_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
STDIN = "<stdin>"


def iter_inputs(paths: list[str]) -> Iterator[Path]:
    """Files as given; directories recursively, HTML files only, sorted."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if (child.is_file() or child.is_symlink()) and child.name.lower().endswith(
                    HTML_SUFFIXES
                ):
                    yield child
        else:
            yield path


def read_page(path: Path) -> bytes:
    """A page's bytes, gunzipped when the name ends in ``.gz``."""
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        data = gzip.decompress(data)
    return data


def iter_text_sources(paths: list[str]) -> Iterator[tuple[str, Path | None]]:
    """``(name, path)`` per text input; folders give their *.txt files; none means stdin."""
    if not paths:
        yield STDIN, None
    for raw in paths:
        path = Path(raw)
        if raw == "-":
            yield STDIN, None
        elif path.is_dir():
            for child in sorted(path.rglob(f"*{DUMP_SUFFIX}")):
                if child.is_file():
                    yield str(child), child
        else:
            yield raw, path


def read_text(path: Path | None) -> str:
    """A text input decoded (:func:`~classifier.lines.decode_text`); None is stdin."""
    data = sys.stdin.buffer.read() if path is None else path.read_bytes()
    return decode_text(data)

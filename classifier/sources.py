"""Reading the command line's inputs: HTML pages, WARC files and plain-text dumps.

Files are taken as given; folders are walked recursively (sorted, so a run
is repeatable) for the suffixes of each kind.  ``-`` (or no input, for
text) is standard input.

A page to extract is a :class:`PageInput`: an HTML file (read where it is
extracted, so a worker process reads its own files), or one HTML response
of a WARC file, read here with FastWARC.  WARC readers are lenient about a
file cut short (a crawl killed mid-write, a partial download): they hand
back the cut record as if it were whole, or quietly stop.  So every record's
block is checked against its ``Content-Length`` and, at the end, the file
must end where its last record does (for ``.warc.gz``: in a complete gzip
member); otherwise the records before the cut are pages as usual and one
more input carries the error, naming the file.
"""

from __future__ import annotations

import gzip
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .lines import DUMP_SUFFIX, decode_text

if TYPE_CHECKING:
    from fastwarc.warc import WarcRecord

HTML_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
WARC_SUFFIXES = (".warc", ".warc.gz")
STDIN = "<stdin>"
# a WARC record is a page when it is a 200 response of one of these types
HTML_TYPES = ("text/html", "application/xhtml+xml")
HTML_STATUS = 200
WARC_HEADER_MAX = 64 << 10  # bytes of a record header looked at by the end-of-file check
READ_CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"


def is_warc(path: Path) -> bool:
    return path.name.lower().endswith(WARC_SUFFIXES)


def iter_inputs(paths: Iterable[str]) -> Iterator[Path]:
    """Files as given; directories recursively, HTML and WARC files only, sorted."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if (child.is_file() or child.is_symlink()) and child.name.lower().endswith(
                    HTML_SUFFIXES + WARC_SUFFIXES
                ):
                    yield child
        else:
            yield path


class GzipError(OSError):
    """A ``.gz`` file that does not unpack: not gzip, damaged or cut short."""


def read_page(path: Path, max_bytes: int | None = None) -> bytes:
    """A page's bytes, gunzipped when the name ends in ``.gz``.

    With ``max_bytes``, at most ``max_bytes + 1`` bytes are read or unpacked
    (one more than the limit: the page can tell it was cut), so a gzip bomb
    costs that much memory, not what it unpacks to.  A broken ``.gz`` raises
    :class:`GzipError`.
    """
    size = -1 if max_bytes is None else max_bytes + 1
    if not path.name.lower().endswith(".gz"):
        with open(path, "rb") as fh:
            return fh.read(size)
    try:
        with gzip.open(path, "rb") as gz:
            return gz.read(size)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise GzipError(f"broken gzip file ({type(exc).__name__}: {exc})") from exc


@dataclass(slots=True)
class PageInput:
    """One page to extract, or the error met reading the input it came from.

    ``source`` is the file, or ``FILE#OFFSET`` for a WARC record (the byte
    offset of the record in the file: for ``.warc.gz``, of its gzip member,
    as CDX indexes give it).  ``path`` is read by :meth:`read`; ``data`` is
    a WARC record's payload, already read and decoded.
    """

    source: str
    url: str | None = None
    path: Path | None = None
    data: bytes | None = None
    content_type: str | None = None  # the HTTP Content-Type of a WARC record
    error: str | None = None  # reading failed: this is the row's error

    def read(self, max_bytes: int | None = None) -> bytes:
        """The page's bytes (at most ``max_bytes + 1`` of a file: :func:`read_page`)."""
        if self.data is not None:
            return self.data
        if self.path is None:
            raise OSError(f"{self.source}: nothing to read")
        return read_page(self.path, max_bytes)


@dataclass(slots=True)
class InputStats:
    """What reading the inputs met besides pages."""

    warc_files: int = 0
    warc_records: int = 0
    skipped: int = 0  # WARC records that are not HTML 200 responses


class WarcError(ValueError):
    """A WARC file is truncated or is not a WARC file."""


def iter_pages(
    files: Iterable[Path], url: str | None = None, stats: InputStats | None = None
) -> Iterator[PageInput]:
    """The pages of these files in order: an HTML file is one (with ``url``),
    a WARC file gives its HTML responses (:func:`iter_warc`)."""
    for path in files:
        if is_warc(path):
            yield from iter_warc(path, stats)
        else:
            yield PageInput(str(path), url, path=path)


def iter_warc(path: Path, stats: InputStats | None = None) -> Iterator[PageInput]:
    """Every HTML response record (HTTP 200, text/html or application/xhtml+xml)
    of a ``.warc`` or ``.warc.gz`` file, in file order.

    The URL is the record's ``WARC-Target-URI``; the payload is decoded
    (chunked transfer, gzip/deflate/brotli content encoding).  Other records
    are skipped and counted in ``stats.skipped``.  A record that cannot be
    decoded gives an error input of its own and the file goes on; a file
    that is cut short or is no WARC ends with one error input for the file.
    """
    from fastwarc.warc import ArchiveIterator

    stats = stats if stats is not None else InputStats()
    stats.warc_files += 1
    last: tuple[int, int] | None = None  # (offset, block length) of the last record read
    aligned = True  # every record at its own offset (not one gzip member for all)
    try:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh, parse_http=False):
                pos = record.stream_pos
                block = record.reader.read()
                declared = (record.headers.get("Content-Length") or "").strip()
                if not declared.isdigit() or int(declared) != len(block):
                    of = f" ({len(block)} of {declared} bytes)" if declared.isdigit() else ""
                    raise WarcError(f"the record at byte {pos} is cut short{of}: truncated file")
                aligned = aligned and (last is None or pos > last[0])
                last = (pos, len(block))
                stats.warc_records += 1
                page = _html_response(record, block, f"{path}#{pos}")
                if page is None:
                    stats.skipped += 1
                else:
                    yield page
        problem = _end_problem(path, last, aligned)
        if problem:
            raise WarcError(problem)
    except (OSError, EOFError, WarcError, zlib.error) as exc:
        yield PageInput(str(path), error=f"{type(exc).__name__}: {exc}")


def _html_response(record: WarcRecord, block: bytes, source: str) -> PageInput | None:
    """The record as a page if it is an HTML 200 response; None to skip it."""
    from fastwarc.warc import WarcRecordType

    if record.record_type != WarcRecordType.response or not record.is_http:
        return None
    url = record.headers.get("WARC-Target-URI")
    try:
        record.set_bytes_content(block)
        record.parse_http(auto_decode="all")
        if record.http_headers.status_code != HTML_STATUS:
            return None
        mime = (record.http_content_type or "").strip().lower()
        if mime not in HTML_TYPES:
            return None
        data = record.reader.read()
    except (OSError, ValueError) as exc:
        return PageInput(source, url, error=f"{type(exc).__name__}: {exc}")
    return PageInput(source, url, data=data, content_type=record.http_headers.get("Content-Type"))


def _end_problem(path: Path, last: tuple[int, int] | None, aligned: bool) -> str | None:
    """Why the file does not end cleanly after its last record (None: it does).

    ``last`` is the offset and block length of the last record read (None:
    no record); ``aligned`` is False for a ``.warc.gz`` that is not one gzip
    member per record (its offsets say nothing; the whole file is checked).
    """
    size = path.stat().st_size
    if size == 0:
        return "empty file: no WARC record"
    with open(path, "rb") as fh:
        gz = fh.read(2) == GZIP_MAGIC
        start = last[0] if last is not None and aligned else 0
        fh.seek(start)
        if gz:
            try:
                problem = _gzip_end_problem(fh)
            except zlib.error as exc:
                problem = f"bytes that are not gzip data ({exc}): a damaged or truncated file"
                if start > 0:  # perhaps not a member start: check the whole file
                    fh.seek(0)
                    try:
                        problem = _gzip_end_problem(fh)
                    except zlib.error:
                        pass
            if problem is None and last is None:
                problem = "no WARC record in the file"
            return problem
        if last is None:
            return "no complete WARC record: not a WARC file, or cut in its first record"
        head = fh.read(WARC_HEADER_MAX)
        end = head.find(b"\r\n\r\n")
        if end < 0:
            return f"the record at byte {start} has no end of header"
        after = start + end + 4 + last[1]
        fh.seek(after)
        rest = fh.read(WARC_HEADER_MAX)
        if not rest.startswith(b"\r\n\r\n") or rest.strip(b"\r\n") or size - after > len(rest):
            return (
                f"the file does not end with its last complete record (at byte {start}): "
                "it is truncated, or has trailing bytes that are no WARC record"
            )
    return None


def _gzip_end_problem(fh: IO[bytes]) -> str | None:
    """Whether the gzip members from ``fh``'s position to the end are all complete
    (raises :class:`zlib.error` on bytes that are not gzip)."""
    buf = fh.read(READ_CHUNK)
    while buf:
        member = zlib.decompressobj(wbits=31)  # gzip, one member
        while not member.eof:
            while buf and not member.eof:
                member.decompress(buf, READ_CHUNK)  # the output is not needed
                buf = member.unconsumed_tail
            if not member.eof:
                buf = fh.read(READ_CHUNK)
                if not buf:
                    return "the file ends inside a gzip member: it is truncated"
        buf = member.unused_data or fh.read(READ_CHUNK)
    return None


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


def read_text(path: Path | None, max_bytes: int | None = None) -> tuple[str, bool]:
    """A text input decoded (:func:`~classifier.lines.decode_text`), and whether
    it was cut at ``max_bytes``; None is stdin."""
    size = -1 if max_bytes is None else max_bytes + 1
    if path is None:
        data = sys.stdin.buffer.read(size)
    else:
        with open(path, "rb") as fh:
            data = fh.read(size)
    cut = max_bytes is not None and len(data) > max_bytes
    if cut:
        data = data[:max_bytes]
    return decode_text(data), cut

"""Archive every fetched response to rotating WARC files (NEWSFILTER_WARC_DIR).

``-s NEWSFILTER_WARC_DIR=archive/`` writes, for every response the crawl
downloads (pages, redirects, errors, robots.txt, sitemaps), a ``response``
record and the ``request`` record that asked for it, to
``archive/newsfilter-<time>-<serial>-<host>-<pid>.warc.gz`` (WARC/1.1, with
FastWARC).  A file past NEWSFILTER_WARC_MAX_SIZE bytes is closed and the
next one started; each file begins with a ``warcinfo`` record.  Several
workers may share a folder: the names carry host and process.

The response is archived as it came off the wire, before the downloader
middlewares: the body still content-encoded (gzip, br...), its
``Content-Encoding`` header kept; only ``Transfer-Encoding`` is dropped and
``Content-Length`` set to the body archived (Scrapy has already undone the
chunking, and may have stopped a body early).

Crash-safe: each record is its own gzip member, compressed in memory and
written with one ``write`` (then flushed to the OS), so ``kill -9`` leaves
whole records only; a power cut may cut the last one, which the WARC reader
of ``python -m classifier extract`` reports, keeping the records before it.

Re-extract an archive with a newer model, without a recrawl::

    python -m classifier extract archive/ -o stories.jsonl
"""

from __future__ import annotations

import gzip
import io
import logging
import os
import socket
import time
import uuid
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import IO, Self

from fastwarc.warc import WarcRecord, WarcRecordType
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Headers, Response
from scrapy.utils.httpobj import urlparse_cached

from .config import Config

logger = logging.getLogger(__name__)

PREFIX = "newsfilter"
DROPPED_HEADERS = (b"transfer-encoding", b"content-length")


def warc_date(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _headers(headers: Headers, drop: tuple[bytes, ...] = ()) -> bytes:
    lines = []
    for name, values in headers.items():
        if name.lower() in drop:
            continue
        for value in values:
            lines.append(name + b": " + value + b"\r\n")
    return b"".join(lines)


def http_response_block(response: Response) -> bytes:
    """The response as HTTP/1.1 bytes: status line, headers, blank line, body."""
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    protocol = (response.protocol or "HTTP/1.1").upper()
    if not protocol.startswith("HTTP/"):
        protocol = "HTTP/1.1"
    head = f"{protocol} {response.status} {reason}".rstrip().encode("latin-1") + b"\r\n"
    head += _headers(response.headers, DROPPED_HEADERS)
    head += f"Content-Length: {len(response.body)}\r\n\r\n".encode("ascii")
    return head + response.body


def http_request_block(request: Request) -> bytes:
    parts = urlparse_cached(request)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    head = f"{request.method} {target} HTTP/1.1\r\n".encode("latin-1")
    if b"Host" not in request.headers:
        head += f"Host: {parts.netloc}\r\n".encode("latin-1")
    head += _headers(request.headers, (b"content-length",))
    if request.body:
        head += f"Content-Length: {len(request.body)}\r\n".encode("ascii")
    return head + b"\r\n" + request.body


def record_bytes(
    kind: WarcRecordType,
    block: bytes,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> tuple[str, bytes]:
    """``(record id, one WARC record)``, gzipped as a member of its own."""
    record = WarcRecord()
    urn = f"uuid:{uuid.uuid4()}"
    record.init_headers(kind, urn.encode("ascii"))
    for name, value in (headers or {}).items():
        record.headers[name] = value
    record.headers["Content-Type"] = content_type
    record.set_bytes_content(block)
    buffer = io.BytesIO()
    record.write(buffer, checksum_data=True)
    return f"<urn:{urn}>", gzip.compress(buffer.getvalue(), compresslevel=6)


class WarcWriter:
    """Rotating ``.warc.gz`` files in a folder, one gzip member a record."""

    def __init__(self, folder: Path, max_size: int, software: str = "newsfilter") -> None:
        if max_size <= 0:
            raise ValueError(f"NEWSFILTER_WARC_MAX_SIZE={max_size}: must be > 0")
        self.folder = Path(folder)
        self.max_size = max_size
        self.software = software
        self.serial = 0
        self.file: IO[bytes] | None = None
        self.path: Path | None = None
        self.size = 0
        self.records = 0
        self.written: list[Path] = []

    def _open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
        host = socket.gethostname().replace("-", "_") or "host"
        name = f"{PREFIX}-{stamp}-{self.serial:05d}-{host}-{os.getpid()}.warc.gz"
        self.serial += 1
        self.path = self.folder / name
        self.file = open(self.path, "xb", buffering=0)  # noqa: SIM115  # closed in close()
        self.size = 0
        self.written.append(self.path)
        info = (
            f"software: {self.software}\r\nformat: WARC File Format 1.1\r\n"
            f"hostname: {socket.gethostname()}\r\n"
        ).encode()
        _, data = record_bytes(
            WarcRecordType.warcinfo,
            info,
            "application/warc-fields",
            {"WARC-Filename": name},
        )
        self._write(data)
        logger.info("Archiving responses to %s", self.path)

    def _write(self, data: bytes) -> None:
        assert self.file is not None
        view = memoryview(data)
        while view:  # a regular file takes it in one go; loop for the rare short write
            n = self.file.write(view)
            view = view[n or 0 :]
        self.size += len(data)

    def write(self, members: list[bytes]) -> None:
        """Write records (gzip members) together, in a new file when this one is full."""
        if self.file is None or self.size >= self.max_size:
            self.close()
            self._open()
        self._write(b"".join(members))
        self.records += len(members)

    def close(self) -> None:
        if self.file is not None:
            os.fsync(self.file.fileno())
            self.file.close()
            self.file = None


class WarcArchive:
    """The extension: every downloaded response (and its request) to the WARC writer."""

    def __init__(self, crawler: Crawler, writer: WarcWriter) -> None:
        self.crawler = crawler
        self.writer = writer

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        config = Config.from_settings(crawler.settings)
        if not config.warc_dir:
            raise NotConfigured
        software = crawler.settings.get("USER_AGENT") or "newsfilter"
        ext = cls(crawler, WarcWriter(Path(config.warc_dir), config.warc_max_size, software))
        crawler.signals.connect(ext.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def response_downloaded(self, response: Response, request: Request, spider: Spider) -> None:
        date = warc_date()
        common = {"WARC-Target-URI": response.url, "WARC-Date": date}
        if response.ip_address is not None:
            common["WARC-IP-Address"] = str(response.ip_address)
        response_id, response_data = record_bytes(
            WarcRecordType.response,
            http_response_block(response),
            "application/http; msgtype=response",
            common,
        )
        _, request_data = record_bytes(
            WarcRecordType.request,
            http_request_block(request),
            "application/http; msgtype=request",
            {**common, "WARC-Concurrent-To": response_id},
        )
        try:
            self.writer.write([response_data, request_data])
        except OSError as exc:
            logger.error("Cannot write the WARC archive %s: %s", self.writer.path, exc)
            self.crawler.stats.inc_value("newsfilter/warc/errors")
            return
        self.crawler.stats.inc_value("newsfilter/warc/records", 2)

    def spider_closed(self) -> None:
        self.writer.close()
        if self.writer.written:
            logger.info(
                "Archived %d records in %d WARC file(s) in %s",
                self.writer.records,
                len(self.writer.written),
                self.writer.folder,
            )

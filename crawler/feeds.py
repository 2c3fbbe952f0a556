"""JSON-lines feeds that a crash cannot leave disagreeing with the job directory.

With ``-s JOBDIR=...`` a resumed crawl must not export again a story it
exported before, nor skip one it never wrote.  The guarantee, for a local
JSON-lines feed (``-o feed.jsonl``; the project's default feed too), holds
against ``kill -9``, a second Ctrl-C and power loss:

**every story appears in the union of the job's feeds exactly once, each
line complete and valid JSON**, however often the crawl is killed and
resumed, provided each resumed run appends (``-o``, not ``-O``).

How:

1. :class:`SyncedJsonLinesExporter` writes each item as one line, in one
   write, then flushes and fsyncs the file (NEWSFILTER_FEED_FSYNC), and only
   then appends the story's record to ``JOBDIR/newsfilter_seen.tsv``.  A
   crash between the two leaves a story in the feed and not in the record,
   never the other way round.
2. The scheduler (crawler.scheduler) marks a request finished only after
   its callback's items went through the pipelines and the feed, so a story
   whose line was not written is fetched again.
3. On resume, :class:`ExportJournal` trusts the feed: the seen set is
   rebuilt from ``newsfilter_seen.tsv`` *and* from the complete lines of
   every feed the job wrote (listed in ``JOBDIR/newsfilter_feeds.txt``), and
   records missing from the tsv are added to it.
   :class:`SyncedFileFeedStorage` cuts a partial last line (a write the
   crash interrupted) off the feed before appending, and logs it.

Feeds in other formats or on other storages are written by Scrapy's own
exporters, without this guarantee; without a JSON-lines feed at all, the
item pipeline records each story as it passes (exported = scraped).
"""

from __future__ import annotations

import json
import logging
import os
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Self

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exporters import JsonLinesItemExporter
from scrapy.extensions.feedexport import FileFeedStorage
from scrapy.settings import BaseSettings
from scrapy.utils.misc import load_object
from scrapy.utils.python import to_bytes

from .config import Config

logger = logging.getLogger(__name__)

SEEN_FILE = "newsfilter_seen.tsv"  # exported stories: key<TAB>content hash, appended
FEEDS_FILE = "newsfilter_feeds.txt"  # the JSON-lines feeds the job has written, one a line
LINE_FORMATS = frozenset({"jsonlines", "jsonl", "jl"})
TAIL_BLOCK = 65536  # bytes read at a time when looking for the last complete line


def repair_tail(path: Path) -> int:
    """Cut a partial last line (no final newline) off *path*; return the bytes cut."""
    with open(path, "r+b") as fh:
        size = end = fh.seek(0, os.SEEK_END)
        while end > 0:
            start = max(0, end - TAIL_BLOCK)
            fh.seek(start)
            block = fh.read(end - start)
            newline = block.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            end = start
        else:
            keep = 0
        if keep < size:
            fh.truncate(keep)
            fh.flush()
            os.fsync(fh.fileno())
        return size - keep


def complete_lines(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of *path*'s complete lines; partial or corrupt lines are skipped."""
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            if not raw.endswith(b"\n"):
                return  # a partial last line: the storage cuts it before appending
            try:
                value = json.loads(raw)
            except ValueError:
                logger.warning("Skipped line %d of %s: not valid JSON", number, path)
                continue
            if isinstance(value, dict):
                yield value


def story_key(item: Any) -> tuple[str, str] | None:
    """``(key, content hash)`` of an exported story: canonical URL (else URL) and SHA-1."""
    adapter = ItemAdapter(item)
    key = adapter.get("canonical_url") or adapter.get("url")
    digest = adapter.get("content_sha1")
    if isinstance(key, str) and isinstance(digest, str) and key and digest:
        return key, digest
    return None


def fsync(file: IO[bytes]) -> None:
    """Push *file* to the disk; a pipe or a wrapper without a descriptor is flushed only."""
    file.flush()
    try:
        os.fsync(file.fileno())
    except (AttributeError, OSError, ValueError):
        pass  # stdout, a pipe, a post-processing wrapper


def synced_feeds(settings: BaseSettings) -> list[str]:
    """The FEEDS written by :class:`SyncedJsonLinesExporter` (what records the stories)."""
    exporters = settings.getwithbase("FEED_EXPORTERS")
    out = []
    for uri, options in settings.getdict("FEEDS").items():
        fmt = (options or {}).get("format") or Path(str(uri)).suffix.lstrip(".")
        path = exporters.get(fmt)
        if path and issubclass(load_object(path), SyncedJsonLinesExporter):
            out.append(str(uri))
    return out


_JOURNALS: weakref.WeakKeyDictionary[Crawler, ExportJournal] = weakref.WeakKeyDictionary()


class ExportJournal:
    """The stories a job has exported: its seen record and the feeds it wrote.

    One a crawler (:meth:`of`), shared by the ArticlePipeline (which reads it
    to skip repeats) and the feed exporter (which records what it wrote).
    Without JOBDIR it keeps nothing on disk (the stories of this run only,
    in memory).  NEWSFILTER_EXPORT_JOURNAL names the class: with
    NEWSFILTER_REDIS_URL the Distributed add-on makes it
    :class:`crawler.distributed.RedisExportJournal`, shared by all workers.
    """

    def __init__(self, jobdir: Path | None, *, fsync: bool, synced: bool) -> None:
        self.jobdir = jobdir
        self.fsync = fsync
        self.synced = synced  # a SyncedJsonLinesExporter records stories as it writes them
        self._seen_log: IO[str] | None = None
        self.keys: set[str] = set()  # canonical URLs (else URLs) exported
        self.hashes: set[str] = set()  # their content hashes

    @classmethod
    def of(cls, crawler: Crawler) -> ExportJournal:
        """The crawler's journal, made once by the class NEWSFILTER_EXPORT_JOURNAL names."""
        journal = _JOURNALS.get(crawler)
        if journal is None:
            journal_cls = load_object(crawler.settings["NEWSFILTER_EXPORT_JOURNAL"])
            journal = journal_cls.from_crawler(crawler)
            _JOURNALS[crawler] = journal
        return journal

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        config = Config.from_settings(crawler.settings)
        jobdir = crawler.settings.get("JOBDIR")
        return cls(
            Path(jobdir) if jobdir else None,
            fsync=config.feed_fsync,
            synced=bool(synced_feeds(crawler.settings)),
        )

    def claim(self, key: str, digest: str) -> bool:
        """Take a story for export; False if its key or its hash was exported already."""
        if key in self.keys or digest in self.hashes:
            return False
        self.keys.add(key)
        self.hashes.add(digest)
        return True

    @property
    def seen_path(self) -> Path | None:
        return self.jobdir / SEEN_FILE if self.jobdir else None

    def feeds(self) -> list[Path]:
        if self.jobdir is None or not (self.jobdir / FEEDS_FILE).exists():
            return []
        lines = (self.jobdir / FEEDS_FILE).read_text(encoding="utf-8").splitlines()
        return [Path(line) for line in lines if line.strip()]

    def register_feed(self, path: Path) -> None:
        """Remember that this job writes *path*, so that a resumed crawl reads it."""
        if self.jobdir is None:
            return
        path = path.resolve()
        if path in self.feeds():
            return
        self.jobdir.mkdir(parents=True, exist_ok=True)
        with open(self.jobdir / FEEDS_FILE, "a", encoding="utf-8") as fh:
            fh.write(f"{path}\n")
            fh.flush()
            os.fsync(fh.fileno())

    def load(self) -> tuple[set[str], set[str]]:
        """``(keys, hashes)`` of every story the job exported; reconciles the seen record.

        They are the sets :meth:`claim` consults and adds to.
        """
        keys, hashes = self.keys, self.hashes
        seen = self.seen_path
        if seen is None:
            return keys, hashes
        if seen.exists():
            repair_tail(seen)
            with open(seen, encoding="utf-8") as fh:
                for line in fh:
                    key, _, digest = line.rstrip("\n").partition("\t")
                    if key and digest:
                        keys.add(key)
                        hashes.add(digest)
        missing: list[tuple[str, str]] = []
        for feed in self.feeds():
            if not feed.exists():
                continue
            for value in complete_lines(feed):
                found = story_key(value)
                if found and (found[0] not in keys or found[1] not in hashes):
                    keys.add(found[0])
                    hashes.add(found[1])
                    missing.append(found)
        if missing:
            logger.info(
                "%d stories were in the feed but not in %s (a crash between the two): added",
                len(missing),
                seen,
            )
            for key, digest in missing:
                self.record(key, digest)
        if hashes:
            logger.info("Resuming with %d stories already exported", len(hashes))
        return keys, hashes

    def record(self, key: str, digest: str) -> None:
        """Append one story to the seen record (after its feed line, when there is one)."""
        if self.seen_path is None:
            return
        if self._seen_log is None:
            self.seen_path.parent.mkdir(parents=True, exist_ok=True)
            self._seen_log = open(self.seen_path, "a", encoding="utf-8")
        self._seen_log.write(f"{key}\t{digest}\n")
        self._seen_log.flush()
        if self.fsync:
            os.fsync(self._seen_log.fileno())

    def record_item(self, item: Any) -> None:
        found = story_key(item)
        if found:
            self.record(*found)

    def close(self) -> None:
        if self._seen_log is not None:
            self._seen_log.close()
            self._seen_log = None


class SyncedFileFeedStorage(FileFeedStorage):
    """Scrapy's file storage; a JSON-lines feed appended to loses a partial last line first."""

    def __init__(
        self,
        uri: str,
        *,
        feed_options: dict[str, Any] | None = None,
        journal: ExportJournal | None = None,
    ) -> None:
        super().__init__(uri, feed_options=feed_options)
        self.lines = (feed_options or {}).get("format") in LINE_FORMATS
        self.journal = journal

    @classmethod
    def from_crawler(
        cls, crawler: Crawler, uri: str, *, feed_options: dict[str, Any] | None = None
    ) -> Self:
        return cls(uri, feed_options=feed_options, journal=ExportJournal.of(crawler))

    def open(self, spider: Any) -> IO[bytes]:
        path = Path(self.path)
        if self.lines:
            if self.write_mode == "ab" and path.exists():
                cut = repair_tail(path)
                if cut:
                    logger.warning(
                        "Cut a partial last line (%d bytes, a write interrupted by a crash)"
                        " off %s before appending",
                        cut,
                        path,
                    )
            if self.journal is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.journal.register_feed(path)
        return super().open(spider)


class SyncedJsonLinesExporter(JsonLinesItemExporter):
    """One line an item, one write a line, flushed and fsynced; then the seen record."""

    def __init__(self, file: Any, *, journal: ExportJournal | None = None, **kwargs: Any) -> None:
        super().__init__(file, **kwargs)
        self.journal = journal

    @classmethod
    def from_crawler(cls, crawler: Crawler, file: Any, **kwargs: Any) -> Self:
        return cls(file, journal=ExportJournal.of(crawler), **kwargs)

    def export_item(self, item: Any) -> None:
        itemdict = dict(self.get_serialized_fields(item))
        self.file.write(to_bytes(self.encoder.encode(itemdict) + "\n", self.encoding))
        if self.journal is None or self.journal.fsync:
            fsync(self.file)
        else:
            self.file.flush()
        if self.journal is not None:
            self.journal.record_item(item)

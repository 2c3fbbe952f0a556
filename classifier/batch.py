"""Batch extraction: many pages in, one JSON line each, on one core, N, or a Dask cluster.

Every way of running gives the same lines in the same order (input order):
the line of a page is made by one function, :func:`extract_row`, from the
:class:`~classifier.sources.PageInput` the inputs give (an HTML file, or
one HTML response of a WARC file), whatever process it runs in.

- :func:`extract_rows` with ``jobs=1`` runs in this process; with
  ``jobs=N`` it sends chunks of pages to N worker processes, each of which
  loads the model once (in its initializer) and runs OpenMP on one thread
  (:func:`~classifier.model.single_threaded`); results come back in input
  order, with at most a few chunks per worker in flight, so a large WARC is
  streamed, not read into memory.
- :func:`extract_bag` builds a Dask bag of the same lines, one partition
  per WARC file (HTML files in groups), for a Dask cluster.  Dask is an
  optional dependency, imported only there.

A page that cannot be read or extracted gets a row with ``error`` and the
run goes on; the exceptions caught are those of :data:`PAGE_ERRORS`.
"""

from __future__ import annotations

import gzip
import json
import logging
import sys
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np

from .profile import PageKeys, SiteProfile
from .segment import LIMITS, Limits, Page, SegmentationError, segment
from .sources import PageInput, is_warc, iter_inputs, iter_pages

if TYPE_CHECKING:
    import dask.bag

    from .extract import Extraction, Extractor

logger = logging.getLogger(__name__)

# what a bad page may raise (a file that cannot be read, a broken .gz, no
# document); any other exception is a bug met on one page: it is logged (with
# its traceback under -v), that page's row carries it as its error, and the run
# goes on
PAGE_ERRORS = (OSError, EOFError, zlib.error, gzip.BadGzipFile, SegmentationError)
CHUNK_PAGES = 4  # pages sent to a worker at a time (~0.1 s of work: small IPC, even balance)
IN_FLIGHT_PER_WORKER = 4  # chunks queued per worker: keeps workers busy, memory bounded
FILES_PER_PARTITION = 64  # HTML files per Dask partition (a WARC file is one partition)


@dataclass(frozen=True, slots=True)
class ExtractOptions:
    """How to extract: the model and decision rule, and the row's shape.

    Hashable and picklable: sent to worker processes, and the key of the
    per-process model cache (:func:`cached_extractor`).
    """

    model: str | None = None  # model file; None: the shipped block model
    threshold: float | None = None
    switch_cost: float | None = None
    with_blocks: bool = True
    # roles in text beside the body (captions, byline, standfirst); None: the
    # extractor's default (classifier.extract.DEFAULT_INCLUDE, the standfirst)
    include: tuple[str, ...] | None = None
    limits: Limits = LIMITS  # what one page may cost (classifier.segment.Limits)
    min_article_share: float | None = None  # the page-type gate; None: the model's, 0: off

    def extractor(self) -> Extractor:
        from .extract import DEFAULT_INCLUDE, Extractor
        from .model import BLOCK_MODEL

        global _MODEL_HERE
        _MODEL_HERE = True
        return Extractor(
            self.model or BLOCK_MODEL,
            threshold=self.threshold,
            switch_cost=self.switch_cost,
            include=DEFAULT_INCLUDE if self.include is None else self.include,
            limits=self.limits,
            min_article_share=self.min_article_share,
        )


@dataclass(frozen=True, slots=True)
class Row:
    """One output line (JSON, without the newline) and what the caller reports."""

    line: str
    source: str
    error: str | None = None
    truncated: str = ""  # the limits the page hit (its row's `truncated`)


def extract_row(
    extractor: Extractor,
    page: PageInput,
    with_blocks: bool = True,
    run: Callable[[Page], Extraction] | None = None,
) -> Row:
    """The JSON line of one page: ``source``, ``url``, then the extraction or ``error``.

    ``run`` classifies the segmented page (default: the extractor alone).
    Whatever the page raises becomes its ``error`` (:data:`PAGE_ERRORS`, or
    a bug, logged with its traceback at debug level): one page never stops
    the run."""
    row: dict[str, Any] = {"source": page.source, "url": page.url}
    if page.error is not None:
        row["error"] = page.error
    else:
        try:
            if run is None:
                data = page.read(extractor.limits.max_bytes)
                result = extractor.extract(data, url=page.url, content_type=page.content_type)
            else:
                result = run(segment_input(extractor, page))
        except PAGE_ERRORS as exc:
            row["error"] = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a bug: this page's error, not the run's end
            logger.debug("%s: unexpected error", page.source, exc_info=True)
            row["error"] = f"{type(exc).__name__}: {exc} (unexpected: please report it)"
        else:
            row.update(result.to_dict(with_blocks=with_blocks))
            row["url"] = page.url
    return Row(
        json.dumps(row, ensure_ascii=False),
        page.source,
        row.get("error"),
        row.get("truncated") or "",
    )


def segment_input(extractor: Extractor, page: PageInput) -> Page:
    """Read and segment one input within the extractor's limits."""
    data = page.read(extractor.limits.max_bytes)
    return segment(data, url=page.url, content_type=page.content_type, limits=extractor.limits)


# --------------------------------------------------------------------------
# site profiles: two passes over the inputs


def site_of(page: PageInput, seg: Page) -> str:
    """The site a page belongs to: the host of its URL (given, or its canonical
    or og:url), else the folder its file is in (a WARC file: the WARC file)."""
    for url in (page.url, seg.meta.get("canonical"), seg.meta.get("og:url")):
        if url:
            host = urlsplit(url.strip()).hostname
            if host:
                return host.removeprefix("www.")
    path = page.path or Path(page.source.partition("#")[0])
    return str(path.parent if page.path is not None else path)


def extract_rows_by_site(
    pages: Callable[[], Iterable[PageInput]], options: ExtractOptions | None = None
) -> Iterator[Row]:
    """The row of every page, in input order, each classified with its site's profile.

    ``pages`` is called twice and must give the same inputs in the same order
    both times (it is read twice, so nothing but each page's probabilities is
    kept between the passes).  The first pass builds one
    :class:`~classifier.profile.SiteProfile` a site (:func:`site_of`); the
    second classifies every page with its site's complete profile.  A copy of
    a page (the same blocks under another file name) is counted once.  Profiles
    are order-free sums, so each page's row is the same whatever order the
    inputs come in; a site with fewer than :data:`~classifier.profile.MIN_PAGES`
    pages gives exactly the rows of extraction without profiles.  One process.
    """
    options = options or ExtractOptions()
    extractor = options.extractor()
    extractor.site_model  # noqa: B018 - a missing or stale site model stops the run here, once
    col = extractor.labels.index("article")
    profiles: dict[str, SiteProfile] = {}
    counted: set[tuple[str, int]] = set()  # (site, page fingerprint) already in a profile
    # per page, what the second pass reuses: its site, probabilities and keys
    first: list[tuple[str, np.ndarray, PageKeys] | None] = []
    for page in pages():
        if page.error is not None:
            first.append(None)
            continue
        try:
            seg = segment_input(extractor, page)
            proba = extractor.probabilities(seg.blocks)
        except Exception:  # the second pass meets it again and reports it in the page's row
            first.append(None)
            continue
        site = site_of(page, seg)
        keys = PageKeys.of(seg)
        seen = (site, keys.fingerprint())
        if seen not in counted:  # a copy is counted once
            counted.add(seen)
            profiles.setdefault(site, SiteProfile(site)).add(keys, proba[:, col])
        first.append((site, proba, keys))
    for page, known in zip(pages(), first, strict=True):
        if known is None:
            yield extract_row(extractor, page, options.with_blocks)
            continue
        site, proba, keys = known

        def run(
            seg: Page,
            site: str = site,
            proba: np.ndarray = proba,
            keys: PageKeys = keys,
            source: str = page.source,
        ) -> Extraction:
            if len(proba) != len(seg.blocks):  # the input changed between the passes
                raise SegmentationError(f"{source} changed while it was being read")
            return extractor.extract_page(seg, proba, site=profiles[site], keys=keys)

        yield extract_row(extractor, page, options.with_blocks, run)


# --------------------------------------------------------------------------
# one model a process

_MODEL_HERE = False  # this process has built a model (and may have run OpenMP code)
_CACHE: dict[ExtractOptions, Extractor] = {}
_CACHE_LOCK = threading.Lock()
_LOADS = 0  # models loaded by this process (tests check "once per worker")


def cached_extractor(options: ExtractOptions) -> Extractor:
    """This process's extractor for ``options``, loaded on first use (thread-safe)."""
    global _LOADS
    with _CACHE_LOCK:
        extractor = _CACHE.get(options)
        if extractor is None:
            extractor = _CACHE[options] = options.extractor()
            _LOADS += 1
        return extractor


def models_loaded() -> int:
    """How many models this process has loaded through :func:`cached_extractor`."""
    return _LOADS


# --------------------------------------------------------------------------
# worker processes


def _init_worker(options: ExtractOptions) -> None:
    """Process pool initializer: one OpenMP thread, then the model, once."""
    from .model import ModelError, single_threaded

    single_threaded()
    try:
        cached_extractor(options)
    except ModelError:
        pass  # raised again, with its message, by the first chunk: the caller reports it


def _extract_chunk(pages: list[PageInput], options: ExtractOptions) -> list[Row]:
    extractor = cached_extractor(options)
    return [extract_row(extractor, page, options.with_blocks) for page in pages]


def start_method() -> str:
    """How worker processes start: ``fork`` on Linux while this process has
    built no model, else ``spawn``.

    Forked workers inherit the imported libraries and reach their first row
    in about half a second; spawned ones import everything again (measured
    on a loaded 2-core machine: 0.4-0.6 s against 4-7 s).  Forking is safe
    only before OpenMP has run in this process (GNU OpenMP's thread pool
    does not survive a fork), hence the condition: the command line loads no
    model in the main process when ``-j`` is above 1.
    """
    import multiprocessing

    if (
        sys.platform == "linux"
        and not _MODEL_HERE
        and "fork" in multiprocessing.get_all_start_methods()
    ):
        return "fork"
    return "spawn"


def extract_rows(
    pages: Iterable[PageInput],
    options: ExtractOptions | None = None,
    jobs: int = 1,
    chunk_pages: int = CHUNK_PAGES,
    start: str | None = None,
) -> Iterator[Row]:
    """The row of every page, in input order, computed by ``jobs`` processes.

    ``jobs=1`` extracts in this process (the model loaded here); more starts
    that many worker processes (``start``: a multiprocessing start method,
    default :func:`start_method`), each loading the model once.  The lines
    are the same either way, byte for byte.  A
    :class:`~classifier.model.ModelError` in a worker is raised here.  With
    ``spawn``, a script calling this needs the usual ``if __name__ ==
    "__main__":`` guard.
    """
    options = options or ExtractOptions()
    if jobs <= 1:
        extractor = options.extractor()
        for page in pages:
            yield extract_row(extractor, page, options.with_blocks)
        return

    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pending: deque[Future[list[Row]]] = deque()
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context(start or start_method()),
        initializer=_init_worker,
        initargs=(options,),
    )
    try:
        it = iter(pages)
        while chunk := list(islice(it, chunk_pages)):
            pending.append(pool.submit(_extract_chunk, chunk, options))
            if len(pending) >= jobs * IN_FLIGHT_PER_WORKER:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------
# Dask


def extract_files(
    paths: Sequence[str | Path], url: str | None = None, options: ExtractOptions | None = None
) -> list[str]:
    """The JSON lines of these files, in order, with this process's model.

    The partition function of :func:`extract_bag`; usable on its own (for
    another scheduler: one call per group of files, the model loaded once a
    process).
    """
    from .model import single_threaded

    options = options or ExtractOptions()
    single_threaded()
    extractor = cached_extractor(options)
    return [
        extract_row(extractor, page, options.with_blocks).line
        for page in iter_pages([Path(p) for p in paths], url=url)
    ]


def partitions(
    paths: Iterable[str | Path], files_per_partition: int = FILES_PER_PARTITION
) -> list[list[str]]:
    """The input files (folders walked as ``extract`` does) in partitions:
    each WARC file alone, runs of HTML files in groups of ``files_per_partition``."""
    groups: list[list[str]] = []
    html: list[str] = []
    for path in iter_inputs(str(p) for p in paths):
        if is_warc(path):
            if html:
                groups.append(html)
                html = []
            groups.append([str(path)])
        else:
            html.append(str(path))
            if len(html) >= files_per_partition:
                groups.append(html)
                html = []
    if html:
        groups.append(html)
    return groups


def extract_bag(
    paths: Iterable[str | Path],
    *,
    url: str | None = None,
    options: ExtractOptions | None = None,
    files_per_partition: int = FILES_PER_PARTITION,
) -> dask.bag.Bag:
    """A Dask bag of the JSON lines ``extract -j 1`` writes for ``paths``, in the same order.

    One partition per WARC file (HTML files in groups of
    ``files_per_partition``); each is one call of :func:`extract_files` on a
    worker, which loads the model once per worker process.  The files must
    be readable by the workers under the same paths (a shared file system).
    Folders are walked here, on the client.  Needs ``dask[bag]`` (and
    ``distributed`` for a cluster)::

        from dask.distributed import Client
        from classifier.batch import extract_bag

        client = Client("tcp://scheduler:8786")   # or LocalCluster(threads_per_worker=1)
        extract_bag(["crawl/"]).to_textfiles("out/part-*.jsonl")   # one file a partition
        lines = extract_bag(["crawl/"]).compute()                  # or a list, in order
    """
    import dask.bag as db
    from dask import delayed

    options = options or ExtractOptions()
    parts = [
        delayed(extract_files, pure=True)(group, url, options)
        for group in partitions(paths, files_per_partition)
    ]
    return db.from_delayed(parts) if parts else db.from_sequence([], npartitions=1)

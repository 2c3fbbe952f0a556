"""Access to the evaluation corpora in ../shared/corpora (absent on users' clones).

Layout (see that folder's README): ``NAME/pages/ID.html`` (wcxb's pages are
gzipped: ``ID.html.gz``) and ``NAME/truth.jsonl`` keyed by ``id``.  Nothing
here is ever copied into the project; tests and tools that need the corpora
skip when they are missing.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CORPORA_ENV = "NEWSFILTER_CORPORA"
# what a page file's name may end with after its id, in order of preference
PAGE_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")


def corpora_dir() -> Path:
    """``$NEWSFILTER_CORPORA`` or ``../shared/corpora`` beside the project."""
    env = os.environ.get(CORPORA_ENV)
    return Path(env) if env else PROJECT_ROOT.parent / "shared" / "corpora"


def available() -> bool:
    return (corpora_dir() / "README.md").exists() or any(corpus_names())


def corpus_names() -> list[str]:
    root = corpora_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "truth.jsonl").exists())


@dataclass(slots=True)
class CorpusPage:
    corpus: str
    id: str
    path: Path
    truth: dict[str, Any]

    @property
    def url(self) -> str | None:
        url = self.truth.get("url")
        return url if isinstance(url, str) and url.startswith("http") else None

    @property
    def page_type(self) -> str | None:
        """wcxb's ``page_type`` (article, service, product...); None elsewhere."""
        value = self.truth.get("page_type")
        return str(value) if value else None

    @property
    def split(self) -> str:
        """A fixed half of each corpus: "dev" for tuning, "test" for reporting."""
        return "dev" if zlib.crc32(self.id.encode()) % 2 == 0 else "test"

    def read(self) -> bytes:
        """The page's bytes as served (a ``.gz`` file decompressed)."""
        return read_page(self.path)


def read_page(path: Path) -> bytes:
    data = Path(path).read_bytes()
    return gzip.decompress(data) if str(path).lower().endswith(".gz") else data


def page_id(path: Path) -> str | None:
    """The id a page file stands for (``0001.html.gz`` -> ``0001``), None if not a page."""
    name = path.name
    lower = name.lower()
    for suffix in sorted(PAGE_SUFFIXES, key=len, reverse=True):
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def page_files(pages_dir: Path) -> dict[str, Path]:
    """Page files by id; an id with two files keeps the first of PAGE_SUFFIXES."""
    rank = {s: i for i, s in enumerate(PAGE_SUFFIXES)}
    found: dict[str, tuple[int, Path]] = {}
    if not pages_dir.is_dir():
        return {}
    for path in pages_dir.iterdir():
        pid = page_id(path)
        if pid is None or not path.is_file():
            continue
        order = rank[path.name[len(pid) :].lower()]
        if pid not in found or order < found[pid][0]:
            found[pid] = (order, path)
    return {k: v[1] for k, v in found.items()}


def load(name: str) -> list[CorpusPage]:
    """Every page of one corpus that has both a file and a truth row, in truth order."""
    root = corpora_dir() / name
    pages = []
    files = page_files(root / "pages")
    with open(root / "truth.jsonl", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            path = files.get(str(row["id"]))
            if path is not None:
                pages.append(CorpusPage(name, str(row["id"]), path, row))
    return pages


def iter_all() -> Iterator[CorpusPage]:
    for name in corpus_names():
        yield from load(name)


def page_bytes(limit: int | None = None) -> list[tuple[bytes, str | None]]:
    """Every corpus's pages as ``(bytes, url)``, the first *limit* of each if given."""
    pages = []
    for name in corpus_names():
        rows = load(name)
        for p in rows[:limit] if limit else rows:
            pages.append((p.read(), p.url))
    return pages

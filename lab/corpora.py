"""Access to the evaluation corpora in ../shared/corpora (absent on users' clones).

Layout (see that folder's README): ``NAME/pages/ID.html`` and
``NAME/truth.jsonl`` keyed by ``id``.  Nothing here is ever copied into the
project; tests and tools that need the corpora skip when they are missing.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CORPORA_ENV = "NEWSFILTER_CORPORA"


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
    def split(self) -> str:
        """A fixed half of each corpus: "dev" for tuning, "test" for reporting."""
        return "dev" if zlib.crc32(self.id.encode()) % 2 == 0 else "test"


def load(name: str) -> list[CorpusPage]:
    """Every page of one corpus that has both a file and a truth row."""
    root = corpora_dir() / name
    pages = []
    files = {p.stem: p for p in (root / "pages").iterdir()}
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

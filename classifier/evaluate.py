"""Score extractors on ../shared/corpora with the corpora's own metrics.

Every extractor runs on the same pages in the same run.  Ours is scored as
``title + text`` because the references include the headline; the others
with their default settings.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import corpora
from .extract import Extractor
from .metrics import PageScore, SnippetCounts, fulltext_page, fulltext_summary, snippet_page
from .segment import SegmentationError, segment

logger = logging.getLogger(__name__)

TextFn = Callable[[bytes, "str | None"], str]
REPORTS = corpora.PROJECT_ROOT / "reports"


def ours(extractor: Extractor) -> TextFn:
    def run(data: bytes, url: str | None) -> str:
        try:
            result = extractor.extract(data, url=url)
        except SegmentationError:
            return ""
        return "\n\n".join(t for t in (result.title, result.text) if t)
    return run


def _trafilatura(data: bytes, url: str | None) -> str:
    import trafilatura
    return trafilatura.extract(data, url=url) or ""


def _readability(data: bytes, url: str | None) -> str:
    import html_text
    from readability import Document
    doc = Document(data, url=url)
    return "\n\n".join(t for t in (doc.short_title(), html_text.extract_text(doc.summary())) if t)


def _justext(data: bytes, url: str | None) -> str:
    import justext
    paras = justext.justext(data, justext.get_stoplist("English"))  # its default use
    return "\n\n".join(p.text for p in paras if not p.is_boilerplate)


def _boilerpy3(data: bytes, url: str | None) -> str:
    from boilerpy3 import extractors
    from .segment import decode_html
    return extractors.ArticleExtractor(raise_on_failure=False).get_content(decode_html(data)[1])


PEERS: dict[str, TextFn] = {
    "trafilatura": _trafilatura,
    "readability-lxml": _readability,
    "jusText": _justext,
    "boilerpy3": _boilerpy3,
}


def available_peers(names: list[str] | None = None) -> dict[str, TextFn]:
    """The peers that are installed (development-only dependencies)."""
    import importlib.util
    modules = {"trafilatura": "trafilatura", "readability-lxml": "readability",
               "jusText": "justext", "boilerpy3": "boilerpy3"}
    return {n: f for n, f in PEERS.items()
            if (names is None or n in names) and importlib.util.find_spec(modules[n])}


@dataclass
class CorpusResult:
    corpus: str
    metric: str
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    pages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _score_page(page: corpora.CorpusPage, text: str) -> dict[str, Any]:
    if "article_text" in page.truth:
        s = fulltext_page(text, page.truth["article_text"])
        return {"id": page.id, "tp": s.tp, "fp": s.fp, "fn": s.fn,
                "precision": s.precision, "recall": s.recall}
    c = snippet_page(text, page.truth.get("with", []), page.truth.get("without", []))
    return {"id": page.id, "tp": c.tp, "fp": c.fp, "fn": c.fn}


def _summarise(metric: str, rows: list[dict[str, Any]]) -> dict[str, float]:
    if metric == "full-text":
        return fulltext_summary(PageScore(r["tp"], r["fp"], r["fn"]) for r in rows)
    total = SnippetCounts()
    for r in rows:
        total.add(SnippetCounts(r["tp"], r["fn"], r["fp"]))
    return {"precision": total.precision, "recall": total.recall, "f1": total.f1,
            "leaked": total.fp, "missed": total.fn, "found": total.tp, "pages": len(rows)}


def run_extractor(fn: TextFn, page: corpora.CorpusPage, data: bytes) -> str:
    try:
        return fn(data, page.url)
    except Exception as exc:  # a peer's crash on one page must not end the run
        logger.warning("%s: %s on %s", getattr(fn, "__name__", fn), type(exc).__name__, page.path)
        return ""


def evaluate(extractors: dict[str, TextFn], split: str | None = None) -> list[CorpusResult]:
    """Run every extractor on every corpus page (optionally one split)."""
    results = []
    for name in corpora.corpus_names():
        pages = [p for p in corpora.load(name) if split is None or p.split == split]
        metric = "full-text" if pages and "article_text" in pages[0].truth else "snippet"
        res = CorpusResult(name, metric)
        for ename, fn in extractors.items():
            rows = []
            for page in pages:
                data = page.path.read_bytes()
                rows.append(_score_page(page, run_extractor(fn, page, data)))
            res.pages[ename] = rows
            res.scores[ename] = _summarise(metric, rows)
        results.append(res)
    return results


def format_table(results: list[CorpusResult]) -> str:
    lines = []
    for res in results:
        lines.append(f"\n{res.corpus} ({res.metric}, {len(next(iter(res.pages.values()), []))} pages)")
        extra = "  leaked" if res.metric == "snippet" else ""
        lines.append(f"  {'extractor':<18} {'F1':>6} {'prec':>6} {'recall':>6}{extra}")
        for ename, s in res.scores.items():
            leak = f"  {s['leaked']:>6}" if res.metric == "snippet" else ""
            lines.append(f"  {ename:<18} {s['f1']:6.3f} {s['precision']:6.3f} {s['recall']:6.3f}{leak}")
    return "\n".join(lines)


def write_json(results: list[CorpusResult], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {r.corpus: {"metric": r.metric, "scores": r.scores} for r in results}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def threshold_sweep(extractor: Extractor, thresholds: np.ndarray, split: str = "dev") -> dict[str, Any]:
    """F1 per corpus for each threshold, on one split, computing probabilities once."""
    out: dict[str, Any] = {}
    for name in corpora.corpus_names():
        pages = [p for p in corpora.load(name) if p.split == split]
        segs = []
        for p in pages:
            try:
                segs.append(segment(p.path.read_bytes(), url=p.url))
            except SegmentationError:
                segs.append(None)
        per_t = {}
        for t in thresholds:
            extractor.threshold = float(t)
            rows = []
            for p, seg in zip(pages, segs):
                text = ""
                if seg is not None:
                    r = extractor.extract_page(seg)
                    text = "\n\n".join(x for x in (r.title, r.text) if x)
                rows.append(_score_page(p, text))
            metric = "full-text" if "article_text" in pages[0].truth else "snippet"
            per_t[round(float(t), 3)] = _summarise(metric, rows)
        out[name] = per_t
    return out

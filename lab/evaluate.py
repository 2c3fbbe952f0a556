"""Score extractors on ../shared/corpora with the corpora's own metrics.

Every extractor runs on the same pages in the same run.  Ours is scored as
``title + text`` because the references include the headline; the others
with their default settings.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier.extract import Extractor
from classifier.segment import SegmentationError, decode_html, segment

from . import corpora
from .metrics import PageScore, SnippetCounts, fulltext_page, fulltext_summary, snippet_page

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

    modules = {
        "trafilatura": "trafilatura",
        "readability-lxml": "readability",
        "jusText": "justext",
        "boilerpy3": "boilerpy3",
    }
    return {
        n: f
        for n, f in PEERS.items()
        if (names is None or n in names) and importlib.util.find_spec(modules[n])
    }


@dataclass
class CorpusResult:
    corpus: str
    metric: str
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    pages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _score_page(page: corpora.CorpusPage, text: str) -> dict[str, Any]:
    row: dict[str, Any] = {
        "corpus": page.corpus,
        "id": page.id,
        "path": str(page.path),
        "url": page.url,
    }
    if "article_text" in page.truth:
        s = fulltext_page(text, page.truth["article_text"])
        row.update(tp=s.tp, fp=s.fp, fn=s.fn, precision=s.precision, recall=s.recall)
    else:
        c = snippet_page(text, page.truth.get("with", []), page.truth.get("without", []))
        row.update(tp=c.tp, fp=c.fp, fn=c.fn, precision=c.precision, recall=c.recall)
    p, r = row["precision"], row["recall"]
    row["f1"] = 2 * p * r / (p + r) if p + r else 0.0
    return row


def worst_pages(
    results: list[CorpusResult], extractor: str = "newsfilter", per_corpus: int = 10
) -> list[dict[str, Any]]:
    """The pages where ``extractor`` scored lowest, per corpus, worst first."""
    out = []
    for res in results:
        rows = sorted(res.pages.get(extractor, []), key=lambda r: (r["f1"], r["id"]))
        out.extend(rows[:per_corpus])
    return out


def _summarise(metric: str, rows: list[dict[str, Any]]) -> dict[str, float]:
    if metric == "full-text":
        return fulltext_summary(PageScore(r["tp"], r["fp"], r["fn"]) for r in rows)
    total = SnippetCounts()
    for r in rows:
        total.add(SnippetCounts(r["tp"], r["fn"], r["fp"]))
    return {
        "precision": total.precision,
        "recall": total.recall,
        "f1": total.f1,
        "leaked": total.fp,
        "missed": total.fn,
        "found": total.tp,
        "pages": len(rows),
    }


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
        lines.append(
            f"\n{res.corpus} ({res.metric}, {len(next(iter(res.pages.values()), []))} pages)"
        )
        extra = "  leaked" if res.metric == "snippet" else ""
        lines.append(f"  {'extractor':<18} {'F1':>6} {'prec':>6} {'recall':>6}{extra}")
        for ename, s in res.scores.items():
            leak = f"  {s['leaked']:>6}" if res.metric == "snippet" else ""
            lines.append(
                f"  {ename:<18} {s['f1']:6.3f} {s['precision']:6.3f} {s['recall']:6.3f}{leak}"
            )
    return "\n".join(lines)


def as_json(results: list[CorpusResult]) -> dict[str, Any]:
    return {r.corpus: {"metric": r.metric, "scores": r.scores} for r in results}


def write_json(data: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def decision_sweep(
    extractor: Extractor, thresholds: list[float], switch_costs: list[float], split: str = "dev"
) -> dict[tuple[float, float], dict[str, dict[str, float]]]:
    """Scores per corpus for every (threshold, switch cost), on one split.

    Each page is segmented and classified once; only the decision rule is
    re-run for each setting.
    """
    cached: dict[str, list[tuple[corpora.CorpusPage, Any, Any]]] = {}
    for name in corpora.corpus_names():
        rows = []
        for p in corpora.load(name):
            if p.split != split:
                continue
            try:
                seg = segment(p.path.read_bytes(), url=p.url)
            except SegmentationError:
                seg = None
            rows.append((p, seg, extractor.probabilities(seg.blocks) if seg is not None else None))
        cached[name] = rows
    out: dict[tuple[float, float], dict[str, dict[str, float]]] = {}
    for t in thresholds:
        for c in switch_costs:
            tuned = copy.copy(extractor)  # shares the loaded model
            tuned.threshold, tuned.switch_cost = t, c
            scores = {}
            for name, rows in cached.items():
                scored = []
                for p, seg, proba in rows:
                    text = ""
                    if seg is not None:
                        r = tuned.extract_page(seg, proba)
                        text = "\n\n".join(x for x in (r.title, r.text) if x)
                    scored.append(_score_page(p, text))
                metric = "full-text" if rows and "article_text" in rows[0][0].truth else "snippet"
                scores[name] = _summarise(metric, scored)
            out[(t, c)] = scores
    return out

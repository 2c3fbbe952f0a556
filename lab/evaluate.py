"""Score extractors on ../shared/corpora with the corpora's own metrics.

Every extractor runs on the same pages in the same run, with its default
settings, and returns its headline and its body apart
(:class:`lab.titles.Extracted`); what is scored is decided once per corpus
by the title policy (:mod:`lab.titles`), the same for everyone.  Each page
is also scored under the other policy, so the report shows what the choice
changes.

Metrics (../shared/corpora/README.md): full-text (readability), snippet
(snippets), word-F1 with article pages on their own and every other page
type beside them, plus the ``without`` snippets leaked and full-text F1 for
reference (wcxb).
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from classifier.extract import Extractor
from classifier.segment import SegmentationError, clean_title, decode_html, segment

from . import corpora
from .metrics import (
    BELOW,
    PageScore,
    SnippetCounts,
    WordScore,
    fulltext_page,
    fulltext_summary,
    snippet_page,
    word_page,
    word_summary,
)
from .titles import (
    Extracted,
    compose,
    other_policy,
    policy_for,
    reference_has_headline,
    snippets_have_headline,
)

logger = logging.getLogger(__name__)

ExtractFn = Callable[[bytes, "str | None"], Extracted]
REPORTS = corpora.PROJECT_ROOT / "reports"
_TITLE_PARSER = etree.HTMLParser(encoding="utf-8", no_network=True, huge_tree=True)

FULL_TEXT, SNIPPET, WORD_F1 = "full-text", "snippet", "word-F1"
ARTICLE = "article"
# wcxb's page types, in the order the report lists them (others follow, sorted)
PAGE_TYPES = ("article", "service", "product", "collection", "forum", "listing", "documentation")
ALL = "all"


# --------------------------------------------------------------------------
# the extractors: (headline, body) of one page


def ours(extractor: Extractor) -> ExtractFn:
    def run(data: bytes, url: str | None) -> Extracted:
        try:
            result = extractor.extract(data, url=url)
        except SegmentationError:
            return Extracted()
        return Extracted(result.title, result.text)

    run.__name__ = "newsfilter"
    return run


def html_title(data: bytes) -> str:
    """The page's ``<title>``, site name removed (for extractors without a headline)."""
    import lxml.html

    try:
        _, text = decode_html(data)
        root = lxml.html.document_fromstring(text.encode("utf-8", "surrogatepass"), _TITLE_PARSER)
    except (SegmentationError, ValueError):
        return ""
    title = root.find(".//title")
    text = " ".join("".join(title.itertext()).split()) if title is not None else ""
    return clean_title(text) if text else ""


def _trafilatura(data: bytes, url: str | None) -> Extracted:
    import trafilatura

    text = trafilatura.extract(data, url=url) or ""  # its default output, as published
    meta = trafilatura.extract_metadata(data, default_url=url)
    return Extracted((meta.title or "") if meta is not None else "", text)


def _readability(data: bytes, url: str | None) -> Extracted:
    import html_text
    from readability import Document

    doc = Document(data, url=url)
    return Extracted(doc.short_title() or "", html_text.extract_text(doc.summary()))


def _justext(data: bytes, url: str | None) -> Extracted:
    import justext

    paras = justext.justext(data, justext.get_stoplist("English"))  # its default use
    return Extracted(html_title(data), "\n\n".join(p.text for p in paras if not p.is_boilerplate))


def _boilerpy3(data: bytes, url: str | None) -> Extracted:
    from boilerpy3 import extractors

    doc = extractors.ArticleExtractor(raise_on_failure=False).get_doc(decode_html(data)[1])
    return Extracted(html_title(data), doc.content or "")


PEERS: dict[str, ExtractFn] = {
    "trafilatura": _trafilatura,
    "readability-lxml": _readability,
    "jusText": _justext,
    "boilerpy3": _boilerpy3,
}
PEER_MODULES = {
    "trafilatura": "trafilatura",
    "readability-lxml": "readability",
    "jusText": "justext",
    "boilerpy3": "boilerpy3",
}


def available_peers(names: list[str] | None = None) -> dict[str, ExtractFn]:
    """The peers that are installed (development-only dependencies)."""
    import importlib.util

    return {
        n: f
        for n, f in PEERS.items()
        if (names is None or n in names) and importlib.util.find_spec(PEER_MODULES[n])
    }


PEER_LOGGERS = ("boilerpy3", "readability", "trafilatura", "justext")


def quiet_peers(level: int = logging.ERROR) -> None:
    """The peers log every page they find odd (nested links...): keep the run readable."""
    for name in PEER_LOGGERS:
        logging.getLogger(name).setLevel(level)


def run_extractor(fn: ExtractFn, page: corpora.CorpusPage, data: bytes) -> Extracted:
    try:
        return fn(data, page.url)
    except Exception as exc:  # a peer's crash on one page must not end the run
        logger.warning("%s: %s on %s", getattr(fn, "__name__", fn), type(exc).__name__, page.path)
        return Extracted()


# --------------------------------------------------------------------------
# scoring one page


def corpus_metric(pages: list[corpora.CorpusPage]) -> str:
    """The metric the corpus's truth rows call for (see the corpora README)."""
    truth = pages[0].truth if pages else {}
    if "page_type" in truth:
        return WORD_F1
    return FULL_TEXT if "article_text" in truth else SNIPPET


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score_page(page: corpora.CorpusPage, metric: str, text: str) -> dict[str, Any]:
    """One page's figures under ``metric``: precision, recall, F1 and their counts."""
    truth = page.truth
    if metric == FULL_TEXT:
        s = fulltext_page(text, truth.get("article_text") or "")
        return {
            "tp": s.tp,
            "fp": s.fp,
            "fn": s.fn,
            "precision": s.precision,
            "recall": s.recall,
            "f1": _f1(s.precision, s.recall),
        }
    c = snippet_page(text, truth.get("with") or [], truth.get("without") or [])
    if metric == SNIPPET:
        return {
            "tp": c.tp,
            "fp": c.fp,
            "fn": c.fn,
            "precision": c.precision,
            "recall": c.recall,
            "f1": _f1(c.precision, c.recall),
        }
    w = word_page(text, truth.get("article_text") or "")
    ft = fulltext_page(text, truth.get("article_text") or "")
    return {
        "overlap": w.overlap,
        "predicted": w.predicted,
        "reference": w.reference,
        "precision": w.precision,
        "recall": w.recall,
        "f1": w.f1,
        "found": c.tp,
        "missed": c.fn,
        "leaked": c.fp,
        "ft_tp": ft.tp,
        "ft_fp": ft.fp,
        "ft_fn": ft.fn,
    }


def _page_row(page: corpora.CorpusPage) -> dict[str, Any]:
    row: dict[str, Any] = {
        "corpus": page.corpus,
        "id": page.id,
        "path": str(page.path),
        "url": page.url,
    }
    if page.page_type:
        row["page_type"] = page.page_type
    return row


# --------------------------------------------------------------------------
# summaries


def _word_scores(rows: Iterable[dict[str, Any]]) -> list[WordScore]:
    return [WordScore(r["overlap"], r["predicted"], r["reference"]) for r in rows]


def _word_group(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = dict(word_summary(_word_scores(rows)))
    out["leaked"] = sum(r["leaked"] for r in rows)
    out["found"] = sum(r["found"] for r in rows)
    out["missed"] = sum(r["missed"] for r in rows)
    # pages that yield no text: right for listing pages (the page-type gate)
    out["no_text"] = sum(r["predicted"] == 0 for r in rows)
    ft = fulltext_summary(PageScore(r["ft_tp"], r["ft_fp"], r["ft_fn"]) for r in rows)
    out["fulltext_f1"] = ft["f1"]
    return out


def summarise(metric: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A corpus's figures for one extractor, from its page rows.

    word-F1: the article pages' figures (``f1``, ``precision``, ``recall``,
    ``pages``, ``below_half``, ``leaked``, ``fulltext_f1``), and ``all_f1``,
    ``all_below_half``, ``all_leaked`` over every page; per page type in
    :func:`by_type`.
    """
    below = sum(r["f1"] < BELOW for r in rows)
    if metric == FULL_TEXT:
        out: dict[str, Any] = dict(
            fulltext_summary(PageScore(r["tp"], r["fp"], r["fn"]) for r in rows)
        )
        out["below_half"] = below
        return out
    if metric == SNIPPET:
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
            "below_half": below,
        }
    articles = [r for r in rows if r.get("page_type") == ARTICLE]
    out = _word_group(articles)
    everything = _word_group(rows)
    out.update(
        all_f1=everything["f1"],
        all_pages=everything["pages"],
        all_below_half=everything["below_half"],
        all_leaked=everything["leaked"],
        all_fulltext_f1=everything["fulltext_f1"],
    )
    return out


def by_type(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """word-F1 figures per page type (known types first), then over all pages."""
    types = {r.get("page_type") or "?" for r in rows}
    order = [t for t in PAGE_TYPES if t in types] + sorted(types - set(PAGE_TYPES))
    out = {t: _word_group([r for r in rows if (r.get("page_type") or "?") == t]) for t in order}
    out[ALL] = _word_group(rows)
    return out


# --------------------------------------------------------------------------
# the run


@dataclass
class CorpusResult:
    corpus: str
    metric: str
    policy: str = ""
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)
    pages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # every page scored under the other title policy
    other_scores: dict[str, dict[str, Any]] = field(default_factory=dict)
    # pages whose reference holds the page's headline (the title policy's evidence)
    headline_pages: int = 0
    sources: dict[str, corpora.CorpusPage] = field(default_factory=dict)


def page_headlines(data: bytes, url: str | None = None) -> list[str]:
    """The page's candidate headlines: its h1 blocks and its declared headline."""
    try:
        page = segment(data, url=url)
    except SegmentationError:
        return []
    heads = [b.text for b in page.blocks if b.tag == "h1"]
    declared = clean_title(page.headline)
    return [*heads, declared] if declared else heads


def _has_headline(page: corpora.CorpusPage, metric: str, data: bytes) -> bool:
    heads = page_headlines(data, page.url)
    if metric == SNIPPET:
        return snippets_have_headline(page.truth.get("with") or [], heads)
    return reference_has_headline(page.truth.get("article_text") or "", heads)


def select_pages(
    name: str, split: str | None = None, limit: int | None = None
) -> list[corpora.CorpusPage]:
    pages = [p for p in corpora.load(name) if split is None or p.split == split]
    return pages[:limit] if limit else pages


def evaluate(
    extractors: dict[str, ExtractFn],
    split: str | None = None,
    *,
    limit: int | None = None,
    names: list[str] | None = None,
) -> list[CorpusResult]:
    """Run every extractor on every corpus page (optionally one split, or the
    first ``limit`` pages of each corpus)."""
    results = []
    for name in names if names is not None else corpora.corpus_names():
        pages = select_pages(name, split, limit)
        metric = corpus_metric(pages)
        policy = policy_for(name)
        alt = other_policy(policy)
        res = CorpusResult(name, metric, policy)
        rows: dict[str, list[dict[str, Any]]] = {e: [] for e in extractors}
        alt_rows: dict[str, list[dict[str, Any]]] = {e: [] for e in extractors}
        for page in pages:
            data = page.read()
            res.sources[page.id] = page
            res.headline_pages += _has_headline(page, metric, data)
            for ename, fn in extractors.items():
                got = run_extractor(fn, page, data)
                row = _page_row(page)
                row.update(score_page(page, metric, compose(got, policy)))
                rows[ename].append(row)
                other = _page_row(page)
                other.update(score_page(page, metric, compose(got, alt)))
                alt_rows[ename].append(other)
        for ename in extractors:
            res.pages[ename] = rows[ename]
            res.scores[ename] = summarise(metric, rows[ename])
            res.other_scores[ename] = summarise(metric, alt_rows[ename])
        results.append(res)
    return results


def worst_pages(
    results: list[CorpusResult], extractor: str = "newsfilter", per_corpus: int = 10
) -> list[dict[str, Any]]:
    """The pages where ``extractor`` scored lowest, per corpus, worst first."""
    out = []
    for res in results:
        rows = sorted(res.pages.get(extractor, []), key=lambda r: (r["f1"], r["id"]))
        out.extend(rows[:per_corpus])
    return out


def format_table(results: list[CorpusResult]) -> str:
    lines = []
    for res in results:
        n = len(next(iter(res.pages.values()), []))
        lines.append(f"\n{res.corpus} ({res.metric}, {n} pages, scored as {res.policy})")
        if res.metric == WORD_F1:
            lines += _format_word(res)
            continue
        extra = "  leaked" if res.metric == SNIPPET else ""
        lines.append(
            f"  {'extractor':<18} {'F1':>6} {'prec':>6} {'recall':>6} {'<0.5':>5}{extra}"
            f"   F1 as {other_policy(res.policy)}"
        )
        for ename, s in res.scores.items():
            leak = f"  {s['leaked']:>6}" if res.metric == SNIPPET else ""
            lines.append(
                f"  {ename:<18} {s['f1']:6.3f} {s['precision']:6.3f} {s['recall']:6.3f} "
                f"{s['below_half']:>5}{leak}   {res.other_scores[ename]['f1']:.3f}"
            )
    return "\n".join(lines)


def _format_word(res: CorpusResult) -> list[str]:
    types = list(by_type(next(iter(res.pages.values()), [])))
    short = {t: t[:7] for t in types}
    lines = [
        "  word-F1 by page type (pages):  "
        + "  ".join(
            f"{t} {sum(1 for r in next(iter(res.pages.values())) if r.get('page_type') == t)}"
            for t in types
            if t != ALL
        ),
        f"  {'extractor':<18} " + " ".join(f"{short[t]:>7}" for t in types),
    ]
    for ename, rows in res.pages.items():
        groups = by_type(rows)
        lines.append(f"  {ename:<18} " + " ".join(f"{groups[t]['f1']:7.3f}" for t in types))
    lines.append("  share of pages with no text (listing pages should have none)")
    for ename, rows in res.pages.items():
        groups = by_type(rows)
        lines.append(
            f"  {ename:<18} "
            + " ".join(f"{groups[t]['no_text'] / max(1, groups[t]['pages']):7.2f}" for t in types)
        )
    lines.append(
        f"  {'article pages':<18} {'prec':>6} {'recall':>6} {'<0.5':>5} {'leaked':>6} "
        f"{'full-text':>9}   all pages: {'<0.5':>5} {'leaked':>6}   F1 as "
        f"{other_policy(res.policy)}"
    )
    for ename, s in res.scores.items():
        lines.append(
            f"  {ename:<18} {s['precision']:6.3f} {s['recall']:6.3f} {s['below_half']:>5} "
            f"{s['leaked']:>6} {s['fulltext_f1']:9.3f}              {s['all_below_half']:>5} "
            f"{s['all_leaked']:>6}   {res.other_scores[ename]['f1']:.3f}"
        )
    return lines


def as_json(results: list[CorpusResult]) -> dict[str, Any]:
    """Per corpus: metric, title policy and its evidence, scores (and wcxb's per type)."""
    out: dict[str, Any] = {}
    for r in results:
        n = len(next(iter(r.pages.values()), []))
        entry: dict[str, Any] = {
            "metric": r.metric,
            "pages": n,
            "title_policy": r.policy,
            "headline_in_reference": {"pages": r.headline_pages, "of": n},
            "scores": r.scores,
            "other_policy": {"policy": other_policy(r.policy), "scores": r.other_scores},
        }
        if r.metric == WORD_F1:
            entry["by_type"] = {e: by_type(rows) for e, rows in r.pages.items()}
        out[r.corpus] = entry
    return out


def write_json(data: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------
# the decision-rule sweep (make tune)

TUNE_CORPORA = ("readability", "snippets")  # the corpora the shipped rule was chosen on


def decision_sweep(
    extractor: Extractor,
    thresholds: list[float],
    switch_costs: list[float],
    split: str = "dev",
    names: list[str] | None = None,
) -> dict[tuple[float, float], dict[str, dict[str, float]]]:
    """Scores per corpus for every (threshold, switch cost), on one split.

    Each page is segmented and classified once; only the decision rule is
    re-run for each setting.  Pages are scored as in :func:`evaluate` (the
    corpus's metric and title policy); wcxb by its article pages' word-F1,
    its leaked ``without`` snippets as ``without_leaked`` (``leaked`` is the
    snippets corpus's count, the one ``--max-leaked`` bounds).
    """
    wanted = names if names is not None else list(TUNE_CORPORA)
    cached: dict[str, list[tuple[corpora.CorpusPage, Any, Any]]] = {}
    for name in corpora.corpus_names():
        if name not in wanted:
            continue
        rows = []
        for p in corpora.load(name):
            if p.split != split:
                continue
            try:
                seg = segment(p.read(), url=p.url)
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
                metric = corpus_metric([r[0] for r in rows])
                policy = policy_for(name)
                scored = []
                for p, seg, proba in rows:
                    got = Extracted()
                    if seg is not None:
                        r = tuned.extract_page(seg, proba)
                        got = Extracted(r.title, r.text)
                    row = _page_row(p)
                    row.update(score_page(p, metric, compose(got, policy)))
                    scored.append(row)
                s = summarise(metric, scored)
                if metric == WORD_F1:
                    s = {
                        "f1": s["f1"],
                        "precision": s["precision"],
                        "recall": s["recall"],
                        "without_leaked": s["all_leaked"],
                    }
                scores[name] = s
            out[(t, c)] = scores
    return out

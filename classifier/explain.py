"""Explain one page: a self-contained HTML report of what the model did.

Every block of the page, in order, coloured by its label (article / teaser /
chrome) with its probability and the features that weighed most for it; a
side panel holds the extracted title and text.

Which features weighed most is measured by local perturbation, one feature
at a time ("occlusion", as in Robnik-Šikonja & Kononenko, "Explaining
classifications for individual instances", IEEE TKDE 2008): the block's value
is replaced by the page's median value of that feature and the change in the
model's log-odds of article is recorded.  Log-odds of the boosted trees
before calibration, because the calibrated probabilities are isotonic steps
that sit flat at 0 and 1 for confident blocks; the change in calibrated
P(article) is reported beside it.  It is cheap (batched ``predict_proba``
over the changed rows only) and honest about what it measures: how much the
decision depends on that value *compared with a typical block of the same
page*, the other features held fixed.  The effects do not add up to
P(article), and correlated features (a block's ``link_density`` and the
``prev1_link_density`` copy in the next block's row) share the credit
unevenly.

The report is safe to open whatever the page holds: every piece of page
content is escaped, page links are shown as text (never as live links), and
a strict Content-Security-Policy allows no script at all and only the
report's own stylesheet (by hash), so no page script can run in it even if
escaping were ever wrong.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from .extract import Extraction, Extractor, default_extractor
from .features import FEATURE_NAMES
from .segment import LABELS, Page, segment

logger = logging.getLogger(__name__)

TOP_FEATURES = 4  # features listed per block
MIN_EVIDENCE = 0.05  # smaller changes of log-odds (5 % of the odds) are not shown
PREDICT_CHUNK_ROWS = 20_000  # perturbed rows scored per predict_proba call
MAX_LINKS_SHOWN = 20  # per block, in the collapsed link list

_STYLE = """
:root{--article:#1b7f3b;--teaser:#b7791f;--chrome:#6b7280;font:15px/1.45 system-ui,sans-serif}
body{margin:0;color:#111;background:#fafafa}
header{padding:12px 20px;background:#fff;border-bottom:1px solid #ddd}
header h1{font-size:18px;margin:0 0 4px}
header p{margin:2px 0;color:#444;font-size:13px}
.toggle{margin-left:20px}
.toggles{font-size:13px}
.layout{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:16px;padding:12px 20px}
ol.blocks{list-style:none;margin:0;padding:0}
.block{margin:0 0 8px;padding:6px 10px;border-left:6px solid var(--chrome);background:#f1f2f4;
border-radius:3px}
.block.article{border-color:var(--article);background:#eaf6ee}
.block.teaser{border-color:var(--teaser);background:#fbf3e4}
.block.chrome{border-color:var(--chrome);background:#f1f2f4;color:#333}
.meta{font-size:12px;color:#333;display:flex;flex-wrap:wrap;gap:8px;align-items:center}
.label{font-weight:700;text-transform:uppercase;letter-spacing:.03em}
.article .label{color:var(--article)}.teaser .label{color:var(--teaser)}
.chrome .label{color:var(--chrome)}
.path{font-family:ui-monospace,monospace;color:#666;overflow-wrap:anywhere}
.note{color:#8a1c1c}
.text{margin:4px 0;white-space:pre-wrap;overflow-wrap:anywhere}
ul.why{margin:2px 0 0;padding-left:18px;font-size:12px;color:#333}
.up{color:var(--article)}.down{color:#b42318}
details{font-size:12px}
code{font-family:ui-monospace,monospace;overflow-wrap:anywhere}
aside.side{position:sticky;top:0;align-self:start;max-height:100vh;overflow:auto;
background:#fff;border:1px solid #ddd;padding:10px 14px}
aside.side h2{font-size:14px;margin:8px 0 4px;color:#444}
aside.side .title{font-size:18px;font-weight:700}
aside.side p{margin:0 0 10px;overflow-wrap:anywhere}
#hide-article:checked~.layout .block.article,#hide-teaser:checked~.layout .block.teaser,
#hide-chrome:checked~.layout .block.chrome{display:none}
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode("utf-8")).digest()).decode("ascii")
# No script at all: the label filters are CSS-only (checkboxes + sibling selectors).
CSP = (
    "default-src 'none'; script-src 'none'; object-src 'none'; "
    f"style-src 'sha256-{_STYLE_HASH}'; img-src 'none'; font-src 'none'; "
    "connect-src 'none'; media-src 'none'; frame-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)


@dataclass(slots=True)
class FeatureEffect:
    """One feature's weight for one block."""

    name: str
    value: float  # the block's value
    reference: float  # the page median it was replaced by
    evidence: float  # booster log-odds of article: with the value minus with the median
    effect: float  # calibrated P(article): with the value minus with the median


def article_evidence(clf: Any, X: np.ndarray) -> np.ndarray:
    """The model's log-odds of article before calibration, one value per row.

    Calibrated probabilities saturate (isotonic steps at 0 and 1), so a change
    there says nothing for confident blocks; the boosted trees' own softmax
    log-odds keep moving.  Averaged over the calibrated members; a model
    without them falls back to the clipped logit of ``predict_proba``.
    """
    members = getattr(clf, "calibrated_classifiers_", None)
    if not members:
        p = np.clip(clf.predict_proba(X)[:, list(clf.classes_).index("article")], 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))
    out = np.zeros(len(X))
    for member in members:
        est = member.estimator
        raw = est.decision_function(X)
        art = list(est.classes_).index("article")
        if raw.ndim == 1:  # binary: the score of classes_[1]
            out += raw if art == 1 else -raw
            continue
        others = np.delete(raw, art, axis=1)
        top = others.max(axis=1)
        out += raw[:, art] - (top + np.log(np.exp(others - top[:, None]).sum(axis=1)))
    return out / len(members)


def feature_effects(
    extractor: Extractor, page: Page, top: int = TOP_FEATURES
) -> list[list[FeatureEffect]]:
    """The ``top`` features that weighed most, for every block of ``page``.

    Each feature of each block is replaced by the page median of that feature
    (only where it differs); features are ranked by the change in the model's
    log-odds of article, and the change in calibrated P(article) is reported
    beside it.
    """
    if not page.blocks:
        return []
    X = extractor.model.named_steps["features"].transform(page.blocks)
    clf = extractor.model.named_steps["model"]
    art = list(clf.classes_).index("article")
    base = (article_evidence(clf, X), clf.predict_proba(X)[:, art])
    median = np.median(X, axis=0)
    effects = (np.zeros_like(X), np.zeros_like(X))
    rows: list[np.ndarray] = []
    where: list[tuple[int, np.ndarray]] = []
    pending = 0
    for j in range(X.shape[1]):
        idx = np.flatnonzero(X[:, j] != median[j])
        if not len(idx):
            continue
        changed = X[idx].copy()
        changed[:, j] = median[j]
        rows.append(changed)
        where.append((j, idx))
        pending += len(idx)
        if pending >= PREDICT_CHUNK_ROWS:
            _score(clf, art, base, rows, where, effects)
            rows, where, pending = [], [], 0
    if rows:
        _score(clf, art, base, rows, where, effects)
    names = list(FEATURE_NAMES)
    evidence, prob = effects
    out = []
    for i in range(len(page.blocks)):
        order = np.argsort(-np.abs(evidence[i]), kind="stable")[:top]
        out.append(
            [
                FeatureEffect(
                    names[j],
                    float(X[i, j]),
                    float(median[j]),
                    float(evidence[i, j]),
                    float(prob[i, j]),
                )
                for j in order
                if abs(evidence[i, j]) >= MIN_EVIDENCE
            ]
        )
    return out


def _score(
    clf: Any,
    art: int,
    base: tuple[np.ndarray, np.ndarray],
    rows: list[np.ndarray],
    where: list[tuple[int, np.ndarray]],
    effects: tuple[np.ndarray, np.ndarray],
) -> None:
    """Score a batch of perturbed rows; store base - perturbed per (block, feature)."""
    batch = np.vstack(rows)
    scores = (article_evidence(clf, batch), clf.predict_proba(batch)[:, art])
    start = 0
    for j, idx in where:
        for k in (0, 1):
            effects[k][idx, j] = base[k][idx] - scores[k][start : start + len(idx)]
        start += len(idx)


# --------------------------------------------------------------------------
# rendering


def _e(value: object) -> str:
    """Escape any value for HTML text and quoted attributes."""
    return html.escape(str(value), quote=True)


def _num(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


def _why(effects: list[FeatureEffect]) -> str:
    if not effects:
        return (
            '<ul class="why"><li>no single feature moves the log-odds of article by '
            f"{MIN_EVIDENCE} or more</li></ul>"
        )
    items = []
    for f in effects:
        cls = "up" if f.evidence > 0 else "down"
        items.append(
            f"<li><code>{_e(f.name)}</code> = {_e(_num(f.value))} "
            f"(page median {_e(_num(f.reference))}): "
            f'<span class="{cls}">{_signed(f.evidence, 2)} log-odds</span>, '
            f"{_signed(f.effect, 3)} P(article)</li>"
        )
    return '<ul class="why">' + "".join(items) + "</ul>"


def _signed(x: float, digits: int) -> str:
    text = f"{abs(x):.{digits}f}"
    if float(text) == 0:
        return "\u00b10" if digits < 3 else "\u00b10.000"
    return ("+" if x > 0 else "\u2212") + text


def _links(links: list[tuple[str, str]]) -> str:
    if not links:
        return ""
    shown = "".join(
        f"<li><code>{_e(href)}</code> {_e(text)}</li>" for href, text in links[:MAX_LINKS_SHOWN]
    )
    more = (
        f"<li>... {len(links) - MAX_LINKS_SHOWN} more</li>" if len(links) > MAX_LINKS_SHOWN else ""
    )
    return (
        f"<details><summary>{len(links)} link(s), shown as text</summary>"
        f"<ul>{shown}{more}</ul></details>"
    )


def _block(
    i: int, page: Page, result: Extraction, effects: list[FeatureEffect], threshold: float
) -> str:
    b = result.blocks[i]
    label = b.label if b.label in LABELS else "chrome"
    note = ""
    if b.label == "article" and b.p_article < threshold:
        note = '<span class="note">kept by the best-region fallback (below threshold)</span>'
    return (
        f'<li class="block {label}" id="b{i}"><div class="meta">'
        f'<span class="label">{_e(b.label)}</span><span>p={b.probability:.2f}</span>'
        f"<span>P(article) {b.p_article:.2f}</span>"
        f'<meter min="0" max="1" low="{threshold:.3f}" optimum="1" '
        f'value="{b.p_article:.4f}"></meter>'
        f"<span>#{i} &lt;{_e(page.blocks[i].tag)}&gt;</span>"
        f'<span class="path">{_e(b.path)}</span>{note}</div>'
        f'<p class="text">{_e(b.text)}</p>{_why(effects)}{_links(b.links)}</li>'
    )


def _side(result: Extraction) -> str:
    paras = "".join(f"<p>{_e(p)}</p>" for p in result.text.split("\n\n") if p.strip())
    return (
        f'<aside class="side"><h2>Extracted title</h2>'
        f'<p class="title">{_e(result.title) or "<em>(none)</em>"}</p>'
        f"<h2>Extracted text ({len(result.text)} characters)</h2>"
        f"{paras or '<p><em>(nothing kept: not an article page?)</em></p>'}</aside>"
    )


def _header(page: Page, result: Extraction, extractor: Extractor) -> str:
    counts = {lab: sum(1 for b in result.blocks if b.label == lab) for lab in LABELS}
    summary = ", ".join(f"{counts[lab]} {lab}" for lab in LABELS)
    toggles = "".join(
        f'<input type="checkbox" class="toggle" id="hide-{lab}"> '
        f'<label for="hide-{lab}" class="toggles">hide {lab}</label>'
        for lab in LABELS
    )
    return (
        f"<header><h1>What the model did: {_e(result.title) or '(untitled page)'}</h1>"
        f"<p>URL: {_e(page.url or '(not given)')} \u00b7 language: {_e(page.lang or '?')} "
        f"\u00b7 model {_e(result.model_version or '?')} \u00b7 threshold P(article) "
        f"\u2265 {extractor.threshold:.2f}</p>"
        f"<p>{len(result.blocks)} blocks: {_e(summary)}.</p>"
        "<p>Features listed under a block: one at a time, the block's value was replaced by "
        "the page median; shown are the features whose replacement changed the model's "
        "log-odds of article most (+ the value pushes towards article, \u2212 away), with "
        "the change in calibrated P(article) beside it (often \u00b10 for confident "
        "blocks). Effects are not additive.</p></header>" + toggles
    )


def explain_page(page: Page, extractor: Extractor) -> str:
    """The report for an already segmented page (the lower layer)."""
    result = extractor.extract_page(page)
    effects = feature_effects(extractor, page)
    blocks = "".join(
        _block(i, page, result, effects[i], extractor.threshold) for i in range(len(result.blocks))
    )
    body = (
        _header(page, result, extractor)
        + f'<div class="layout"><main><ol class="blocks">{blocks}</ol>'
        + ("" if blocks else "<p>The page has no text blocks.</p>")
        + f"</main>{_side(result)}</div>"
    )
    doc = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>newsfilter explain: {_e(result.title or page.url or 'page')}</title>"
        f"<style>{_STYLE}</style></head><body>{body}</body></html>\n"
    )
    # A lone surrogate from a broken page must not stop the report being written.
    return doc.encode("utf-8", "replace").decode("utf-8")


def explain_html(
    html_data: bytes | str, *, url: str | None = None, extractor: Extractor | None = None
) -> str:
    """Segment, classify and explain one page; return the HTML report as text.

    ``html_data`` is the page as bytes (any encoding) or text; ``extractor``
    defaults to the shipped model.  Raises
    :class:`~classifier.segment.SegmentationError` for a page with no document.
    """
    ext = extractor if extractor is not None else default_extractor()
    return explain_page(segment(html_data, url=url), ext)

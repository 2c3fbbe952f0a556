"""Segmentation loss: the visible text our blocks lose, against a browser-grade parse.

For every corpus page the same decoded text is parsed twice:

- by Lexbor (selectolax's HTML5 parser, the tree a browser builds): the
  *visible text* is the body's text minus script, style, noscript and
  template, and minus elements a browser does not render (the ``hidden``
  attribute, an inline ``display:none`` or ``visibility:hidden``);
- by newsfilter's segmenter: the text of all its blocks, whatever label the
  model would give them.

A page's loss is the share of the visible text's words (a bag of
lower-cased ``\\w+`` tokens) that no block holds.  Part of it is by design:
the segmenter also skips form controls, svg, iframes, media and
``aria-hidden`` content (:data:`classifier.vocab.SKIP_TAGS`).  The *parse
loss* is measured against a visible text that skips those too, so what is
left is what our parse and walk lose.  Decoding is ours for both (the
segmenter's browser-like :func:`~classifier.segment.decode_html`); the pages
where the HTML Standard's decoding of the bytes (BOM, ``<meta>`` in the
first 1024 bytes, else UTF-8) would read other text are counted apart.

``python -m lab segloss`` writes ``reports/segloss.md`` and ``segloss.json``.
Only counts, ids and URLs are written, never page text.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import statistics
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from classifier import vocab
from classifier.segment import SegmentationError, decode_html, segment

from . import corpora
from .metrics import word_bag

logger = logging.getLogger(__name__)

SELECTOLAX_PIN = "selectolax==1.0.2"
INVISIBLE_TAGS = frozenset({"script", "style", "noscript", "template"})
# what our segmenter skips on purpose beyond the invisible (SKIP_TAGS, aria-hidden)
OUR_SKIPS = frozenset(vocab.SKIP_TAGS) - {"head", "title"}
# a break between words where these start and end (innerText's block boundaries)
BREAK_TAGS = frozenset(vocab.BLOCK_TAGS | vocab.CELL_TAGS | {"br", "option"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
HALF = 0.5
WORST = 25
DECODING_DIFF = 0.01  # the word bags of the two decodings differ by more than this share


def have_lexbor() -> bool:
    import importlib.util

    return importlib.util.find_spec("selectolax") is not None


def _hidden(attrs: dict[str, str | None], our_rules: bool) -> bool:
    if "hidden" in attrs:
        return True
    style = attrs.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True
    return our_rules and (attrs.get("aria-hidden") or "").strip().lower() == "true"


def visible_text(html: str | bytes, *, our_rules: bool = False, encoding: bool = False) -> str:
    """The body's visible text in Lexbor's HTML5 tree, blocks on lines of their own.

    ``our_rules`` also skips what newsfilter's segmenter skips on purpose;
    ``encoding`` lets Lexbor decode ``bytes`` itself (HTML Standard sniffing).
    """
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html, encoding=encoding and isinstance(html, bytes))
    body = tree.body
    if body is None:
        return ""
    skip = INVISIBLE_TAGS | OUR_SKIPS if our_rules else INVISIBLE_TAGS
    parts: list[str] = []
    # an explicit stack: pages nest deeper than Python's recursion allows
    stack: list[Any] = [body]
    while stack:
        node = stack.pop()
        if node is None:  # the end of a block element
            parts.append("\n")
            continue
        if node.is_text_node:
            parts.append(node.text_content or "")
            continue
        if not node.is_element_node:
            continue  # comments
        tag = node.tag or ""
        if tag in skip or _hidden(node.attributes, our_rules):
            continue
        if tag in BREAK_TAGS:
            parts.append("\n")
            stack.append(None)
        stack.extend(reversed(list(node.iter(include_text=True))))
    return "".join(parts)


def blocks_text(data: bytes | str, url: str | None = None) -> str:
    """The text of all our blocks, one a line."""
    return "\n".join(b.text for b in segment(data, url=url).blocks)


def lost_share(reference: Counter[str], have: Counter[str]) -> float:
    """The share of ``reference``'s words that ``have`` lacks (0 for an empty reference)."""
    n = sum(reference.values())
    return sum((reference - have).values()) / n if n else 0.0


def measure_page(page: corpora.CorpusPage) -> dict[str, Any]:
    data = page.read()
    row: dict[str, Any] = {"corpus": page.corpus, "id": page.id, "url": page.url, "note": ""}
    try:
        _, text = decode_html(data)
    except SegmentationError as exc:
        text, row["note"] = "", f"not decoded: {exc}"
    browser = word_bag(visible_text(text)) if text else Counter()
    same_rules = word_bag(visible_text(text, our_rules=True)) if text else Counter()
    try:
        ours = word_bag(blocks_text(data, page.url))
    except SegmentationError as exc:
        ours = Counter()
        row["note"] = row["note"] or f"not segmented: {exc}"
    standard = word_bag(visible_text(data, encoding=True))
    row.update(
        browser_words=sum(browser.values()),
        our_words=sum(ours.values()),
        lost=lost_share(browser, ours),
        parse_lost=lost_share(same_rules, ours),
        extra=lost_share(ours, browser),
        decoding_differs=max(lost_share(browser, standard), lost_share(standard, browser))
        > DECODING_DIFF,
    )
    return row


def run(split: str | None = None, limit: int | None = None) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for name in corpora.corpus_names():
        pages = [p for p in corpora.load(name) if split is None or p.split == split]
        for page in pages[:limit] if limit else pages:
            rows.append(measure_page(page))
    per_corpus = {}
    for name in [*dict.fromkeys(r["corpus"] for r in rows), "all"]:
        group = [r for r in rows if name == "all" or r["corpus"] == name]
        per_corpus[name] = summary(group)
    worst = sorted(rows, key=lambda r: (-r["lost"], r["corpus"], r["id"]))[:WORST]
    return {
        "split": split or "all",
        "parser": f"selectolax {_version()} (Lexbor)",
        "corpora": per_corpus,
        "worst": worst,
        "pages": rows,
    }


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    lost = [r["lost"] for r in rows]
    parse = [r["parse_lost"] for r in rows]
    return {
        "pages": len(rows),
        "lose_over_half": sum(x > HALF for x in lost),
        "parse_lose_over_half": sum(x > HALF for x in parse),
        "lose_over_tenth": sum(x > 0.1 for x in lost),
        "parse_lose_over_tenth": sum(x > 0.1 for x in parse),
        "mean_lost": statistics.fmean(lost) if lost else 0.0,
        "median_lost": statistics.median(lost) if lost else 0.0,
        "mean_parse_lost": statistics.fmean(parse) if parse else 0.0,
        "lost_words": sum(round(r["lost"] * r["browser_words"]) for r in rows),
        "browser_words": sum(r["browser_words"] for r in rows),
        "decoding_differs": sum(bool(r["decoding_differs"]) for r in rows),
        "not_segmented": sum(r["note"].startswith("not ") for r in rows),
    }


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("selectolax")
    except metadata.PackageNotFoundError:
        return "?"


def format_summary(result: dict[str, Any]) -> str:
    lines = [
        f"segmentation loss against {result['parser']} (split {result['split']})",
        f"  {'corpus':<12} {'pages':>5} {'>50% lost':>9} {'parse>50%':>9} {'>10% lost':>9} "
        f"{'parse>10%':>9} {'mean lost':>9} {'parse':>7} {'decoding':>8}",
    ]
    for name, s in result["corpora"].items():
        lines.append(
            f"  {name:<12} {s['pages']:>5} {s['lose_over_half']:>9} {s['parse_lose_over_half']:>9} "
            f"{s['lose_over_tenth']:>9} {s['parse_lose_over_tenth']:>9} {s['mean_lost']:9.3f} "
            f"{s['mean_parse_lost']:7.3f} {s['decoding_differs']:>8}"
        )
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    if not corpora.available():
        print(f"no corpora at {corpora.corpora_dir()}; nothing to measure", file=sys.stderr)
        return 0
    if not have_lexbor():
        print(
            f"error: segloss needs selectolax's Lexbor parser: pip install {SELECTOLAX_PIN}",
            file=sys.stderr,
        )
        return 2
    from .evaluate import REPORTS
    from .reports import write_segloss_report

    result = run(split=args.split, limit=args.limit)
    print(format_summary(result))
    out_dir = Path(args.output) if args.output else REPORTS
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "segloss.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    written = write_segloss_report(result, out_dir)
    print(f"wrote {out_dir / 'segloss.json'} and {', '.join(str(p) for p in written)}")
    return 0

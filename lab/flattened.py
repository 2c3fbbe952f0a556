"""clean-text on real pages: the readability corpus flattened by html-text.

The line model is scored on each page flattened by a common converter
(html-text's ``extract_text`` with layout guessing), beside the block model
on the same pages' HTML; full-text metric, references as in the corpus.
"""

from __future__ import annotations

import logging
from importlib import metadata
from pathlib import Path
from typing import Any

from classifier.clean import LineCleaner
from classifier.extract import Extractor
from classifier.metrics import fulltext_page, fulltext_summary
from classifier.model import BLOCK_MODEL, LINE_MODEL, ModelError
from classifier.segment import SegmentationError, decode_html

from . import corpora

logger = logging.getLogger(__name__)

# html-text settings of the flattened-corpus evaluation: its default
# layout guessing (newline after div/li/tr, blank line around p/h1-h6/ul...).
HTML_TEXT_OPTIONS: dict[str, Any] = {"guess_layout": True}


def flatten_html(data: bytes) -> str:
    """A whole page flattened by html-text (the "common converter" of the evaluation)."""
    import html_text

    _, text = decode_html(data)
    return html_text.extract_text(text, **HTML_TEXT_OPTIONS)


def evaluate_flattened(
    split: str | None = None,
    *,
    line_model: Path = LINE_MODEL,
    block_model: Path | None = None,
    threshold: float | None = None,
    corpus: str = "readability",
    limit: int | None = None,
) -> dict[str, Any]:
    """Full-text F1 of the line model on html-text dumps of a corpus, beside the
    block model on the same pages (``title + "\\n\\n" + text``)."""
    if corpus not in corpora.corpus_names():
        return {"corpus": corpus, "error": f"no corpus {corpus!r} at {corpora.corpora_dir()}"}
    pages = [p for p in corpora.load(corpus) if split is None or p.split == split]
    pages = pages[:limit] if limit else pages
    cleaner = LineCleaner(line_model, threshold=threshold)
    try:
        extractor: Extractor | None = Extractor(block_model or BLOCK_MODEL)
        block_error = ""
    except ModelError as exc:
        extractor, block_error = None, str(exc)
    line_scores, block_scores = [], []
    for page in pages:
        data = page.read()
        ref = page.truth["article_text"]
        try:
            flat = flatten_html(data)
        except (SegmentationError, ValueError) as exc:
            logger.warning("html-text failed on %s: %s", page.path, exc)
            flat = ""
        line_scores.append(fulltext_page(cleaner.clean(flat), ref))
        if extractor is not None:
            try:
                res = extractor.extract(data, url=page.url)
                text = "\n\n".join(t for t in (res.title, res.text) if t)
            except SegmentationError:
                text = ""
            block_scores.append(fulltext_page(text, ref))
    result: dict[str, Any] = {
        "corpus": corpus,
        "split": split or "all",
        "pages": len(pages),
        "flattener": f"html-text {metadata.version('html-text')} "
        f"extract_text({', '.join(f'{k}={v!r}' for k, v in HTML_TEXT_OPTIONS.items())})",
        "line_model": {
            **fulltext_summary(line_scores),
            "threshold": cleaner.threshold,
            "model_version": cleaner.model_version,
        },
    }
    result["block_model"] = (
        fulltext_summary(block_scores) if extractor is not None else {"error": block_error}
    )
    return result


def format_flattened(result: dict[str, Any]) -> str:
    """The evaluation as a short table for the terminal."""
    if "error" in result:
        return f"flattened {result['corpus']}: {result['error']}"
    rows = [
        f"\n{result['corpus']} flattened by {result['flattener']} "
        f"(full-text, {result['pages']} pages, split {result['split']})",
        f"  {'model':<18} {'F1':>6} {'prec':>6} {'recall':>6}",
    ]
    for name in ("line_model", "block_model"):
        s = result[name]
        if "error" in s:
            rows.append(f"  {name:<18} unavailable: {s['error']}")
        else:
            rows.append(f"  {name:<18} {s['f1']:6.3f} {s['precision']:6.3f} {s['recall']:6.3f}")
    return "\n".join(rows)

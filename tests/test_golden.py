"""Golden files: written pages and what extraction gives for each, as JSON.

Each ``tests/data/golden/NAME.html`` has ``NAME.json`` beside it: the title,
the text and every block's label and rounded P(article) under the shipped
model.  A change to the model or the rule that changes any of them shows
here as a diff of the JSON.  After an intended change, rewrite them with
``NEWSFILTER_UPDATE_GOLDEN=1 make test`` and review the diff before
committing (html-text keeps its expected outputs the same way).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import ROOT

from classifier.extract import Extraction, Extractor

GOLDEN = ROOT / "tests" / "data" / "golden"
PAGES = sorted(GOLDEN.glob("*.html"))
UPDATE = os.environ.get("NEWSFILTER_UPDATE_GOLDEN") == "1"


def summary(result: Extraction) -> dict[str, object]:
    return {
        "title": result.title,
        "text": result.text,
        "is_article": result.is_article,
        "blocks": [[b.label, round(b.p_article, 2), b.text[:60]] for b in result.blocks],
    }


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor()


def test_there_are_golden_pages() -> None:
    assert len(PAGES) >= 3


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_extraction_matches_its_golden_file(page: Path, extractor: Extractor) -> None:
    got = summary(extractor.extract(page.read_bytes()))
    expected_path = page.with_suffix(".json")
    if UPDATE:
        text = json.dumps(got, indent=1, ensure_ascii=False) + "\n"
        expected_path.write_text(text, encoding="utf-8")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert got == expected

"""The cause classifier: segmentation loss, dropped paragraphs or leaked blocks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from classifier.extract import Extraction, LabelledBlock
from classifier.segment import SegmentationError
from lab import causes, corpora
from lab.causes import DROPPED, LEAKED, SEGMENTATION, UNEXPLAINED, main_cause
from lab.evaluate import CorpusResult

REF = "one two three four"


def test_main_cause_is_the_largest_loss() -> None:
    assert main_cause(0.7, 0.1, 0.2) == SEGMENTATION
    assert main_cause(0.0, 0.9, 0.05) == DROPPED
    assert main_cause(0.0, 0.1, 0.6) == LEAKED
    # ties go to the earlier stage: the reference lost before the model ever saw it
    assert main_cause(0.5, 0.5, 0.5) == SEGMENTATION
    assert main_cause(0.0, 0.4, 0.4) == DROPPED
    assert main_cause(0.0, 0.0, 0.0) == UNEXPLAINED


def test_reference_in_no_block_is_segmentation_loss() -> None:
    # only "one" of four reference words is in any block
    losses = causes.word_losses(REF, blocks_text="one menu", kept="one")
    assert losses.coverage == pytest.approx(0.25)
    assert (losses.segmentation, losses.dropped, losses.leaked) == pytest.approx((0.75, 0.0, 0.0))
    assert losses.cause == SEGMENTATION


def test_reference_in_blocks_not_kept_is_dropped_paragraphs() -> None:
    losses = causes.word_losses(REF, blocks_text="One two three four menu", kept="one")
    assert losses.coverage == 1.0
    assert (losses.segmentation, losses.dropped, losses.leaked) == pytest.approx((0.0, 0.75, 0.0))
    assert losses.cause == DROPPED
    nothing = causes.word_losses(REF, blocks_text=REF, kept="")
    assert (nothing.dropped, nothing.leaked, nothing.cause) == (1.0, 0.0, DROPPED)


def test_kept_text_that_is_not_reference_is_leaked_blocks() -> None:
    # kept: 8 words, 2 of them the reference's
    losses = causes.word_losses(
        "one two", blocks_text="one two a b c d e f", kept="one two a b c d e f"
    )
    assert (losses.segmentation, losses.dropped, losses.leaked) == pytest.approx((0.0, 0.0, 0.75))
    assert losses.cause == LEAKED
    # an empty reference: whatever was kept leaked
    assert causes.word_losses("", blocks_text="menu", kept="menu").cause == LEAKED


def test_snippet_losses_count_sentences() -> None:
    with_ = ["Alpha beta.", "Gamma  delta."]
    without = ["Menu item"]
    union = "Alpha beta.\nGamma delta.\nMenu item"
    dropped = causes.snippet_losses(with_, without, union, kept="Alpha beta.")
    assert (dropped.segmentation, dropped.dropped, dropped.leaked) == (0.0, 0.5, 0.0)
    assert dropped.cause == DROPPED
    leaked = causes.snippet_losses(with_, without, union, kept=union)
    assert leaked.leaked == pytest.approx(1 / 3) and leaked.cause == LEAKED
    lost = causes.snippet_losses(with_, without, "Alpha beta.", kept="Alpha beta.")
    assert (lost.coverage, lost.cause) == (0.5, SEGMENTATION)


def _extraction(title: str, kept: list[str], dropped: list[str]) -> Extraction:
    blocks = [LabelledBlock(t, "article", 0.9, "body/p", 0.9) for t in kept]
    blocks += [LabelledBlock(t, "chrome", 0.9, "body/nav", 0.1) for t in dropped]
    return Extraction(title=title, text="\n\n".join(kept), blocks=blocks)


def _page(tmp_path: Path, truth: dict[str, Any], corpus: str = "c") -> corpora.CorpusPage:
    path = tmp_path / f"{truth['id']}.html"
    path.write_bytes(b"<p>x</p>")
    return corpora.CorpusPage(corpus, str(truth["id"]), path, truth)


def test_losses_of_an_extraction_follow_the_title_policy(tmp_path: Path) -> None:
    p = _page(tmp_path, {"id": "1", "article_text": "Big headline. one two three four"})
    ex = _extraction("Big headline", ["one two three four"], ["menu"])
    scored_with_title = causes.losses_of(p, "full-text", "title+text", ex)
    assert scored_with_title.coverage == 1.0 and scored_with_title.dropped == 0.0
    # text only, a headline from the page's metadata: in no block at all
    text_only = causes.losses_of(p, "full-text", "text", ex)
    assert text_only.segmentation == pytest.approx(2 / 6) and text_only.dropped == 0.0
    # text only, the headline from its heading block: in a block we did not score
    ex.blocks.insert(0, LabelledBlock("Big headline", "article", 0.9, "body/h1", 0.9))
    text_only = causes.losses_of(p, "full-text", "text", ex)
    assert text_only.segmentation == 0.0 and text_only.dropped == pytest.approx(2 / 6)
    assert causes.losses_of(p, "full-text", "text", None).cause == SEGMENTATION


class FakeExtractor:
    """Returns a prepared extraction per page id (or raises)."""

    def __init__(self, by_id: dict[str, Extraction | Exception]) -> None:
        self.by_id = by_id
        self.seen: list[str] = []

    def extract(self, html: bytes, *, url: str | None = None) -> Extraction:
        page_id = html.decode()
        self.seen.append(page_id)
        got = self.by_id[page_id]
        if isinstance(got, Exception):
            raise got
        return got


def test_analyse_takes_apart_pages_under_half_and_the_worst(tmp_path: Path) -> None:
    truths = {
        "seg": {"id": "seg", "page_type": "article", "article_text": REF},
        "drop": {"id": "drop", "page_type": "article", "article_text": REF},
        "good": {"id": "good", "page_type": "article", "article_text": REF},
        "best": {"id": "best", "page_type": "article", "article_text": REF},
        "leak": {"id": "leak", "page_type": "listing", "article_text": "one"},
        "err": {"id": "err", "page_type": "listing", "article_text": REF},
    }
    res = CorpusResult("wcxb", "word-F1", "text")
    rows = []
    for pid, truth in truths.items():
        path = tmp_path / f"{pid}.html"
        path.write_bytes(pid.encode())  # the fake extractor reads the id back
        res.sources[pid] = corpora.CorpusPage("wcxb", pid, path, truth)
        f1 = {"seg": 0.1, "drop": 0.2, "good": 0.8, "best": 0.95, "leak": 0.3, "err": 0.0}[pid]
        rows.append(
            {
                "corpus": "wcxb",
                "id": pid,
                "path": str(path),
                "url": None,
                "page_type": truth["page_type"],
                "f1": f1,
                "precision": 0.5,
                "recall": 0.5,
            }
        )
    res.pages["newsfilter"] = rows
    fake = FakeExtractor(
        {
            "seg": _extraction("", ["one"], ["menu"]),
            "drop": _extraction("", ["one"], ["two three four"]),
            "good": _extraction("", ["one two three"], ["four"]),
            "leak": _extraction("", ["one a b c d e"], []),
            "err": SegmentationError("empty document"),
        }
    )
    groups = causes.analyse([res], fake, worst=3)  # type: ignore[arg-type]
    assert [g["group"] for g in groups] == ["wcxb article", "wcxb other types"]
    article, other = groups
    # under 0.5: seg and drop; the 3 worst add "good"; "best" is not looked at
    assert [r["id"] for r in article["rows"]] == ["seg", "drop", "good"]
    assert "best" not in fake.seen
    assert article["below_half"] == 2
    assert article["causes_below_half"] == {SEGMENTATION: 1, DROPPED: 1, LEAKED: 0}
    assert article["causes_worst"] == {SEGMENTATION: 1, DROPPED: 2, LEAKED: 0}
    assert {r["id"]: r["cause"] for r in other["rows"]} == {"err": SEGMENTATION, "leak": LEAKED}
    assert other["rows"][0]["note"].startswith("not segmented")
    assert all(r["worst"] for r in other["rows"])
    table = causes.format_causes(groups)
    assert "wcxb article" in table and "segmentation" in table

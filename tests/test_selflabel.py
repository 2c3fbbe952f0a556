"""Self-labels from a page's own metadata (JSON-LD articleBody, itemprop=articleBody).

Unit tests on pages written here (with the tiny model of test_label), the
``label --auto`` command, and the measure on the team's training pages that
carry an articleBody: the auto-labels agree with the hand labels on at least
98 % of article characters (with the shipped model, which picks the roles
around the body).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, page
from test_label import one_thread, tiny_model  # noqa: F401  (fixtures)

from classifier.cli import build_parser
from classifier.extract import Extractor
from classifier.segment import segment
from classifier.selflabel import (
    MAX_UNHELD,
    MIN_COVERAGE,
    SOURCE_ITEMPROP,
    SOURCE_JSONLD,
    align,
    self_label,
    tokens,
)

PARAS = [
    "Tarnby, Oct 2: The ferry between Tarnby and the island of Holm will run twice an hour "
    "from Monday, the county transport office said, after a second boat returned from repairs.",
    "The old timetable had one crossing an hour since June, when the larger ferry was taken "
    "out of service with a cracked propeller shaft.",
    "Commuters said the queues at the Tarnby slipway had grown to forty cars on weekday "
    "mornings, and some had started driving the long way round by the bridge at Skell.",
    "Fares stay the same. The office said the winter timetable would be published next week.",
]


def story(article_body: str | None, *, itemprop: bool = False, labelled: bool = True) -> str:
    """A written story page with hand labels, and optionally its articleBody."""

    def lab(value: str) -> str:
        return f" data-label='{value}'" if labelled else ""

    paras = [f"<p>{p}</p>" for p in PARAS]
    paras.insert(
        2,
        f"<aside class='read-also'{lab('teaser')}><b>Read also:</b> "
        "<a href='/x'>Bridge at Skell to close for two nights of repairs</a></aside>",
    )
    body_attr = " itemprop='articleBody'" if itemprop else ""
    head = "<title>Holm ferry doubles crossings - Tarnby Courier</title>"
    if article_body is not None:
        head += (
            "<script type='application/ld+json'>"
            + json.dumps(
                {
                    "@type": "NewsArticle",
                    "headline": "Holm ferry doubles crossings",
                    "articleBody": article_body,
                }
            )
            + "</script>"
        )
    return page(
        f"<header{lab('chrome')}><nav><a href='/'>Home</a> <a href='/local'>Local</a> "
        "<a href='/sport'>Sport</a></nav><div class='kicker'>Local News</div></header>"
        f"<article{lab('article')}><h1>Holm ferry doubles crossings</h1>"
        "<div class='byline'>By Ingrid Moe, 2 October 2026</div>"
        "<figure><img src='f.jpg' alt=''><figcaption>The second ferry at the Tarnby slipway. "
        "(Photo: Courier)</figcaption></figure>"
        f"<div class='entry-content'{body_attr}>{''.join(paras)}</div></article>"
        f"<section class='related'{lab('teaser')}><h3>More from Local</h3><ul>"
        "<li><a href='/a'>School roof repairs finished early</a></li>"
        "<li><a href='/b'>Harbour fees to rise in spring</a></li></ul></section>"
        f"<footer{lab('chrome')}><p>\u00a9 2026 Tarnby Courier. All rights reserved.</p></footer>",
        head=head,
    )


FULL = " ".join(PARAS)


@pytest.fixture(scope="module")
def tiny(tiny_model: Path) -> Extractor:  # noqa: F811
    return Extractor(tiny_model)


def article_of(text: str) -> list[bool]:
    return [b.label == "article" for b in segment(text, with_labels=True).blocks]


def test_articlebody_labels_the_story(tiny: Extractor) -> None:
    text = story(FULL)
    seg = segment(text)
    found = self_label(seg, tiny)
    assert found is not None and found.source == SOURCE_JSONLD
    assert found.coverage == 1.0
    got = [lab == "article" for lab in found.labels]
    assert got == article_of(text)  # headline, byline and caption joined the body
    read_also = next(b.index for b in seg.blocks if b.text.startswith("Read also"))
    assert found.labels[read_also] in ("teaser", "chrome")
    assert [seg.blocks[i].text for i in found.body] == PARAS
    assert all(found.from_metadata[i] for i in found.body)
    assert found.unheld == 0


def test_itemprop_articlebody(tiny: Extractor) -> None:
    text = story(None, itemprop=True)
    seg = segment(text)
    found = self_label(seg, tiny)
    assert found is not None and found.source == SOURCE_ITEMPROP
    assert [lab == "article" for lab in found.labels] == article_of(text)
    # the model vetoed the "Read also" box inside the element: the coverage
    # says how much of the element's text is left as article
    inside = [len(b.text) for b in seg.blocks if b.text in PARAS or b.text.startswith("Read")]
    assert found.coverage == pytest.approx(sum(len(p) for p in PARAS) / sum(inside), abs=1e-4)
    assert found.coverage < MIN_COVERAGE  # --auto leaves such a page to a person


def test_alignment_measures_what_the_page_lacks(tiny: Extractor) -> None:
    seg = segment(story(FULL))
    # text the page does not show (a paywalled part): coverage drops
    missing = (
        FULL + " " + " ".join(f"Hidden sentence number {k} of the paid part." for k in range(40))
    )
    body, coverage = align(seg, missing)
    assert len(body) == len(PARAS) and coverage < MIN_COVERAGE
    # a truncated articleBody (the first paragraph): coverage is full, but the
    # model keeps story text it lacks
    found = self_label(segment(story(PARAS[0] + " ...")), tiny)
    assert found is not None and found.coverage == 1.0
    assert found.unheld > MAX_UNHELD * found.article_chars
    assert self_label(segment(story(None)), tiny) is None


def test_tokens_keep_brahmic_words_whole() -> None:
    # a Bengali word is one token (\w+ alone cuts it at each vowel sign)
    assert tokens("নাহৰগুৰি বিদ্যুৎ যোগান") == ["নাহৰগুৰি", "বিদ্যুৎ", "যোগান"]
    assert tokens("हिंदी समाचार, आज") == ["हिंदी", "समाचार", "आज"]


def test_auto_writes_only_self_labelled_pages(
    tiny_model: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    cases = {
        "full": story(FULL, labelled=False),
        "truncated": story(PARAS[0] + " ...", labelled=False),
        "paywalled": story(FULL + " More text only subscribers read, " * 30, labelled=False),
        "plain": story(None, labelled=False),
    }
    for name, text in cases.items():
        (inputs / f"{name}.html").write_text(text, encoding="utf-8")
    root = tmp_path / "data"
    argv = ["label", "--auto", str(inputs), "--site", "courier", "--data", str(root)]
    args = build_parser().parse_args([*argv, "--model", str(tiny_model)])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "1 written, 3 skipped" in out
    assert "truncated.html: the model keeps" in out
    assert "paywalled.html: JSON-LD articleBody alignment covers" in out
    assert "plain.html: no JSON-LD articleBody" in out
    written = root / "pages" / "courier" / "full.html"
    assert written.is_file()
    hand = segment(story(FULL), with_labels=True)
    auto = segment(written.read_bytes(), with_labels=True)
    assert [b.label == "article" for b in auto.blocks] == [
        b.label == "article" for b in hand.blocks
    ]
    check = build_parser().parse_args(["check-data", "--data", str(root)])
    assert check.func(check) == 0


def test_self_labels_agree_with_the_team_labels() -> None:
    """The measure: on the training pages with an articleBody that --auto would
    write, the share of article characters (in either labelling) labelled the same."""
    files = [
        p
        for p in sorted((ROOT / "training_data" / "pages").glob("*/*.html"))
        if b"articlebody" in p.read_bytes().lower()
    ]
    if not files:
        pytest.skip("no training page carries an articleBody")
    extractor = Extractor()
    agree = union = hand_chars = auto_chars = written = 0
    for path in files:
        labelled = segment(path.read_bytes(), with_labels=True)
        found = self_label(labelled, extractor)
        if (
            found is None
            or not found.labels
            or found.coverage < MIN_COVERAGE
            or found.unheld > MAX_UNHELD * found.article_chars
        ):
            continue
        written += 1
        for b, lab in zip(labelled.blocks, found.labels, strict=True):
            hand, auto, n = b.label == "article", lab == "article", len(b.text)
            agree += n if hand and auto else 0
            union += n if hand or auto else 0
            hand_chars += n if hand else 0
            auto_chars += n if auto else 0
    share = agree / union
    print(
        f"self-labels on {written} of {len(files)} pages with articleBody: agreement "
        f"{share:.4f} of article characters (recall {agree / hand_chars:.4f}, "
        f"precision {agree / auto_chars:.4f})"
    )
    assert written >= len(files) // 2
    assert share >= 0.98

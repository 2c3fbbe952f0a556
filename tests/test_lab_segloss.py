"""Segmentation loss against a browser-grade (Lexbor) parse, on pages written here."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from conftest import page
from test_lab_corpora import write_corpus

from lab import cli, corpora, segloss
from lab.metrics import word_bag

pytest.importorskip("selectolax.lexbor")


def words(text: str) -> list[str]:
    return sorted(word_bag(text).elements())


def test_visible_text_is_the_rendered_body() -> None:
    html = page(
        "<p>Shown <b>bold</b>er text</p><script>var hidden = 1</script><style>p{}</style>"
        "<noscript>enable js</noscript><template><p>later</p></template>"
        "<div hidden>gone</div><div style='color:red; DISPLAY: none'>none</div>"
        "<span style='visibility:hidden'>invisible</span>"
        "<div aria-hidden='true'>decor</div><button>Press</button>",
        head="<title>Not body</title>",
    )
    assert words(segloss.visible_text(html)) == ["bolder", "decor", "press", "shown", "text"]
    # our segmenter's own skips (aria-hidden, form controls...) on top
    assert words(segloss.visible_text(html, our_rules=True)) == ["bolder", "shown", "text"]


def test_block_boundaries_separate_words() -> None:
    html = "<div>one</div><div>two<br>three</div><table><tr><td>four</td><td>five</td></tr></table>"
    assert words(segloss.visible_text(html)) == ["five", "four", "one", "three", "two"]


def test_deep_nesting_does_not_recurse() -> None:
    html = "<div>" * 5000 + "deep" + "</div>" * 5000
    assert "deep" in segloss.visible_text(html)


def test_lost_share() -> None:
    assert segloss.lost_share(word_bag("a b c d"), word_bag("a b")) == 0.5
    assert segloss.lost_share(word_bag("a a"), word_bag("a")) == 0.5  # a bag, not a set
    assert segloss.lost_share(word_bag(""), word_bag("x")) == 0.0


def test_segloss_command_on_a_fake_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    story = page("<p>The council met on Tuesday to approve the budget.</p>")
    # text inside <select> is skipped by our segmenter on purpose: lost, but no parse loss
    form = page("<p>Pick one</p><select><option>alpha beta gamma delta epsilon</option></select>")
    root = tmp_path / "corpora"
    write_corpus(
        root,
        "wcxb",
        {"1.html.gz": gzip.compress(story.encode()), "2.html.gz": gzip.compress(form.encode())},
        [
            {
                "id": "1",
                "url": None,
                "page_type": "article",
                "article_text": "",
                "with": [],
                "without": [],
            },
            {
                "id": "2",
                "url": None,
                "page_type": "service",
                "article_text": "",
                "with": [],
                "without": [],
            },
        ],
    )
    monkeypatch.setenv(corpora.CORPORA_ENV, str(root))
    out = tmp_path / "reports"
    assert cli.main(["segloss", "-o", str(out)]) == 0
    result = json.loads((out / "segloss.json").read_text(encoding="utf-8"))
    by_id = {r["id"]: r for r in result["pages"]}
    assert by_id["1"]["lost"] == 0.0 and by_id["1"]["browser_words"] == 9
    assert by_id["2"]["lost"] == pytest.approx(5 / 7) and by_id["2"]["parse_lost"] == 0.0
    assert result["corpora"]["wcxb"]["lose_over_half"] == 1
    assert result["corpora"]["wcxb"]["parse_lose_over_half"] == 0
    md = (out / "segloss.md").read_text(encoding="utf-8")
    assert "Lexbor" in md and "| wcxb | 2 | 1 | 0 |" in md
    assert "alpha" not in md  # counts and ids only, never page text
    assert "segmentation loss against" in capsys.readouterr().out

"""One title policy per corpus, applied alike to every extractor."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from conftest import page
from test_lab_corpora import write_corpus

from lab import corpora, evaluate
from lab.titles import (
    TEXT,
    TITLE_AND_TEXT,
    Extracted,
    compose,
    other_policy,
    policy_for,
    reference_has_headline,
    snippets_have_headline,
)

HEADLINE = "Harbour reopens after storm"
BODY = "The harbour reopened on Monday after two weeks of repairs to the pier."


def test_compose_text_only_and_headline_plus_text() -> None:
    got = Extracted(HEADLINE, BODY)
    assert compose(got, TEXT) == BODY
    assert compose(got, TITLE_AND_TEXT) == f"{HEADLINE}\n\n{BODY}"
    assert compose(Extracted(HEADLINE, ""), TITLE_AND_TEXT) == HEADLINE
    assert compose(Extracted(HEADLINE, ""), TEXT) == ""
    assert compose(Extracted("", BODY), TITLE_AND_TEXT) == BODY
    assert other_policy(TEXT) == TITLE_AND_TEXT and other_policy(TITLE_AND_TEXT) == TEXT
    with pytest.raises(ValueError, match="title policy"):
        compose(got, "headline")


def test_headline_is_not_added_twice() -> None:
    # a body that already starts with the headline (case and punctuation aside) keeps one
    body = f"HARBOUR reopens — after storm!\n\n{BODY}"
    assert compose(Extracted(HEADLINE, body), TITLE_AND_TEXT) == body
    # but a body that merely mentions it later gets it in front
    later = f"{BODY} {HEADLINE}"
    assert compose(Extracted(HEADLINE, later), TITLE_AND_TEXT).startswith(HEADLINE + "\n\n")


def test_one_policy_per_corpus() -> None:
    assert policy_for("readability") == TEXT
    assert policy_for("wcxb") == TEXT
    assert policy_for("snippets") == TITLE_AND_TEXT
    assert policy_for("some-new-corpus") in (TEXT, TITLE_AND_TEXT)


def test_headline_evidence() -> None:
    assert reference_has_headline(f"{HEADLINE}\n\n{BODY}", ["nothing alike", HEADLINE])
    assert reference_has_headline(f"Updated 3 May. {HEADLINE}. {BODY}", [HEADLINE])  # a kicker
    assert not reference_has_headline(f"{BODY} " * 5 + HEADLINE, [HEADLINE])  # far from the start
    assert not reference_has_headline(BODY, ["", HEADLINE])
    assert snippets_have_headline(["Harbour  reopens"], [f"{HEADLINE} | Valley Herald"])
    assert not snippets_have_headline(["The harbour reopened"], [HEADLINE])


@pytest.fixture
def three_corpora(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    html = page(f"<h1>{HEADLINE}</h1><p>{BODY}</p>", head=f"<title>{HEADLINE} - Herald</title>")
    root = tmp_path / "corpora"
    write_corpus(
        root,
        "wcxb",
        {"0001.html.gz": gzip.compress(html.encode())},
        [
            {
                "id": "0001",
                "url": "https://news.example/1",
                "page_type": "article",
                "article_text": BODY,
                "with": [BODY[:30]],
                "without": [HEADLINE],
            }
        ],
    )
    write_corpus(
        root,
        "readability",
        {"a.html": html.encode()},
        [{"id": "a", "url": None, "article_text": BODY}],
    )
    write_corpus(
        root,
        "snippets",
        {"s.html": html.encode()},
        [{"id": "s", "url": None, "with": [HEADLINE, BODY[:30]], "without": ["Footer"]}],
    )
    monkeypatch.setenv(corpora.CORPORA_ENV, str(root))
    return root


def test_every_extractor_is_scored_under_its_corpus_policy(three_corpora: Path) -> None:
    def headline_and_body(data: bytes, url: str | None) -> evaluate.Extracted:
        return evaluate.Extracted(HEADLINE, BODY)

    def body_starting_with_headline(data: bytes, url: str | None) -> evaluate.Extracted:
        return evaluate.Extracted(HEADLINE, f"{HEADLINE}\n\n{BODY}")

    results = {
        r.corpus: r
        for r in evaluate.evaluate({"a": headline_and_body, "b": body_starting_with_headline})
    }
    # wcxb: text only; the reference is the body, so "a" is perfect and "b" is not
    wcxb = results["wcxb"]
    assert wcxb.policy == TEXT and wcxb.metric == evaluate.WORD_F1
    assert wcxb.scores["a"]["f1"] == pytest.approx(1.0)
    assert wcxb.scores["b"]["f1"] < 1.0
    assert wcxb.scores["a"]["leaked"] == 0 and wcxb.scores["b"]["leaked"] == 1
    # under the other policy both score the same text: headline + body
    assert wcxb.other_scores["a"]["f1"] == pytest.approx(wcxb.other_scores["b"]["f1"])
    assert wcxb.headline_pages == 0
    # readability: text only, the same rule
    assert results["readability"].scores["a"]["f1"] == pytest.approx(1.0)
    # snippets: headline + text; the headline "with" sentence is found for both
    snippets = results["snippets"]
    assert snippets.policy == TITLE_AND_TEXT
    assert snippets.scores["a"]["found"] == snippets.scores["b"]["found"] == 2
    assert snippets.other_scores["a"]["found"] == 1  # text only misses the headline
    assert snippets.headline_pages == 1
    json_ = evaluate.as_json(list(results.values()))
    assert json_["wcxb"]["title_policy"] == TEXT
    assert json_["wcxb"]["by_type"]["a"]["article"]["f1"] == pytest.approx(1.0)
    assert json_["snippets"]["other_policy"]["policy"] == TEXT


PEER_PAGE = page(
    f"<h1>{HEADLINE}</h1>"
    + "".join(f"<p>{BODY} Paragraph {i} goes on a while.</p>" for i in range(6)),
    head=f"<title>{HEADLINE} - Valley Herald</title>",
).encode()


@pytest.mark.parametrize(
    ("peer", "module"),
    [("trafilatura", "trafilatura"), ("readability-lxml", "readability")],
)
def test_peers_with_a_headline_of_their_own(peer: str, module: str) -> None:
    pytest.importorskip(module)
    got = evaluate.PEERS[peer](PEER_PAGE, None)
    assert HEADLINE in got.title
    assert "Paragraph 3" in got.text


@pytest.mark.parametrize(("peer", "module"), [("jusText", "justext"), ("boilerpy3", "boilerpy3")])
def test_peers_without_one_get_the_title_element_without_site_name(peer: str, module: str) -> None:
    pytest.importorskip(module)
    got = evaluate.PEERS[peer](PEER_PAGE, None)
    assert got.title == HEADLINE
    assert evaluate.html_title(PEER_PAGE) == HEADLINE
    assert evaluate.html_title(b"<p>no title</p>") == ""

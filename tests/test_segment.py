from __future__ import annotations

from typing import Any

import pytest
from conftest import page

from classifier.segment import SegmentationError, class_tokens, decode_html, segment


def texts(html: str | bytes, **kw: Any) -> list[str]:
    return [b.text for b in segment(html, **kw).blocks]


def test_inline_tags_stay_in_their_paragraph() -> None:
    html = page(
        "<p>The <b>council</b> met <a href='/x'>on <i>Monday</i></a> evening.</p><p>Next.</p>"
    )
    assert texts(html) == ["The council met on Monday evening.", "Next."]


def test_links_are_counted() -> None:
    blocks = segment(
        page("<p>Read <a href='/a'>this story</a> and <a href='/b'>that</a></p>")
    ).blocks
    assert blocks[0].n_links == 2
    assert blocks[0].links == [("/a", "this story"), ("/b", "that")]
    assert blocks[0].link_chars == len("this story") + len("that")


def test_br_splits_bare_div_but_not_paragraph() -> None:
    html = page("<div>First line<br>second line<br><br>third</div><p>one<br>two</p>")
    assert texts(html) == ["First line", "second line", "third", "one two"]


def test_table_row_is_one_block() -> None:
    html = page(
        "<table><tr><th>Team</th><th>Pts</th></tr><tr><td>Rovers</td><td>12</td></tr></table>"
    )
    assert texts(html) == ["Team Pts", "Rovers 12"]


def test_invisible_content_never_becomes_text() -> None:
    html = page(
        "<p>shown</p><script>var a='hidden'</script><style>p{}</style>"
        "<noscript>no js</noscript><template><p>tpl</p></template>"
        "<div hidden>h1</div><div aria-hidden='true'>h2</div>"
        "<div style='display: none'>h3</div><span style='visibility:hidden'>h4</span>"
        "<p>after <script>x</script>tail</p>"
    )
    assert texts(html) == ["shown", "after tail"]


def test_dom_path_and_tag() -> None:
    b = segment(page("<div class='td-post-content main'><p id='x'>Hello</p></div>")).blocks[0]
    assert b.tag == "p"
    assert b.path == "html/body/div.td-post-content/p#x"


def test_malformed_markup_recovers() -> None:
    html = "<html><body><div><p>Unclosed para<p>Second <b>bold <i>mixed</b> end</i><div>Last"
    assert texts(html) == ["Unclosed para", "Second bold mixed end", "Last"]


@pytest.mark.parametrize("data", [b"", b"   \n\t ", ""])
def test_empty_documents_are_refused_clearly(data: bytes | str) -> None:
    with pytest.raises(SegmentationError, match="empty"):
        segment(data)


def test_whitespace_only_body_has_no_blocks() -> None:
    assert segment(page("   <div> \n </div> ")).blocks == []


def test_binary_input_is_refused() -> None:
    with pytest.raises(SegmentationError, match="binary"):
        segment(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))


def test_cp1252_bytes_with_meta_charset() -> None:
    html = page(
        "<p>Caf\u00e9 \u201cquoted\u201d \u2013 na\u00efve</p>",
        head='<meta charset="windows-1252">',
    ).encode("cp1252")
    assert texts(html) == ["Caf\u00e9 \u201cquoted\u201d \u2013 na\u00efve"]


def test_wrong_declared_charset_falls_back_to_detection() -> None:
    # declares UTF-8 but the bytes are cp1252: strict UTF-8 fails, detection wins
    body = (
        "<p>"
        + "Der B\u00fcrgermeister er\u00f6ffnete die Br\u00fccke \u00fcber den Flu\u00df. " * 5
        + "</p>"
    )
    data = page(body, head='<meta charset="utf-8">').encode("cp1252")
    text = texts(data)[0]
    assert "B\u00fcrgermeister" in text and "\ufffd" not in text


def test_shift_jis_bytes_without_declaration() -> None:
    story = (
        "\u5e02\u8b70\u4f1a\u306f\u6708\u66dc\u65e5\u3001\u65b0\u3057\u3044\u6a4b\u306e\u5efa\u8a2d\u3092\u627f\u8a8d\u3057\u307e\u3057\u305f\u3002"
        * 4
    )
    data = page(f"<p>{story}</p>", head="").encode("shift_jis")
    assert texts(data) == [story]


def test_http_header_charset_wins_over_guessing() -> None:
    text = "\u041c\u044d\u0440 \u0433\u043e\u0440\u043e\u0434\u0430 \u043e\u0442\u043a\u0440\u044b\u043b \u043c\u043e\u0441\u0442."
    data = page(f"<p>{text}</p>", head="").encode("cp1251")
    assert texts(data, content_type="text/html; charset=windows-1251") == [text]


def test_xml_declaration_with_encoding_is_accepted() -> None:
    data = ('<?xml version="1.0" encoding="ISO-8859-1"?>' + page("<p>Jos\u00e9</p>")).encode(
        "latin-1"
    )
    assert texts(data) == ["Jos\u00e9"]


def test_very_deep_nesting_does_not_recurse() -> None:
    depth = 10_000
    html = (
        "<html><body>" + "<div>" * depth + "<p>deep story</p>" + "</div>" * depth + "</body></html>"
    )
    blocks = segment(html).blocks
    assert [b.text for b in blocks] == ["deep story"]


def test_twenty_megabyte_page() -> None:
    para = "<p>" + "Rain fell on the hills all night and the river rose. " * 20 + "</p>\n"
    html = page("<div class='content'>" + para * (20_000_000 // len(para) + 1) + "</div>")
    assert len(html) > 20_000_000
    blocks = segment(html.encode()).blocks
    assert len(blocks) == 20_000_000 // len(para) + 1
    assert blocks[-1].text.startswith("Rain fell")


def test_head_metadata_is_collected() -> None:
    head = (
        '<title>Site | Story</title><meta property="og:title" content="Story">'
        '<link rel="canonical" href="https://x.test/s">'
        '<script type="application/ld+json">{"@graph": [{"@type": "NewsArticle", '
        '"headline": "The Story", "articleBody": "' + "word " * 20 + '"}]}</script>'
    )
    p = segment(page("<p>x</p>", head=head))
    assert p.title == "Site | Story"
    assert p.meta["og:title"] == "Story" and p.meta["canonical"] == "https://x.test/s"
    assert p.headline == "The Story"
    assert p.article_body.startswith("word word")


def test_labels_follow_nearest_ancestor_and_report_mixing() -> None:
    html = page(
        "<nav>Menu</nav><article data-label='article'><p>Story</p>"
        "<p>Text <span data-label='teaser'>inline teaser</span></p></article>"
    )
    html = html.replace("<body>", "<body data-label='chrome'>")
    blocks = segment(html, with_labels=True).blocks
    assert [(b.text, b.label) for b in blocks[:2]] == [("Menu", "chrome"), ("Story", "article")]
    assert blocks[2].mixed and {blocks[2].label, *blocks[2].mixed} == {"article", "teaser"}


def test_class_tokens_split_camel_case_and_punctuation() -> None:
    assert class_tokens("tdPostContent x-1 entry_content") == (
        "td",
        "post",
        "content",
        "x",
        "1",
        "entry",
        "content",
    )


def test_decode_str_passthrough() -> None:
    assert decode_html("<p>x</p>") == ("utf-8", "<p>x</p>")

from __future__ import annotations

from typing import Any

import pytest
from conftest import ROOT, STORY, page

from classifier.segment import (
    LIMITS,
    MAX_NESTING,
    SegmentationError,
    _max_nesting,
    blockify,
    bound_nesting,
    class_tokens,
    decode_html,
    parse_html,
    segment,
    serialize,
)

PARSER = ROOT / "tests" / "data" / "parser"


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


def _react_page(body: str) -> str:
    return f"<html><body><nav>Home News</nav>{body}<footer>(c) The Herald</footer></body></html>"


def test_react_streamed_segments_are_walked_in_their_slots() -> None:
    """Next.js streams a Suspense boundary's content as <div hidden id="S:n">
    after the page; a script moves it into <template id="B:n"> and drops the
    fallback up to <!--/$-->.  Segmentation shows what the browser shows then."""
    html = _react_page(
        '<main><!--$?--><template id="B:0"></template><p>Loading...</p><!--/$-->'
        "<p>Comments are closed.</p></main>"
        '<div hidden id="S:0"><article><h1>Bridge reopens</h1><p>The bridge reopened on Monday.</p>'
        '<template id="P:1"></template></article></div>'
        '<div hidden id="S:1"><p>Buses are back on their old route.</p></div>'
        '<div hidden id="S:7"><p>A segment no slot names stays hidden.</p></div>'
        '<script>$RC("B:0","S:0")</script>'
    )
    blocks = segment(html).blocks
    assert [b.text for b in blocks] == [
        "Home News",
        "Bridge reopens",
        "The bridge reopened on Monday.",
        "Buses are back on their old route.",  # a P:n placeholder, filled in place
        "Comments are closed.",
        "(c) The Herald",
    ]
    assert blocks[2].path.startswith("html/body/main/")  # where the browser puts it


def test_a_react_segment_is_walked_once() -> None:
    html = _react_page(
        '<template id="B:0"></template><template id="B:0"></template>'
        '<div hidden id="S:0"><p>Only once.</p><template id="B:0"></template></div>'
    )
    texts = [b.text for b in segment(html).blocks]
    assert texts.count("Only once.") == 1


def test_an_app_shell_is_read_as_a_browser_without_javascript_shows_it() -> None:
    """A page whose visible text is a splash screen and whose story is in
    <noscript> (a forum's crawler view) is walked with <noscript> as markup."""
    story = (
        "<p>We moved the meeting to Thursday because the hall is booked on Wednesday "
        "evening for the school concert, so please bring the minutes then.</p>"
    ) * 4
    html = (
        "<html><body><section id='splash'><div class='dots'>Loading</div></section>"
        f"<noscript><header><a href='/'>Valley Forum</a></header><main>{story}</main></noscript>"
        "<section id='main'></section></body></html>"
    )
    texts = [b.text for b in segment(html).blocks]
    assert texts[0] == "Loading" and "Valley Forum" in texts
    assert sum(t.startswith("We moved the meeting") for t in texts) == 4
    # a page that shows the story already keeps its <noscript> copy out
    page_html = html.replace("<div class='dots'>Loading</div>", story)
    texts = [b.text for b in segment(page_html).blocks]
    assert sum(t.startswith("We moved the meeting") for t in texts) == 4
    assert "Valley Forum" not in texts


def test_a_post_rendered_from_a_script_template_is_read_from_its_noscript() -> None:
    """A Blogger post: its body is in a <script type="text/template"> that the
    page's JavaScript renders, with a <noscript> copy beside it, and the rest
    of the page (an archive list) shows more text than the short-page rule
    would allow; a short "enable JavaScript" notice or tracking pixels
    written as escaped markup do not make a page read with scripting off."""
    body = (
        "<p>The ferry timetable changes on Monday: the first crossing leaves at "
        "half past six and the last returns at ten, every day but Sunday.</p>"
    ) * 4
    archive = "".join(f"<li><a href='/{m}'>{m} 2020 (12)</a></li>" for m in range(1, 60))
    html = (
        "<html><body><div class='post'><h2>Timetable changes</h2>"
        f"<div class='post-body'><script type='text/template'>{body}</script>"
        f"<noscript>{body}</noscript></div></div><ul class='archive'>{archive}</ul>"
        "</body></html>"
    )
    texts = [b.text for b in segment(html).blocks]
    assert sum(t.startswith("The ferry timetable") for t in texts) == 4
    assert "Timetable changes" in texts and "1 2020 (12)" in texts
    pixel = "&lt;div style='position:absolute'&gt;&lt;img src='/b?p=1' width=1&gt;&lt;/div&gt;"
    notice = "<p>Please enable JavaScript in your browser to use every part of this site.</p>"
    shell = html.replace(
        f"<noscript>{body}</noscript>", f"<noscript>{pixel * 12}{notice}</noscript>"
    )
    texts = [b.text for b in segment(shell).blocks]
    assert not any(t.startswith(("The ferry", "<div", "Please enable")) for t in texts)


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


CHINESE = (
    "\u5e02\u653f\u5e9c\u5468\u4e00\u5ba3\u5e03\uff0c\u65b0\u6865\u5c06\u4e8e\u4e94\u6708\u901a\u8f66\u3002"
    * 4
)


def test_utf8_bytes_under_a_multibyte_declaration_are_utf8() -> None:
    # a page saved as UTF-8 that kept its gb2312 meta: gb18030 would read the
    # bytes without an error, as the wrong characters
    data = page(f"<p>{CHINESE}</p>", head='<meta charset="gb2312">').encode("utf-8")
    assert texts(data) == [CHINESE]


def test_gb2312_bytes_under_their_declaration_stay_gb2312() -> None:
    data = page(f"<p>{CHINESE}</p>", head='<meta charset="gb2312">').encode("gb2312")
    assert texts(data) == [CHINESE]


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


def test_twenty_megabyte_page_is_cut_at_the_byte_limit() -> None:
    para = "<p>" + "Rain fell on the hills all night and the river rose. \u2014 " * 20 + "</p>\n"
    html = page("<div class='content'>" + para * (20_000_000 // len(para) + 1) + "</div>")
    assert len(html) > 20_000_000
    seg = segment(html.encode())
    assert seg.truncated == ["bytes", "blocks"] and len(seg.blocks) == LIMITS.max_blocks
    seg = segment(html.encode(), limits=LIMITS.replace(blocks=1 << 20))
    assert seg.truncated == ["bytes"]
    whole = LIMITS.max_bytes // len(para.encode())  # paragraphs before the cut
    assert whole <= len(seg.blocks) <= whole + 1
    assert all(b.text.startswith("Rain fell") for b in seg.blocks)
    assert "\ufffd" not in seg.blocks[-1].text  # cut between characters, not inside one
    small = page(para * 3).encode()
    assert segment(small, limits=LIMITS.replace(bytes=len(small))).truncated == []
    assert segment(small, limits=LIMITS.replace(bytes=len(small) - 1)).truncated == ["bytes"]


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


# -- links that wrap blocks (card markup) ------------------------------------


def links(html: str) -> list[tuple[str, list[tuple[str, str]], int, int]]:
    """(text, links, n_links, link_chars) of every block."""
    return [(b.text, b.links, b.n_links, b.link_chars) for b in segment(page(html)).blocks]


def test_link_around_a_heading_belongs_to_the_heading() -> None:
    html = (
        "<section><h2>Latest</h2>"
        "<a href='/a'><img src='a.jpg'><h3>Bus fares rise</h3></a>"
        "<a href='/b'><img src='b.jpg'><h3>College results out</h3></a></section>"
        "<p>After the list.</p>"
    )
    assert links(html) == [
        ("Latest", [], 0, 0),
        ("Bus fares rise", [("/a", "Bus fares rise")], 1, 14),
        ("College results out", [("/b", "College results out")], 1, 19),  # the last card too
        ("After the list.", [], 0, 0),
    ]


def test_link_around_a_card_belongs_to_each_block_inside() -> None:
    html = (
        "<div class='grid'><a class='card' href='/x'><div class='thumb'><img src='x.jpg'></div>"
        "<div class='body'><div class='kicker'>Sports</div><h3>Rovers win the cup</h3>"
        "<p class='dek'>A late goal settled the final.</p></div></a></div>"
    )
    assert links(html) == [
        ("Sports", [("/x", "Sports")], 1, 6),
        ("Rovers win the cup", [("/x", "Rovers win the cup")], 1, 18),
        ("A late goal settled the final.", [("/x", "A late goal settled the final.")], 1, 30),
    ]


def test_links_wrapping_list_items() -> None:
    html = (
        "<ul class='ticker'><a href='/1'><li>Dam compensation paid</li></a>"
        "<a href='/2'><li>Maternity wing opens</li></a></ul><footer>Footer</footer>"
    )
    assert links(html) == [
        ("Dam compensation paid", [("/1", "Dam compensation paid")], 1, 21),
        ("Maternity wing opens", [("/2", "Maternity wing opens")], 1, 20),
        ("Footer", [], 0, 0),
    ]


def test_link_around_a_figure_and_its_caption() -> None:
    html = (
        "<a href='/gallery/fair'><figure><img src='f.jpg'>"
        "<figcaption>Crowds at the winter fair</figcaption></figure></a><p>Story text.</p>"
    )
    assert links(html) == [
        ("Crowds at the winter fair", [("/gallery/fair", "Crowds at the winter fair")], 1, 25),
        ("Story text.", [], 0, 0),
    ]


def test_text_beside_blocks_in_a_link_keeps_the_link() -> None:
    html = "<div><a href='/x'><h3>Title</h3>Read more</a></div>"
    assert links(html) == [
        ("Title", [("/x", "Title")], 1, 5),
        ("Read more", [("/x", "Read more")], 1, 9),
    ]


def test_text_before_a_wrapping_link_is_not_link_text() -> None:
    html = "<div>Intro <a href='/x'><p>Card</p></a></div>"
    assert links(html) == [("Intro", [], 0, 0), ("Card", [("/x", "Card")], 1, 4)]


def test_inline_links_keep_their_own_anchor_text() -> None:
    html = (
        "<p>See <a href='/a'>the report</a> and <a href='/i'><img src='i.jpg'></a> "
        "<a href='#top'>top</a></p>"
    )
    # the image link has no text but is a link of the paragraph; "#top" is no story
    assert links(html) == [("See the report and top", [("/a", "the report"), ("/i", "")], 3, 13)]


# -- HTML5 parsing: the tree a browser builds ---------------------------------

MISNESTED = {
    # an unclosed <div> in a header button swallowed the page under libxml2
    "button-unclosed-div": [
        ("nav", "Home Local Sport"),
        ("h1", "Ferry fares cut for students"),
        (
            "p",
            "Riverbank, May 2: Students will pay half fare on the river ferry from next "
            "month, the port office said.",
        ),
        ("p", "The cut applies to all school and college students who show a valid identity card."),
        ("footer", "\u00a9 2026 Riverbank Times"),
    ],
    # </a> closes the link; the unclosed card div holds the rest of the section, not the footer
    "link-unclosed-div": [
        ("h2", "Latest"),
        ("h3", "School roof repaired before the rains"),
        ("p", "Tura, June 4: Workers finished repairing the roof of the girls' school on Tuesday."),
        ("footer", "\u00a9 2026 Hill Herald"),
    ],
    # each <p> closes the last; open <b>, <i> and <a> are carried into the next one
    "paragraph-unclosed": [
        ("p", "Greenford, Jan 9: The weekly market reopened on Monday"),
        ("p", "Traders said sales were slow in the first hours"),
        ("p", "The council will review the parking rules in March."),
        ("div", "Share this story"),
        ("p", "Read also: New bus stand opens"),
        ("p", "The old stand will close on Friday."),
    ],
    # with a doctype, <table> closes the paragraph; the text after it is the article's
    "table-in-paragraph": [
        ("h1", "Rovers stay top after narrow win"),
        ("p", "The standings after round six:"),
        ("tr", "Team Pts"),
        ("tr", "Rovers 16"),
        ("tr", "United 14"),
        ("article", "Rovers play United next Saturday."),
    ],
    # quirks mode (no doctype): the table stays inside the paragraph
    "table-in-paragraph-quirks": [
        ("h1", "Rovers stay top after narrow win"),
        ("p", "The standings after round six:"),
        ("tr", "Team Pts"),
        ("tr", "Rovers 16"),
        ("tr", "United 14"),
        ("p", "Rovers play United next Saturday."),
    ],
    # an extra </div> closes the wrapper; one in a cell is ignored; a stray </p> is an empty p
    "stray-end-div": [
        (
            "p",
            "Delta, Aug 1: The old bridge reopened to traffic on Thursday after four months "
            "of repairs.",
        ),
        ("p", "Buses will use the bridge again from Monday, the transport office said."),
        ("tr", "First bus 6 am Last bus 10 pm"),
        ("div", "Toll rates are unchanged."),
        ("div", "Cars pay 20 rupees."),
        ("h3", "Most read"),
        ("li", "Power cut in the old town"),
    ],
    # </body></html> mid-page are ignored: the rest of the story is still the body's
    "stray-end-body": [
        ("h1", "Heavy rain alert for the coast"),
        ("p", "Coast City, Jul 3: The weather office warned of heavy rain over the next two days."),
        ("div", "Advertisement"),
        ("p", "Fishermen have been told not to go out to sea until Saturday."),
        ("footer", "\u00a9 2026 Coast Daily"),
    ],
    # a <form> in a table is left empty; the rows stay in the table
    "form-in-table": [
        ("h1", "Cup fixtures for the weekend"),
        ("tr", "Saturday Rovers v United"),
        ("tr", "Sunday City v Athletic"),
        ("p", "Kick-off is at 4 pm for both matches."),
    ],
}


@pytest.mark.parametrize("name", sorted(MISNESTED))
def test_misnested_markup_gives_the_blocks_a_browser_shows(name: str) -> None:
    blocks = segment((PARSER / f"{name}.html").read_bytes()).blocks
    assert [(b.tag, b.text) for b in blocks] == MISNESTED[name]
    browser = segment((PARSER / f"{name}.dom.html").read_bytes()).blocks  # Chromium's DOM
    assert [(b.path, b.text, b.links) for b in blocks] == [
        (b.path, b.text, b.links) for b in browser
    ]


def test_misnesting_details() -> None:
    read = {n: segment((PARSER / f"{n}.html").read_bytes()).blocks for n in MISNESTED}
    card = read["link-unclosed-div"]
    assert card[1].links == [("/news/school-roof", "School roof repaired before the rains")]
    assert card[2].links == [] and "a.card" not in card[2].path
    carried = read["paragraph-unclosed"]
    assert carried[5].links == [("/news/bus-stand", "The old stand will close on Friday.")]
    assert all("form" not in b.path for b in read["form-in-table"])
    assert "/p/table" in read["table-in-paragraph-quirks"][2].path
    assert "/p/" not in read["table-in-paragraph"][2].path


def test_stray_end_tags_of_p_and_br() -> None:
    assert texts(page("<div>one</p>two</div><div>three</br>four</div>")) == [
        "one",
        "two",
        "three",
        "four",
    ]


def test_noscript_in_head_does_not_end_the_head() -> None:
    head = "<noscript><img src='/pixel.gif'></noscript><link rel='canonical' href='/story'>"
    p = segment(page("<p>Story</p>", head=head))
    assert p.meta["canonical"] == "/story"
    assert [b.text for b in p.blocks] == ["Story"]


def test_parse_then_blockify_is_segment_and_serializes() -> None:
    tree, encoding = parse_html(STORY.encode())
    assert encoding == "utf-8"
    assert [b.text for b in blockify(tree).blocks] == texts(STORY)
    html = serialize(tree)
    assert html.startswith("<!DOCTYPE html>") and "Valley farmers start early harvest" in html


# -- nesting depth: browser-like cap, bounded cost ----------------------------


def test_nesting_deeper_than_the_cap_is_flattened() -> None:
    depth = 3 * MAX_NESTING
    html = "<div>\n" * depth + "<p>deep</p>" + "</div>" * depth
    flat = bound_nesting(html)
    assert _max_nesting(flat) == MAX_NESTING
    assert flat.count("\n") == html.count("\n")  # source lines stay where they were
    assert texts(page(html)) == ["deep"]


def test_unclosed_tags_are_capped_too() -> None:
    html = page("<div class='post'>x " * 5000)
    blocks = segment(html).blocks
    assert len(blocks) <= MAX_NESTING
    assert " ".join(b.text for b in blocks).split() == ["x"] * 5000


def test_the_cap_leaves_scripts_comments_and_svg_alone() -> None:
    inner = (
        "<script>var t = '<div><div><div>';</script><!-- <div><div> --><svg><path/><path/></svg>"
    )
    html = "<div>" * 4 + inner + "</div>" * 4
    assert bound_nesting(html, limit=2, scan_tags=0) == "<div>" * 2 + inner + "</div>" * 2


def test_ordinary_pages_are_not_rewritten() -> None:
    assert bound_nesting(STORY) is STORY
    big = page("<div class='row'><p>Item <b>bold</b></p><img src='x.jpg'><br></div>" * 1000)
    assert bound_nesting(big) is big


# -- labelled pages: the source line of each label ----------------------------


LABELLED = """<!doctype html><html><body data-label="chrome">
<nav>Menu</nav>
<div hidden data-label="article"><p>hidden</p></div>
<!-- <div data-label="article"> commented out -->
<script>var s = '<div data-label="article">';</script>
<template><div data-label="article">template</div></template>
<div
  class="story" DATA-LABEL='article' title="a > b">
<p>Story</p>
<table data-label="teaser"><tr><td>row</td></tr><div data-label="chrome">fostered</div></table>
<p data-label=teaser>Read also</p>
<section data-label="art&#105;cle"><p>entity</p></section>
<section data-label="artcle"><p>typo</p></section>
</div></body></html>
"""


def test_label_lines_point_at_the_labelled_start_tag() -> None:
    blocks = segment(LABELLED, with_labels=True).blocks
    assert [(b.text, b.label, b.label_line) for b in blocks] == [
        ("Menu", "chrome", 1),
        ("Story", "article", 7),
        ("fostered", "chrome", 10),  # moved before the table by the parser
        ("row", "teaser", 10),
        ("Read also", "teaser", 11),
        ("entity", "article", 12),
        ("typo", "artcle", 13),
    ]


def test_label_line_of_the_text_not_of_the_next_block() -> None:
    html = '<body data-label="chrome">\nMenu text\n<div data-label="article">\n<p>Story</p></div>'
    blocks = segment(html, with_labels=True).blocks
    assert [(b.text, b.label_line) for b in blocks] == [("Menu text", 1), ("Story", 3)]


def test_label_without_a_source_match_falls_back_to_line_zero() -> None:
    # the parser clones a formatting element: the clone has no start tag of its own
    html = "<body data-label='chrome'>\n<p><b data-label='teaser'>one<p>two</p></b></p>"
    blocks = segment(html, with_labels=True).blocks
    assert [(b.text, b.label, b.label_line) for b in blocks] == [
        ("one", "teaser", 2),
        ("two", "teaser", 0),
    ]

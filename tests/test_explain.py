"""The explain report: escaping, CSP, every block labelled; and a real browser.

The model is a tiny one trained here on pages written here, so these tests do
not depend on the shipped model or the training data of the day.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from conftest import CHROMIUM_ARGS, page, train_tiny_model
from threadpoolctl import threadpool_limits

from classifier.cli import build_parser
from classifier.explain import CSP, TOP_FEATURES, explain_html, feature_effects
from classifier.extract import Extractor
from classifier.features import FEATURE_NAMES
from classifier.segment import SegmentationError, segment

TOWNS = ("Greenford", "Riverside", "Ashby", "Millbrook", "Eastwick", "Northam")


def labelled_page(n: int) -> str:
    """A small labelled news page, varied by ``n``."""
    town = TOWNS[n % len(TOWNS)]
    menu = " ".join(
        f"<li><a href='/{s}'>{s.title()}</a></li>"
        for s in ("home", "news", "sport", "business", "opinion", "contact")
    )
    story = "".join(
        f"<p>{town}, May {k + n}: The district council said on Tuesday that work on the "
        f"new water line would finish in {k + 2} weeks, and residents of ward {k + n} would "
        f"get a steady supply before the monsoon. Officials said the cost had risen by "
        f"{10 + k} per cent since the tender.</p>"
        for k in range(4 + n % 3)
    )
    teasers = "".join(
        f"<li><a href='/story/{n}-{k}'>{town} school wins quiz {k}</a> "
        f"Students from the town beat twelve teams...</li>"
        for k in range(5)
    )
    body = (
        f"<header data-label='chrome'><nav class='menu'><ul>{menu}</ul></nav></header>"
        f"<article data-label='article' class='post-content'><h1>{town} water line nearly done</h1>"
        f"{story}</article>"
        f"<section class='related' data-label='teaser'><h3>Hot this week</h3><ul>{teasers}</ul></section>"
        "<div class='share' data-label='chrome'><a href='/s/fb'>Share</a> <a href='/s/x'>Tweet</a></div>"
        f"<footer data-label='chrome'><p>\u00a9 2026 {town} Herald. All rights reserved.</p>"
        "<p><a href='/privacy'>Privacy</a> | <a href='/terms'>Terms</a></p></footer>"
    )
    return page(body, head=f"<title>{town} water line nearly done - {town} Herald</title>")


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    # The boosted trees use OpenMP; on a loaded machine its spinning threads
    # make a 3 s fit take minutes.  One thread keeps these tests quick anywhere.
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # the shipped pipeline, smaller: quick to train
    return train_tiny_model(
        [labelled_page(n) for n in range(8)],
        tmp_path_factory.mktemp("model") / "block_model.skops",
        max_iter=40,
        max_leaf_nodes=31,
    )


@pytest.fixture(scope="session")
def tiny_extractor(tiny_model: Path) -> Extractor:
    return Extractor(tiny_model)


# Every payload is *text* of the page (entities in the source), so it reaches
# the blocks and must come out escaped; the live script, onerror and
# javascript: link around them are what a browser would run on the page itself.
PAYLOADS = (
    "<script>window.pwned='text-script';document.title='PWNED'</script>",
    "</textarea><script>window.pwned='textarea'</script>",
    "<img src=x onerror=\"window.pwned='img'\">",
    "\"><svg onload=window.pwned='svg'>",
    "</style></title><script>window.pwned='style'</script>",
    "--><script>window.pwned='comment'</script><!--",
    "<iframe src=\"javascript:window.pwned='iframe'\"></iframe>",
)
LIVE_SCRIPT = "window.pwned='live';document.title='PWNED'"
JS_HREF = "javascript:window.pwned='link'"
ATTR_HREF = "\" onmouseover=\"window.pwned='attr'"
HOSTILE = page(
    '<nav><a href="' + JS_HREF + "\">Home</a> <a href='/news'>News</a></nav>"
    f"<script>{LIVE_SCRIPT}</script>"
    "<img src='missing.png' onerror=\"window.pwned='live-img'\">"
    "<article><h1>Council approves budget "
    + html.escape(PAYLOADS[0])
    + "</h1>"
    + "".join(
        f"<p>The council met on Monday and discussed item {k}: {html.escape(p)} "
        "before voting on the budget for the coming year.</p>"
        for k, p in enumerate(PAYLOADS[1:])
    )
    + "<p><a href='"
    + html.escape(ATTR_HREF, quote=True)
    + "'>Read also</a> more text.</p>"
    "</article><footer><p onclick=\"window.pwned='click'\">Footer text, all rights reserved.</p></footer>",
    head=(
        "<meta charset='utf-8'><title>" + html.escape(PAYLOADS[4]) + "</title>"
        "<meta property='og:title' content='" + html.escape(PAYLOADS[0], quote=True) + "'>"
        "<base href='http://127.0.0.1:9/'>"
        "<meta http-equiv='refresh' content=\"0;url=javascript:window.pwned='refresh'\">"
    ),
)


@pytest.fixture(scope="module")
def hostile_report(tiny_extractor: Extractor) -> str:
    return explain_html(
        HOSTILE.encode("utf-8"),
        url="javascript:window.pwned='url'\"><script>",
        extractor=tiny_extractor,
    )


def test_report_escapes_a_hostile_page(hostile_report: str) -> None:
    lowered = hostile_report.lower()
    for needle in (
        "<script",
        "</textarea",
        "<img",
        "<svg",
        "<iframe",
        "<base",
        'http-equiv="refresh',
        "<a ",
    ):
        assert needle not in lowered, needle
    for payload in PAYLOADS[1:]:
        assert html.escape(payload) in hostile_report
    assert html.escape(ATTR_HREF) in hostile_report  # a link's href is shown as text
    tree = lxml.html.document_fromstring(hostile_report)
    assert not tree.xpath("//script|//a|//img|//svg|//iframe|//base|//object|//embed|//form")
    assert not [
        a
        for el in tree.iter()
        if isinstance(el.tag, str)
        for a in el.attrib
        if a.lower().startswith("on")
    ]
    assert len(tree.xpath("//style")) == 1


def test_report_carries_a_strict_csp(hostile_report: str) -> None:
    tree = lxml.html.document_fromstring(hostile_report)
    head = tree.find("head")
    first = [el.tag for el in head][:2]
    assert first == ["meta", "meta"]  # charset, then the policy, before anything else
    metas = tree.xpath("//meta[@http-equiv='Content-Security-Policy']")
    assert len(metas) == 1 and metas[0].get("content") == CSP
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["default-src"] == "'none'" and directives["script-src"] == "'none'"
    assert "unsafe" not in CSP
    style = tree.xpath("//style")[0].text
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode()
    assert directives["style-src"] == f"'sha256-{digest}'"
    assert not tree.xpath("//*[@style]")  # inline style attributes would be blocked


def test_every_block_is_shown_with_its_label(
    tiny_extractor: Extractor, hostile_report: str
) -> None:
    result = tiny_extractor.extract(HOSTILE.encode("utf-8"))
    tree = lxml.html.document_fromstring(hostile_report)
    shown = tree.xpath("//li[contains(concat(' ', @class, ' '), ' block ')]")
    assert len(shown) == len(result.blocks) > 5
    for li, block in zip(shown, result.blocks, strict=True):
        assert li.get("class").split() == ["block", block.label]
        assert li.xpath("string(.//span[@class='label'])") == block.label
        assert li.xpath("string(.//p[@class='text'])") == block.text
        assert f"p={block.probability:.2f}" in li.text_content()


def test_side_panel_holds_title_and_text(tiny_extractor: Extractor) -> None:
    html_text = labelled_page(3)
    result = tiny_extractor.extract(html_text)
    tree = lxml.html.document_fromstring(explain_html(html_text, extractor=tiny_extractor))
    side = tree.xpath("//aside[@class='side']")[0]
    assert (
        side.xpath("string(.//p[@class='title'])")
        == result.title
        == f"{TOWNS[3]} water line nearly done"
    )
    paras = [p.text_content() for p in side.xpath(".//p")][1:]
    assert paras == result.text.split("\n\n") and len(paras) >= 4


def test_feature_effects_rank_real_features(tiny_extractor: Extractor) -> None:
    seg = segment(labelled_page(5))
    effects = feature_effects(tiny_extractor, seg)
    assert len(effects) == len(seg.blocks)
    assert any(effects)  # a model always leans on something
    for row in effects:
        assert len(row) <= TOP_FEATURES
        assert all(f.name in FEATURE_NAMES and f.value != f.reference for f in row)
        sizes = [abs(f.evidence) for f in row]
        assert sizes == sorted(sizes, reverse=True)


def test_empty_and_textless_pages(tiny_extractor: Extractor) -> None:
    with pytest.raises(SegmentationError):
        explain_html(b"   ", extractor=tiny_extractor)
    report = explain_html(page("<script>window.x=1</script>"), extractor=tiny_extractor)
    assert "no text blocks" in report and "<script" not in report


def test_explain_command_writes_a_report(tiny_model: Path, tmp_path: Path) -> None:
    parser = build_parser()
    src = tmp_path / "story.html"
    src.write_text(labelled_page(2), encoding="utf-8")
    out = tmp_path / "out" / "report.html"
    args = parser.parse_args(
        [
            "explain",
            str(src),
            "--url",
            "https://example.org/s",
            "-o",
            str(out),
            "--model",
            str(tiny_model),
        ]
    )
    assert args.func(args) == 0
    assert "https://example.org/s" in out.read_text(encoding="utf-8")
    args = parser.parse_args(
        ["explain", str(tmp_path / "missing.html"), "--model", str(tiny_model)]
    )
    assert args.func(args) == 1


# --------------------------------------------------------------------------
# a real browser: Debian's Chromium driven by Playwright (no downloaded browsers)


# Recorded in every page before its own code runs (Playwright's init scripts
# are injected through the DevTools protocol, so the page's CSP does not stop them).
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def test_browser_runs_no_page_script(chromium: Path, hostile_report: str, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    report = tmp_path / "report.html"
    report.write_text(hostile_report, encoding="utf-8")
    raw = tmp_path / "hostile.html"  # control: the payloads do run on the page itself
    raw.write_text(HOSTILE.replace("<base href='http://127.0.0.1:9/'>", ""), encoding="utf-8")
    guarded = tmp_path / "guarded.html"  # control: the CSP alone stops them, unescaped
    guarded.write_text(
        HOSTILE.replace(
            "<head>", f'<head><meta http-equiv="Content-Security-Policy" content="{CSP}">', 1
        ),
        encoding="utf-8",
    )
    n_blocks = len(segment(HOSTILE).blocks)
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_ARGS,
            timeout=20_000,
        )
        try:
            context.set_default_timeout(10_000)
            context.add_init_script(WATCH)
            control = context.new_page()
            control.goto(raw.as_uri())
            control.wait_for_function("window.pwned !== undefined")
            assert control.title() == "PWNED"
            guard = context.new_page()
            guard.goto(guarded.as_uri())
            assert guard.evaluate("window.pwned") is None
            assert guard.evaluate("window.__violations.length") > 0

            page_ = context.new_page()
            events: list[str] = []
            page_.on(
                "console",
                lambda m: (
                    events.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "warning")
                    else None
                ),
            )
            page_.on("pageerror", lambda e: events.append(f"pageerror: {e}"))

            def on_dialog(dialog: Any) -> None:
                events.append(f"dialog: {dialog.message}")
                dialog.dismiss()

            page_.on("dialog", on_dialog)
            requests: list[str] = []
            page_.on("request", lambda r: requests.append(r.url))
            page_.goto(report.as_uri())
            page_.wait_for_load_state("load")
            blocks = page_.locator("li.block")
            assert blocks.count() == n_blocks
            for i in range(n_blocks):
                assert blocks.nth(i).is_visible()
            assert (
                page_.locator("li.block .text").first.inner_text()
                == segment(HOSTILE).blocks[0].text
            )
            assert page_.evaluate("window.pwned") is None
            expected_title = lxml.html.document_fromstring(hostile_report).findtext(".//title")
            assert page_.title() == expected_title  # payload text, never run
            assert page_.evaluate("window.__violations") == []  # nothing even tried to run
            assert requests == [report.as_uri()]  # no image, frame or refresh was fetched
            # the report's own stylesheet is allowed (by hash) and applied
            article_border = page_.evaluate(
                "getComputedStyle(document.querySelector('li.block')).borderLeftWidth"
            )
            assert article_border == "6px"
            # the CSS-only filter works without any script
            chrome = page_.locator("li.block.chrome")
            if chrome.count():
                page_.locator("label[for=hide-chrome]").click()
                assert not chrome.first.is_visible()
            assert events == []
        finally:
            context.close()

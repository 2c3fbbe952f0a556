"""The labelling app in a real browser: Debian's Chromium driven by Playwright.

Relabel two blocks by clicking, save, and read the saved file back; a hostile
page runs none of its scripts in the app.  Run as a script, it takes the
README's screenshot with the shipped model:

    .venv/bin/python tests/test_label_browser.py docs/label.png PAGE.html
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import CHROMIUM, CHROMIUM_ARGS, page  # noqa: E402
from test_label import news_page, one_thread, sources, tiny_model, write_root  # noqa: E402, F401

from classifier.cli import build_parser  # noqa: E402
from classifier.label import LabelServer, Session  # noqa: E402
from classifier.segment import LABELS, segment  # noqa: E402
from classifier.training import check_page  # noqa: E402


class Running:
    """The app's server on a thread, for one session."""

    def __init__(self, session: Session) -> None:
        self.server = LabelServer(session)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def browser(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")),
            executable_path=str(chromium),
            headless=True,
            args=CHROMIUM_ARGS,
            timeout=20_000,
            viewport={"width": 1280, "height": 860},
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()


def open_app(context: Any, server: LabelServer, events: list[str] | None = None) -> Any:
    tab = context.new_page()
    if events is not None:
        tab.on("pageerror", lambda e: events.append(f"pageerror: {e}"))
        tab.on(
            "console",
            lambda m: events.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
        )
    tab.goto(server.origin + "/")
    tab.wait_for_function("() => document.body.dataset.ready !== undefined")
    return tab


def next_label(label: str) -> str:
    return LABELS[(LABELS.index(label) + 1) % len(LABELS)]


def test_click_relabel_save(
    browser: Any,
    tiny_model: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    session = Session(
        sources([news_page(4, labelled=False)], tmp_path / "in"),
        data_root=write_root(tmp_path / "data", 4),
        model_path=tiny_model,
        offline=True,
        refit=True,
    )
    (item,) = session.items.values()
    before = item.block_labels()
    predicted = session.predictor.probabilities(item.page.blocks).argmax(axis=1)
    run = Running(session)
    events: list[str] = []
    try:
        tab = open_app(browser, run.server, events)
        frame = tab.frame_locator("#frame")
        footer = frame.locator("p", has_text="All rights reserved")
        heading = frame.locator("h3", has_text="Hot this week")
        old = [footer.get_attribute("data-nf-label"), heading.get_attribute("data-nf-label")]
        assert old[0] in LABELS and old[1] in LABELS
        footer.click()
        heading.click()
        want = [next_label(old[0]), next_label(old[1])]
        assert footer.get_attribute("data-nf-label") == want[0]
        assert heading.get_attribute("data-nf-label") == want[1]
        # a third click, undone with the key: not saved
        story = frame.locator("p", has_text="water line would finish in 3 weeks")
        story_label = story.get_attribute("data-nf-label")
        story.click()
        assert story.get_attribute("data-nf-label") != story_label
        tab.keyboard.press("u")
        assert story.get_attribute("data-nf-label") == story_label
        # badges carry the probability, uncertain blocks are marked
        badge = footer.get_attribute("data-nf-badge") or ""
        assert badge.startswith(want[0] + " 0.") or badge.startswith(want[0] + " 1.")
        tab.screenshot(path=str(tmp_path / "label.png"))
        tab.keyboard.press("s")
        tab.wait_for_function("() => document.getElementById('status').className === 'ok'")
        saved = Path(session.out_path(item))
        assert saved.is_file()
        labelled = segment(saved.read_bytes(), with_labels=True)
        got = [b.label for b in labelled.blocks]
        texts = [b.text for b in labelled.blocks]
        i_footer = next(i for i, t in enumerate(texts) if "All rights reserved" in t)
        i_heading = texts.index("Hot this week")
        assert got[i_footer] == want[0] and got[i_heading] == want[1]
        unchanged = [i for i in range(len(got)) if i not in (i_footer, i_heading)]
        assert [got[i] for i in unchanged] == [before[i] for i in unchanged]
        assert check_page(saved, labelled) == []
        args = build_parser().parse_args(["check-data", "--data", str(tmp_path / "data")])
        assert args.func(args) == 0
        assert (tmp_path / "label.png").stat().st_size > 10_000
        assert events == []
        # the save started a refit on the data root: the two blocks are now
        # predicted as they were clicked, and the app says which model it uses
        session.wait_refit(120)
        assert session.refit_state == "idle", session.refit_error
        after = session.predictor.probabilities(item.page.blocks).argmax(axis=1)
        for i, label in ((i_footer, want[0]), (i_heading, want[1])):
            assert LABELS[predicted[i]] != label and LABELS[after[i]] == label
        tab.reload()
        tab.wait_for_function("() => document.body.innerText.includes('refit-1')")
    finally:
        run.close()


class Beacon(BaseHTTPRequestHandler):
    """Records every request: any would come from a script of the labelled page."""

    seen: list[str] = []

    def do_GET(self) -> None:
        Beacon.seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/javascript")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


def hostile_page(beacon: str) -> str:
    run = f"window.pwned='{{}}';document.title='PWNED';fetch('{beacon}/{{}}')"
    return page(
        f"<script>{run.format('script', 'script')}</script>"
        f"<script src='{beacon}/external.js'></script>"
        f"<nav><a id='jslink' href=\"javascript:{run.format('link', 'link')}\">Home</a> "
        "<a href='/news'>News</a></nav>"
        f"<img src='missing.png' onerror=\"{run.format('img', 'img')}\">"
        f"<svg onload=\"{run.format('svg', 'svg')}\"><circle r='2'/></svg>"
        f"<iframe src='{beacon}/iframe'></iframe><object data='{beacon}/object'></object>"
        "<article><h1>Council approves the budget</h1>"
        + "".join(
            f'<p onmouseover="{run.format("hover", "hover")}">The council met on Monday and '
            f"discussed item {k} before voting on the budget for the coming year.</p>"
            for k in range(4)
        )
        + f"<form action='{beacon}/form'><button>Send</button></form></article>"
        f'<footer><p onclick="{run.format("click", "click")}">Footer text, all rights '
        "reserved.</p></footer>",
        head=(
            "<meta charset='utf-8'><title>Hostile page</title>"
            f"<meta http-equiv='refresh' content='0;url={beacon}/refresh'>"
            f"<base href='{beacon}/'>"
            f"<link rel='prefetch' href='{beacon}/prefetch'>"
        ),
    )


def test_hostile_page_runs_nothing(
    browser: Any,
    tiny_model: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    beacon_server = ThreadingHTTPServer(("127.0.0.1", 0), Beacon)
    threading.Thread(target=beacon_server.serve_forever, daemon=True).start()
    beacon = f"http://127.0.0.1:{beacon_server.server_address[1]}"
    text = hostile_page(beacon)
    try:
        # control: the payloads do run on the page itself, and reach the beacon
        raw = tmp_path / "hostile.html"
        refresh = f"<meta http-equiv='refresh' content='0;url={beacon}/refresh'>"
        assert refresh in text
        raw.write_text(text.replace(refresh, ""), encoding="utf-8")  # it would leave at once
        control = browser.new_page()
        control.goto(raw.as_uri())
        control.wait_for_function("window.pwned !== undefined")
        assert control.title() == "PWNED"
        control.close()
        assert Beacon.seen  # the payloads reach the beacon when they run
        Beacon.seen.clear()

        session = Session(
            sources([text], tmp_path / "in"),
            data_root=tmp_path / "data",
            model_path=tiny_model,
        )
        run = Running(session)
        try:
            tab = open_app(browser, run.server)
            frame = tab.frame_locator("#frame")
            frame.locator("#jslink").click()
            frame.locator("p", has_text="item 2").hover()
            frame.locator("p", has_text="Footer text").click()
            frame.locator("button", has_text="Send").click()
            tab.wait_for_timeout(1000)  # room for a refresh or a late script to act
            assert tab.evaluate("window.pwned") is None
            assert tab.title() == "newsfilter label"
            inner = "document.getElementById('frame').contentWindow"
            assert tab.evaluate(f"{inner}.pwned") is None
            assert tab.evaluate(f"{inner}.document.title") == "Hostile page"
            assert tab.evaluate(f"{inner}.location.pathname").startswith("/frame/")
            assert Beacon.seen == []
            # the app still works on it: the clicked footer changed label
            assert frame.locator("p", has_text="Footer text").get_attribute("data-nf-edited") == ""
        finally:
            run.close()
    finally:
        beacon_server.shutdown()
        beacon_server.server_close()


def screenshot(out: Path, pages: list[str]) -> None:
    """The README's screenshot: the app on ``pages`` with the shipped model."""
    from playwright.sync_api import sync_playwright

    from classifier.label import iter_sources

    root = Path(os.environ.get("TMPDIR", "/tmp")) / "newsfilter-label-shot"
    session = Session(iter_sources(pages), data_root=root, offline=True, site="screenshot")
    run = Running(session)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            tab = browser.new_page(viewport={"width": 1400, "height": 900})
            tab.goto(run.server.origin + "/")
            tab.wait_for_function("() => document.body.dataset.ready !== undefined")
            frame = tab.frame_locator("#frame")
            for selector in ("[data-nf-unsure]", "[data-nf-label=teaser]", "h1"):
                target = frame.locator(selector).first
                if target.count():
                    break
            tab.evaluate(  # CDP evaluation: the page's own script stays off
                "s => document.getElementById('frame').contentDocument.querySelector(s)"
                ".scrollIntoView({block: 'center'})",
                selector,
            )
            target.hover()
            out.parent.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(out))
            browser.close()
    finally:
        run.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    screenshot(Path(sys.argv[1]), sys.argv[2:])

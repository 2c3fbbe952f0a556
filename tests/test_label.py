"""The labelling app: blocks to elements, saving in the training format, the
server's endpoints and refusals, ordering, refit and polite fetching.

A tiny model trained here on pages written here: the tests do not depend on
the shipped model or on training_data/ (every save goes to a tmp data root).
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import page, train_tiny_model
from threadpoolctl import threadpool_limits

from classifier.cli import build_parser
from classifier.label import (
    UNSURE_MARGIN,
    USER_AGENT,
    Fetcher,
    LabelServer,
    Session,
    Source,
    compact_labels,
    element_nodes,
    frame_html,
    iter_sources,
    labelled_html,
    margins,
)
from classifier.segment import LABEL_ATTR, LABELS, parse_document, segment
from classifier.training import check_page

TOWNS = ("Greenford", "Riverside", "Ashby", "Millbrook", "Eastwick", "Northam", "Kelso")


def news_page(n: int, *, labelled: bool = True, extra_body: str = "") -> str:
    """A small news page (menu, story, teaser rail, share bar, footer), varied by ``n``."""
    town = TOWNS[n % len(TOWNS)]

    def lab(value: str) -> str:
        return f" data-label='{value}'" if labelled else ""

    menu = " ".join(
        f"<li><a href='/{s}'>{s.title()}</a></li>" for s in ("home", "news", "sport", "contact")
    )
    story = "".join(
        f"<p>{town}, May {k + n}: The district council said on Tuesday that work on the new "
        f"water line would finish in {k + 2} weeks, and residents of ward {k + n} would get a "
        f"steady supply before the monsoon, officials said.</p>"
        for k in range(3 + n % 3)
    )
    teasers = "".join(
        f"<li><a href='/story/{n}-{k}'>{town} school wins quiz {k}</a> Students beat twelve "
        "teams...</li>"
        for k in range(4)
    )
    body = (
        f"<header{lab('chrome')}><nav class='menu'><ul>{menu}</ul></nav></header>"
        f"<div class='wrap'><article{lab('article')} class='post-content'>"
        f"<h1>{town} water line nearly done</h1>{story}{extra_body}</article>"
        f"<section class='related'{lab('teaser')}><h3>Hot this week</h3><ul>{teasers}</ul></section>"
        f"<div class='share'{lab('chrome')}><a href='/s/fb'>Share</a> <a href='/s/x'>Tweet</a></div></div>"
        f"<footer{lab('chrome')}><p>\u00a9 2026 {town} Herald. All rights reserved.</p>"
        "<p><a href='/privacy'>Privacy</a> | <a href='/terms'>Terms</a></p></footer>"
        "<div hidden><p>hidden text</p></div><script>var x = 1;</script>"
    )
    return page(body, head=f"<title>{town} water line nearly done - {town} Herald</title>")


@pytest.fixture(scope="module", autouse=True)
def one_thread() -> Iterator[None]:
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_tiny_model(
        [news_page(n) for n in range(8)],
        tmp_path_factory.mktemp("model") / "block_model.skops",
        max_iter=30,
        max_leaf_nodes=15,
    )


def write_root(root: Path, n_pages: int = 4) -> Path:
    """A data root of labelled pages, one layout each."""
    for n in range(n_pages):
        out = root / "pages" / f"layout-{n}" / f"story-{n}.html"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(news_page(n), encoding="utf-8")
    return root


def sources(texts: list[str], folder: Path) -> list[Source]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k, text in enumerate(texts):
        path = folder / f"input-{k}.html"
        path.write_text(text, encoding="utf-8")
        out.append(Source(str(path), path.read_bytes(), path=path))
    return out


@pytest.fixture()
def session(tiny_model: Path, tmp_path: Path) -> Session:
    texts = [news_page(n, labelled=False) for n in range(3)]
    return Session(
        sources(texts, tmp_path / "in"), data_root=tmp_path / "data", model_path=tiny_model
    )


@pytest.fixture()
def server(session: Session) -> Iterator[LabelServer]:
    srv = LabelServer(session)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def request(
    srv: LabelServer,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    data = json.dumps(body).encode() if body is not None else None
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    conn.request(method, path, body=data, headers=hdrs)
    resp = conn.getresponse()
    out = resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    conn.close()
    return out


# --------------------------------------------------------------------------
# blocks, elements and the saved format


def test_element_nodes_are_the_segmenters_elements() -> None:
    text = news_page(2)
    doc = parse_document(text)
    seg = segment(text)
    nodes = element_nodes(doc.tree, seg)
    assert [n.tag for n in nodes] == seg.elements.tag
    for b in seg.blocks:  # every block's element holds its text
        node_text = " ".join((nodes[b.element].text(deep=True) or "").split())
        assert b.text in node_text
    assert "hidden text" not in [b.text for b in seg.blocks]


def test_saved_labels_read_back_and_pass_check_data(tmp_path: Path) -> None:
    text = news_page(1, labelled=False)
    seg = segment(text)
    # an awkward pattern: alternate labels block by block, and the headline a teaser
    labels = [LABELS[i % 3] for i in range(len(seg.blocks))]
    compact = compact_labels(seg, labels)
    assert seg.elements.tag[min(compact)] == "body"  # body first, then overrides
    saved = labelled_html(text.encode(), labels)
    again = segment(saved.encode(), with_labels=True)
    assert [b.label for b in again.blocks] == labels
    assert check_page(tmp_path / "x.html", again) == []
    assert saved.count(f"{LABEL_ATTR}=") == len(compact) <= len(seg.blocks) + 1
    # a uniform region gets one label on its largest element, not one a block
    story = segment(news_page(1), with_labels=True)
    wanted = [b.label or "" for b in story.blocks]
    assert len(compact_labels(story, wanted)) <= 5  # body, article, teaser rail, (share,) footer
    again = segment(labelled_html(text.encode(), wanted).encode(), with_labels=True)
    assert [b.label for b in again.blocks] == wanted


def test_save_through_the_session(session: Session, tmp_path: Path) -> None:
    item = session.items[session.order[0]]
    labels = {str(u.element): u.label for u in item.units}
    first = item.units[0]
    new = LABELS[(LABELS.index(first.label) + 1) % 3]
    labels[str(first.element)] = new
    out = session.save(item, labels)
    assert out == tmp_path / "data" / "pages" / item.site / f"{item.slug}.html"
    assert item.site == "new-site" and item.slug.startswith("input-")
    saved = segment(out.read_bytes(), with_labels=True)
    assert [b.label for b in saved.blocks] == item.block_labels()
    assert saved.blocks[first.blocks[0]].label == new
    assert "<script>var x = 1;</script>" in out.read_text(encoding="utf-8")  # the page's own
    args = build_parser().parse_args(["check-data", "--data", str(tmp_path / "data")])
    assert args.func(args) == 0
    with pytest.raises(ValueError, match="not one of"):
        session.save(item, {str(first.element): "story"})
    with pytest.raises(ValueError, match="holds no block"):
        session.save(item, {"999999": "chrome"})


def test_labels_of_a_training_page_are_its_pre_labels(tiny_model: Path, tmp_path: Path) -> None:
    root = write_root(tmp_path / "data", 1)
    path = root / "pages" / "layout-0" / "story-0.html"
    s = Session(iter_sources([str(root / "pages")]), data_root=root, model_path=tiny_model)
    (item,) = s.items.values()
    assert (item.site, item.slug) == ("layout-0", "story-0")  # saved where it is
    assert s.out_path(item) == path.resolve()
    assert {u.origin for u in item.units} == {"file"}
    want = [b.label for b in segment(path.read_bytes(), with_labels=True).blocks]
    assert item.block_labels() == want


def test_frame_runs_nothing_of_the_page() -> None:
    hostile = page(
        "<a href='javascript:alert(1)'>Home</a><img src=x onerror='alert(2)'>"
        "<p onclick='alert(3)'>Story text that is long enough to be a block.</p>"
        "<iframe src='http://127.0.0.1:9/'></iframe><object data='x.swf'></object>"
        "<svg><script>alert(4)</script></svg><form action='javascript:alert(5)'>"
        "<button formaction='javascript:alert(6)'>Go</button></form>"
        "<meta http-equiv='refresh' content='0;url=http://127.0.0.1:9/'>",
        head="<base href='http://127.0.0.1:9/'><script src='http://127.0.0.1:9/x.js'></script>"
        "<meta http-equiv='refresh' content='1'><link rel='prefetch' href='http://127.0.0.1:9/'>",
    )
    out = frame_html(hostile.encode(), None, "http://127.0.0.1:1234")
    low = out.lower()
    for needle in ("<script", "onerror", "onclick", "javascript:", "<iframe", "<object",
                   "http-equiv", "<base", "prefetch"):  # fmt: skip
        assert needle not in low, needle
    assert 'href="http://127.0.0.1:1234/static/frame.css"' in out
    assert "Story text that is long enough" in out
    seg = segment(hostile)
    # every element keeps its index but the dropped refresh <meta>
    assert low.count("data-nf=") == len(seg.elements.tag) - seg.elements.tag.count("meta") > 4


# --------------------------------------------------------------------------
# ordering and uncertainty


def test_pages_are_offered_least_confident_first(session: Session) -> None:
    scores = []
    for item_id in session.order:
        item = session.items[item_id]
        proba = session.predictor.probabilities(item.page.blocks)
        m = margins(proba)
        assert item.confidence == pytest.approx(float(m.mean()))
        scores.append(item.confidence)
        for u in item.units:
            assert u.unsure == (u.margin < UNSURE_MARGIN)
    assert scores == sorted(scores)
    assert len(scores) == 3
    first = session.items[session.order[0]]
    session.save(first, {})
    assert session.order[-1] == first.id  # saved pages go last


# --------------------------------------------------------------------------
# the server


def test_server_endpoints_and_save(server: LabelServer, session: Session) -> None:
    status, headers, body = request(server, "GET", "/")
    assert status == 200 and server.token.encode() in body
    assert "script-src 'self'" in headers["content-security-policy"]
    status, _, body = request(server, "GET", "/api/pages")
    pages = json.loads(body)["pages"]
    assert [p["id"] for p in pages] == session.order
    pid = pages[0]["id"]
    status, _, body = request(server, "GET", f"/api/page/{pid}")
    info = json.loads(body)
    assert status == 200 and info["units"] and set(info["units"][0]["p"]) == set(LABELS)
    status, headers, body = request(server, "GET", f"/frame/{pid}")
    assert status == 200
    csp = headers["content-security-policy"]
    assert "script-src 'none'" in csp and "default-src 'none'" in csp
    assert b"<script" not in body.lower() and b"data-nf=" in body
    status, _, body = request(server, "GET", "/static/app.js")
    assert status == 200 and b"X-Label-Token" in body

    labels = {str(u["element"]): u["label"] for u in info["units"]}
    status, _, _ = request(server, "POST", f"/api/save/{pid}", {"labels": labels})
    assert status == 403  # no token
    bad_origin = {"X-Label-Token": server.token, "Origin": "http://evil.example"}
    status, _, _ = request(server, "POST", f"/api/save/{pid}", {"labels": labels}, bad_origin)
    assert status == 403
    token = {"X-Label-Token": server.token}
    status, _, body = request(server, "POST", f"/api/save/{pid}", {"labels": {"0": "x"}}, token)
    assert status == 422 and json.loads(body)["ok"] is False
    status, _, body = request(server, "POST", f"/api/save/{pid}", {"labels": labels}, token)
    reply = json.loads(body)
    assert status == 200 and reply["ok"], reply
    assert Path(reply["path"]).is_file()
    assert Path(reply["path"]).is_relative_to(session.pages_dir)


def test_server_refuses_paths_outside_its_pages(server: LabelServer, session: Session) -> None:
    item = next(iter(session.items.values()))
    assert item.source.path is not None
    quoted = urllib.parse.quote(str(item.source.path))
    status, _, body = request(server, "GET", f"/api/page?path={quoted}")
    assert status == 200 and json.loads(body)["id"] == item.id
    attempts = [
        "/api/page?path=../../etc/passwd",
        "/api/page?path=%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/api/page?path=..%252f..%252fetc%252fpasswd",
        "/api/page?path=/etc/passwd",
        "/api/page?path=" + urllib.parse.quote(str(item.source.path.parent / "nope.html")),
        "/api/page?path=" + urllib.parse.quote(str(session.pages_dir / ".." / "config.json")),
        "/api/page?path=%00",
        "/page?path=../../etc/passwd",
        "/static/../label.py",
        "/static/%2e%2e/label.py",
        "/static/..%2flabel.py",
        "/frame/../../etc/passwd",
        "/frame/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/../../../../etc/passwd",
    ]
    for path in attempts:
        status, _, body = request(server, "GET", path)
        assert status in (403, 404), (path, status)
        assert b"root:" not in body
    status, _, _ = request(server, "GET", "/api/pages", headers={"Host": "evil.example"})
    assert status == 403  # DNS rebinding: only our own Host is answered


def test_server_binds_loopback_only(server: LabelServer) -> None:
    assert server.server_address[0] == "127.0.0.1"
    other = _non_loopback_address()
    if other is None:
        pytest.skip("this machine has no non-loopback address to try")
    with pytest.raises(OSError):
        socket.create_connection((other, server.port), timeout=2).close()


def _non_loopback_address() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: it only picks a route
            address = str(s.getsockname()[0])
    except OSError:
        return None
    return None if address.startswith("127.") else address


# --------------------------------------------------------------------------
# refit


def test_refit_changes_the_relabelled_blocks(tiny_model: Path, tmp_path: Path) -> None:
    root = write_root(tmp_path / "data", 4)
    s = Session(
        sources([news_page(5, labelled=False)], tmp_path / "in"),
        data_root=root,
        model_path=tiny_model,
        refit=True,
    )
    (item,) = s.items.values()
    rail = [u for u in item.units if "school wins quiz" in " ".join(
        item.page.blocks[i].text for i in u.blocks)]  # fmt: skip
    assert rail and all(u.predicted == "teaser" for u in rail)
    labels = {str(u.element): ("chrome" if u in rail else u.label) for u in item.units}
    s.save(item, labels)
    s.wait_refit(120)
    assert s.refit_state == "idle", s.refit_error
    assert s.refitter is not None and len(s.refitter.seconds) == 1
    assert s.predictor.version.startswith("refit-1")
    proba = s.predictor.probabilities(item.page.blocks)
    for u in rail:
        assert LABELS[int(proba[u.blocks[0]].argmax())] == "chrome"


# --------------------------------------------------------------------------
# fetching URLs politely


class _Site(BaseHTTPRequestHandler):
    seen: list[tuple[str, str]] = []

    def do_GET(self) -> None:
        _Site.seen.append((self.path, self.headers.get("User-Agent", "")))
        if self.path == "/robots.txt":
            body, kind = b"User-agent: *\nDisallow: /private\n", "text/plain"
        elif self.path == "/data.json":
            body, kind = b"{}", "application/json"
        else:
            body, kind = news_page(3, labelled=False).encode(), "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_urls_are_fetched_politely(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{site.server_address[1]}"
    urls = tmp_path / "urls.jsonl"
    urls.write_text(
        "\n".join(
            json.dumps({"url": u})
            for u in (f"{base}/news/story-one", f"{base}/private/x", f"{base}/data.json")
        )
        + "\nnot json\n",
        encoding="utf-8",
    )
    _Site.seen.clear()
    try:
        got = list(iter_sources([str(urls)], Fetcher(delay=0.0)))
    finally:
        site.shutdown()
        site.server_close()
    assert [s.url for s in got] == [f"{base}/news/story-one"]
    assert [p for p, _ in _Site.seen] == ["/robots.txt", "/news/story-one", "/data.json"]
    assert {ua for _, ua in _Site.seen} == {USER_AGENT}
    err = capsys.readouterr().err
    assert "robots.txt disallows" in err and "not an HTML page" in err and "urls.jsonl:4" in err


def test_user_agent_is_the_crawlers() -> None:
    from crawler import settings

    assert USER_AGENT == settings.USER_AGENT


def test_command_line_registers_label(tmp_path: Path, tiny_model: Path) -> None:
    args = build_parser().parse_args(["label", str(tmp_path), "--no-browser", "--port", "0"])
    assert args.no_browser and args.port == 0 and not args.auto
    empty = build_parser().parse_args(
        ["label", str(tmp_path / "missing"), "--no-browser", "--model", str(tiny_model)]
    )
    assert empty.func(empty) == 1  # nothing to label: a clear error, no server

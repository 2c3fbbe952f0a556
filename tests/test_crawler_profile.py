"""Site profiles in the crawl (crawler/profiles.py): hold-back, JOBDIR, stats, the switch.

Real crawls in subprocesses against servers on 127.0.0.1: the Lakeside
Courier below (a home page and ten stories, every story with the same
newsletter prompt written as a paragraph of the story body), and the demo
site for the stop-and-resume acceptance check.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import crawlsite
import pytest
from crawlsite import ROOT, read_feed, scrapy_command
from scrapy.settings import Settings

from classifier.profile import MIN_PAGES, SiteProfile
from crawler.analysis import PageAnalyser, Parsed
from crawler.config import Config
from crawler.demo.server import serve as serve_demo
from crawler.profiles import HELD_FILE, PROFILES_DIR, STATE_DIR, profile_file

DEMO_SITE = ROOT / "crawler" / "demo" / "site"
PROMPT = (
    "Want stories like this one every morning? Sign up for the Courier's free"
    " daily briefing and get the valley's local news in your inbox before breakfast."
)
STORIES = [
    (
        "Ferry timetable grows for the summer",
        "Lakeside, June 2: The lake ferry will run every forty minutes from next week, the"
        " transport office said on Monday, after a spring in which queues at the pier"
        " stretched past the market on most weekends.",
        "Two crews hired in May will cover the extra crossings, and the last boat back from"
        " Pine Island will leave at ten in the evening instead of eight.",
        "Island traders said the later boat would let visitors stay for dinner, which they"
        " hope will make up for a slow winter season.",
        "The new timetable is posted at the pier and in the post office window.",
    ),
    (
        "School roof repairs finish ahead of term",
        "Lakeside, June 3: Builders finished replacing the leaking roof of the primary school"
        " on Hill Road two weeks early, the education department said on Tuesday.",
        "The work cost less than the council had set aside because the old timber beams were"
        " sound and only the slates and gutters had to be replaced.",
        "Parents had feared the school would open late in September, as it did three years"
        " ago when a storm tore off part of the same roof.",
        "The school's summer fair will go ahead in the playground as planned.",
    ),
    (
        "Library opens a repair café on Saturdays",
        "Lakeside, June 4: Volunteers will mend lamps, bicycles and torn clothes for free at"
        " the town library every Saturday morning from this weekend, the librarian said.",
        "The idea came from a retired electrician who had been fixing his neighbours' radios"
        " in his garage for years and wanted a bigger table.",
        "The library will lend tools to anyone who wants to try a repair at home, starting"
        " with a set of screwdrivers and a sewing machine.",
        "Anyone with a skill to share can sign up at the front desk.",
    ),
    (
        "Council agrees new bus shelter design",
        "Lakeside, June 5: The council approved a new design for the town's bus shelters on"
        " Wednesday night, with wider roofs and benches that stay dry in the rain.",
        "Twelve shelters on the busiest routes will be replaced first, beginning with the"
        " stops outside the hospital and the railway station in August.",
        "Councillors rejected a cheaper design after residents said its glass walls would be"
        " covered in posters within a month.",
        "The old shelters will be offered to village halls in the district.",
    ),
    (
        "Anglers report the best trout season in years",
        "Lakeside, June 6: Anglers on the upper river have landed more brown trout this"
        " spring than in any year since the weir was rebuilt, the fishing club said.",
        "Club members credit the cleaner water that followed the closure of the old tannery"
        " outflow and the willows planted along the banks in 2019.",
        "The club will keep its catch-and-release rule for large fish and asked visitors to"
        " buy day permits at the tackle shop on Mill Street.",
        "The club's open day for beginners is on the last Sunday of June.",
    ),
    (
        "Hospital car park to get two hundred spaces",
        "Lakeside, June 9: The district hospital will add two hundred parking spaces on the"
        " old laundry site, the health board said on Monday.",
        "Patients and staff have complained for years that the car park fills by nine in the"
        " morning and that visitors circle the block waiting for a space.",
        "Building work starts in July and should take four months, during which the laundry"
        " road will be closed to through traffic.",
        "Blue badge holders will keep the spaces nearest the main entrance.",
    ),
    (
        "Choir wins the regional festival cup",
        "Lakeside, June 10: The Lakeside Community Choir won the regional festival cup on"
        " Sunday for the first time in its forty-year history.",
        "The judges praised the choir's unaccompanied folk songs and the solo by a"
        " sixteen-year-old soprano who joined only last autumn.",
        "The choir will sing at the town hall on Friday evening, and the cup will stand in the"
        " library window for the rest of the month.",
        "The choir is looking for tenors and rehearses on Tuesday nights.",
    ),
    (
        "Farmers warn of a late hay harvest",
        "Lakeside, June 11: Farmers in the valley expect to cut hay three weeks later than"
        " usual after a cold and wet May, the farmers' union said on Wednesday.",
        "Some dairy farms have already bought feed from outside the district, and prices at"
        " the Thursday market have risen by a fifth since April.",
        "The union asked the council to keep the market weighbridge open on Saturdays until"
        " the harvest is in.",
        "The union's helpline for farmers short of feed opens on Monday.",
    ),
    (
        "Old mill to become artists' studios",
        "Lakeside, June 12: The derelict flour mill by the river will be turned into twenty"
        " artists' studios and a small gallery, its new owners said on Thursday.",
        "The mill has stood empty since 1998, and a fire in its upper floor two winters ago"
        " left the town fearing it would have to be pulled down.",
        "The owners plan to keep the waterwheel and open the ground floor as a café, with the"
        " first studios ready next spring.",
        "Local artists can apply for a studio until the end of August.",
    ),
    (
        "Swimming lake reopens after water tests",
        "Lakeside, June 13: The swimming area at the north end of the lake reopened on Friday"
        " after a week of water tests found the algae had cleared, the health office said.",
        "Lifeguards will be on duty every afternoon until September, and the changing huts"
        " have been repainted and given new locks.",
        "The health office will test the water twice a week through the summer and post the"
        " results on the noticeboard by the jetty.",
        "Dogs are not allowed on the swimming beach until the autumn.",
    ),
]


def slug(title: str) -> str:
    ascii_only = title.lower().encode("ascii", "ignore").decode().replace("'", "")
    return "-".join(ascii_only.split())


def layout(title: str, main: str) -> str:
    return (
        f"<!doctype html><html lang='en'><head><title>{title} | Lakeside Courier</title></head>"
        "<body><header class='site-header'><nav class='main-menu'><ul>"
        "<li><a href='/'>Home</a></li><li><a href='/'>Local</a></li>"
        "<li><a href='/'>Sport</a></li><li><a href='/'>Contact</a></li></ul></nav></header>"
        f"{main}"
        "<footer class='site-footer'><p>\u00a9 2026 Lakeside Courier. All rights reserved.</p>"
        "</footer></body></html>"
    )


def story_page(k: int) -> str:
    title, first, second, third, fourth = STORIES[k]
    others = [STORIES[(k + i) % len(STORIES)][0] for i in (1, 2, 3)]
    related = "".join(f"<li><a href='/news/{slug(t)}.html'>{t}</a></li>" for t in others)
    return layout(
        title,
        f"<main><article class='post'><h1 class='entry-title'>{title}</h1>"
        f"<div class='entry-content'><p>{first}</p><p>{second}</p><p>{third}</p>"
        f"<p>{PROMPT}</p><p>{fourth}</p></div></article></main>"
        f"<aside class='widget related-posts'><h3>More from the Courier</h3><ul>{related}</ul>"
        "</aside>",
    )


def home_page() -> str:
    teasers = "".join(
        f"<li><h2><a href='/news/{slug(s[0])}.html'>{s[0]}</a></h2><p>{s[1][:90]}...</p></li>"
        for s in STORIES
    )
    # the first story once more, under another URL: a copy, not another page
    teasers += f"<li><a href='/news/{slug(STORIES[0][0])}.html?ref=home'>Top story</a></li>"
    return layout("Home", f"<main><section class='latest'><ul>{teasers}</ul></section></main>")


PAGES = {"/": home_page()} | {
    f"/news/{slug(s[0])}.html": story_page(k) for k, s in enumerate(STORIES)
}


class Courier(crawlsite.Handler):
    def answer(self, path: str) -> None:
        if path == "/robots.txt":
            self.send(200, b"User-agent: *\nAllow: /\n", "text/plain")
        elif path in PAGES:
            self.send(200, PAGES[path].encode())
        else:
            self.send(404, b"<html><body>Not found</body></html>")


Run = tuple[dict[str, Any], list[dict[str, Any]], str]  # stats, items, log


def crawl(args: list[str], tmp: Path, *settings: str, timeout: float = 120) -> Run:
    """``scrapy crawl news ARGS`` to its end: (stats, feed items, log)."""
    feed, stats = tmp / "feed.jsonl", tmp / "stats.json"
    cmd = scrapy_command(
        ["news", *args, "-o", str(feed), "-s", f"NEWSFILTER_STATS_FILE={stats}", *settings]
    )
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[proc.stderr.index("Traceback") :][:3000]
    return json.loads(stats.read_text()), read_feed(feed), proc.stderr


def analyser() -> PageAnalyser:
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    return PageAnalyser.from_config(Config.from_settings(settings))


@pytest.fixture(scope="module")
def courier() -> Any:
    with crawlsite.running(Courier) as server:
        yield server


@pytest.fixture(scope="module")
def profile_run(tmp_path_factory: pytest.TempPathFactory, courier: Any) -> tuple[Run, Path]:
    """A crawl with profiles (the default), its JOBDIR seeded with a damaged profile."""
    tmp = tmp_path_factory.mktemp("profile")
    damaged = tmp / "job" / STATE_DIR / PROFILES_DIR / profile_file("127.0.0.1")
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"PK\x03\x04 not a profile at all" * 10)
    return crawl(["-a", f"url={courier.base}/"], tmp, "-s", f"JOBDIR={tmp / 'job'}"), damaged


@pytest.fixture(scope="module")
def single_run(tmp_path_factory: pytest.TempPathFactory, courier: Any) -> Run:
    tmp = tmp_path_factory.mktemp("single")
    return crawl(["-a", f"url={courier.base}/"], tmp, "-s", "NEWSFILTER_SITE_PROFILE=False")


@pytest.mark.slow
def test_early_pages_are_held_then_classified_and_sizes_are_counted(
    profile_run: tuple[Run, Path],
) -> None:
    (stats, items, _), _ = profile_run
    assert stats["finish_reason"] == "finished"
    pages = len(PAGES)  # the home page and the ten stories: the distinct pages
    assert stats["newsfilter/held"] == MIN_PAGES - 1  # held until the eighth page came
    assert sorted(i["title"] for i in items) == sorted(s[0] for s in STORIES)
    assert stats["newsfilter/profile/127.0.0.1/pages"] == pages
    assert stats["newsfilter/profile/127.0.0.1/bytes"] == SiteProfile().nbytes
    # the ?ref=home copy of the first story: classified, not counted, dropped as a repeat
    assert stats["newsfilter/profile/copies"] == 1
    assert stats["newsfilter/duplicate"] == 1


@pytest.mark.slow
def test_without_site_profile_the_feed_is_the_single_page_one(
    single_run: Run, courier: Any
) -> None:
    stats, items, _ = single_run
    assert not [k for k in stats if k.startswith(("newsfilter/held", "newsfilter/profile"))]
    alone = analyser()
    # a story is exported once, under whichever of its URLs came first (the
    # ?ref=home copy may): find it by its URL without the query too
    by_url: dict[str, Any] = {}
    for i in items:
        by_url[i["url"]] = i
        by_url.setdefault(urlsplit(i["url"])._replace(query="").geturl(), i)
    assert sorted(i["title"] for i in items) == sorted(s[0] for s in STORIES)
    for path, html in PAGES.items():
        analysis = alone.analyse(html.encode(), url=courier.base + path, encoding="utf-8")
        if path == "/":
            assert not analysis.is_story and courier.base + path not in by_url
            continue
        item = by_url[courier.base + path]
        assert item["title"] == analysis.extraction.title
        assert item["text"] == analysis.extraction.text
        assert item["byline"] == analysis.extraction.byline


def site_model_drops(parsed: list[Parsed], alone: PageAnalyser, line: str) -> bool:
    """Whether the site stage takes *line* out of every page's text, whatever
    the order the crawl meets the pages in (a few orders, every profile size
    from MIN_PAGES up): the feed can then hold it nowhere."""
    rng = random.Random(5)
    for _ in range(4):
        order = rng.sample(parsed, len(parsed))
        for size in range(MIN_PAGES, len(order) + 1):
            profile = SiteProfile("127.0.0.1")
            for p in order[:size]:
                profile.add(p.keys, alone.p_article(p))
            if any(line in alone.classify(p, profile).extraction.text for p in order[:size]):
                return False
    return True


@pytest.mark.slow
def test_repeated_prompt_leaves_the_text_when_the_site_model_drops_it(
    profile_run: tuple[Run, Path], single_run: Run, courier: Any
) -> None:
    """The newsletter prompt stands in every story's body.  Alone, the block
    model keeps it in at least one story (else the site tests nothing).  Where
    the site model drops it from every story (computed here, in-process), the
    crawl's feed must hold it nowhere."""
    (_, profiled, _), _ = profile_run
    _, single, _ = single_run
    assert any(PROMPT in i["text"] for i in single), "the block model alone drops the prompt"
    alone = analyser()
    parsed = [
        alone.parse(html.encode(), url=courier.base + path, encoding="utf-8")
        for path, html in PAGES.items()
    ]
    if site_model_drops(parsed, alone, PROMPT):
        assert not [i["url"] for i in profiled if PROMPT in i["text"]]
    # whatever the site model does: every story's own paragraphs are in its text
    for item in profiled:
        story = next(s for s in STORIES if s[0] == item["title"])
        assert all(paragraph in item["text"] for paragraph in story[1:4])


@pytest.mark.slow
def test_damaged_profile_is_reported_and_the_crawl_goes_on(profile_run: tuple[Run, Path]) -> None:
    (stats, items, log), damaged = profile_run
    assert f"{damaged} cannot be read" in log and "starts afresh" in log
    assert stats["newsfilter/profile/unreadable_file"] == 1
    assert list(damaged.parent.glob(f"{damaged.name}.unreadable-*"))  # kept for a look
    assert len(items) == len(STORIES)
    saved = SiteProfile.from_bytes(damaged.read_bytes())  # written afresh at the end
    assert saved.n_pages == len(PAGES)
    assert (damaged.parent.parent / HELD_FILE).read_text() == ""  # finished: nothing held


def comparable(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """A feed by URL, without what differs between crawls of a site: order, fetch times."""
    return {i["url"]: {k: v for k, v in i.items() if k != "fetched_at"} for i in items}


def decided_by_order(site: Path) -> set[str]:
    """The demo story paths whose extraction depends on which of the site's
    pages its profile holds when it is classified (the crawl's order decides).

    Computed in-process, as the crawl classifies a page: with a profile that
    holds the page and at least MIN_PAGES - 1 others: all stories, all
    listings, a mix, the whole site, and random sets.  A crawl stopped and
    resumed meets the pages in another order than a straight one, so only
    the other stories must come out the same."""
    alone = analyser()
    parsed = {}
    for file in sorted(site.rglob("*.html")):
        rel = file.relative_to(site).as_posix()
        if not rel.startswith("private/"):  # robots.txt keeps the crawl out
            path = "/" + rel.removesuffix("index.html")
            parsed[path] = alone.parse(file.read_bytes(), url=f"http://127.0.0.1{path}")
    stories = [p for p in parsed if p.startswith("/news/")]
    listings = [p for p in parsed if p not in stories]
    few = MIN_PAGES - 1
    rng = random.Random(7)
    out = set()
    for story in stories:
        others = [p for p in parsed if p != story]
        same = [p for p in stories if p != story]
        held = [same[:few], listings[:few], same[: few // 2] + listings[: few - few // 2], others]
        held += [rng.sample(others, rng.randint(few, len(others))) for _ in range(6)]
        seen = set()
        for pages in held:
            profile = SiteProfile()
            for p in [*pages, story]:
                profile.add(parsed[p].keys, alone.p_article(parsed[p]))
            page = parsed[story]
            e = alone.extractor.extract_page(page.page, page.proba, site=profile, keys=page.keys)
            seen.add((e.title, e.text, e.byline, e.description, tuple(e.captions)))
        if len(seen) > 1:
            out.add(story)
    return out


# what the site stage's decisions change; the rest comes from the page's metadata
DECIDED = ("title", "text", "byline", "description", "captions", "word_count", "content_sha1")


def read_profile(jobdir: Path) -> SiteProfile:
    return SiteProfile.from_bytes(
        (jobdir / STATE_DIR / PROFILES_DIR / profile_file("127.0.0.1")).read_bytes()
    )


@pytest.mark.slow
def test_stopped_and_resumed_crawl_gives_the_straight_feed(tmp_path: Path) -> None:
    """The demo site, straight and in three runs on one JOBDIR: stopped while
    pages are held (CLOSESPIDER_PAGECOUNT), stopped with Ctrl-C once stories
    are out, then to the end.  Every page is counted once in the profile
    (the same profile, to the bit, as the straight crawl's: its counts are
    order-free sums), every story is exported once, and each story whose
    extraction does not depend on the crawl's order is exported the same."""
    jobdir, feed = tmp_path / "job", tmp_path / "feed.jsonl"
    held_file = jobdir / STATE_DIR / HELD_FILE
    wide = ["-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8"]
    with serve_demo(DEMO_SITE) as base:
        (tmp_path / "straight").mkdir()
        straight_job = tmp_path / "straight" / "job"
        _, straight, _ = crawl(
            ["-a", f"url={base}/"], tmp_path / "straight", *wide, "-s", f"JOBDIR={straight_job}"
        )
        cmd = scrapy_command(
            ["news", "-a", f"url={base}/", "-o", str(feed), "-s", f"JOBDIR={jobdir}"]
        )
        first = subprocess.run(
            [*cmd, "-s", "CONCURRENT_REQUESTS=1", "-s", "CLOSESPIDER_PAGECOUNT=4"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert first.returncode == 0, first.stderr[-3000:]
        held = [json.loads(x) for x in held_file.read_text().splitlines()]
        assert any("body" in h for h in held), "the first run should stop with pages held"
        assert (
            not read_feed(feed)
            and f"held back for their sites' profiles in {held_file}" in first.stderr
        )
        second = subprocess.Popen(
            [*cmd, "-s", "DOWNLOAD_DELAY=0.1"], cwd=ROOT, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and second.poll() is None:
            if len(read_feed(feed)) >= 3:
                break
            time.sleep(0.05)
        assert second.poll() is None, "the second run ended before it could be interrupted"
        second.send_signal(signal.SIGINT)
        _, log = second.communicate(timeout=60)
        assert "Resuming site profiles" in log
        assert 3 <= len(read_feed(feed)) < len(straight), "the second run should stop midway"
        last = subprocess.run([*cmd, *wide], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert last.returncode == 0, last.stderr[-3000:]
    for text in (first.stderr, log, last.stderr):
        assert "Traceback" not in text, text[text.index("Traceback") :][:3000]
    resumed_items = read_feed(feed)
    resumed, want = comparable(resumed_items), comparable(straight)
    assert len(resumed_items) == len(resumed) and sorted(resumed) == sorted(want)
    mine, theirs = read_profile(jobdir), read_profile(straight_job)
    assert mine.n_pages == theirs.n_pages
    for table in ("text", "path", "path_p"):
        assert (getattr(mine, table) == getattr(theirs, table)).all(), f"profile {table} differs"
    by_order = decided_by_order(DEMO_SITE)
    differ = {}
    for url, item in want.items():
        path = "/" + url.split("/", 3)[3]
        fields = [k for k in item if k not in DECIDED or path not in by_order]
        differ[path] = [k for k in fields if resumed[url][k] != item[k]]
    assert not {p: keys for p, keys in differ.items() if keys}, "fields that differ"

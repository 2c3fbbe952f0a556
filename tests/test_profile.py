"""Site profiles (classifier.profile) and extraction with them: batch and clean-text."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT

from classifier.clean import LineCleaner
from classifier.extract import Extractor, extract_site
from classifier.lines import split_text
from classifier.profile import MIN_PAGES, SITE_FEATURES, PageKeys, SiteProfile, site_matrix
from classifier.segment import LABELS, segment

SITES = ROOT / "tests" / "data" / "sites"

# a fictional site: one template, rotating teasers that quote other stories' ledes
STORIES = [
    (
        "Ferry to Kallur Island resumes after storm repairs",
        [
            "The ferry to Kallur Island sailed again on Tuesday, eleven days after the storm "
            "tore away part of the landing stage at Dorran pier.",
            "Harbour staff worked through the weekend to replace four timber piles, the port "
            "office said, and the first crossing left at seven with forty passengers.",
            "Islanders had relied on two fishing boats for supplies while the service was "
            "suspended, and the school on Kallur closed for a week.",
        ],
    ),
    (
        "Dorran library extends its hours for exam season",
        [
            "Dorran's public library will stay open until nine in the evening on weekdays "
            "from Monday, so that students have a quiet place to revise.",
            "The council agreed to pay for two extra staff until the end of June, a cost of "
            "about six thousand pounds, after a petition signed by three hundred pupils.",
        ],
    ),
    (
        "Bakers' strike ends with a new pay agreement",
        [
            "Workers at the Mill Lane bakery returned to the ovens on Friday after the owners "
            "agreed a pay rise of four per cent and a fixed rota.",
            "The six-day strike had emptied bread shelves in the town's two supermarkets and "
            "left the weekly market without its usual stall.",
            "Union steward Aileen Brodie said the rota mattered more to members than the money.",
        ],
    ),
    (
        "Road through Glen Ashby closed for bridge inspection",
        [
            "The road through Glen Ashby will be closed for three nights next week while "
            "engineers inspect the old stone bridge over the Ashby burn.",
            "Drivers are asked to use the coast road, which adds about twenty minutes, and "
            "the school bus will run on an earlier timetable.",
        ],
    ),
    (
        "Volunteers plant a thousand trees at Hallow Moss",
        [
            "More than sixty volunteers planted a thousand birch and rowan saplings at Hallow "
            "Moss on Saturday, the first step of a plan to restore the bog's edges.",
            "The trust that owns the land hopes the trees will shelter ground-nesting birds "
            "and slow the water that floods the farm track every winter.",
        ],
    ),
    (
        "Council sets date for vote on harbour car park",
        [
            "Councillors will vote on the future of the harbour car park on the twelfth of "
            "next month, after a consultation drew more than nine hundred replies.",
            "Traders want the spaces kept; the harbour board wants to build a boat shed there.",
        ],
    ),
    (
        "Dorran choir wins the regional festival",
        [
            "The Dorran Community Choir won the regional festival in Ashby on Sunday with a "
            "programme of old fishing songs arranged by its conductor.",
            "It is the choir's first win in twenty years; the prize is a place at the national "
            "final in the autumn and a grant for new music.",
        ],
    ),
    (
        "Fire crews called to a barn blaze near Kallur road",
        [
            "Two fire crews spent four hours at a barn fire near the Kallur road on Wednesday "
            "night; nobody was hurt, but a year's hay was lost.",
            "The farmer said the fire started in a tractor parked inside the barn.",
        ],
    ),
    (
        "New bus route links the estates with the hospital",
        [
            "A new bus route linking the northern estates with the hospital starts on Monday, "
            "with a bus every half hour from seven in the morning.",
            "Patients' groups had asked for the link for years; the trial runs for a year.",
        ],
    ),
]
NEWSLETTER = (
    "Sign up for the Dorran Daily Brief and get the morning's local news in your inbox "
    "before eight, every weekday, for free."
)


def _site_page(k: int) -> str:
    title, paragraphs = STORIES[k]
    others = [j for j in range(len(STORIES)) if j != k]
    rotating = [others[(k + i) % len(others)] for i in range(3)]
    teasers = "".join(
        f"<li class='card'><a href='/news/{j}'><h3>{STORIES[j][0]}</h3></a>"
        f"<p class='card-lede'>{STORIES[j][1][0]}</p></li>"
        for j in rotating
    )
    body = "".join(f"<p>{p}</p>" for p in paragraphs[:1])
    body += f"<div class='inline-signup'><p>{NEWSLETTER}</p></div>"
    body += "".join(f"<p>{p}</p>" for p in paragraphs[1:])
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title} | Dorran Courier</title>"
        f"<link rel='canonical' href='https://dorran-courier.example/news/{k}'></head>"
        "<body><header class='site-header'><nav><ul><li><a href='/'>Home</a></li>"
        "<li><a href='/news'>News</a></li><li><a href='/sport'>Sport</a></li>"
        "<li><a href='/community'>Community</a></li></ul></nav></header>"
        f"<main><article class='story'><h1>{title}</h1>"
        "<div class='byline'>By Courier staff</div>"
        f"<div class='story-body'>{body}</div>"
        "<div class='share'>Share this story: Facebook, X, Email</div></article>"
        f"<aside class='rail'><h2>Most read</h2><ul>{teasers}</ul></aside></main>"
        "<footer><p>Dorran Courier, 4 Harbour Street, Dorran. All rights reserved.</p>"
        "<p>Contact the newsroom: news@dorran-courier.example</p></footer></body></html>"
    )


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return Extractor()


@pytest.fixture(scope="module")
def site_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dorran-courier")
    for k in range(len(STORIES)):
        (folder / f"story-{k}.html").write_text(_site_page(k), encoding="utf-8")
    return folder


def _keys_and_p(extractor: Extractor, html: str) -> tuple[PageKeys, np.ndarray]:
    page = segment(html)
    proba = extractor.probabilities(page.blocks)
    return PageKeys.of(page), proba


def test_a_profile_is_the_same_whatever_order_its_pages_come_in(extractor: Extractor) -> None:
    pages = [_keys_and_p(extractor, _site_page(k)) for k in range(len(STORIES))]
    forward, backward = SiteProfile(), SiteProfile()
    for keys, proba in pages:
        forward.add(keys, proba[:, 0])
    for keys, proba in reversed(pages):
        backward.add(keys, proba[:, 0])
    assert forward.to_bytes() == backward.to_bytes()
    assert forward.n_pages == len(STORIES) and forward.ready


def test_the_page_itself_is_left_out_of_its_evidence(extractor: Extractor) -> None:
    keys, proba = _keys_and_p(extractor, _site_page(0))
    alone = SiteProfile()
    alone.add(keys, proba[:, 0])
    kept = proba[:, 0] >= 0.5
    X = site_matrix(alone, keys, proba, LABELS, kept)
    col = {n: i for i, n in enumerate(SITE_FEATURES)}
    # one page: nothing else shows its text or its paths
    assert not X[:, col["text_share"]].any() and not X[:, col["pathtext_share"]].any()
    twice = SiteProfile()
    twice.add(keys, proba[:, 0])
    twice.add(keys, proba[:, 0])  # the same page again: every block seen on one other page
    X2 = site_matrix(twice, keys, proba, LABELS, kept)
    assert (X2[:, col["pathtext_share"]] == 1.0).all()


def test_the_site_stage_shortcut_is_its_pipeline_bit_for_bit(extractor: Extractor) -> None:
    """A site stage's P(article) skips the pipeline's layers
    (classifier.model.calibrated_proba); it must give exactly the pipeline's,
    NaN features (an unseen path) included."""
    pages = [_keys_and_p(extractor, _site_page(k)) for k in range(len(STORIES))]
    profile = SiteProfile()
    for keys, proba in pages:
        profile.add(keys, proba[:, 0])
    rows = [site_matrix(profile, k, p, LABELS, p[:, 0] >= 0.5) for k, p in pages]
    rng = np.random.default_rng(7)
    noise = rng.uniform(-0.2, 1.2, size=(300, len(SITE_FEATURES)))
    noise[rng.uniform(size=noise.shape) < 0.1] = np.nan
    X = np.vstack([*rows, noise])
    for stage in (extractor.site_model, LineCleaner().site_model):
        want = stage.model.predict_proba(X)[:, stage.labels.index("article")]
        assert np.array_equal(stage.p_article(X), want)
        assert stage.p_article(X[:0]).shape == (0,)
    with pytest.raises(ValueError, match="site features need"):
        extractor.site_model.p_article(X[:, :-1])


def test_keys_sharing_a_cell_add_up_and_estimates_are_count_mean_min() -> None:
    """The sketch's arithmetic against the plain definitions: np.add.at on
    (row, cell) pairs, and count-mean-min with np.median (each row's cell less
    the row's median load, the median over rows, never above count-min)."""
    from classifier.profile import DEPTH, NOISE_SAMPLE, TEXT_WIDTH

    rng = np.random.default_rng(3)
    profile = SiteProfile()
    want = np.zeros_like(profile.text)
    rows = np.arange(DEPTH)
    for _ in range(30):
        keys = PageKeys.from_units([f"line {j}" for j in rng.integers(0, 400, 60)], ["body/p"] * 60)
        # force collisions: the first keys share their cells with the next ones
        keys.text_cells[:5] = keys.text_cells[5:10]
        profile.add(keys, np.full(60, 0.5))
        np.add.at(want, (rows, keys.text_cells), 1)
    assert np.array_equal(profile.text, want)
    cells = rng.integers(0, TEXT_WIDTH, (200, DEPTH))
    counts = want[rows, cells].astype(float)
    load = np.median(want[:, ::NOISE_SAMPLE], axis=1)
    plain = np.clip(np.minimum(np.median(counts - load, axis=1), counts.min(axis=1)), 0.0, None)
    assert np.array_equal(profile._estimate("text", cells), plain)


def _quoting_site(quoted: str, own: str) -> tuple[np.ndarray, np.ndarray]:
    """Four pages, each its own lede or headline (``quoted``), three
    paragraphs of its own (``own``), then a rail quoting the other three
    pages' ledes.  The site matrix of page 0, and its units' characters."""
    quotes = [quoted.format(j=j) for j in range(4)]
    pages = []
    for k in range(4):
        texts = [quotes[k], *(own.format(k=k, j=j) for j in range(3))]
        texts += [quotes[j] for j in range(4) if j != k]
        pages.append(PageKeys.from_units(texts, ["p"] * len(texts)))
    profile = SiteProfile()
    for keys in pages:
        profile.add(keys, np.full(len(keys.chars), 0.5))
    proba = np.full((7, len(LABELS)), 1 / len(LABELS))
    return site_matrix(profile, pages[0], proba, LABELS, np.zeros(7, dtype=bool)), pages[0].chars


def test_near_unique_is_the_share_of_neighbouring_text_no_other_page_shows() -> None:
    """A story's lede, quoted by teasers on the site's other pages, stands next
    to the story's own paragraphs; its quotes stand next to other quotes."""
    col = SITE_FEATURES.index("near_unique")
    X, c = _quoting_site(
        "Quoted lede {j} of another story on this site.", "Page {k} paragraph {j}, its own words."
    )
    # the lede's two neighbours either side: two own paragraphs, all unique
    assert X[0, col] == 1.0
    # the last quote's neighbours: two other quotes
    assert X[6, col] == 0.0
    # the first quote after the story: two own paragraphs and two quotes (by characters)
    assert X[4, col] == pytest.approx((c[2] + c[3]) / (c[2] + c[3] + c[5] + c[6]))


def test_after_unique_is_the_share_of_the_following_text_no_other_page_shows() -> None:
    """A story's headline leads into its own paragraphs; a quote of it in
    another page's rail leads into more quotes."""
    col = SITE_FEATURES.index("after_unique")
    X, c = _quoting_site(
        "Headline of story {j}, quoted all over the site",
        "Story {k} paragraph {j}, in words no other page has.",
    )
    assert X[0, col] == pytest.approx(c[1:4].sum() / c[1:7].sum())  # own words ahead
    assert X[4, col] == 0.0  # a quote followed by quotes
    assert X[6, col] == 0.0  # nothing follows the last unit


def test_a_box_with_a_word_more_still_shows_as_repeated() -> None:
    """prefix_share: a longer text whose opening other pages show (a prompt
    with its "Sign up" link run into the line) counts as shown there; its
    own text_share does not."""
    prompt = "Get the day's valley news in your inbox every weekday morning at six."
    cols = SITE_FEATURES.index("prefix_share"), SITE_FEATURES.index("text_share")
    pages = []
    for k in range(5):
        box = prompt + " Sign up free" if k == 0 else prompt
        texts = [f"Story {k} has words of its own, and more of them than a box.", box]
        pages.append(PageKeys.from_units(texts, ["p", "div.box/p"]))
    profile = SiteProfile()
    for keys in pages:
        profile.add(keys, np.full(2, 0.5))
    proba = np.full((2, len(LABELS)), 1 / len(LABELS))
    X = site_matrix(profile, pages[0], proba, LABELS, np.zeros(2, dtype=bool))
    assert X[1, cols[0]] == 1.0 and X[1, cols[1]] == 0.0
    assert X[0, cols[0]] == 0.0
    # a text no longer than an opening is its own opening: the same share
    short = [PageKeys.from_units(["Share this story"], ["p"]) for _ in range(3)]
    profile = SiteProfile()
    for keys in short:
        profile.add(keys, np.full(1, 0.5))
    X = site_matrix(profile, short[0], proba[:1], LABELS, np.zeros(1, dtype=bool))
    assert X[0, cols[0]] == X[0, cols[1]] == 1.0


def test_units_are_fingerprinted_as_normal_text_says(extractor: Extractor) -> None:
    """PageKeys fold case alone, relying on block and line texts being white
    space collapsed: the same keys as from fully normalised texts."""
    from classifier.profile import normal_text

    html = (
        "<html><body><p>Tabs\tand\u00a0no-break\u2003spaces</p>"
        "<div>  Lines\n\n  broken\r\n here  </div><p>STRASSE Straße</p></body></html>"
    )
    page = segment(html)
    dump = split_text("A  line\twith \u00a0gaps\n\nÉCOLE  École\n")
    for units in (page.blocks, dump.lines):
        texts = [u.text for u in units]
        assert texts == [" ".join(t.split()) for t in texts]
        paths = ["p"] * len(texts)
        got = PageKeys.from_units(texts, paths)
        folded = PageKeys.from_units([normal_text(t) for t in texts], paths)
        assert np.array_equal(got.text, folded.text)
        assert np.array_equal(got.pathtext, folded.pathtext)


def test_paths_are_fingerprinted_as_normal_path_says() -> None:
    """The regex-free path normalisation gives normal_path's bytes: digit runs
    as one zero, zeros included, and non-ASCII digits through the regex."""
    from classifier.profile import _normal_path_bytes, normal_path

    paths = [
        "html/body/div#post-1234/p",
        "html/body/div.col-10.row-007/ul/li",
        "html/body/main/article.story/p",
        "html/body/div#a0b00c000/p",
        "html/body/div.खबर-१२/p",  # Devanagari digits are digits to the regex
        "html/body/div.x１２y/p",  # fullwidth too
        "",
    ]
    for path in paths:
        assert _normal_path_bytes(path) == normal_path(path).encode("utf-8")
    assert normal_path("html/body/div#post-1234/p") == "html/body/div#post-0/p"
    keys = PageKeys.from_units(["a", "a", "b"], ["div#post-12/p", "div#post-9/p", "div#x/p"])
    assert keys.path_of[0] == keys.path_of[1] != keys.path_of[2]


def test_only_short_paths_are_remembered() -> None:
    """A hostile page's deep paths are fingerprinted alike but not kept in
    the path cache, which so stays bounded in memory."""
    from classifier import profile

    deep = "/".join(f"div.level-{k}" for k in range(200))
    assert len(deep) > profile.PATH_CACHE_CHARS
    before = profile._cached_path_hash.cache_info().currsize
    folded = PageKeys.from_units(["x"], [deep.replace("level-", "level-9")])
    assert profile._cached_path_hash.cache_info().currsize == before
    again = PageKeys.from_units(["x"], [deep])
    assert np.array_equal(folded.path, again.path)  # digit runs are folded alike
    PageKeys.from_units(["x"], ["html/body/div.short-path/p"])
    assert profile._cached_path_hash.cache_info().currsize <= before + 1


def test_a_profile_has_a_fixed_size_and_round_trips(extractor: Extractor) -> None:
    keys, proba = _keys_and_p(extractor, _site_page(1))
    profile = SiteProfile("dorran")
    size = profile.nbytes
    for _ in range(200):
        profile.add(keys, proba[:, 0])
    assert profile.nbytes == size
    again = SiteProfile.from_bytes(profile.to_bytes(), "dorran")
    assert again.to_bytes() == profile.to_bytes() and again.n_pages == 200
    with pytest.raises(ValueError, match="not a site profile"):
        SiteProfile.from_bytes(b"PK\x03\x04 damaged", "dorran")


def test_without_a_ready_profile_a_page_gets_exactly_the_single_page_output(
    extractor: Extractor,
) -> None:
    pages = [segment(_site_page(k)) for k in range(MIN_PAGES - 1)]
    alone = [extractor.extract_page(p).to_dict() for p in pages]
    assert [e.to_dict() for e in extract_site(extractor, pages)] == alone
    # and a page never seen with a profile is today's extraction of it
    assert extractor.extract(_site_page(0)).to_dict() == alone[0]


def test_a_repeated_box_goes_and_a_quoted_lede_stays(extractor: Extractor) -> None:
    pages = [segment(_site_page(k)) for k in range(len(STORIES))]
    with_profile = extract_site(extractor, pages)
    for k, ex in enumerate(with_profile):
        paragraphs = STORIES[k][1]
        # every page's own lede is quoted word for word by the rails of other pages
        assert paragraphs[0] in ex.text, k
        assert all(p in ex.text for p in paragraphs), k
        assert NEWSLETTER not in ex.text, k
        assert "Share this story" not in ex.text, k


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "classifier", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _rows(output: str) -> dict[str, dict[str, object]]:
    rows = [json.loads(line) for line in output.splitlines()]
    return {Path(str(r["source"])).name: r for r in rows}


def test_batch_site_profile_gives_the_same_rows_in_any_file_order(
    site_files: Path, tmp_path: Path
) -> None:
    files = sorted(str(p) for p in site_files.glob("*.html"))
    bad = tmp_path / "broken.html.gz"
    bad.write_bytes(b"not gzip at all")
    one = _run(["extract", "--site-profile", "--no-blocks", "-q", *files, str(bad)])
    two = _run(["extract", "--site-profile", "--no-blocks", "-q", str(bad), *reversed(files)])
    assert one.returncode == two.returncode == 0, one.stderr
    first, second = _rows(one.stdout), _rows(two.stdout)
    assert first == second and len(first) == len(files) + 1
    # the broken input is named in its row and on stderr, and the run went on
    assert "broken.html.gz" in one.stderr and "error" in first["broken.html.gz"]
    plain = _rows(_run(["extract", "--no-blocks", "-q", *files]).stdout)
    # the profile is used (this site has MIN_PAGES pages and more): some row changed
    assert any(first[name]["text"] != plain[name]["text"] for name in plain)
    assert all(NEWSLETTER not in str(first[name]["text"]) for name in plain)


def test_clean_text_site_profile_uses_the_folder_as_the_site(tmp_path: Path) -> None:
    from classifier.lines import flatten_page

    folder = tmp_path / "dumps" / "dorran"
    folder.mkdir(parents=True)
    for k in range(len(STORIES)):
        lines = [text for text, _ in flatten_page(segment(_site_page(k)))]
        (folder / f"story-{k}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    one = _run(["clean-text", "--site-profile", "--jsonl", str(folder)])
    assert one.returncode == 0, one.stderr
    rows = _rows(one.stdout)
    assert len(rows) == len(STORIES)
    for k in range(len(STORIES)):
        text = str(rows[f"story-{k}.txt"]["text"])
        assert STORIES[k][1][0] in text and NEWSLETTER not in text, k
    # the same dumps given one by one, in reverse order: the same rows
    files = sorted((str(p) for p in folder.glob("*.txt")), reverse=True)
    two = _run(["clean-text", "--site-profile", "--jsonl", *files])
    assert _rows(two.stdout) == rows


def test_a_line_profile_not_ready_changes_nothing() -> None:
    cleaner = LineCleaner()
    dump = split_text("Ferry resumes\n\nThe ferry sailed again on Tuesday after repairs.\n")
    proba = cleaner.probabilities(dump.lines)
    profile = SiteProfile()
    profile.add(PageKeys.of_dump(dump), proba[:, 0])
    assert cleaner.classify_dump(dump, proba, site=profile) == cleaner.classify_dump(dump)


@pytest.mark.skipif(not SITES.is_dir(), reason="tests/data/sites is missing")
def test_site_profiles_on_the_written_sites() -> None:
    from lab.sites import evaluate_sites

    result = evaluate_sites(Extractor())
    single, profile = result["overall"]["single"], result["overall"]["profile"]
    assert profile["story_f1"] > single["story_f1"]
    assert profile["template_leaked"] < single["template_leaked"]


@pytest.mark.skipif(not SITES.is_dir(), reason="tests/data/sites is missing")
def test_clean_text_with_a_profile_keeps_a_story_head_its_site_shows_elsewhere() -> None:
    """The head climb takes the line model's P where the site never shows a
    line at its place.  On this site a story opens with its headline, its
    standfirst, the author's name and the date line; the author and the
    format of the date stand on other stories too, and with the site stage's
    P alone to climb on, no story kept both.  With the climb they are kept."""
    from lab.sites import load_sites

    (site,) = [s for s in load_sites() if s.name == "rio-serrano-diario"]
    cleaner = LineCleaner()
    dumps = [sp.dump for sp in site.pages]
    probas = [cleaner.probabilities(d.lines) for d in dumps]
    profile = SiteProfile(site.name)
    for dump, proba in zip(dumps, probas, strict=True):
        profile.add(PageKeys.of_dump(dump), proba[:, cleaner.labels.index("article")])
    with_head = stories = 0
    for dump, proba in zip(dumps, probas, strict=True):
        got = cleaner.classify_dump(dump, proba, site=profile)
        story = [i for i, ln in enumerate(dump.lines) if ln.label == "article"]
        if not story:
            continue
        stories += 1
        byline_and_date = story[2:4]
        with_head += all(got[i].label == "article" for i in byline_and_date)
    assert stories == 10
    assert with_head >= 8, with_head


def test_the_site_stage_trains_deterministically(tmp_path: Path) -> None:
    from classifier.model import BLOCK_MODEL, load_model, read_card
    from classifier.training import TRAINING_DIR, block_rule, load_pages, train_site

    pages, _ = load_pages(TRAINING_DIR)
    layouts = sorted({lp.layout for lp in pages})[:6]
    pages = [lp for lp in pages if lp.layout in layouts]
    extractor = Extractor()
    proba = np.vstack([extractor.probabilities(lp.page.blocks) for lp in pages])
    card = read_card(BLOCK_MODEL)
    keys = [PageKeys.of(lp.page) for lp in pages]
    args = (
        keys,
        [lp.page.blocks for lp in pages],
        [lp.layout for lp in pages],
        proba,
        block_rule(card, keys),
    )
    one = train_site(*args, tmp_path / "one.skops", card, evaluate=False)
    two = train_site(*args, tmp_path / "two.skops", card, evaluate=False)
    assert one["sha256"] == two["sha256"]
    assert one["first_stage_version"] == card["model_version"]
    model, _ = load_model(tmp_path / "one.skops")
    assert list(model.classes_) == ["article", "noise"]


def test_the_shipped_site_stages_belong_to_the_shipped_models() -> None:
    from classifier.model import BLOCK_MODEL, LINE_MODEL, LINE_SITE_MODEL, SITE_MODEL, read_card
    from classifier.training import TRAINING_DIR, site_data_hash

    for first, site in ((BLOCK_MODEL, SITE_MODEL), (LINE_MODEL, LINE_SITE_MODEL)):
        first_card, site_card = read_card(first), read_card(site)
        assert site_card["first_stage_version"] == first_card["model_version"], "make train"
        assert site_card["training_data_sha256"] == site_data_hash(TRAINING_DIR), "make train"
        assert site_card["kind"] == "site" and site_card["min_pages"] == MIN_PAGES


def test_a_copy_of_a_page_is_counted_once(site_files: Path, tmp_path: Path) -> None:
    folder = tmp_path / "dorran"
    folder.mkdir()
    for path in site_files.glob("*.html"):
        (folder / path.name).write_bytes(path.read_bytes())
    plain = _rows(_run(["extract", "--site-profile", "--no-blocks", "-q", str(folder)]).stdout)
    # the same story saved again under another name (a ?ref= or print copy)
    (folder / "story-0-copy.html").write_bytes((folder / "story-0.html").read_bytes())
    copied = _rows(_run(["extract", "--site-profile", "--no-blocks", "-q", str(folder)]).stdout)
    copy = copied.pop("story-0-copy.html")
    assert {k: {**v, "source": ""} for k, v in copied.items()} == {
        k: {**v, "source": ""} for k, v in plain.items()
    }
    assert copy["text"] == plain["story-0.html"]["text"]

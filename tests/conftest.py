from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# a real browser: Debian's Chromium driven by Playwright (no downloaded browsers),
# started as the machine notes say: headless, no sandbox (root), no background
# networking (the closed network refuses it)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def chromium() -> Path:
    """/usr/bin/chromium, installed once with apt-get when missing and possible."""
    if not CHROMIUM.exists():
        apt = shutil.which("apt-get")
        if apt is None or not hasattr(os, "geteuid") or os.geteuid() != 0:
            pytest.skip(
                f"{CHROMIUM} is missing and cannot be installed here (needs root and "
                "apt-get); install it with `apt-get install -y chromium`"
            )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            subprocess.run([apt, "update"], check=True, capture_output=True, timeout=300, env=env)
            subprocess.run(
                [apt, "install", "-y", "chromium"],
                check=True,
                capture_output=True,
                timeout=900,
                env=env,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            pytest.skip(f"{CHROMIUM} is missing and `apt-get install -y chromium` failed: {exc}")
        if not CHROMIUM.exists():
            pytest.skip(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM


def page(body: str, head: str = "<title>Test page</title>") -> str:
    """A tiny HTML document around `body`."""
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"


# A written news page: menu, a three-paragraph story, a teaser list, a footer.
STORY = page(
    "<header class='site-header'><nav class='menu'><a href='/'>Home</a> <a href='/news'>News</a> "
    "<a href='/sport'>Sport</a> <a href='/contact'>Contact</a></nav></header>"
    "<div class='post-content'><h1>Valley farmers start early harvest</h1>"
    "<p>Greenford, Sept 3: Farmers across the valley began harvesting paddy two weeks early this year "
    "after a dry August, the district agriculture office said on Tuesday.</p>"
    "<p>Officials said yields looked steady despite the weak monsoon, and procurement centres would "
    "open on Monday in six blocks of the district.</p>"
    "<p>Traders expect prices to stay firm until the festival season, when demand usually rises.</p></div>"
    "<div class='widget related'><h3>Hot this week</h3><ul>"
    "<li><a href='/a'>Bus fares to rise from October</a> The transport department said...</li>"
    "<li><a href='/b'>New bridge opens at Riverside</a> Commuters will save...</li>"
    "<li><a href='/c'>College results declared</a> Students can check...</li></ul></div>"
    "<footer class='site-footer'>\u00a9 2026 Valley Herald. All rights reserved.</footer>",
    head="<title>Valley farmers start early harvest - Valley Herald</title>",
)


# The same kind of story as a naive scraper's flattened dump.
DUMP_STORY = """Valley farmers start early harvest

Greenford, Sept 3: Farmers in the upper valley began cutting paddy two weeks earlier than usual on Monday, after a dry August ripened the crop ahead of time.

The agriculture office said yields looked better than last year and advised farmers to dry the grain before selling it.

Hot this week

Ferry service resumes after repairs

Greenford, Sept 1: The river ferry between the two banks...

Teachers get arrears before festival

Greenford, Sept 2: The education department released...

Related Articles

Popular Categories
"""


def train_tiny_model(pages: list[str], path: Path, **booster: int) -> Path:
    """The shipped block pipeline, small (``booster`` overrides), fitted on a
    few labelled pages (one group each) and saved with a minimal card."""
    import numpy as np

    from classifier.features import FEATURE_NAMES
    from classifier.model import build_block_pipeline, fit_grouped, save_model
    from classifier.segment import LABELS, segment

    segmented = [segment(html, with_labels=True) for html in pages]
    blocks = [b for p in segmented for b in p.blocks]
    labels = np.array([b.label for b in blocks])
    groups = np.array([k for k, p in enumerate(segmented) for _ in p.blocks])
    params = {"min_samples_leaf": 5, "calibration_folds": 2, **booster}
    model = fit_grouped(build_block_pipeline(**params), blocks, labels, groups)
    card = {"labels": list(LABELS), "threshold": 0.5, "feature_names": list(FEATURE_NAMES)}
    save_model(model, path, card)
    return path


# a dump: a story with a short line inside it and a rail after it (the line rule
# with and without its switch cost differ here: tests/test_clean.py, test_cli.py)
DUMP_RULED = """Home
News
Sport
Valley farmers start early harvest as rains hold off
Greenford, Sept 3: Farmers in the upper valley began cutting paddy two weeks earlier than usual on Monday, as the monsoon ended early and the fields dried out.
The agriculture office said yields looked better than last year and advised farmers to store the grain in dry sheds until the market opens.
Advertisement
Traders at the Greenford market said prices were steady, though the cost of hiring harvesters had gone up by a fifth since last season.
Students from the college will help with the survey of the damaged fields in the lower valley next week, the office added.
Share this story
Hot this week
Ferry service resumes after repairs
Teachers get arrears before festival
Bus fares rise from October
Popular Categories
Politics 120
Sport 80
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


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

"""One title policy per corpus, the same for every extractor.

Every extractor returns its headline and its body apart (:class:`Extracted`);
the corpus's policy decides what is scored:

- ``"title+text"``: the headline, then the body (the headline is not added a
  second time when the body already begins with it);
- ``"text"``: the body alone, as the extractor gives it.

Where each extractor's headline comes from (see :mod:`lab.evaluate`):
newsfilter its own ``title``; trafilatura its metadata
(``trafilatura.extract_metadata``); readability-lxml
``Document.short_title()``; jusText and boilerpy3, which find no headline
of their own, the page's ``<title>`` with the site name removed by the rule
newsfilter's own fallback uses (:func:`classifier.segment.clean_title`).

The policies are chosen by what the references hold, measured by
:func:`headline_share` over the corpus (``make eval`` reports it, with every
extractor's score under the other policy beside).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .metrics import collapse

TITLE_AND_TEXT = "title+text"
TEXT = "text"
POLICIES = (TITLE_AND_TEXT, TEXT)

# Measured on the corpora (make eval, "Title policy"): the readability
# references begin with the page's headline on 41 of 130 pages and wcxb's on
# 362 of 1,497, and every extractor scores higher on both without its
# headline; the snippets corpus's "with" sentences are body sentences, but on
# 11 of 428 pages one of them is the headline, and adding the headline scores
# higher for every extractor (a headline is almost never a "without").
CORPUS_POLICY = {
    "readability": TEXT,
    "wcxb": TEXT,
    "snippets": TITLE_AND_TEXT,
}
DEFAULT_POLICY = TEXT

_WORD = re.compile(r"\w+", re.UNICODE)
# how far into the reference its headline may start (tokens past its own length):
# a kicker or a date line may stand before it
HEADLINE_SLACK = 12


@dataclass(frozen=True, slots=True)
class Extracted:
    """What one extractor gives for a page: its headline and its body text."""

    title: str = ""
    text: str = ""


def policy_for(corpus: str) -> str:
    return CORPUS_POLICY.get(corpus, DEFAULT_POLICY)


def other_policy(policy: str) -> str:
    return TEXT if policy == TITLE_AND_TEXT else TITLE_AND_TEXT


def _tokens(text: str) -> list[str]:
    return _WORD.findall((text or "").lower())


def starts_with(text: str, title: str) -> bool:
    """Whether ``text`` begins with ``title`` (same ``\\w+`` tokens, case aside)."""
    want = _tokens(title)
    return bool(want) and _tokens(text)[: len(want)] == want


def compose(extracted: Extracted, policy: str) -> str:
    """The text scored for one extractor's output under ``policy``."""
    if policy not in POLICIES:
        raise ValueError(f"unknown title policy {policy!r}; expected one of {POLICIES}")
    title, text = extracted.title.strip(), extracted.text.strip()
    if policy == TEXT or not title or starts_with(text, title):
        return text
    return f"{title}\n\n{text}" if text else title


def reference_has_headline(reference: str, headlines: Iterable[str]) -> bool:
    """Whether a reference text begins (give or take a kicker) with one of the
    page's headlines: its tokens as one run near the start of the reference."""
    ref = _tokens(reference)
    for headline in headlines:
        want = _tokens(headline)
        if not want:
            continue
        head = ref[: len(want) + HEADLINE_SLACK]
        if any(head[i : i + len(want)] == want for i in range(len(head) - len(want) + 1)):
            return True
    return False


def snippets_have_headline(snippets: Iterable[str], headlines: Iterable[str]) -> bool:
    """Whether one of the snippets lies within one of the page's headlines."""
    heads = [collapse(h) for h in headlines if h.strip()]
    return any(collapse(s) in h for s in snippets if s.strip() for h in heads)


def headline_share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0

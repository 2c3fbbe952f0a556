"""Article roles: what part of the story each kept block is.

Every article block gets one role: ``headline`` (the title block),
``standfirst`` (dek / summary set apart under the headline), ``byline``
(author and date lines), ``caption`` (figure captions and photo credits) or
``body`` (paragraphs, subheadings, lists, tables, quotes).  Roles come from
rules over the article blocks the model kept: the element (``figcaption``,
inside ``figure``), class and id tokens of the block and its near
ancestors, the block's place before the story's first body paragraph, and
the wording of credits and bylines.  They are measured against the
``data-role`` labels of the training pages (``lab``'s role report).
"""

from __future__ import annotations

import re

import numpy as np

from .segment import Page

ROLES = ("headline", "standfirst", "byline", "caption", "body")
ANCESTORS = 3  # the block's element and this many ancestors are looked at
# a byline or standfirst sits among the first kept blocks after the headline
LEAD_BLOCKS = 4
BYLINE_MAX_CHARS = 160
CAPTION_MAX_CHARS = 400
STANDFIRST_MIN_CHARS = 30
STANDFIRST_MAX_CHARS = 500
LEAD_ENDS_CHARS = 80  # the first body block this long ends the lead (bylines, standfirst)
LATE_BYLINE_CHARS = 60  # a short author or time line later in the story (live entries)
# tokens that mark a byline even after the lead: an entry's time, a closing author line
LATE_BYLINE_TOKENS = frozenset({"writer", "author", "byline", "timestamp", "time"})

CAPTION_TOKENS = frozenset(
    {"caption", "figcaption", "credit", "credits", "credito", "photocredit", "legend", "legende"}
)
BYLINE_TOKENS = frozenset(
    {
        "byline",
        "author",
        "authors",
        "dateline",
        "date",
        "time",
        "timestamp",
        "published",
        "updated",
        "posted",
        "meta",
        "reporter",
        "writer",
        "firma",
        "fecha",
        "datum",
        "tanggal",
        "autor",
        "auteur",
        "penulis",
    }
)
STANDFIRST_TOKENS = frozenset(
    {
        "standfirst",
        "dek",
        "deck",
        "dec",
        "sub",
        "summary",
        "lead",
        "lede",
        "excerpt",
        "subtitle",
        "subheadline",
        "intro",
        "kicker-text",
        "abstract",
        "description",
        "strapline",
        "chapo",
        "chapeau",
        "synopsis",
        "vorspann",
        "entradilla",
        "sumario",
        "bajada",
    }
)
# "(Photo: X)", "Foto: Archivo", "Picture: X", "Image: Getty", "Crédit photo : X"
_CREDIT = re.compile(
    r"^\(?\s*(?:photos?|fotos?|pictures?|images?|picture|credit|crédit(?: photo)?|photo credit)"
    r"\s*:|\((?:photo|image|picture|foto|file photo)s?\s*:[^)]{1,80}\)\s*$",
    re.IGNORECASE,
)
# "By A. Roy", "Por M. Ñanco", "Von K. Maier", "Par J. Dupont", "Oleh R. Sari"
_BY = re.compile(r"^(?:by|por|von|par|oleh|na|da|di)\s+\S", re.IGNORECASE)
_DATE = re.compile(
    r"\b\d{1,2}[:.]\d{2}\b|\b(?:19|20)\d{2}\b|\b\d{1,2}\s+\w{3,9}\.?\s+(?:19|20)\d{2}\b"
)


# a short lead line holding every word of an author name the page declares
# (JSON-LD, meta author) is the byline
_WORD = re.compile(r"\w+")


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.casefold()))


def declared_authors(page: Page) -> list[set[str]]:
    """The words of each author name the page declares (JSON-LD ``author``, meta author)."""
    names: list[str] = []
    for item in page.jsonld:
        found = item.get("author")
        for a in found if isinstance(found, list) else [found]:
            name = a.get("name") if isinstance(a, dict) else a
            if isinstance(name, str) and name.strip():
                names.append(name)
    if page.meta.get("author"):
        names.append(page.meta["author"])
    return [w for w in (_words(n) for n in names) if w]


def _tokens_near(page: Page, element: int) -> set[str]:
    el = page.elements
    out: set[str] = set()
    e = element
    for _ in range(ANCESTORS + 1):
        if e < 0:
            break
        out.update(el.tokens[e])
        e = el.parent[e]
    return out


def _in_figure(page: Page, element: int) -> bool:
    """In a figure, and not in a quotation or a table there: ``<figure>``
    also sets apart a quote (HTML's way, WordPress's pull quotes) and a table
    (WordPress's table block), whose words are the story's."""
    el = page.elements
    e = element
    for _ in range(ANCESTORS + 1):
        if e < 0:
            return False
        if el.tag[e] in ("blockquote", "table"):
            return False
        if el.tag[e] in ("figure", "figcaption"):
            return True
        e = el.parent[e]
    return False


def assign_roles(page: Page, keep: np.ndarray, title_index: int) -> list[str]:
    """The role of every block: one of :data:`ROLES` for kept blocks, ``""`` for the others."""
    roles = [""] * len(page.blocks)
    lead_open = True  # before the story's first body paragraph
    lead_seen = 0
    has_standfirst = False
    authors = declared_authors(page)
    for b in page.blocks:
        if not keep[b.index]:
            continue
        if b.index == title_index:
            roles[b.index] = "headline"
            continue
        text = b.text
        tokens = _tokens_near(page, b.element)
        size = len(text)
        role = "body"
        if size <= CAPTION_MAX_CHARS and (
            b.tag == "figcaption"
            or _in_figure(page, b.element)
            or tokens & CAPTION_TOKENS
            or _CREDIT.search(text)
        ):
            role = "caption"
        elif lead_open and lead_seen < LEAD_BLOCKS:
            words = _words(text)
            if size <= BYLINE_MAX_CHARS and (
                tokens & BYLINE_TOKENS
                or _BY.match(text)
                or (_DATE.search(text) and size < 60)
                or any(name <= words for name in authors)
            ):
                role = "byline"
            elif (
                not has_standfirst
                and STANDFIRST_MIN_CHARS <= size <= STANDFIRST_MAX_CHARS
                and tokens & STANDFIRST_TOKENS
            ):
                # one block: paragraphs after it under the same "lead" or
                # "intro" markup are the story's opening, not more summary
                role = "standfirst"
                has_standfirst = True
        elif size <= LATE_BYLINE_CHARS and tokens & LATE_BYLINE_TOKENS:
            role = "byline"
        roles[b.index] = role
        if role == "body" and size >= LEAD_ENDS_CHARS:
            lead_open = False
        else:
            lead_seen += 1
    if "body" not in roles and "headline" in roles:
        # a story told in its standfirst alone (a brief, a notice under its
        # headline): with no paragraph after it, it is no summary of one.  A
        # "standfirst" kept without a headline is rather a teaser's lede left
        # on a listing page, and stays out of the text
        roles = ["body" if r == "standfirst" else r for r in roles]
    return roles

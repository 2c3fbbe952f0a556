"""Heuristic data the segmenter and the features use, kept apart from code.

Everything here is a public constant so that callers can pass their own
value where a function takes it as a keyword default (the html-text way).
"""

from __future__ import annotations

# Elements whose content is never visible text.
SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "head",
        "title",
        "svg",
        "math",
        "iframe",
        "object",
        "embed",
        "canvas",
        "select",
        "option",
        "button",
        "input",
        "textarea",
        "audio",
        "video",
        "map",
    }
)

# Elements that start a new block.  Table cells are *not* here: a table row
# is one block (cells joined by a separator), which keeps a standings row or
# a schedule line together, the unit a person would label.
BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
        # AMP and custom elements that behave as blocks
        "amp-sidebar",
        "amp-carousel",
        "amp-accordion",
    }
)
CELL_TAGS = frozenset({"td", "th"})
# Inside these, <br> is a line break within one block; elsewhere a <br>
# separates blocks (old sites write whole stories as <br><br> runs in a div).
BR_INLINE_OWNERS = frozenset(
    {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd", "figcaption", "caption", "address"}
)
HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})

# Semantic containers: bit flags inherited from every ancestor.
CONTAINER_FLAGS = {
    "article": 1 << 0,
    "main": 1 << 1,
    "aside": 1 << 2,
    "nav": 1 << 3,
    "header": 1 << 4,
    "footer": 1 << 5,
    "articlebody": 1 << 6,
    "form": 1 << 7,
    "list": 1 << 8,
    "table": 1 << 9,
    "figure": 1 << 10,
    "blockquote": 1 << 11,
    "heading": 1 << 12,
    "link": 1 << 13,
}
TAG_CONTAINER = {
    "article": "article",
    "main": "main",
    "aside": "aside",
    "nav": "nav",
    "header": "header",
    "footer": "footer",
    "form": "form",
    "ul": "list",
    "ol": "list",
    "dl": "list",
    "menu": "list",
    "table": "table",
    "figure": "figure",
    "blockquote": "blockquote",
    "h1": "heading",
    "h2": "heading",
    "h3": "heading",
    "h4": "heading",
    "h5": "heading",
    "h6": "heading",
    "a": "link",
    "amp-sidebar": "nav",
}
ROLE_CONTAINER = {
    "article": "article",
    "main": "main",
    "complementary": "aside",
    "navigation": "nav",
    "banner": "header",
    "contentinfo": "footer",
    "menu": "nav",
    "menubar": "nav",
    "search": "form",
    "form": "form",
    "list": "list",
    "heading": "heading",
    "dialog": "aside",
}
ITEMPROP_CONTAINER = {"articlebody": "articlebody", "text": "articlebody"}

# Class/id token families.  Tokens are lower-cased pieces of class and id
# values split on punctuation and camelCase; a token counts when it starts
# with one of these stems.  Class names are overwhelmingly English even on
# pages in other languages, so this stays language-independent for the text.
TOKEN_FAMILIES = {
    "content": (
        "article",
        "content",
        "entry",
        "post",
        "story",
        "body",
        "text",
        "main",
        "detail",
        "news-body",
        "prose",
        "single",
    ),
    "teaser": (
        "related",
        "trending",
        "popular",
        "recommend",
        "more",
        "also",
        "hot",
        "latest",
        "recent",
        "read",
        "teaser",
        "card",
        "tile",
        "grid",
        "list",
        "feed",
        "carousel",
        "slider",
        "widget",
        "top",
        "mostread",
        "most",
        "suggest",
        "next",
        "prev",
        "similar",
        "headlines",
        "block",
    ),
    "chrome": (
        "nav",
        "menu",
        "footer",
        "header",
        "share",
        "social",
        "ad",
        "ads",
        "advert",
        "banner",
        "sponsor",
        "promo",
        "cookie",
        "consent",
        "newsletter",
        "subscribe",
        "signup",
        "comment",
        "reply",
        "breadcrumb",
        "tag",
        "author",
        "bio",
        "copyright",
        "sidebar",
        "widget",
        "login",
        "search",
        "modal",
        "popup",
        "logo",
        "follow",
        "spot",
        "meta",
        "rating",
        "toolbar",
    ),
}

# Sentence-final punctuation across scripts (Latin, Devanagari danda, CJK).
SENTENCE_END = ".!?।॥。！？؟"
ELLIPSIS = ("...", "…", "..")

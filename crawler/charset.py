"""Which encoding to read a page in, when its declared charset may be wrong or missing.

Browsers trust the HTTP header, then ``<meta charset>``.  Servers often get
them wrong in ways a crawler can tell from the bytes:

- a single-byte charset (ISO-8859-1, windows-1252, ...) declared for a page
  that is in fact UTF-8: decoding succeeds, but every accented letter comes
  out as two (``cafÃ©``).  UTF-8 with non-ASCII bytes is almost never valid
  by accident, so UTF-8 wins over a declared single-byte charset;
- a charset the bytes do not follow at all (UTF-8 declared, windows-1252
  sent): the next declaration, or detection, is used;
- a page in its declared charset but for a stray byte or two (a quote
  pasted from a windows-1252 page into a UTF-8 one): the declaration holds,
  and each stray byte costs one character, not the page (``repaired``).

The rule is the classifier's own
(:func:`classifier.segment.choose_encoding`), so the encoding the spider
reports is the one the page is then read in.
"""

from __future__ import annotations

from classifier.segment import choose_encoding

__all__ = ["page_encoding"]


def page_encoding(body: bytes, content_type: str | bytes | None) -> tuple[str, str | None]:
    """``(encoding, correction)``: the encoding to decode *body* with.

    *correction* is None when the page's own declaration was right,
    ``"repaired"`` when it was but for a few stray bytes, ``"mislabelled"``
    when a declared charset was overruled by the bytes, and ``"undeclared"``
    when nothing declared one (counted as ``newsfilter/charset/<correction>``).
    """
    return choose_encoding(body, content_type)

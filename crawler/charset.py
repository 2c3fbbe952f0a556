"""Which encoding to read a page in, when its declared charset may be wrong or missing.

Browsers trust the HTTP header, then ``<meta charset>``.  Servers often get
them wrong in two ways that a crawler can tell from the bytes:

- a single-byte charset (ISO-8859-1, windows-1252, ...) declared for a page
  that is in fact UTF-8: decoding succeeds, but every accented letter comes
  out as two (``cafÃ©``).  UTF-8 with non-ASCII bytes is almost never valid
  by accident, so valid UTF-8 wins over a declared single-byte charset;
- a charset the bytes do not follow at all (UTF-8 declared, windows-1252
  sent): strict decoding fails, so the next declaration, or detection, is
  used.

:func:`page_encoding` returns the encoding and what it had to correct.
"""

from __future__ import annotations

import codecs

from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

# decoding never fails in these, so a wrong one goes unnoticed
SINGLE_BYTE = frozenset(
    {"ascii", "latin_1", "iso8859_15", "cp1252", "cp1250", "cp1251", "cp1257"}
    | {f"iso8859_{i}" for i in range(2, 17)}
)
DETECT_BYTES = 65536  # charset detection reads this much
# below this share of non-ASCII letters a page is in a Latin-script language
LATIN_OTHER_SHARE = 0.3


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    resolved = resolve_encoding(name)
    if resolved is None:
        return None
    try:
        return codecs.lookup(resolved).name
    except LookupError:
        return None


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _mostly_ascii_letters(body: bytes) -> bool:
    """Letters mostly ASCII with a few others: a Latin-script language."""
    ascii_letters = sum(1 for b in body[:DETECT_BYTES] if 65 <= b <= 90 or 97 <= b <= 122)
    other = sum(1 for b in body[:DETECT_BYTES] if b >= 0xC0)
    return other < LATIN_OTHER_SHARE * (ascii_letters + other)


def _detect(body: bytes) -> str:
    """UTF-8 if valid; windows-1252 for a Latin-script page; else charset-normalizer's guess.

    windows-1252 is the web's usual legacy encoding (the HTML standard's
    fallback); detection libraries often mistake it for a Baltic or Central
    European code page on news text, which is mostly ASCII.
    """
    if _decodes(body, "utf-8"):
        return "utf-8"
    if _mostly_ascii_letters(body) and _decodes(body, "cp1252"):
        return "cp1252"
    from charset_normalizer import from_bytes

    best = from_bytes(body[:DETECT_BYTES]).best()
    found = _codec(best.encoding) if best is not None else None
    return found or "cp1252"


def page_encoding(body: bytes, content_type: str | bytes | None) -> tuple[str, str | None]:
    """``(encoding, correction)``: the encoding to decode *body* with.

    *correction* is None when the page's own declaration was right,
    ``"mislabelled"`` when a declared charset was overruled by the bytes, and
    ``"undeclared"`` when nothing declared one.
    """
    bom, _ = read_bom(body)
    if bom:
        return _codec(bom) or bom, None
    if isinstance(content_type, bytes):
        content_type = content_type.decode("latin-1")
    declared = [
        _codec(http_content_type_encoding(content_type or "")),
        _codec(html_body_declared_encoding(body)),
    ]
    non_ascii = not body.isascii()
    mislabelled = False
    for encoding in declared:
        if encoding is None:
            continue
        if encoding in SINGLE_BYTE and non_ascii and _decodes(body, "utf-8"):
            return "utf-8", "mislabelled"
        if _decodes(body, encoding):
            return encoding, "mislabelled" if mislabelled else None
        mislabelled = True
    return _detect(body), "mislabelled" if mislabelled else "undeclared"

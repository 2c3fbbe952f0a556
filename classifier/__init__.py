"""newsfilter's block classifier: keep the story of a news page, drop teasers and chrome.

>>> from classifier import extract
>>> result = extract(open("page.html", "rb").read(), url="https://example.org/x")
>>> result.title, result.text, result.blocks[0].label
"""

from __future__ import annotations

import logging

from .extract import Extraction, Extractor, LabelledBlock, extract
from .model import ModelError
from .segment import Block, Page, SegmentationError, segment

__all__ = [
    "Block",
    "Extraction",
    "Extractor",
    "LabelledBlock",
    "ModelError",
    "Page",
    "SegmentationError",
    "extract",
    "segment",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())

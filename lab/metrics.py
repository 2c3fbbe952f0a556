"""The corpus metrics beside full-text (:mod:`classifier.metrics`).

snippet: white-space-collapsed substring checks of "with" and "without"
sentences, counts summed over pages.

word-F1 (WCXB's own metric): lower-case both texts, ``\\w+`` tokens, bag of
words overlap (multiset intersection); page precision = overlap / predicted
tokens, recall = overlap / reference tokens, F1 their harmonic mean; an
empty prediction scores 0, an empty reference scores 1 only for an empty
prediction; precision, recall and F1 are each averaged over the pages.

Both exactly as ../shared/corpora/README.md defines them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from classifier.metrics import PageScore, fulltext_page, fulltext_summary

__all__ = [
    "PageScore",
    "SnippetCounts",
    "WordScore",
    "collapse",
    "fulltext_page",
    "fulltext_summary",
    "snippet_page",
    "word_bag",
    "word_page",
    "word_summary",
]

_WORD = re.compile(r"\w+", re.UNICODE)
BELOW = 0.5  # a page under this word-F1 is one where extraction failed outright


def collapse(text: str) -> str:
    return " ".join(text.split())


_collapse = collapse  # the old private name


@dataclass(slots=True)
class SnippetCounts:
    tp: int = 0
    fn: int = 0
    fp: int = 0

    def add(self, other: SnippetCounts) -> None:
        self.tp += other.tp
        self.fn += other.fn
        self.fp += other.fp

    @property
    def f1(self) -> float:
        return (
            2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp + self.fp + self.fn else 0.0
        )

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


def snippet_page(predicted: str, with_: list[str], without: list[str]) -> SnippetCounts:
    text = collapse(predicted or "")
    found = [collapse(s) in text for s in with_]
    leaked = sum(collapse(s) in text for s in without)
    return SnippetCounts(tp=sum(found), fn=len(found) - sum(found), fp=leaked)


# --------------------------------------------------------------------------
# word-F1


def word_bag(text: str) -> Counter[str]:
    """The bag of words word-F1 compares: ``\\w+`` tokens of the lower-cased text."""
    return Counter(_WORD.findall((text or "").lower()))


@dataclass(frozen=True, slots=True)
class WordScore:
    """One page's word-F1 and the counts behind it."""

    overlap: int
    predicted: int
    reference: int

    @property
    def precision(self) -> float:
        if self.predicted == 0:
            return 1.0 if self.reference == 0 else 0.0
        return self.overlap / self.predicted

    @property
    def recall(self) -> float:
        if self.reference == 0:
            return 1.0 if self.predicted == 0 else 0.0
        return self.overlap / self.reference

    @property
    def f1(self) -> float:
        if self.reference == 0 or self.predicted == 0:
            # an empty reference scores 1 only for an empty prediction;
            # an empty prediction scores 0 against a real reference
            return 1.0 if self.reference == self.predicted == 0 else 0.0
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def word_page(predicted: str, reference: str) -> WordScore:
    pred, ref = word_bag(predicted), word_bag(reference)
    return WordScore(
        overlap=sum((pred & ref).values()),
        predicted=sum(pred.values()),
        reference=sum(ref.values()),
    )


def word_summary(scores: Iterable[WordScore]) -> dict[str, float]:
    """Mean precision, recall and F1 over the pages, and the pages under :data:`BELOW`."""
    scores = list(scores)
    n = len(scores)
    if not n:
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0, "pages": 0, "below_half": 0}
    return {
        "precision": sum(s.precision for s in scores) / n,
        "recall": sum(s.recall for s in scores) / n,
        "f1": sum(s.f1 for s in scores) / n,
        "pages": n,
        "below_half": sum(s.f1 < BELOW for s in scores),
    }

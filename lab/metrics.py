"""The corpus metrics beside full-text (:mod:`classifier.metrics`).

snippet: white-space-collapsed substring checks of "with" and "without"
sentences, counts summed over pages (../shared/corpora/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from classifier.metrics import PageScore, fulltext_page, fulltext_summary

__all__ = ["PageScore", "SnippetCounts", "fulltext_page", "fulltext_summary", "snippet_page"]


def _collapse(text: str) -> str:
    return " ".join(text.split())


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
    text = _collapse(predicted or "")
    found = [_collapse(s) in text for s in with_]
    leaked = sum(_collapse(s) in text for s in without)
    return SnippetCounts(tp=sum(found), fn=len(found) - sum(found), fp=leaked)

"""The full-text metric: how much of a reference text a prediction holds.

4-token shingles of ``\\w+`` tokens, multiset overlap, per-page TP/FP/FN
normalised to sum to 1, precision averaged over pages with a prediction,
recall over pages with a reference, F1 of the two means (the public
article-extraction benchmark's metric).  Training scores the line model's
cross-validation with it; the lab's corpus evaluation uses it beside its
other metrics (:mod:`lab.metrics`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

_WORD = re.compile(r"\w+", re.UNICODE)
SHINGLE = 4


def shingles(text: str, size: int = SHINGLE) -> Counter[tuple[str, ...]]:
    toks = _WORD.findall(text or "")
    if not toks:
        return Counter()
    if len(toks) < size:
        return Counter([tuple(toks)])
    return Counter(tuple(toks[i : i + size]) for i in range(len(toks) - size + 1))


@dataclass(slots=True)
class PageScore:
    tp: float
    fp: float
    fn: float

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def fulltext_page(predicted: str, reference: str) -> PageScore:
    """Normalised TP/FP/FN of one page."""
    pred, ref = shingles(predicted), shingles(reference)
    tp = sum((pred & ref).values())
    fp = sum(pred.values()) - tp
    fn = sum(ref.values()) - tp
    total = tp + fp + fn
    if total == 0:
        return PageScore(0.0, 0.0, 0.0)
    return PageScore(tp / total, fp / total, fn / total)


def fulltext_summary(scores: Iterable[PageScore]) -> dict[str, float]:
    """Precision (pages with a prediction), recall (pages with a reference), F1."""
    scores = list(scores)
    predicted = [s.precision for s in scores if s.tp + s.fp > 0]
    referenced = [s.recall for s in scores if s.tp + s.fn > 0]
    p = sum(predicted) / len(predicted) if predicted else 0.0
    r = sum(referenced) / len(referenced) if referenced else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f1, "pages": len(scores)}

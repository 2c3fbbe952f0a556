"""Why our worst pages score low: one main cause per page.

For each page under F1 0.5 (and each corpus's 20 worst, whatever their
score) newsfilter's output is taken apart into three losses, each a share
between 0 and 1:

- **segmentation loss**: the reference is not even in the union of our
  blocks (the share of the reference's words, as a bag of lower-cased
  ``\\w+`` tokens, that no block holds): nothing the model does can bring it
  back;
- **dropped paragraphs**: the reference is in our blocks, but in blocks
  labelled non-article (the share of the reference's words the union holds
  and the kept text does not);
- **leaked blocks**: precision loss (the share of the kept text's words
  that are not the reference's).

The main cause is the largest of the three (ties in that order; a page
with none of them, possible under the full-text metric's shingles, is
"unexplained").  On the
snippets corpus the same three are counted in its own unit, sentences:
``with`` sentences in no block, ``with`` sentences in blocks not kept, and
``without`` sentences kept as a share of all sentences found in what we
kept.  The kept text is exactly what was scored (the corpus's title
policy); the union of blocks holds our headline too when the policy
scores it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from classifier.segment import SegmentationError

from . import corpora
from .metrics import BELOW, collapse, word_bag
from .titles import TITLE_AND_TEXT, Extracted, compose

if TYPE_CHECKING:
    from classifier.extract import Extraction, Extractor

    from .evaluate import CorpusResult

SEGMENTATION = "segmentation loss"
DROPPED = "dropped paragraphs"
LEAKED = "leaked blocks"
CAUSES = (SEGMENTATION, DROPPED, LEAKED)
UNEXPLAINED = "unexplained"  # no loss in words (or sentences) at all
WORST = 20  # pages analysed per group whatever their score


@dataclass(frozen=True, slots=True)
class Losses:
    segmentation: float
    dropped: float
    leaked: float
    coverage: float  # share of the reference found in the union of all blocks

    @property
    def cause(self) -> str:
        return main_cause(self.segmentation, self.dropped, self.leaked)


def main_cause(segmentation: float, dropped: float, leaked: float) -> str:
    """The largest loss names the cause; ties go to the earlier stage."""
    losses = (segmentation, dropped, leaked)
    if max(losses) <= 0:
        return UNEXPLAINED
    return CAUSES[losses.index(max(losses))]


def word_losses(reference: str, blocks_text: str, kept: str) -> Losses:
    """The three losses in words (bags of lower-cased ``\\w+`` tokens)."""
    ref, union, out = word_bag(reference), word_bag(blocks_text), word_bag(kept)
    n_ref, n_out = sum(ref.values()), sum(out.values())
    in_union = sum((ref & union).values())
    in_kept = sum((ref & out).values())
    coverage = in_union / n_ref if n_ref else 1.0
    recall = in_kept / n_ref if n_ref else 1.0
    precision = in_kept / n_out if n_out else 1.0
    return Losses(
        segmentation=1.0 - coverage,
        dropped=max(0.0, coverage - recall),
        leaked=1.0 - precision,
        coverage=coverage,
    )


def snippet_losses(
    with_: Sequence[str], without: Sequence[str], blocks_text: str, kept: str
) -> Losses:
    """The three losses in sentences (the snippet metric's unit)."""
    union, out = collapse(blocks_text), collapse(kept)
    wanted = [collapse(s) for s in with_]
    in_union = sum(s in union for s in wanted)
    in_kept = sum(s in out for s in wanted)
    leaked = sum(collapse(s) in out for s in without)
    n = len(wanted)
    coverage = in_union / n if n else 1.0
    return Losses(
        segmentation=1.0 - coverage,
        dropped=max(0.0, in_union - in_kept) / n if n else 0.0,
        leaked=leaked / (leaked + in_kept) if leaked + in_kept else 0.0,
        coverage=coverage,
    )


def losses_of(
    page: corpora.CorpusPage, metric: str, policy: str, extraction: Extraction | None
) -> Losses:
    """The losses of newsfilter's ``extraction`` of ``page`` (None: not segmented)."""
    if extraction is None:
        title = text = ""
        blocks: list[str] = []
    else:
        title, text = extraction.title, extraction.text
        blocks = [b.text for b in extraction.blocks]
    if policy == TITLE_AND_TEXT and title:
        blocks.insert(0, title)
    union = "\n".join(blocks)
    kept = compose(Extracted(title, text), policy)
    if metric == "snippet":
        return snippet_losses(
            page.truth.get("with") or [], page.truth.get("without") or [], union, kept
        )
    return word_losses(page.truth.get("article_text") or "", union, kept)


def diagnose(
    page: corpora.CorpusPage, metric: str, policy: str, extractor: Extractor
) -> tuple[Losses, str]:
    """Extract ``page`` with ``extractor`` and take its losses apart; returns a note too."""
    try:
        extraction = extractor.extract(page.read(), url=page.url)
    except SegmentationError as exc:
        return losses_of(page, metric, policy, None), f"not segmented: {exc}"
    note = "" if extraction.text else "nothing kept"
    return losses_of(page, metric, policy, extraction), note


Rows = list[dict[str, Any]]


def _groups(res: CorpusResult, rows: Rows) -> list[tuple[str, Rows]]:
    """wcxb's article pages apart from its other page types; one group elsewhere."""
    if not any("page_type" in r for r in rows):
        return [(res.corpus, rows)]
    return [
        (f"{res.corpus} article", [r for r in rows if r.get("page_type") == "article"]),
        (f"{res.corpus} other types", [r for r in rows if r.get("page_type") != "article"]),
    ]


def analyse(
    results: Iterable[CorpusResult],
    extractor: Extractor,
    *,
    name: str = "newsfilter",
    worst: int = WORST,
) -> list[dict[str, Any]]:
    """Per group (corpus; wcxb split by article / other types): the pages under
    F1 0.5 and the ``worst`` lowest, each with its losses and main cause, and
    the counts of causes among the pages under 0.5 and among the ``worst``."""
    out = []
    for res in results:
        for group, rows in _groups(res, res.pages.get(name, [])):
            ordered = sorted(rows, key=lambda r: (r["f1"], r["id"]))
            chosen = [r for i, r in enumerate(ordered) if i < worst or r["f1"] < BELOW]
            diagnosed = []
            for rank, row in enumerate(chosen):
                losses, note = diagnose(res.sources[row["id"]], res.metric, res.policy, extractor)
                keep = ("corpus", "id", "path", "url", "page_type")
                diagnosed.append(
                    {
                        **{k: row[k] for k in keep if k in row},
                        "f1": row["f1"],
                        "precision": row["precision"],
                        "recall": row["recall"],
                        **asdict(losses),
                        "cause": losses.cause,
                        "note": note,
                        "below_half": row["f1"] < BELOW,
                        "worst": rank < worst,
                    }
                )
            out.append(
                {
                    "group": group,
                    "corpus": res.corpus,
                    "metric": res.metric,
                    "pages": len(rows),
                    "worst_n": worst,
                    "below_half": sum(d["below_half"] for d in diagnosed),
                    "causes_below_half": count(d for d in diagnosed if d["below_half"]),
                    "causes_worst": count(d for d in diagnosed if d["worst"]),
                    "nothing_kept_below_half": sum(
                        d["below_half"] and d["note"] == "nothing kept" for d in diagnosed
                    ),
                    "rows": diagnosed,
                }
            )
    return out


def count(rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Pages per cause: every one of CAUSES, and "unexplained" when there are such."""
    counts = dict.fromkeys(CAUSES, 0)
    for r in rows:
        counts[r["cause"]] = counts.get(r["cause"], 0) + 1
    return counts


def format_causes(groups: list[dict[str, Any]]) -> str:
    causes = [*CAUSES]
    if any(UNEXPLAINED in {**g["causes_below_half"], **g["causes_worst"]} for g in groups):
        causes.append(UNEXPLAINED)
    head = f"  {'group':<22} {'pages':>5} {'<0.5':>5}  " + "  ".join(
        f"{c.split()[0]:>12}" for c in causes
    )
    lines = ["main cause of our pages under F1 0.5 (the 20 worst of each group in brackets)", head]
    for g in groups:
        cells = "  ".join(
            f"{g['causes_below_half'].get(c, 0):>6} ({g['causes_worst'].get(c, 0):>2}) "
            for c in causes
        )
        lines.append(f"  {g['group']:<22} {g['pages']:>5} {g['below_half']:>5}  {cells}")
    return "\n".join(lines)

"""Render measured figures as markdown and PNG charts (nothing is measured here).

Five writers, each taking the JSON-like dicts the measuring code already
produces and returning the paths it wrote:

- :func:`write_eval_report`: ``reports/eval.md``, ``reports/eval.png`` and one
  explain report per worst page in ``reports/explain/``;
- :func:`write_segloss_report`: ``reports/segloss.md``;
- :func:`write_bench_report`: ``reports/bench.md``, ``reports/bench.png``;
- :func:`write_train_report`: ``reports/train.md``, ``reports/confusion.png``;
- :func:`write_adapt_report`: ``reports/adapt.md``, ``reports/adapt.png``.

Charts use matplotlib's Agg canvas directly (no pyplot, no display, no global
state), so the writers are safe in any process.
"""

from __future__ import annotations

import gzip
import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from classifier.extract import Extractor

logger = logging.getLogger(__name__)

EVAL_METRICS = ("f1", "precision", "recall")
EXPLAIN_DIR = "explain"  # under out_dir, for the worst pages' explain reports
FLOOR_MARK = "(floor)"  # an extractor whose name holds this is the parse floor
OURS = "newsfilter"  # drawn first, in the first colour
DPI = 110
PNG_METADATA = {"Software": None}  # no version stamp: same figures, same bytes
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


# --------------------------------------------------------------------------
# shared helpers


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata=PNG_METADATA)
    return path


def _cell(value: object) -> str:
    """A markdown table cell: numbers to 3 decimals, pipes and newlines escaped."""
    if isinstance(value, bool) or value is None:
        text = "" if value is None else str(value)
    elif isinstance(value, float):
        text = "n/a" if math.isnan(value) else f"{value:.3f}"
    else:
        text = str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _fmt(value: object, spec: str) -> object:
    """A number in ``spec`` format; anything else (a missing "") as it is."""
    return (
        format(value, spec)
        if isinstance(value, (int, float)) and not isinstance(value, bool)
        else value
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = [
        "| " + " | ".join(_cell(h) for h in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def _ordered(names: Sequence[str]) -> list[str]:
    """Ours first, the others in the order given."""
    return sorted(names, key=lambda n: (n != OURS, list(names).index(n)))


def _write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------
# evaluation

POLICY_WORDS = {"title+text": "headline + text", "text": "text only"}
WORD_COLUMNS = ("f1", "precision", "recall", "below_half", "leaked", "fulltext_f1")


def write_eval_report(
    results: Mapping[str, Any],
    worst_pages: Sequence[Mapping[str, Any]],
    out_dir: Path,
    *,
    extractor: Extractor | None = None,
    causes: Sequence[Mapping[str, Any]] | None = None,
) -> list[Path]:
    """Write ``eval.md``, ``eval.png`` and the worst pages' explain reports.

    ``results`` is what :func:`lab.evaluate.as_json` returns::

        {corpus: {"metric": "full-text" | "snippet" | "word-F1",
                  "scores": {extractor: {"f1": float, "precision": float,
                                         "recall": float, ...}},
                  # optional:
                  "title_policy": "title+text" | "text", "pages": int,
                  "headline_in_reference": {"pages": int, "of": int},
                  "other_policy": {"policy": str, "scores": {extractor: {"f1": ...}}},
                  "by_type": {extractor: {page_type: {"f1", "precision", "recall",
                              "pages", "below_half", "leaked", "fulltext_f1"}}}}}

    Other keys of a score dict (``leaked``, ``missed``, ``pages``...) are
    shown in the table too; a word-F1 corpus gets its per-type tables from
    ``by_type``.  ``worst_pages`` rows, in the order to list them::

        {"corpus": str, "id": str, "path": str | Path,   # required
         "url": str | None, "f1": float, "precision": float, "recall": float,
         "tp": int, "fp": int, "fn": int, "note": str,   # optional
         "page_type": str, "cause": str, "coverage": float}

    For each row the page at ``path`` (``.gz`` too) is explained with
    ``extractor`` (default: the shipped model) into
    ``out_dir/explain/<corpus>-<id>.html``, linked from the table; a page that
    cannot be read or explained is listed without a link.  ``causes`` is
    what :func:`lab.causes.analyse` returns: the cause counts and every page
    under 0.5 are listed.  Returns the paths written.
    """
    out_dir = Path(out_dir)
    lines = [
        "# Evaluation",
        "",
        "![F1, precision and recall per corpus and extractor](eval.png)",
        "",
    ]
    for corpus, res in results.items():
        if res.get("metric") == "word-F1" and res.get("by_type"):
            lines += _word_section(corpus, res)
            continue
        scores = res.get("scores", {})
        names = _ordered(list(scores))
        extra = sorted({k for s in scores.values() for k in s} - set(EVAL_METRICS))
        lines += [f"## {corpus} ({res.get('metric', '?')}{_pages(res)})", ""]
        lines += _policy_line(res)
        lines += _table(
            ["extractor", "F1", "precision", "recall", *extra],
            [
                [
                    n,
                    *(scores[n].get(m, float("nan")) for m in EVAL_METRICS),
                    *(scores[n].get(k, "") for k in extra),
                ]
                for n in names
            ],
        )
        lines.append("")
    lines += _policy_section(results)
    written = [_save(_eval_chart(results), out_dir / "eval.png")]
    explained: dict[tuple[str, str], str] = {}
    if worst_pages:
        rows, files = _explain_worst(worst_pages, out_dir, extractor, explained)
        written += files
    if causes:
        lines += _causes_section(causes, explained)
    if worst_pages:
        lines += [
            "## Worst pages",
            "",
            "Each link opens the page's explain report: every block with its label, "
            "probability and the features that weighed most.",
            "",
        ] + rows
    written.insert(0, _write(out_dir / "eval.md", lines))
    return written


def _pages(res: Mapping[str, Any]) -> str:
    return f", {res['pages']} pages" if "pages" in res else ""


def _policy_line(res: Mapping[str, Any]) -> list[str]:
    policy = res.get("title_policy")
    if not policy:
        return []
    return [f"Scored as {POLICY_WORDS.get(policy, policy)}, every extractor alike.", ""]


def _word_section(corpus: str, res: Mapping[str, Any]) -> list[str]:
    """wcxb: article pages on their own, every other page type beside them."""
    by_type = res["by_type"]
    names = _ordered(list(by_type))
    types = list(next(iter(by_type.values())))
    counts = {t: next(iter(by_type.values()))[t].get("pages", "") for t in types}
    lines = [f"## {corpus} ({res.get('metric')}{_pages(res)})", ""]
    lines += _policy_line(res)
    lines += [
        "Word-F1 (mean over pages) per page type; pages of each type in the header.",
        "",
    ]
    lines += _table(
        ["extractor", *(f"{t} ({counts[t]})" for t in types)],
        [[n, *(by_type[n][t].get("f1", float("nan")) for t in types)] for n in names],
    )
    lines += [
        "",
        "Article pages in detail, and all pages: pages with word-F1 < 0.5 (extraction "
        "failed outright), `without` snippets leaked (lower is better), full-text F1 "
        "for reference.",
        "",
    ]
    first = next(iter(types))
    lines += _table(
        [
            "extractor",
            f"{first} F1",
            "precision",
            "recall",
            "F1 < 0.5",
            "leaked",
            "full-text F1",
            "all: F1",
            "all: F1 < 0.5",
            "all: leaked",
            "all: full-text F1",
        ],
        [
            [
                n,
                *(by_type[n][first].get(k, "") for k in WORD_COLUMNS),
                *(by_type[n].get("all", {}).get(k, "") for k in ("f1", "below_half", "leaked")),
                by_type[n].get("all", {}).get("fulltext_f1", ""),
            ]
            for n in names
        ],
    )
    lines.append("")
    return lines


def _policy_section(results: Mapping[str, Any]) -> list[str]:
    """The title policy of each corpus, its evidence, and the scores under the other."""
    rows = [(c, r) for c, r in results.items() if r.get("title_policy") and r.get("other_policy")]
    if not rows:
        return []
    names = _ordered(list(dict.fromkeys(n for _, r in rows for n in r["other_policy"]["scores"])))
    lines = [
        "## Title policy",
        "",
        "Every extractor is scored on the same terms: per corpus one policy, the one its "
        'references follow. "Headline in reference": pages whose reference begins with '
        "the page's headline (an h1 or the declared headline, within a few words of the "
        "start; for snippets, a `with` sentence that lies in the headline). The other "
        "columns give each extractor's F1 under the other policy (word-F1 of article pages "
        "for wcxb).",
        "",
    ]
    table = []
    for corpus, r in rows:
        evidence = r.get("headline_in_reference") or {}
        share = f"{evidence['pages']} of {evidence['of']}" if evidence.get("of") else ""
        other = r["other_policy"]
        table.append(
            [
                corpus,
                POLICY_WORDS.get(r["title_policy"], r["title_policy"]),
                share,
                POLICY_WORDS.get(other["policy"], other["policy"]),
                *(
                    _fmt(other["scores"][n]["f1"], ".3f") if n in other["scores"] else ""
                    for n in names
                ),
            ]
        )
    lines += _table(["corpus", "scored as", "headline in reference", "other policy", *names], table)
    lines.append("")
    return lines


def _causes_section(
    groups: Sequence[Mapping[str, Any]], explained: Mapping[tuple[str, str], str]
) -> list[str]:
    from .causes import CAUSES, UNEXPLAINED

    causes = [*CAUSES]
    if any(
        g["causes_below_half"].get(UNEXPLAINED) or g["causes_worst"].get(UNEXPLAINED)
        for g in groups
    ):
        causes.append(UNEXPLAINED)
    lines = [
        "## Why our worst pages score low",
        "",
        "Each page under F1 0.5, and the worst of each group whatever their score "
        f'("worst" columns: the {groups[0].get("worst_n", "")} lowest), '
        "taken apart: **segmentation loss** (share of the reference's words in none of "
        "our blocks: the model never saw them), **dropped paragraphs** (in our blocks, "
        "labelled non-article), **leaked blocks** (share of what we kept that is not "
        "reference). The main cause is the largest; snippets counts sentences instead "
        'of words. "Coverage" is the share of the reference recoverable from all our '
        "blocks.",
        "",
    ]
    lines += _table(
        [
            "group",
            "pages",
            "F1 < 0.5",
            *(f"{c} (< 0.5)" for c in causes),
            "nothing kept (< 0.5)",
            *(f"{c} (worst)" for c in causes),
        ],
        [
            [
                g["group"],
                g["pages"],
                g["below_half"],
                *(g["causes_below_half"].get(c, 0) for c in causes),
                g.get("nothing_kept_below_half", ""),
                *(g["causes_worst"].get(c, 0) for c in causes),
            ]
            for g in groups
        ],
    )
    lines.append("")
    for g in groups:
        below = [r for r in g["rows"] if r.get("below_half")]
        if not below:
            continue
        lines += [
            "<details>",
            f"<summary>{_md_text(g['group'])}: pages under 0.5 ({len(below)})</summary>",
            "",
        ]
        lines += _cause_rows(below, explained)
        lines += ["", "</details>", ""]
    return lines


def _cause_rows(
    rows: Sequence[Mapping[str, Any]], explained: Mapping[tuple[str, str], str]
) -> list[str]:
    table = []
    for r in rows:
        link = explained.get((str(r["corpus"]), str(r["id"])))
        page = f"[{_md_text(r['id'])}]({link})" if link else _cell(r["id"])
        table.append(
            [
                page,
                r.get("page_type", ""),
                r["f1"],
                r["coverage"],
                r["segmentation"],
                r["dropped"],
                r["leaked"],
                r["cause"],
                r.get("note", ""),
            ]
        )
    header = ["page", "type", "F1", "coverage", "segmentation", "dropped", "leaked", "cause"]
    header.append("note")
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += [
        "| " + " | ".join(v if i == 0 else _cell(v) for i, v in enumerate(row)) + " |"
        for row in table
    ]
    return lines


def _eval_chart(results: Mapping[str, Any]) -> Figure:
    corpora = list(results) or ["(no corpora)"]
    fig = _figure(max(5.0, 4.2 * len(corpora)), 3.6)
    axes = fig.subplots(1, len(corpora), squeeze=False)[0]
    for ax, corpus in zip(axes, corpora, strict=True):
        res = results.get(corpus, {})
        scores = res.get("scores", {})
        names = _ordered(list(scores))
        width = 0.8 / max(len(names), 1)
        for k, name in enumerate(names):
            values = [float(scores[name].get(m, float("nan"))) for m in EVAL_METRICS]
            xs = [i + (k - (len(names) - 1) / 2) * width for i in range(len(EVAL_METRICS))]
            bars = ax.bar(xs, values, width, label=name, color=f"C{k}")
            ax.bar_label(bars, fmt="%.2f", fontsize=6, padding=1)
        ax.set_xticks(range(len(EVAL_METRICS)), ["F1", "precision", "recall"])
        ax.set_ylim(0, 1.08)
        metric = res.get("metric", "?")
        subset = ", article pages" if metric == "word-F1" else ""
        ax.set_title(f"{corpus} ({metric}{subset})", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:  # one legend for all panels, below them: it hides no bar
        fig.legend(handles, labels, loc="outside lower center", ncol=len(labels), fontsize=8)
    return fig


def explain_name(corpus: str, page_id: object) -> str:
    """The explain report's file name for a corpus page: ``<corpus>-<id>.html``."""
    return _UNSAFE_NAME.sub("_", f"{corpus}-{page_id}").strip("._") + ".html"


WORST_COLUMNS = (
    "page_type",
    "f1",
    "precision",
    "recall",
    "tp",
    "fp",
    "fn",
    "coverage",
    "cause",
    "note",
)


def _explain_worst(
    rows: Sequence[Mapping[str, Any]],
    out_dir: Path,
    extractor: Extractor | None,
    explained: dict[tuple[str, str], str] | None = None,
) -> tuple[list[str], list[Path]]:
    """The worst-pages table and the explain reports it links to (``explained``
    is filled with each report's relative link, by ``(corpus, id)``)."""
    from classifier.explain import explain_html
    from classifier.segment import SegmentationError

    optional = [k for k in WORST_COLUMNS if any(k in r for r in rows)]
    table, written = [], []
    for row in rows:
        name = explain_name(str(row["corpus"]), row["id"])
        target = out_dir / EXPLAIN_DIR / name
        try:
            data = Path(row["path"]).read_bytes()
            if str(row["path"]).lower().endswith(".gz"):
                data = gzip.decompress(data)
            report = explain_html(data, url=row.get("url"), extractor=extractor)
        except (OSError, EOFError, SegmentationError) as exc:
            logger.warning("no explain report for %s: %s", row["path"], exc)
            link = f"{row['id']} (no report: {type(exc).__name__})"
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(report, encoding="utf-8")
            written.append(target)
            link = f"[{_md_text(row['id'])}]({EXPLAIN_DIR}/{name})"
            if explained is not None:
                explained[(str(row["corpus"]), str(row["id"]))] = f"{EXPLAIN_DIR}/{name}"
        table.append([row["corpus"], link, *(row.get(k, "") for k in optional)])
    lines = [
        "| corpus | page | " + " | ".join(optional) + " |" if optional else "| corpus | page |",
        "|" + "|".join("---" for _ in range(2 + len(optional))) + "|",
    ]
    lines += [
        "| " + " | ".join(v if i == 1 else _cell(v) for i, v in enumerate(r)) + " |" for r in table
    ]
    return lines, written


def _md_text(value: object) -> str:
    """Link text: markdown's special characters escaped."""
    return re.sub(r"([\\`*_\[\]()<>|#])", r"\\\1", str(value))


# --------------------------------------------------------------------------
# segmentation loss


def write_segloss_report(result: Mapping[str, Any], out_dir: Path) -> list[Path]:
    """Write ``segloss.md`` from what :func:`lab.segloss.run` returns::

        {"parser": str, "split": str,
         "corpora": {name: {"pages", "lose_over_half", "parse_lose_over_half",
                            "lose_over_tenth", "parse_lose_over_tenth", "mean_lost",
                            "median_lost", "mean_parse_lost", "decoding_differs",
                            "not_segmented": ...}},
         "worst": [{"corpus", "id", "url", "browser_words", "our_words", "lost",
                    "parse_lost", "decoding_differs", "note"}]}

    Counts, ids and URLs only: no page text.
    """
    out_dir = Path(out_dir)
    per = result.get("corpora", {})
    lines = [
        "# Segmentation loss",
        "",
        f"The visible text of each page in a browser-grade HTML5 parse ({result.get('parser', '?')}"
        ": the body's text minus script, style, noscript, template and elements not "
        "rendered: `hidden`, inline `display:none`/`visibility:hidden`), against the text "
        "of all our blocks, whatever their label. **Lost**: the share of the visible "
        "words (lower-cased `\\w+` tokens, as a bag) that none of our blocks holds. "
        "**Parse lost**: the same against a visible text that also skips what the "
        "segmenter skips on purpose (form controls, svg, iframes, media, `aria-hidden`): "
        "what the parse and the walk themselves lose. Both parses read the same decoded "
        'text; "decoding" counts the pages where the HTML Standard\'s own decoding of the '
        "bytes (BOM, `<meta>` in the first 1024 bytes, else UTF-8) reads other words. "
        f"Split: {result.get('split', 'all')}.",
        "",
    ]
    lines += _table(
        [
            "corpus",
            "pages",
            "lose > 50%",
            "parse lose > 50%",
            "lose > 10%",
            "parse lose > 10%",
            "mean lost",
            "median lost",
            "mean parse lost",
            "decoding",
            "not segmented",
        ],
        [
            [
                name,
                s.get("pages", ""),
                s.get("lose_over_half", ""),
                s.get("parse_lose_over_half", ""),
                s.get("lose_over_tenth", ""),
                s.get("parse_lose_over_tenth", ""),
                s.get("mean_lost", float("nan")),
                s.get("median_lost", float("nan")),
                s.get("mean_parse_lost", float("nan")),
                s.get("decoding_differs", ""),
                s.get("not_segmented", ""),
            ]
            for name, s in per.items()
        ],
    )
    worst = result.get("worst") or []
    if worst:
        lines += [
            "",
            f"## The {len(worst)} pages that lose most",
            "",
        ]
        lines += _table(
            [
                "corpus",
                "page",
                "url",
                "visible words",
                "our words",
                "lost",
                "parse lost",
                "decoding differs",
                "note",
            ],
            [
                [
                    r["corpus"],
                    r["id"],
                    r.get("url") or "",
                    r.get("browser_words", ""),
                    r.get("our_words", ""),
                    r.get("lost", float("nan")),
                    r.get("parse_lost", float("nan")),
                    "yes" if r.get("decoding_differs") else "",
                    r.get("note", ""),
                ]
                for r in worst
            ],
        )
    return [_write(out_dir / "segloss.md", lines)]


# --------------------------------------------------------------------------
# speed


def write_bench_report(results: Mapping[str, Any], out_dir: Path) -> list[Path]:
    """Write ``bench.md`` and ``bench.png``; return the paths written.

    ``results``::

        {"extractors": {name: {"median_ms": float, "p95_ms": float,   # required
                               "mean_ms": float, "pages": int,        # optional
                               "peak_mb": float}},                    # optional, MiB
         "floor": "lxml parse (floor)",     # optional; else a name holding "(floor)"
         "profile_overhead": {"pages": int, "alone_ms": float,      # optional
                              "profiled_ms": float, "overhead_pct": float},
         "crawl": {"with_classifier": {"pages_per_s": float, "pages": int},
                   "without_classifier": {"pages_per_s": float, "pages": int}},  # optional
         "environment": {"python": "3.11.2", "cpu": "...", ...}}     # optional, listed

    The flat dict :func:`lab.bench.run` returns today
    (``{name: {"median_ms", "p95_ms", ...}}``) is accepted as ``extractors``.
    """
    out_dir = Path(out_dir)
    extractors, floor, crawl, env = _bench_parts(results)
    names = _ordered(list(extractors))
    has_mem = any("peak_mb" in s for s in extractors.values())
    shown = ["ms/page"] + (["peak memory"] if has_mem else []) + (["crawl rate"] if crawl else [])
    lines = ["# Speed", "", f"![{', '.join(shown)}](bench.png)", ""]
    if floor:
        lines += [f"The floor is `{floor}`: parsing the same bytes and nothing else.", ""]
    header = ["extractor", "median ms/page", "p95 ms/page", "mean ms/page", "pages"]
    lines += _table(
        header + (["peak MiB"] if has_mem else []),
        [
            [
                n,
                *(
                    _fmt(extractors[n].get(k, ""), ".2f")
                    for k in ("median_ms", "p95_ms", "mean_ms")
                ),
                extractors[n].get("pages", ""),
                *([_fmt(extractors[n].get("peak_mb", ""), ".1f")] if has_mem else []),
            ]
            for n in names
        ],
    )
    overhead = results.get("profile_overhead")
    if isinstance(overhead, Mapping) and overhead.get("pages"):
        lines += [
            "",
            "## The site profile's cost, paired",
            "",
            f"Each of {overhead['pages']} pages classified alone and with a profile, back to "
            f"back in one process (alternating order): {overhead['alone_ms']:.2f} and "
            f"{overhead['profiled_ms']:.2f} ms/page, {overhead['overhead_pct']:+.1f} %.",
        ]
    if crawl:
        lines += ["", "## Crawl", ""]
        lines += _table(
            ["run", "pages/s", "pages"],
            [
                [k.replace("_", " "), _fmt(v.get("pages_per_s", ""), ".1f"), v.get("pages", "")]
                for k, v in crawl.items()
            ],
        )
    if env:
        lines += ["", "## Environment", ""] + [f"- {k}: {v}" for k, v in env.items()]
    chart = _save(_bench_chart(extractors, names, floor, crawl, has_mem), out_dir / "bench.png")
    return [_write(out_dir / "bench.md", lines), chart]


def _bench_parts(
    results: Mapping[str, Any],
) -> tuple[dict[str, Any], str | None, dict[str, Any], dict[str, Any]]:
    if "extractors" in results:
        extractors = dict(results["extractors"])
    else:
        extractors = {
            k: v for k, v in results.items() if isinstance(v, Mapping) and "median_ms" in v
        }
    floor = results.get("floor") or next((n for n in extractors if FLOOR_MARK in n), None)
    return (
        extractors,
        floor,
        dict(results.get("crawl") or {}),
        dict(results.get("environment") or {}),
    )


def _bench_chart(
    extractors: Mapping[str, Any],
    names: list[str],
    floor: str | None,
    crawl: Mapping[str, Any],
    has_mem: bool,
) -> Figure:
    panels = 1 + has_mem + bool(crawl)
    fig = _figure(4.6 * panels, max(2.4, 0.45 * len(names) + 1.4))
    axes = list(fig.subplots(1, panels, squeeze=False)[0])
    ax = axes.pop(0)
    ys = range(len(names))
    med = [float(extractors[n].get("median_ms", 0)) for n in names]
    p95 = [float(extractors[n].get("p95_ms", 0)) for n in names]
    ax.barh([y - 0.2 for y in ys], med, 0.4, label="median", color="C0")
    ax.barh([y + 0.2 for y in ys], p95, 0.4, label="p95", color="C1")
    if floor is not None and floor in extractors:
        ax.axvline(
            float(extractors[floor].get("median_ms", 0)),
            color="k",
            ls=":",
            lw=1,
            label="parse floor (median)",
        )
    ax.set_yticks(list(ys), names)
    ax.invert_yaxis()
    ax.set_xlabel("ms/page")
    ax.set_title("time per page", fontsize=10)
    ax.legend(fontsize=7)
    if has_mem:
        ax = axes.pop(0)
        mem = [float(extractors[n].get("peak_mb", 0) or 0) for n in names]
        ax.barh(list(ys), mem, 0.6, color="C2")
        ax.set_yticks(list(ys), names)
        ax.invert_yaxis()
        ax.set_xlabel("peak MiB")
        ax.set_title("peak memory", fontsize=10)
    if crawl:
        ax = axes.pop(0)
        runs = list(crawl)
        rates = [float(crawl[r].get("pages_per_s", 0)) for r in runs]
        bars = ax.bar(range(len(runs)), rates, 0.6, color=[f"C{3 + i}" for i in range(len(runs))])
        ax.bar_label(bars, fmt="%.1f", fontsize=7)
        ax.set_xticks(range(len(runs)), [r.replace("_", " ") for r in runs], fontsize=8)
        ax.set_ylabel("pages/s")
        ax.margins(y=0.12)
        ax.set_title("crawl", fontsize=10)
    return fig


# --------------------------------------------------------------------------
# training


def write_train_report(card: Mapping[str, Any], out_dir: Path) -> list[Path]:
    """Write ``train.md`` and ``confusion.png`` from a model card; return the paths.

    ``card`` is the model card (``classifier/models/block_model.json``); used:
    ``labels``, ``model_version``, ``n_pages``, ``n_blocks``, ``layouts``,
    ``label_counts``, ``threshold`` and ``cv_metrics``::

        {"per_class": {label: {"precision", "recall", "f1": float, "support": int}},
         "accuracy": float, "grouped_by": "layout", "folds": int,
         "confusion": [[int]]}   # rows true, columns predicted, both in `labels` order

    Without ``cv_metrics`` (trained with ``--no-cv``) only ``train.md`` is
    written, saying so.
    """
    out_dir = Path(out_dir)
    cv = card.get("cv_metrics") or {}
    labels = list(card.get("labels") or cv.get("per_class", {}))
    lines = [
        "# Block model",
        "",
        f"- model: `{card.get('model_version', '?')}`",
        f"- trained on {card.get('n_blocks', '?')} blocks, {card.get('n_pages', '?')} pages, "
        f"{len(card.get('layouts', []))} layouts",
        "- blocks per label: "
        + ", ".join(f"{k} {v}" for k, v in card.get("label_counts", {}).items()),
        f"- decision threshold P(article) \u2265 {card.get('threshold', '?')}",
        "",
    ]
    if not cv:
        lines.append("No cross-validation was run (trained with `--no-cv`).")
        return [_write(out_dir / "train.md", lines)]
    lines += [
        f"## Cross-validation, grouped by {cv.get('grouped_by', '?')} "
        f"({cv.get('folds', '?')} folds)",
        "",
        "Every score comes from layouts the model did not train on.",
        "",
    ]
    per = cv.get("per_class", {})
    lines += _table(
        ["label", "precision", "recall", "F1", "blocks"],
        [
            [
                lab,
                *(per[lab].get(k, float("nan")) for k in ("precision", "recall", "f1")),
                per[lab].get("support", ""),
            ]
            for lab in labels
            if lab in per
        ],
    )
    if "accuracy" in cv:
        lines += ["", f"Accuracy: {cv['accuracy']:.3f}"]
    matrix = cv.get("confusion") or []
    if matrix:
        lines += [
            "",
            "## Confusion matrix",
            "",
            "![confusion matrix](confusion.png)",
            "",
            "Rows: true label; columns: predicted label.",
            "",
        ]
        lines += _table(
            ["true \u2193 predicted \u2192", *labels],
            [[lab, *matrix[i]] for i, lab in enumerate(labels)],
        )
        chart = _save(_confusion_chart(matrix, labels), out_dir / "confusion.png")
        return [_write(out_dir / "train.md", lines), chart]
    return [_write(out_dir / "train.md", lines)]


def _confusion_chart(matrix: Sequence[Sequence[int]], labels: list[str]) -> Figure:
    """Counts in the cells; colour by share of the true label's blocks (row)."""
    fig = _figure(1.3 * len(labels) + 2.2, 1.1 * len(labels) + 1.4)
    ax = fig.subplots()
    shares = [[c / max(sum(row), 1) for c in row] for row in matrix]
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            ax.text(
                j,
                i,
                f"{count}\n{shares[i][j]:.0%}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if shares[i][j] > 0.6 else "black",
            )
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("cross-validated confusion", fontsize=10)
    fig.colorbar(image, ax=ax, label="share of true label", shrink=0.8)
    return fig


# --------------------------------------------------------------------------
# adaptation (make adapt-report)

ADAPT_GROUP_NAMES = {
    "pages": "training layouts (training_data/pages/, trained without the layout)",
    "sites": "multi-page sites (training_data/sites/)",
    "eval": "evaluation sites (tests/data/sites/)",
    "new": "new sites in unfamiliar templates (tests/data/adapt/)",
    "all": "every held-out folder",
}


def write_adapt_report(result: Mapping[str, Any], out_dir: Path) -> list[Path]:
    """Write ``adapt.md`` and ``adapt.png`` from what :func:`lab.adapt.run` returns::

    {"points": [k...], "weight": float, "fits": int, "fit_seconds_mean": float,
     "folders": [{"folder", "group", "pages", "points": [{"k", "f1", "scored",
                  "story_pages", "listing_with_text", "fit_seconds"}]}],
     "groups": {group: {k: {"folders", "median", "worst", "worst_folder",
                            "worst_at_0", "worst_at_0_folder", "gain_of_worst_at_0",
                            "worst_gain"}}}}
    """
    out_dir = Path(out_dir)
    points = [int(k) for k in result.get("points", [])]
    lines = [
        "# Adaptation: F1 against pages labelled",
        "",
        "Each layout folder in turn is the new site: the block booster (the label app's "
        "refit: one uncalibrated fit) trains on training_data/pages/ without that folder "
        f"plus its first k pages weighing {result.get('weight', 0):g}x, and the folder's "
        "other pages are extracted with the shipped decision rule. Story F1: word-F1 of the "
        "blocks kept as article against the article-labelled blocks, over the scored pages "
        "with a story. A folder appears at k only when pages are left to score.",
        "",
        f"{result.get('fits', 0)} fits, {result.get('fit_seconds_mean', 0)} s a fit "
        f"({result.get('seconds', 0)} s in all).",
        "",
    ]
    for group, per_k in result.get("groups", {}).items():
        lines += [f"## {ADAPT_GROUP_NAMES.get(group, group)}", ""]
        rows = [
            [
                k,
                s["folders"],
                s["median"],
                f"{s['worst']:.3f} ({s['worst_folder']})",
                s.get("gain_of_worst_at_0"),
                s.get("worst_gain"),
            ]
            for k, s in per_k.items()
        ]
        lines += _table(
            [
                "pages labelled",
                "folders",
                "median F1",
                "worst F1",
                "gain of the folder worst at 0",
                "worst against worst at 0",
            ],
            rows,
        )
        lines.append("")
    lines += ["## Every folder", ""]
    rows = []
    for r in result.get("folders", []):
        by_k = {p["k"]: p for p in r["points"]}
        rows.append(
            [r["folder"], r["group"], r["pages"]]
            + [by_k[k]["f1"] if k in by_k else "" for k in points]
            + [sum(len(p["listing_with_text"]) for p in r["points"])]
        )
    lines += _table(
        ["folder", "group", "pages", *[f"F1 at {k}" for k in points], "listings with text"],
        rows,
    )
    md = _write(out_dir / "adapt.md", lines)

    fig = _figure(7.5, 4.2)
    ax = fig.add_subplot()
    drawn = [(g, per_k) for g, per_k in result.get("groups", {}).items() if g != "all"]
    for n, (group, per_k) in enumerate(drawn):
        ks = [int(k) for k in per_k]
        colour = f"C{n}"
        median = [per_k[str(k)]["median"] for k in ks]
        worst = [per_k[str(k)]["worst"] for k in ks]
        ax.plot(ks, median, "-o", color=colour, label=f"{group} median")
        ax.plot(ks, worst, "--x", color=colour, label=f"{group} worst")
    ax.set_xlabel("pages of the new site labelled")
    ax.set_ylabel("story F1 on its other pages")
    ax.set_xticks(points)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return [md, _save(fig, out_dir / "adapt.png")]

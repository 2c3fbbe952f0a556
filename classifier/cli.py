"""Command line: ``python -m classifier COMMAND ...`` (also installed as ``newsfilter``).

Commands: extract, explain, clean-text, check-data, train.  These are the
product's; the maintainers' tools (eval, tune, bench, reports) are in the
checkout-only ``lab`` package (``python -m lab``).  Logging is set up here
only; the library itself logs through a NullHandler.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from .model import SITE_WEIGHT, ModelError

logger = logging.getLogger("classifier")


@contextmanager
def _output(name: str | None) -> Iterator[IO[str]]:
    """``-o FILE`` (parents made), or stdout for none or ``-``."""
    if not name or name == "-":
        yield sys.stdout
        return
    Path(name).parent.mkdir(parents=True, exist_ok=True)
    with open(name, "w", encoding="utf-8") as out:
        yield out


def _exit_code(total: int, failures: int) -> int:
    """0 when something was done; 1 when there was nothing or everything failed."""
    return 1 if total == 0 or failures == total else 0


def cmd_extract(args: argparse.Namespace) -> int:
    from .batch import ExtractOptions, extract_rows, extract_rows_by_site
    from .sources import InputStats, is_warc, iter_inputs, iter_pages

    options = ExtractOptions(
        model=args.model,
        threshold=args.threshold,
        switch_cost=args.switch_cost,
        with_blocks=not args.no_blocks,
        include=args.include,
        limits=_limits(args),
        min_article_share=args.min_article_share,
    )
    files = list(iter_inputs(args.paths))
    stats = InputStats()
    # the number of pages is known up front unless a WARC file is among the inputs
    total_known = None if any(is_warc(f) for f in files) else len(files)
    if args.site_profile:
        if args.jobs != 1:
            logger.warning("--site-profile runs in one process; -j is ignored")
        passes = 0

        def both_passes() -> Iterator[Any]:
            nonlocal passes
            passes += 1
            return iter_pages(files, url=args.url, stats=stats if passes == 1 else None)

        rows = extract_rows_by_site(both_passes, options)
    else:
        rows = extract_rows(iter_pages(files, url=args.url, stats=stats), options, jobs=args.jobs)
    failures = total = 0
    with _output(args.output) as out, _progress(args, total_known) as bar:
        for row in rows:
            total += 1
            if row.error is not None:
                failures += 1
                logger.error("%s: %s", row.source, row.error)
            elif row.truncated:
                logger.warning("%s: truncated past the limit(s) %s", row.source, row.truncated)
            out.write(row.line + "\n")
            out.flush()
            if bar is not None:
                bar.update(1)
                bar.set_postfix(errors=failures, refresh=False)
    if not args.quiet:
        skipped = (
            f", {stats.skipped} WARC record(s) skipped (not HTML 200 responses)"
            if stats.warc_files
            else ""
        )
        logger.info("%d page(s), %d error(s)%s", total, failures, skipped)
    return _exit_code(total, failures)


@contextmanager
def _progress(args: argparse.Namespace, total: int | None) -> Iterator[Any]:
    """A progress bar (pages, pages/s, errors) on stderr when it is a terminal;
    None when piped or with ``--quiet``.  Log lines print above the bar."""
    if args.quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm
    from tqdm.contrib.logging import logging_redirect_tqdm

    tqdm.monitor_interval = 0  # no monitor thread: worker processes are forked after this

    with (
        tqdm(total=total, unit="page", file=sys.stderr, dynamic_ncols=True) as bar,
        logging_redirect_tqdm(),  # the root handler basicConfig set up
    ):
        bar.set_postfix(errors=0, refresh=False)
        yield bar


_SIZE_SUFFIX = {"": 1, "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30}
_SIZE_SUFFIX["gib"] = 1 << 30


def _limit(value: str) -> tuple[str, int]:
    """``--limit NAME=N``: one of :class:`~classifier.segment.Limits` (N may end
    in KiB, MiB or GiB)."""
    from .segment import Limits

    name, eq, raw = value.partition("=")
    name = name.strip().lower().replace("-", "_")
    if not eq or name not in Limits.names():
        raise argparse.ArgumentTypeError(
            f"expected NAME=N with NAME one of {', '.join(Limits.names())}, got {value!r}"
        )
    number = raw.strip().replace("_", "").lower()
    digits = number.rstrip("kmgib")
    factor = _SIZE_SUFFIX.get(number[len(digits) :])
    if not digits.isdigit() or factor is None or int(digits) * factor < 1:
        raise argparse.ArgumentTypeError(f"{name}: not a whole number of at least 1: {raw!r}")
    return name, int(digits) * factor


def _limits(args: argparse.Namespace) -> Any:
    from .segment import LIMITS

    return LIMITS.replace(**dict(args.limit or ()))


def _limit_help() -> str:
    from .segment import LIMITS, Limits

    values = ", ".join(f"{n}={getattr(LIMITS, 'max_' + n)}" for n in Limits.names())
    return (
        "change a limit of what one input may cost (repeatable; past one, the input is cut "
        f"and its row says so in `truncated`); defaults: {values}"
    )


def _jobs(value: str) -> int:
    """``-j N``: N >= 1 worker processes, 0 for one per core."""
    try:
        jobs = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if jobs < 0:
        raise argparse.ArgumentTypeError("must be 0 (one per core) or more")
    if jobs == 0:
        return (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count() or 1
        )
    return jobs


def cmd_explain(args: argparse.Namespace) -> int:
    from .explain import explain_html
    from .extract import Extractor
    from .model import BLOCK_MODEL
    from .segment import SegmentationError
    from .sources import read_page

    extractor = Extractor(args.model or BLOCK_MODEL, threshold=args.threshold)
    try:
        data = read_page(Path(args.page), extractor.limits.max_bytes)
        report = explain_html(data, url=args.url, extractor=extractor)
    except (OSError, EOFError, SegmentationError) as exc:
        print(f"error: {args.page}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    with _output(args.output) as out:
        out.write(report)
    if args.output and args.output != "-":
        logger.info("wrote %s", args.output)
    return 0


def cmd_clean_text(args: argparse.Namespace) -> int:
    from .clean import LineCleaner
    from .lines import TextDecodeError, split_text
    from .model import LINE_MODEL
    from .profile import PageKeys, SiteProfile
    from .segment import truncation
    from .sources import iter_text_sources, read_text

    limits = _limits(args)
    cleaner = LineCleaner(
        args.model or LINE_MODEL,
        threshold=args.threshold,
        limits=limits,
        switch_cost=args.switch_cost,
    )
    sources = list(iter_text_sources(args.paths))
    profiles: dict[str, SiteProfile] = {}
    known: dict[int, tuple[str, Any]] = {}  # input -> (site, probabilities) of the first pass
    if args.site_profile:
        # first pass: one profile a site (the folder of the dump); stdin is its own site
        cleaner.site_model  # noqa: B018 - a missing or stale site model stops here, once
        col = cleaner.labels.index("article")
        for k, (name, path) in enumerate(sources):
            if path is None:
                continue
            try:
                dump = split_text(read_text(path, limits.max_bytes)[0], name, limits)
                proba = cleaner.probabilities(dump.lines)
            except Exception:  # the second pass meets it again and reports it
                continue
            site = str(path.parent)
            profiles.setdefault(site, SiteProfile(site)).add(PageKeys.of_dump(dump), proba[:, col])
            known[k] = (site, proba)
    total = failures = 0
    with _output(args.output) as out:
        for k, (name, path) in enumerate(sources):
            total += 1
            try:
                text, cut = read_text(path, limits.max_bytes)
                dump = split_text(text, name, limits)
                if k in known and len(known[k][1]) == len(dump.lines):
                    site, proba = known[k]
                    lines = cleaner.classify_dump(dump, proba, site=profiles[site])
                else:
                    lines = cleaner.classify_dump(dump)
            except Exception as exc:  # one input's error, whatever it is; the run goes on
                failures += 1
                message = f"{type(exc).__name__}: {exc}"
                if not isinstance(exc, (OSError, TextDecodeError)):
                    logger.debug("%s: unexpected error", name, exc_info=True)
                    message += " (unexpected: please report it)"
                print(f"{name}: {message}", file=sys.stderr)
                if args.jsonl:
                    out.write(json.dumps({"source": name, "error": message}) + "\n")
                continue
            truncated = truncation((["bytes"] if cut else []) + dump.truncated)
            if truncated:
                logger.warning("%s: truncated past the limit(s) %s", name, truncated)
            kept = [ln.text for ln in lines if ln.label == "article"]
            if args.jsonl:
                row: dict[str, Any] = {
                    "source": name,
                    "text": "\n\n".join(kept),
                    "truncated": truncated,
                }
                if args.labels:
                    row["lines"] = [asdict(ln) for ln in lines]
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            elif args.labels:
                out.write("".join(f"{ln.label}\t{ln.probability:.4f}\t{ln.text}\n" for ln in lines))
            elif kept:
                out.write("\n\n".join(kept) + "\n")
            out.flush()
    return 1 if failures and failures == total else 0


def cmd_check_data(args: argparse.Namespace) -> int:
    from .lines import check_dumps
    from .training import SITES, TRAINING_DIR, load_pages

    root = Path(args.data) if args.data else TRAINING_DIR
    pages, errors = load_pages(root)
    sites, site_errors = load_pages(root, folder=SITES)
    errors += site_errors + check_dumps(root)[1]
    for err in errors:
        print(err, file=sys.stderr)
    layouts = {p.layout for p in pages}
    counts: dict[str, int] = {}
    for p in pages:
        for b in p.page.blocks:
            counts[b.label or "?"] = counts.get(b.label or "?", 0) + 1
    print(
        f"{len(pages)} page(s) OK in {len(layouts)} layout(s); blocks: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        + (f"; {len(errors)} error(s)" if errors else "")
    )
    if sites:
        print(
            f"{len(sites)} site page(s) in {len({p.layout for p in sites})} site(s) "
            f"({SITES}/, for the site stages)"
        )
    return 1 if errors else 0


def cmd_train(args: argparse.Namespace) -> int:
    from .model import BLOCK_MODEL, LINE_MODEL, LINE_SITE_MODEL, SITE_MODEL
    from .training import PROJECT_ROOT, TRAINING_DIR, DataError, train, train_lines

    root = Path(args.data) if args.data else TRAINING_DIR
    out_dir = Path(args.output_dir) if args.output_dir else None
    if args.site is not None:
        return _train_site_model(args, root, out_dir or PROJECT_ROOT / "models" / args.site)

    def where(path: Path) -> Path:
        return out_dir / path.name if out_dir else path

    try:
        card = train(root, where(BLOCK_MODEL), evaluate=not args.no_cv, site_out=where(SITE_MODEL))
        print(
            f"trained on {card['n_blocks']} blocks, {card['n_pages']} pages, "
            f"{len(card['layouts'])} layouts -> {card['file']} ({card['model_version']})"
        )
        _print_cv(card, "blocks")
        _print_site(card["site_model"])
        lc = train_lines(
            root, where(LINE_MODEL), evaluate=not args.no_cv, site_out=where(LINE_SITE_MODEL)
        )
    except DataError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"line model: {lc['n_lines']} lines, {lc['n_dumps']} dumps -> {lc['file']} "
        f"({lc['model_version']})"
    )
    _print_cv(lc, "lines")
    _print_site(lc["site_model"])
    return 0


def _train_site_model(args: argparse.Namespace, root: Path, out_dir: Path) -> int:
    """``train --site NAME``: the block model and its site stage, NAME's pages
    weighing more, written to ``out_dir`` (the line model is not trained)."""
    from .model import BLOCK_MODEL, SITE_MODEL
    from .training import DataError, train

    try:
        card = train(
            root,
            out_dir / BLOCK_MODEL.name,
            evaluate=not args.no_cv,
            site_out=out_dir / SITE_MODEL.name,
            site=args.site,
            site_weight=args.site_weight,
        )
    except DataError as exc:
        print(exc, file=sys.stderr)
        return 1
    site = card["site"]
    print(
        f"trained for site {site['name']} ({site['pages']} pages, weighing {site['weight']:g}x) "
        f"on {card['n_blocks']} blocks, {card['n_pages']} pages -> "
        f"{out_dir / card['file']} ({card['model_version']})"
    )
    _print_cv(card, "blocks")
    _print_site(card["site_model"])
    print(f'use it: extract --model {out_dir / card["file"]}, or model = "..." in the sites file')
    return 0


def _print_site(card: dict[str, Any]) -> None:
    if not card:
        print("  no site stage: fewer than two layout folders have enough pages to learn one from")
        return
    cv = card.get("cv_metrics") or {}
    print(f"  site stage -> {card['file']} ({card['model_version']})", end="")
    if cv:
        print(
            f": story F1 {cv['story_f1_first_stage']:.3f} without the profile, "
            f"{cv['story_f1_site_stage']:.3f} with (layout-grouped, leave-one-page-out profiles)"
        )
    else:
        print()


def _print_cv(card: dict[str, Any], unit: str) -> None:
    cv = card.get("cv_metrics") or {}
    if cv:
        print(f"cross-validation grouped by {cv['grouped_by']} ({cv['folds']} folds):")
        print(f"  {'label':<8} {'prec':>6} {'recall':>6} {'F1':>6} {unit:>7}")
        for lab, m in cv["per_class"].items():
            print(
                f"  {lab:<8} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} "
                f"{m['support']:7d}"
            )


def _roles(value: str) -> tuple[str, ...]:
    from .extract import INCLUDABLE

    if value.strip() == "none":  # the body alone
        return ()
    names = tuple(sorted({v.strip() for v in value.split(",") if v.strip()}))
    unknown = set(names) - INCLUDABLE
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown role(s) {', '.join(sorted(unknown))}; "
            f"choose from {', '.join(sorted(INCLUDABLE))}"
        )
    return names


def build_parser() -> argparse.ArgumentParser:
    from .profile import MIN_PAGES

    parser = argparse.ArgumentParser(
        prog="python -m classifier", description="Keep the story, drop teasers and chrome."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "extract",
        help="extract article text from HTML or WARC files or folders",
        description="One JSON line a page, in input order (whatever -j): folders are walked "
        "sorted; a WARC file gives its HTML 200 responses in file order.",
    )
    p.add_argument(
        "paths", nargs="+", help="files or folders (.html, .htm, .html.gz, .warc, .warc.gz)"
    )
    p.add_argument("-o", "--output", help="JSONL file (default: stdout)")
    p.add_argument(
        "--url", help="the page URL, recorded in each line (WARC records have their own)"
    )
    p.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="worker processes, each loading the model once (default 1: this process; "
        "0: one per core); the output is the same",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary line")
    p.add_argument("--threshold", type=float, help="P(article) needed to keep a block")
    p.add_argument(
        "--switch-cost",
        type=float,
        help="smoothing: log-odds cost of entering or leaving the story (0: off)",
    )
    p.add_argument(
        "--include",
        type=_roles,
        default=None,
        help="roles in text beside the body: captions,byline,standfirst, or none "
        "(default: standfirst)",
    )
    p.add_argument(
        "--min-article-share",
        type=float,
        metavar="S",
        help="the page-type gate: a page whose text is less than this share article-like "
        "is a listing and yields no text (default: the model's, 0.05; 0: off)",
    )
    p.add_argument("--model", help="model file (default: the shipped block model)")
    p.add_argument(
        "--site-profile",
        action="store_true",
        help="two passes: profile each site's pages (site: the URL's host, else the file's "
        "folder), then classify every page with its site's profile; sites of fewer than "
        f"{MIN_PAGES} pages are classified page by page; one process",
    )
    p.add_argument("--no-blocks", action="store_true", help="omit the per-block list")
    p.add_argument("--limit", type=_limit, action="append", metavar="NAME=N", help=_limit_help())
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("explain", help="write an HTML report of what the model did on a page")
    p.add_argument("page", help="an HTML file (.html, .htm, .html.gz)")
    p.add_argument("-o", "--output", help="report file (default: stdout)")
    p.add_argument("--url", help="the page URL")
    p.add_argument("--threshold", type=float, help="P(article) needed to keep a block")
    p.add_argument("--model", help="model file (default: the shipped block model)")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser(
        "clean-text",
        help="keep the story lines of already flattened plain text",
        description="Label every line of plain-text dumps (article / teaser / chrome) "
        "and print the article lines. Reads stdin when no file is given.",
    )
    p.add_argument("paths", nargs="*", help="text files or folders of *.txt (default: stdin)")
    p.add_argument(
        "--labels",
        action="store_true",
        help="print every line as label<TAB>probability<TAB>text (with --jsonl: a `lines` list)",
    )
    p.add_argument(
        "--jsonl",
        action="store_true",
        help="one JSON line a file: source, text (and lines with --labels)",
    )
    p.add_argument("-o", "--output", help="output file (default: stdout)")
    p.add_argument("--threshold", type=float, help="P(article) needed to keep a line")
    p.add_argument(
        "--switch-cost",
        type=float,
        help="log-odds each change between story and noise costs along the dump "
        "(default: the line model's card; 0 keeps every line at the threshold)",
    )
    p.add_argument("--model", help="line model file (default: the shipped line model)")
    p.add_argument(
        "--site-profile",
        action="store_true",
        help="two passes: profile the dumps of each folder (a folder is a site), then clean "
        "every dump with its site's profile: lines repeated across a site's dumps are "
        f"evidence for noise; folders of fewer than {MIN_PAGES} dumps are cleaned one by one",
    )
    p.add_argument(
        "--limit",
        type=_limit,
        action="append",
        metavar="NAME=N",
        help=_limit_help() + " (bytes, blocks: lines, block_chars: characters of a line)",
    )
    p.set_defaults(func=cmd_clean_text)

    p = sub.add_parser("check-data", help="validate the labelled training pages and dumps")
    p.add_argument("--data", help="training data folder (default: training_data/)")
    p.set_defaults(func=cmd_check_data)

    p = sub.add_parser("train", help="train the block and line models from training_data/")
    p.add_argument("--data", help="training data folder")
    p.add_argument(
        "--output-dir", help="folder for both models and cards (default: the shipped models)"
    )
    p.add_argument("--no-cv", action="store_true", help="skip grouped cross-validation")
    p.add_argument(
        "--site",
        metavar="NAME",
        help="a per-site block model (and its site stage): the pages of the layout folder "
        "NAME (pages/NAME or sites/NAME) weigh more; written to models/NAME/ "
        "unless --output-dir",
    )
    p.add_argument(
        "--site-weight",
        type=float,
        default=SITE_WEIGHT,
        help=f"how many times a block of the site's pages weighs (default {SITE_WEIGHT:g})",
    )
    p.set_defaults(func=cmd_train)

    from .label import add_parser as add_label_parser

    add_label_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)


def run() -> None:
    """The command line (``newsfilter``, ``python -m classifier``).  ``train``
    restarts itself once with numpy's kernels pinned
    (:data:`~classifier.model.PORTABLE_NUMPY`): numpy reads that setting only
    when it is imported, and it makes the models the same on any machine."""
    from .model import PORTABLE_NUMPY, portable_numpy_env

    argv = sys.argv[1:]
    pinned = all(os.environ.get(k) == v for k, v in PORTABLE_NUMPY.items())
    if not pinned and build_parser().parse_args(argv).func is cmd_train:
        python = sys.executable
        os.execve(python, [python, "-m", "classifier", *argv], portable_numpy_env())
    sys.exit(main(argv))


def run_command(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse, set up logging, run the chosen command; a model error is exit code 2.

    Shared with the lab's command line (``python -m lab``)."""
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args))
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

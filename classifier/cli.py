"""Command line: ``python -m classifier COMMAND ...``.

Commands: extract, explain, train, check-data, eval, tune, bench.  Logging is set up
here only; the library itself logs through a NullHandler.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

logger = logging.getLogger("classifier")

HTML_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")


def iter_inputs(paths: list[str]) -> Iterator[Path]:
    """Files as given; directories recursively, HTML files only, sorted."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if (child.is_file() or child.is_symlink()) and child.name.lower().endswith(
                    HTML_SUFFIXES
                ):
                    yield child
        else:
            yield path


def read_page(path: Path) -> bytes:
    data = path.read_bytes()
    if path.name.lower().endswith(".gz"):
        data = gzip.decompress(data)
    return data


def _open_output(name: str | None) -> IO[str]:
    if not name or name == "-":
        return sys.stdout
    Path(name).parent.mkdir(parents=True, exist_ok=True)
    return open(name, "w", encoding="utf-8")


def cmd_extract(args: argparse.Namespace) -> int:
    from .extract import Extractor
    from .model import BLOCK_MODEL
    from .segment import SegmentationError

    extractor = Extractor(
        args.model or BLOCK_MODEL, threshold=args.threshold, switch_cost=args.switch_cost
    )
    out = _open_output(args.output)
    failures = total = 0
    try:
        for path in iter_inputs(args.paths):
            total += 1
            row: dict[str, Any] = {"source": str(path), "url": args.url}
            try:
                result = extractor.extract(read_page(path), url=args.url)
            except (OSError, EOFError, gzip.BadGzipFile, SegmentationError) as exc:
                failures += 1
                row["error"] = f"{type(exc).__name__}: {exc}"
                logger.error("%s: %s", path, row["error"])
            else:
                row.update(result.to_dict(with_blocks=not args.no_blocks))
                row["url"] = args.url
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
    finally:
        if out is not sys.stdout:
            out.close()
    logger.info("%d page(s), %d error(s)", total, failures)
    return 1 if total == 0 or failures == total else 0


def cmd_check_data(args: argparse.Namespace) -> int:
    from .lines import check_dumps
    from .training import TRAINING_DIR, load_pages

    root = Path(args.data) if args.data else TRAINING_DIR
    pages, errors = load_pages(root)
    errors += check_dumps(root)[1]
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
    return 1 if errors else 0


def cmd_train(args: argparse.Namespace) -> int:
    from .model import BLOCK_MODEL
    from .training import TRAINING_DIR, DataError, train

    try:
        card = train(
            Path(args.data) if args.data else TRAINING_DIR,
            Path(args.output) if args.output else BLOCK_MODEL,
            evaluate=not args.no_cv,
        )
    except DataError as exc:
        print(exc, file=sys.stderr)
        return 1
    from .evaluate import REPORTS
    from .reports import write_train_report

    write_train_report(card, REPORTS)
    print(
        f"trained on {card['n_blocks']} blocks, {card['n_pages']} pages, "
        f"{len(card['layouts'])} layouts -> {card['file']} ({card['model_version']})"
    )
    _print_cv(card, "blocks")
    from .lines import train_lines

    lc = train_lines(Path(args.data) if args.data else TRAINING_DIR, evaluate=not args.no_cv)
    print(
        f"line model: {lc['n_lines']} lines, {lc['n_dumps']} dumps -> {lc['file']} ({lc['model_version']})"
    )
    _print_cv(lc, "lines")
    return 0


def _print_cv(card: dict[str, Any], unit: str) -> None:
    cv = card.get("cv_metrics") or {}
    if cv:
        print(f"cross-validation grouped by {cv['grouped_by']} ({cv['folds']} folds):")
        print(f"  {'label':<8} {'prec':>6} {'recall':>6} {'F1':>6} {unit:>7}")
        for lab, m in cv["per_class"].items():
            print(
                f"  {lab:<8} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} {m['support']:7d}"
            )


def cmd_eval(args: argparse.Namespace) -> int:
    from . import corpora
    from .evaluate import (
        REPORTS,
        as_json,
        available_peers,
        evaluate,
        format_table,
        ours,
        worst_pages,
        write_json,
    )
    from .extract import Extractor
    from .lines import evaluate_flattened, format_flattened
    from .reports import write_eval_report

    if not corpora.available():
        print(f"no corpora at {corpora.corpora_dir()}; nothing to evaluate", file=sys.stderr)
        return 0
    extractor = Extractor(threshold=args.threshold)
    extractors = {"newsfilter": ours(extractor)}
    extractors.update(available_peers(args.peers.split(",") if args.peers else None))
    started = time.perf_counter()
    results = evaluate(extractors, split=args.split)
    print(format_table(results))
    flat = evaluate_flattened(split=args.split)
    print()
    print(format_flattened(flat))
    out_dir = Path(args.output) if args.output else REPORTS
    data = as_json(results)
    write_json({**data, "flattened": flat}, out_dir / "eval.json")
    written = write_eval_report(data, worst_pages(results), out_dir, extractor=extractor)
    with open(written[0], "a", encoding="utf-8") as md:  # eval.md: the clean-text figures too
        md.write("\n## Flattened text (clean-text)\n\n```\n" + format_flattened(flat) + "\n```\n")
    print(
        f"\nwrote {out_dir / 'eval.json'}, {written[0]} and {len(written) - 1} more file(s) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from . import corpora
    from .evaluate import decision_sweep
    from .extract import Extractor

    if not corpora.available():
        print(f"no corpora at {corpora.corpora_dir()}", file=sys.stderr)
        return 0
    thresholds = [float(x) for x in args.thresholds.split(",")]
    costs = [float(x) for x in args.switch_costs.split(",")]
    sweep = decision_sweep(Extractor(), thresholds, costs, split=args.split)
    names = list(next(iter(sweep.values())))
    print(f"{'threshold':>9} {'switch':>6} " + " ".join(f"{n:>12}" for n in names) + "     mean")

    def leaked(key: tuple[float, float]) -> int:
        return sum(int(s.get("leaked", 0)) for s in sweep[key].values())

    allowed = [k for k in sweep if args.max_leaked is None or leaked(k) <= args.max_leaked]
    best = max(allowed or sweep, key=lambda k: sum(s["f1"] for s in sweep[k].values()))
    for (t, c), scores in sweep.items():
        f1s = [scores[n]["f1"] for n in names]
        mark = "  <- best" if (t, c) == best else ""
        print(
            f"{t:9.2f} {c:6.1f} "
            + " ".join(f"{f:12.4f}" for f in f1s)
            + f"   {sum(f1s) / len(f1s):.4f}  leaked {leaked((t, c))}{mark}"
        )
    print(
        f"best on the {args.split} split: threshold {best[0]}, switch cost {best[1]}; "
        f"record them in training_data/config.json and run `make train`"
    )
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import main as bench_main

    return bench_main(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m classifier", description="Keep the story, drop teasers and chrome."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("extract", help="extract article text from HTML files or folders")
    p.add_argument("paths", nargs="+", help="files or folders (.html, .htm, .html.gz)")
    p.add_argument("-o", "--output", help="JSONL file (default: stdout)")
    p.add_argument("--url", help="the page URL, recorded in each line")
    p.add_argument("--threshold", type=float, help="P(article) needed to keep a block")
    p.add_argument(
        "--switch-cost",
        type=float,
        help="smoothing: log-odds cost of entering or leaving the story (0: off)",
    )
    p.add_argument("--model", help="model file (default: the shipped block model)")
    p.add_argument("--no-blocks", action="store_true", help="omit the per-block list")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("check-data", help="validate the labelled training pages")
    p.add_argument("--data", help="training data folder (default: training_data/)")
    p.set_defaults(func=cmd_check_data)

    p = sub.add_parser("train", help="train the block model from training_data/")
    p.add_argument("--data", help="training data folder")
    p.add_argument("-o", "--output", help="model file (default: the shipped model path)")
    p.add_argument("--no-cv", action="store_true", help="skip grouped cross-validation")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="score against ../shared/corpora beside the peers")
    p.add_argument("--peers", help="comma-separated peers (default: all installed)")
    p.add_argument("--split", choices=("dev", "test"), help="one half of each corpus only")
    p.add_argument("--threshold", type=float)
    p.add_argument("-o", "--output", help="report folder (default reports/)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("tune", help="sweep the decision threshold and smoothing on the dev half")
    p.add_argument("--split", default="dev", choices=("dev", "test"))
    p.add_argument("--thresholds", default="0.1,0.15,0.2,0.25,0.3,0.4,0.5")
    p.add_argument("--switch-costs", default="0,1,2,3,4,5")
    p.add_argument(
        "--max-leaked",
        type=int,
        help="only settings leaking at most this many snippets (e.g. the peer's count)",
    )
    p.set_defaults(func=cmd_tune)

    p = sub.add_parser("bench", help="ms/page beside trafilatura and the bare parse")
    p.add_argument("--limit", type=int, help="pages per corpus")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--no-crawl", action="store_true", help="skip the crawl pages/s benchmark")
    p.add_argument("-o", "--output", help="report folder (default reports/)")
    p.set_defaults(func=cmd_bench)

    from .explain import add_explain_parser
    from .lines import add_clean_text_parser

    add_explain_parser(sub)
    add_clean_text_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        from .model import ModelError

        return int(args.func(args))
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

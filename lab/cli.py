"""Command line of the lab: ``python -m lab COMMAND`` (``make eval``, ``make tune``...).

Commands: eval, tune, bench, segloss, scale, adapt, train-report.  The corpora live in
``../shared/corpora`` (or ``$NEWSFILTER_CORPORA``); without them eval, tune
and bench say so and exit cleanly.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from classifier.cli import run_command
from classifier.model import BLOCK_MODEL, card_path

from . import corpora
from .evaluate import REPORTS, TUNE_CORPORA


def cmd_eval(args: argparse.Namespace) -> int:
    from classifier.clean import LineCleaner
    from classifier.extract import Extractor

    from .causes import analyse, format_causes
    from .evaluate import (
        as_json,
        available_peers,
        evaluate,
        format_table,
        ours,
        quiet_peers,
        write_json,
    )
    from .flattened import evaluate_flattened, format_flattened
    from .reports import write_eval_report
    from .sites import clean_report, evaluate_clean_text, evaluate_sites, report

    if not corpora.available():
        print(f"no corpora at {corpora.corpora_dir()}; nothing to evaluate", file=sys.stderr)
        return 0
    if not args.verbose:
        quiet_peers()
    extractor = Extractor(threshold=args.threshold)
    extractors = {"newsfilter": ours(extractor)}
    extractors.update(available_peers(args.peers.split(",") if args.peers else None))
    started = time.perf_counter()
    results = evaluate(extractors, split=args.split, limit=args.limit)
    print(format_table(results))
    causes = analyse(results, extractor, worst=args.worst)
    print()
    print(format_causes(causes))
    flat = evaluate_flattened(split=args.split, limit=args.limit)
    print()
    print(format_flattened(flat))
    sites = evaluate_sites(extractor)
    sites["clean_text"] = evaluate_clean_text(LineCleaner())
    sites_md = report(sites) + "\n\n" + clean_report(sites["clean_text"])
    print()
    print(sites_md)
    out_dir = Path(args.output) if args.output else REPORTS
    data = as_json(results)
    write_json(
        {**data, "flattened": flat, "sites": sites, "causes": _causes_json(causes)},
        out_dir / "eval.json",
    )
    worst = [r for g in causes for r in g["rows"] if r["worst"]]
    written = write_eval_report(data, worst, out_dir, extractor=extractor, causes=causes)
    with open(written[0], "a", encoding="utf-8") as md:  # eval.md: the clean-text figures too
        md.write("\n## Flattened text (clean-text)\n\n```\n" + format_flattened(flat) + "\n```\n")
        md.write(
            "\n## Site profiles: the team's multi-page sites (tests/data/sites)\n\n"
            "Each site's pages extracted one by one and together with the site's profile "
            "(`python -m lab.sites -v` lists every leak).\n\n" + sites_md + "\n"
        )
    print(
        f"\nwrote {out_dir / 'eval.json'}, {written[0]} and {len(written) - 1} more file(s) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return 0


def _causes_json(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cause analysis without local file paths."""
    return [
        {**g, "rows": [{k: v for k, v in r.items() if k != "path"} for r in g["rows"]]}
        for g in groups
    ]


def cmd_tune(args: argparse.Namespace) -> int:
    from classifier.extract import Extractor

    from .evaluate import decision_sweep

    if not corpora.available():
        print(f"no corpora at {corpora.corpora_dir()}", file=sys.stderr)
        return 0
    thresholds = [float(x) for x in args.thresholds.split(",")]
    costs = [float(x) for x in args.switch_costs.split(",")]
    names = None if args.corpora == "all" else args.corpora.split(",")
    sweep = decision_sweep(Extractor(), thresholds, costs, split=args.split, names=names)
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


def cmd_segloss(args: argparse.Namespace) -> int:
    from .segloss import main as segloss_main

    return segloss_main(args)


def cmd_scale(args: argparse.Namespace) -> int:
    from .scale import main as scale_main

    return scale_main(args)


def cmd_adapt(args: argparse.Namespace) -> int:
    from .adapt import main as adapt_main

    return adapt_main(args)


def cmd_train_report(args: argparse.Namespace) -> int:
    """reports/train.md and confusion.png from the block model's card (``make train``)."""
    from .reports import write_train_report

    path = card_path(Path(args.model) if args.model else BLOCK_MODEL)
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"error: cannot read the model card {path}: {exc}", file=sys.stderr)
        return 1
    written = write_train_report(card, Path(args.output) if args.output else REPORTS)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m lab", description="Maintainers' tools: evaluation, tuning, benchmarks."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("eval", help="score against ../shared/corpora beside the peers")
    p.add_argument("--peers", help="comma-separated peers (default: all installed)")
    p.add_argument("--split", choices=("dev", "test"), help="one half of each corpus only")
    p.add_argument("--threshold", type=float)
    p.add_argument("--limit", type=int, help="the first N pages of each corpus (development)")
    p.add_argument(
        "--worst", type=int, default=20, help="pages per group taken apart whatever their F1"
    )
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
    p.add_argument(
        "--corpora",
        default=",".join(TUNE_CORPORA),
        help="comma-separated corpora, or 'all' (default: the ones the shipped rule was chosen on)",
    )
    p.set_defaults(func=cmd_tune)

    p = sub.add_parser(
        "segloss", help="visible text our blocks lose against a browser-grade (Lexbor) parse"
    )
    p.add_argument("--split", choices=("dev", "test"), help="one half of each corpus only")
    p.add_argument("--limit", type=int, help="the first N pages of each corpus")
    p.add_argument("-o", "--output", help="report folder (default reports/)")
    p.set_defaults(func=cmd_segloss)

    p = sub.add_parser("bench", help="ms/page beside trafilatura and the bare parse")
    p.add_argument("--limit", type=int, help="pages per corpus")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--no-crawl", action="store_true", help="skip the crawl pages/s benchmark")
    p.add_argument(
        "--no-memory", action="store_true", help="skip memory over time (10,000 pages, a crawl)"
    )
    p.add_argument(
        "--memory-only",
        action="store_true",
        help="only memory over time: reports/memory.md and memory.json",
    )
    p.add_argument(
        "--memory-pages", type=int, help="pages extracted for memory over time (default 10,000)"
    )
    p.add_argument("-o", "--output", help="report folder (default reports/)")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("scale", help="extract pages/s with -j 1, -j 2... over the corpora pages")
    p.add_argument("--jobs", default="1,2", help="comma-separated -j settings (1 always first)")
    p.add_argument("--limit", type=int, help="pages per corpus")
    p.add_argument("--repeat", type=int, default=1, help="run the settings in turn N times")
    p.add_argument(
        "--crawl-workers",
        default="1,2,4",
        help="distributed crawl: comma-separated worker counts on one Redis ('' for none)",
    )
    p.add_argument("--crawl-sites", type=int, help="demo site copies the crawl serves (8)")
    p.add_argument("-o", "--output", help="report folder (default reports/)")
    p.set_defaults(func=cmd_scale)

    p = sub.add_parser(
        "adapt", help="learning curves: F1 on a held-out layout against its pages labelled"
    )
    p.add_argument("--data", help="training data folder (default training_data/)")
    p.add_argument("--points", default="0,1,3,5,10", help="pages labelled, comma-separated")
    p.add_argument("--jobs", type=int, default=1, help="fits run at once (one core each)")
    p.add_argument("--groups", help="comma-separated: pages, sites, eval, new (default all)")
    p.add_argument("--limit", type=int, help="the first N folders of each group (development)")
    p.add_argument(
        "--no-eval-sites",
        action="store_true",
        help="only training_data/: leave out the sites of tests/data/sites and tests/data/adapt",
    )
    p.add_argument("-o", "--output", help="report folder (default reports/)")
    p.set_defaults(func=cmd_adapt)

    p = sub.add_parser("train-report", help="reports/train.md from the trained models' cards")
    p.add_argument("--model", help="block model file (default: the shipped one)")
    p.add_argument("-o", "--output", help="report folder (default reports/)")
    p.set_defaults(func=cmd_train_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)

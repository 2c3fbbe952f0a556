"""The multi-page evaluation: single-page against site-profile extraction.

``tests/data/sites/<site>/*.html`` holds the team's fictional sites, each
written in one template with rotating teaser widgets, labelled like the
training pages (``data-label``, ``data-role``) and kept apart from
``training_data/``.  For every site the pages are extracted one by one
(the block model alone) and together (:func:`classifier.extract.extract_site`,
with the site's profile), and scored:

- story F1: mean word-F1 of ``text`` against the page's labelled text
  (article blocks of the roles ``text`` holds by default, body and
  standfirst: no headline, byline or caption), over the story pages;
- template lines leaked: noise blocks (teaser or chrome) of three or more
  words whose text stands on at least two pages of the site and is no page's
  story, found in a story's ``text``;
- listing pages with text: pages without an article block that yield text.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifier.clean import LineCleaner
from classifier.extract import TEXT_ROLES, Extraction, Extractor, extract_site
from classifier.lines import Dump, dump_from_pairs, flatten_page
from classifier.profile import PageKeys, SiteProfile, normal_text
from classifier.segment import Page, segment

from .metrics import word_page, word_summary

SITES_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "sites"
TEMPLATE_MIN_WORDS = 3
TEMPLATE_MIN_PAGES = 2


@dataclass(slots=True)
class SitePage:
    path: Path
    page: Page  # as extraction sees it (no labels)
    body: str  # the labelled body
    is_story: bool
    dump: Dump  # the page flattened (classifier.lines.flatten_page), lines labelled


@dataclass(slots=True)
class Site:
    name: str
    pages: list[SitePage]
    template: set[str] = field(default_factory=set)  # normalised template noise lines


def load_sites(root: Path = SITES_DIR) -> list[Site]:
    sites = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        pages: list[SitePage] = []
        seen: Counter[str] = Counter()
        story: set[str] = set()  # texts that are some page's story (a lede teasers quote)
        for path in sorted(folder.glob("*.html")):
            data = path.read_bytes()
            labelled = segment(data, with_labels=True)
            body = [
                b.text
                for b in labelled.blocks
                if b.label == "article" and (b.role or "body") in TEXT_ROLES
            ]
            pages.append(
                SitePage(
                    path,
                    segment(data),
                    "\n\n".join(body),
                    any(b.label == "article" for b in labelled.blocks),
                    dump_from_pairs(flatten_page(labelled), str(path)),
                )
            )
            story.update(normal_text(b.text) for b in labelled.blocks if b.label == "article")
            seen.update(
                {
                    normal_text(b.text)
                    for b in labelled.blocks
                    if b.label != "article" and len(b.text.split()) >= TEMPLATE_MIN_WORDS
                }
            )
        template = {t for t, n in seen.items() if n >= TEMPLATE_MIN_PAGES} - story
        sites.append(Site(folder.name, pages, template))
    return sites


def _text_blocks(ex: Extraction) -> list[str]:
    return [
        b.text
        for b in ex.blocks
        if b.label == "article" and b.role in TEXT_ROLES and b.text != ex.title
    ]


def score_site(site: Site, extractions: list[Extraction]) -> dict[str, Any]:
    story, leaked, listing_text = [], [], []
    for sp, ex in zip(site.pages, extractions, strict=True):
        if sp.is_story:
            story.append(word_page(ex.text, sp.body))
            for text in _text_blocks(ex):
                if normal_text(text) in site.template:
                    leaked.append(f"{sp.path.name}: {text[:80]}")
        elif ex.text:
            listing_text.append(sp.path.name)
    summary = word_summary(story)
    return {
        "pages": len(site.pages),
        "story_pages": len(story),
        "story_f1": summary["f1"],
        "precision": summary["precision"],
        "recall": summary["recall"],
        "template_leaked": leaked,
        "listing_with_text": listing_text,
        "_scores": story,
    }


def clean_site(cleaner: LineCleaner, site: Site, profile: bool) -> dict[str, Any]:
    """clean-text on the site's pages flattened: single dumps or with the site's profile."""
    dumps = [sp.dump for sp in site.pages]
    probas = [cleaner.probabilities(d.lines) for d in dumps]
    prof = SiteProfile(site.name)
    if profile:
        for d, proba in zip(dumps, probas, strict=True):
            prof.add(PageKeys.of_dump(d), proba[:, cleaner.labels.index("article")])
    scores, leaked, listing_text = [], [], []
    for sp, d, proba in zip(site.pages, dumps, probas, strict=True):
        lines = cleaner.classify_dump(d, proba, site=prof if profile else None)
        kept = [ln.text for ln in lines if ln.label == "article"]
        if sp.is_story:
            truth = "\n\n".join(ln.text for ln in d.lines if ln.label == "article")
            scores.append(word_page("\n\n".join(kept), truth))
            leaked += [f"{sp.path.name}: {t[:80]}" for t in kept if normal_text(t) in site.template]
        elif kept:
            listing_text.append(sp.path.name)
    return {"scores": scores, "template_leaked": leaked, "listing_with_text": listing_text}


def evaluate_clean_text(cleaner: LineCleaner, root: Path = SITES_DIR) -> dict[str, Any]:
    out: dict[str, Any] = {}
    sites = load_sites(root)
    for mode in ("single", "profile"):
        scores: list[Any] = []
        leaked: list[str] = []
        listing: list[str] = []
        for site in sites:
            r = clean_site(cleaner, site, mode == "profile")
            scores += r["scores"]
            leaked += [f"{site.name}/{x}" for x in r["template_leaked"]]
            listing += [f"{site.name}/{x}" for x in r["listing_with_text"]]
        s = word_summary(scores)
        out[mode] = {
            "f1": round(s["f1"], 4),
            "precision": round(s["precision"], 4),
            "recall": round(s["recall"], 4),
            "template_leaked": len(leaked),
            "listing_with_text": len(listing),
            "leaks": leaked,
        }
    return out


def evaluate_sites(extractor: Extractor, root: Path = SITES_DIR) -> dict[str, Any]:
    """Per site and overall, single-page and site-profile figures."""
    out: dict[str, Any] = {"sites": {}, "overall": {}}
    pooled: dict[str, list[Any]] = defaultdict(list)
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for site in load_sites(root):
        pages = [sp.page for sp in site.pages]
        runs = {
            "single": [extractor.extract_page(p) for p in pages],
            "profile": extract_site(extractor, pages),
        }
        out["sites"][site.name] = {}
        for mode, exs in runs.items():
            scored = score_site(site, exs)
            pooled[mode].extend(scored.pop("_scores"))
            totals[mode]["template_leaked"] += len(scored["template_leaked"])
            totals[mode]["listing_with_text"] += len(scored["listing_with_text"])
            totals[mode]["pages"] += scored["pages"]
            out["sites"][site.name][mode] = scored
    for mode, scores in pooled.items():
        s = word_summary(scores)
        out["overall"][mode] = {
            "story_f1": round(s["f1"], 4),
            "precision": round(s["precision"], 4),
            "recall": round(s["recall"], 4),
            "story_pages": s["pages"],
            **totals[mode],
        }
    return out


def report(result: dict[str, Any]) -> str:
    lines = [
        "| site | pages | single F1 | profile F1 | single leaked | profile leaked | "
        "listings with text (single / profile) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, modes in result["sites"].items():
        s, p = modes["single"], modes["profile"]
        lines.append(
            f"| {name} | {s['pages']} | {s['story_f1']:.3f} | {p['story_f1']:.3f} | "
            f"{len(s['template_leaked'])} | {len(p['template_leaked'])} | "
            f"{len(s['listing_with_text'])} / {len(p['listing_with_text'])} |"
        )
    s, p = result["overall"]["single"], result["overall"]["profile"]
    lines.append(
        f"| **all** | {s['pages']} | {s['story_f1']:.3f} | {p['story_f1']:.3f} | "
        f"{s['template_leaked']} | {p['template_leaked']} | "
        f"{s['listing_with_text']} / {p['listing_with_text']} |"
    )
    return "\n".join(lines)


def clean_report(result: dict[str, Any]) -> str:
    rows = [
        "| clean-text on the flattened pages | F1 | precision | recall | template lines leaked "
        "| listings with text |",
        "|---|---|---|---|---|---|",
    ]
    for mode, r in result.items():
        rows.append(
            f"| {mode} | {r['f1']:.3f} | {r['precision']:.3f} | {r['recall']:.3f} | "
            f"{r['template_leaked']} | {r['listing_with_text']} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.sites", description=__doc__)
    parser.add_argument("--root", default=str(SITES_DIR))
    parser.add_argument("--model", default=None, help="block model file")
    parser.add_argument("--site-model", default=None, help="site-stage model file")
    parser.add_argument("--json", default=None, help="write the figures here")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="list every leak (blocks and clean-text)"
    )
    args = parser.parse_args(argv)
    kwargs: dict[str, Any] = {}
    if args.model:
        kwargs["model_path"] = args.model
    if args.site_model:
        kwargs["site_model_path"] = args.site_model
    result = evaluate_sites(Extractor(**kwargs), Path(args.root))
    print(report(result))
    lines = evaluate_clean_text(LineCleaner(), Path(args.root))
    result["clean_text"] = lines
    print()
    print(clean_report(lines))
    if args.verbose:
        for name, modes in result["sites"].items():
            for mode, scored in modes.items():
                for leak in scored["template_leaked"]:
                    print(f"{mode} {name} leaked {leak}")
                for page in scored["listing_with_text"]:
                    print(f"{mode} {name} listing with text {page}")
        for mode, r in lines.items():
            for leak in r["leaks"]:
                print(f"clean-text {mode} leaked {leak}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Property tests: random and mutated pages and text never break the product's promises.

The inputs and the properties are :mod:`lab.fuzz`'s (``make fuzz`` runs
them for longer): the team's own pages and dumps, and tag soup, re-encoded
and mutated, fed to segmentation, ``extract`` rows, ``clean-text``, the
crawler's pipeline and feed exporter, and the command line.  A few hundred
examples, derandomized and without an example database, so every run (and
CI) tries the same inputs.  ``tests/data/fuzz`` holds the inputs that once
found a bug; each is replayed through every check of its target.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from lab import fuzz

BOUNDED = settings(
    derandomize=True,  # the same examples every run: reproducible in CI
    database=None,  # nothing carried from one run to the next
    deadline=None,  # speed is the benchmarks' business
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

# Inputs of the regression corpus that still fail: file name -> the bug.
# A replay that starts passing fails the run (strict): take it off this list.
KNOWN_FAILURES: dict[str, str] = {}


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> fuzz.Harness:
    return fuzz.Harness(tmp_path_factory.mktemp("fuzz"))


@settings(BOUNDED, max_examples=120)
@given(case=fuzz.html_cases())
def test_segmentation(harness: fuzz.Harness, case: fuzz.HtmlCase) -> None:
    harness.check_segment(case)


@settings(BOUNDED, max_examples=60)
@given(case=fuzz.html_cases())
def test_extract_rows(harness: fuzz.Harness, case: fuzz.HtmlCase) -> None:
    harness.check_extract(case)


@settings(BOUNDED, max_examples=100)
@given(data=fuzz.text_cases())
def test_clean_text(harness: fuzz.Harness, data: bytes) -> None:
    harness.check_clean(data)


@settings(BOUNDED, max_examples=50)
@given(case=fuzz.html_cases())
def test_crawler_pipeline_and_feed(harness: fuzz.Harness, case: fuzz.HtmlCase) -> None:
    harness.check_pipeline(case)


@settings(BOUNDED, max_examples=6)
@given(case=fuzz.html_cases())
def test_command_line(harness: fuzz.Harness, case: fuzz.HtmlCase) -> None:
    harness.check_cli(case)


def _replays() -> list[object]:
    params: list[object] = []
    for path in fuzz.corpus_files():
        reason = KNOWN_FAILURES.get(path.name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


@pytest.mark.parametrize("path", _replays())
def test_regression_corpus(harness: fuzz.Harness, path: Path) -> None:
    target, case = fuzz.case_from_file(path)
    harness.check(target, case)


def test_every_known_failure_is_in_the_corpus() -> None:
    names = {p.name for p in fuzz.corpus_files()}
    assert set(KNOWN_FAILURES) <= names


# --------------------------------------------------------------------------
# the checks themselves can fail


def test_a_story_paragraph_that_is_no_block_breaks_the_property() -> None:
    text = "Farmers began the harvest early."
    block: dict[str, object] = {
        "text": text,
        "label": "article",
        "probability": 0.9,
        "p_article": 0.9,
        "path": "body/p",
        "links": [],
        "role": "body",
    }
    row = {
        "source": "a.html",
        "url": None,
        "title": "Harvest",
        "text": text,
        "description": "",
        "byline": "",
        "captions": [],
        "language": "",
        "model_version": "m",
        "main_run_chars": len(text),
        "is_article": True,
        "article_share": 0.9,
        "truncated": "",
        "blocks": [block],
    }
    fuzz.check_row(row, [text])
    with pytest.raises(fuzz.PropertyFailure, match="text-of-blocks"):
        fuzz.check_row({**row, "text": text + "\n\nInvented paragraph."}, None)
    with pytest.raises(fuzz.PropertyFailure, match="blocks-are-segments"):
        fuzz.check_row(row, ["Another block"])
    with pytest.raises(fuzz.PropertyFailure, match="row-schema"):
        fuzz.check_row({**row, "captions": "not a list"}, None)
    with pytest.raises(fuzz.PropertyFailure, match="row-schema"):
        fuzz.check_row({**row, "surprise": 1}, None)
    with pytest.raises(fuzz.PropertyFailure, match="no-headline-in-text"):
        fuzz.check_row({**row, "title": text}, None)


def test_strict_json_refuses_what_a_json_reader_would() -> None:
    assert fuzz.strict_json(json.dumps({"a": 1.5})) == {"a": 1.5}
    for bad in ('{"p": NaN}', '{"a": "\\ud800"}'.replace("\\ud800", "\ud800"), "{", "1\n2"):
        with pytest.raises(fuzz.PropertyFailure):
            fuzz.strict_json(bad)


def test_mutations_and_minimiser() -> None:
    data = b"<p>hello</p>"
    assert fuzz._mutate(data, [("truncate", 3)]) == b"<p>"
    assert fuzz._mutate(data, [("delete", 0, 3)]) == b"hello</p>"
    assert fuzz._mutate(data, [("insert", 3, b"\x00")]) == b"<p>\x00hello</p>"
    assert fuzz._mutate(data, [("flip", 0, 0)]) == b"=p>hello</p>"
    assert fuzz._mutate(b"", [("flip", 5, 1), ("set", 1, 0)]) == b""
    small = fuzz.minimise(b"aaaa<x>bbbb" * 20, lambda b: b"<x>" in b, budget=10)
    assert small == b"<x>"


def test_saved_findings_replay_as_they_were_found(tmp_path: Path) -> None:
    (tmp_path / "pipeline-x.bin").write_bytes(gzip.compress(b"<p>x</p>"))
    (tmp_path / "pipeline-x.json").write_text(
        json.dumps({"target": "pipeline", "signature": "s", "charset": "cp1252", "gz": True})
    )
    (tmp_path / "clean-y.bin").write_bytes(b"line")
    (tmp_path / "clean-y.json").write_text(json.dumps({"target": "clean", "signature": "t"}))
    cases = [fuzz.case_from_file(p) for p in fuzz.corpus_files(tmp_path)]
    assert cases == [
        ("clean", b"line"),
        ("pipeline", fuzz.HtmlCase(gzip.compress(b"<p>x</p>"), "cp1252", True)),
    ]

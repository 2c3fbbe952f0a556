from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest
from conftest import page

from classifier import corpora
from classifier.lines import (
    LINE_MODEL,
    DumpError,
    LineCleaner,
    TextDecodeError,
    add_clean_text_parser,
    check_dumps,
    decode_text,
    flatten_page,
    format_dump,
    parse_dump,
    split_text,
)
from classifier.model import ModelError, card_path
from classifier.segment import segment
from classifier.training import TRAINING_DIR

EXAMPLES = corpora.PROJECT_ROOT.parent / "shared" / "examples"

STORY = """Valley farmers start early harvest

Greenford, Sept 3: Farmers in the upper valley began cutting paddy two weeks earlier than usual on Monday, after a dry August ripened the crop ahead of time.

The agriculture office said yields looked better than last year and advised farmers to dry the grain before selling it.

Hot this week

Ferry service resumes after repairs

Greenford, Sept 1: The river ferry between the two banks...

Teachers get arrears before festival

Greenford, Sept 2: The education department released...

Related Articles

Popular Categories
"""


@pytest.fixture(scope="module")
def cleaner() -> LineCleaner:
    return LineCleaner()


def cli(argv: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    """Run ``clean-text`` through its own parser, capturing stdout and stderr."""
    parser = argparse.ArgumentParser()
    add_clean_text_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["clean-text", *argv])
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    sys.stdout, sys.stderr = out, err
    try:
        code = args.func(args)
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    return code, out.getvalue(), err.getvalue()


# -- input handling ---------------------------------------------------------


def test_empty_input(cleaner: LineCleaner) -> None:
    assert cleaner.classify("") == []
    assert cleaner.clean("") == ""
    assert cleaner.clean("\n\n   \r\n\t\n") == ""
    assert cli([], stdin=b"") == (0, "", "")


def test_single_line(cleaner: LineCleaner) -> None:
    line = (
        "Greenford, Sept 3: Farmers in the upper valley began cutting paddy two weeks "
        "earlier than usual on Monday, after a dry August ripened the crop."
    )
    labelled = cleaner.classify(line)
    assert len(labelled) == 1 and labelled[0].lineno == 1
    assert labelled[0].label == "article"  # a lone story line is kept (fallback region)
    assert cleaner.clean(line) == line


def test_windows_and_old_mac_line_endings_give_the_same_result(cleaner: LineCleaner) -> None:
    unix = cleaner.classify(STORY)
    assert cleaner.classify(STORY.replace("\n", "\r\n")) == unix
    assert cleaner.classify(STORY.replace("\n", "\r")) == unix
    assert all("\r" not in ln.text for ln in unix)


def test_very_long_lines(cleaner: LineCleaner) -> None:
    sentence = "The council met on Monday and agreed to repair the old bridge before the rains. "
    huge = sentence * 5000  # ~400,000 characters on one line
    text = f"Bridge repair agreed\n\n{huge}\n\nHot this week\n\nA headline...\n" + "x" * 100_000
    started = time.perf_counter()
    labelled = cleaner.classify(text)
    assert time.perf_counter() - started < 10
    assert len(labelled) == 5
    assert labelled[1].text == huge.strip()  # never truncated in the output
    assert labelled[1].label == "article"


def test_binary_garbage_file_is_refused_and_the_run_goes_on(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.txt"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2048))
    good = tmp_path / "good.txt"
    good.write_text(STORY, encoding="utf-8")
    with pytest.raises(TextDecodeError, match="binary"):
        decode_text(garbage.read_bytes())
    code, out, err = cli([str(garbage)])
    assert code == 1 and out == "" and "garbage.txt" in err and "binary" in err
    code, out, err = cli(["--jsonl", str(garbage), str(good)])
    assert code == 0
    rows = [json.loads(x) for x in out.splitlines()]
    assert "binary" in rows[0]["error"] and rows[0]["source"] == str(garbage)
    assert "Greenford, Sept 3" in rows[1]["text"]


def test_decode_text_handles_boms_and_legacy_encodings() -> None:
    assert decode_text("\ufeffनमस्ते".encode("utf-8")) == "नमस्ते"
    assert decode_text("día".encode("utf-16")) == "día"
    assert "caf" in decode_text("café au lait, s'il vous plaît".encode("cp1252"))


# -- behaviour ---------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="known problem: at the recorded threshold 0.2 a short "
    "dump leaks the list heading and the first snippet after its story",
)
def test_story_kept_teasers_and_chrome_dropped(cleaner: LineCleaner) -> None:
    labelled = {ln.text: ln for ln in cleaner.classify(STORY)}
    kept = cleaner.clean(STORY).split("\n\n")
    assert any(k.startswith("Greenford, Sept 3: Farmers") for k in kept)
    assert any(k.startswith("The agriculture office said") for k in kept)
    for noise in (
        "Hot this week",
        "Ferry service resumes after repairs",
        "Greenford, Sept 1: The river ferry between the two banks...",
        "Popular Categories",
    ):
        assert noise not in kept
        assert labelled[noise].label in ("teaser", "chrome")
        assert 0.0 <= labelled[noise].probability <= 1.0


def test_labels_output_is_tab_separated(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text(STORY, encoding="utf-8")
    code, out, _ = cli(["--labels", str(path)])
    rows = [r.split("\t") for r in out.splitlines()]
    assert code == 0 and len(rows) == len(split_text(STORY).lines)
    assert all(
        len(r) == 3 and r[0] in ("article", "teaser", "chrome") and 0 <= float(r[1]) <= 1
        for r in rows
    )
    code, out, _ = cli(["--jsonl", "--labels", str(path), "-o", str(tmp_path / "o.jsonl")])
    row = json.loads((tmp_path / "o.jsonl").read_text(encoding="utf-8"))
    assert out == "" and row["source"] == str(path)
    assert {"text", "label", "probability", "p_article", "lineno"} <= set(row["lines"][0])


def test_stdin_gives_the_article_lines(cleaner: LineCleaner) -> None:
    code, out, _ = cli([], stdin=STORY.encode("utf-8"))
    assert code == 0 and out == cleaner.clean(STORY) + "\n"


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="../shared/examples is absent")
def test_example_dump_comes_out_as_its_story(cleaner: LineCleaner) -> None:
    for path in sorted(EXAMPLES.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        lines = [ln.text for ln in split_text(text).lines]
        # the issue names the list heading that ends the story in this dump
        story = lines[: lines.index("Hot this week")]
        kept = cleaner.clean(text).split("\n\n")
        assert kept in (story, story[1:]), f"{path.name}: kept {len(kept)} lines"


# -- the flattener and the dump format ---------------------------------------


def test_flatten_page_carries_labels_and_paragraph_breaks() -> None:
    html = page("""<div data-label="chrome"><ul><li>Home</li><li>Sports</li></ul></div>
    <article data-label="article"><h1>Flood waters recede</h1>
      <p>Shillong, Jan 14: The water fell overnight.</p><p>Roads reopened.</p></article>
    <section data-label="teaser"><h3>Hot this week</h3>
      <ul><li><a href="/y">Bridge reopens</a></li></ul></section>""")
    flat = flatten_page(segment(html, with_labels=True))
    assert flat == [
        ("Home", "chrome"),
        ("Sports", "chrome"),
        ("Flood waters recede", "article"),
        ("", None),
        ("Shillong, Jan 14: The water fell overnight.", "article"),
        ("", None),
        ("Roads reopened.", "article"),
        ("", None),
        ("Hot this week", "teaser"),
        ("", None),
        ("Bridge reopens", "teaser"),
    ]
    assert format_dump(flat).startswith("C\tHome\nC\tSports\nA\tFlood waters recede\n\nA\t")


def test_dump_format_errors_name_file_and_line(tmp_path: Path) -> None:
    folder = tmp_path / "dumps" / "layout-a"
    folder.mkdir(parents=True)
    (folder / "good.txt").write_text(
        "# a comment\nA\tStory line.\n\nT\tHot this week\n", encoding="utf-8"
    )
    bad = folder / "bad.txt"
    bad.write_text("A\tStory.\nX\tunknown code\nA no tab here\nC\t  \n", encoding="utf-8")
    (folder / "latin1.txt").write_bytes("A\tcaf\xe9\n".encode("latin-1"))
    dumps, errors = check_dumps(tmp_path)
    assert [d.source for _, d in dumps] == [str(folder / "good.txt")]
    assert f"{bad}:2: label code 'X' is not one of" in "\n".join(errors)
    assert any(e.startswith(f"{bad}:3: expected CODE<TAB>text") for e in errors)
    assert any(e.startswith(f"{bad}:4: label C on an empty line") for e in errors)
    assert any(e.startswith(f"{folder / 'latin1.txt'}:1: cannot read as UTF-8") for e in errors)
    good, problems = parse_dump(folder / "good.txt")
    assert problems == [] and [(ln.lineno, ln.label) for ln in good.lines] == [
        (2, "article"),
        (4, "teaser"),
    ]
    assert issubclass(DumpError, ValueError)


def test_shipped_dumps_are_valid_and_varied() -> None:
    dumps, errors = check_dumps(TRAINING_DIR)
    assert errors == []
    assert len(dumps) >= 12 and len({layout for layout, _ in dumps}) >= 4
    labels = {ln.label for _, d in dumps for ln in d.lines}
    assert labels == {"article", "teaser", "chrome"}


# -- the model file -----------------------------------------------------------


def test_card_is_checked_before_loading(tmp_path: Path) -> None:
    copy = tmp_path / "line_model.joblib"
    shutil.copy(LINE_MODEL, copy)
    shutil.copy(card_path(LINE_MODEL), card_path(copy))
    card = json.loads(card_path(copy).read_text(encoding="utf-8"))
    assert card["cv_metrics"]["grouped_by"] == "layout" and card["feature_names"]
    LineCleaner(copy)  # loads
    with open(copy, "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ModelError, match="does not match its card"):
        LineCleaner(copy)

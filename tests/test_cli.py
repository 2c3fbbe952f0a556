from __future__ import annotations

import gzip
import io
import json
import os
import sys
from pathlib import Path

import pytest
from conftest import DUMP_STORY, STORY

from classifier.clean import LineCleaner
from classifier.cli import build_parser, main
from classifier.lines import TextDecodeError, decode_text, split_text


def run(argv: list[str]) -> tuple[int, list[dict]]:
    out = Path(argv[argv.index("-o") + 1])
    code = main(argv)
    return code, [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_folder_with_bad_files_keeps_going(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    (pages / "sub").mkdir(parents=True)
    (pages / "a-good.html").write_text(STORY, encoding="utf-8")
    (pages / "sub" / "b-good.html.gz").write_bytes(gzip.compress(STORY.encode()))
    (pages / "c-binary.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(512))
    os.symlink(pages / "nowhere.html", pages / "d-unreadable.html")
    (pages / "e-corrupt.html.gz").write_bytes(b"not gzip at all")
    (pages / "notes.txt").write_text("not a page")
    code, rows = run(
        ["extract", str(pages), "-o", str(tmp_path / "out.jsonl"), "--url", "https://x.test/s"]
    )
    assert code == 0
    by_name = {Path(r["source"]).name: r for r in rows}
    assert set(by_name) == {
        "a-good.html",
        "b-good.html.gz",
        "c-binary.html",
        "d-unreadable.html",
        "e-corrupt.html.gz",
    }
    for good in ("a-good.html", "b-good.html.gz"):
        row = by_name[good]
        assert "error" not in row and "Greenford, Sept 3" in row["text"]
        assert (
            row["title"] == "Valley farmers start early harvest"
            and row["url"] == "https://x.test/s"
        )
        assert {"text", "label", "probability", "path"} <= set(row["blocks"][0])
    assert "binary" in by_name["c-binary.html"]["error"]
    assert by_name["d-unreadable.html"]["error"].startswith("FileNotFoundError")
    assert by_name["e-corrupt.html.gz"]["error"]


def test_stdout_when_no_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.html"
    path.write_text(STORY, encoding="utf-8")
    assert main(["extract", str(path), "--no-blocks"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert "blocks" not in row and "Greenford, Sept 3" in row["text"]


def test_all_inputs_failing_is_an_error_exit(tmp_path: Path) -> None:
    bad = tmp_path / "bad.html"
    bad.write_bytes(b"")
    code, rows = run(["extract", str(bad), "-o", str(tmp_path / "o.jsonl")])
    assert code == 1 and "empty" in rows[0]["error"]


# -- clean-text


def cli(argv: list[str], stdin: bytes = b"") -> tuple[int, str, str]:
    """Run ``clean-text`` through its own parser, capturing stdout and stderr."""
    args = build_parser().parse_args(["clean-text", *argv])
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin, sys.stdout, sys.stderr
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    sys.stdout, sys.stderr = out, err
    try:
        code = args.func(args)
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    return code, out.getvalue(), err.getvalue()


def test_binary_garbage_file_is_refused_and_the_run_goes_on(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.txt"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2048))
    good = tmp_path / "good.txt"
    good.write_text(DUMP_STORY, encoding="utf-8")
    with pytest.raises(TextDecodeError, match="binary"):
        decode_text(garbage.read_bytes())
    code, out, err = cli([str(garbage)])
    assert code == 1 and out == "" and "garbage.txt" in err and "binary" in err
    code, out, err = cli(["--jsonl", str(garbage), str(good)])
    assert code == 0
    rows = [json.loads(x) for x in out.splitlines()]
    assert "binary" in rows[0]["error"] and rows[0]["source"] == str(garbage)
    assert "Greenford, Sept 3" in rows[1]["text"]


def test_clean_text_switch_cost_overrides_the_card(tmp_path: Path) -> None:
    """--switch-cost 0 keeps the lines at the threshold: here the short
    "Advertisement" line inside the story, which the card's smoothing keeps."""
    from conftest import DUMP_RULED as RULED

    path = tmp_path / "ruled.txt"
    path.write_text(RULED, encoding="utf-8")
    code, smoothed, _ = cli([str(path)])
    assert code == 0 and "Advertisement" in smoothed.split("\n\n")
    code, plain, _ = cli(["--switch-cost", "0", str(path)])
    assert code == 0 and "Advertisement" not in plain.split("\n\n")
    assert "Traders at the Greenford market" in plain


def test_labels_output_is_tab_separated(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text(DUMP_STORY, encoding="utf-8")
    code, out, _ = cli(["--labels", str(path)])
    rows = [r.split("\t") for r in out.splitlines()]
    assert code == 0 and len(rows) == len(split_text(DUMP_STORY).lines)
    assert all(
        len(r) == 3 and r[0] in ("article", "teaser", "chrome") and 0 <= float(r[1]) <= 1
        for r in rows
    )
    code, out, _ = cli(["--jsonl", "--labels", str(path), "-o", str(tmp_path / "o.jsonl")])
    row = json.loads((tmp_path / "o.jsonl").read_text(encoding="utf-8"))
    assert out == "" and row["source"] == str(path)
    assert {"text", "label", "probability", "p_article", "lineno"} <= set(row["lines"][0])


def test_stdin_gives_the_article_lines() -> None:
    code, out, _ = cli([], stdin=DUMP_STORY.encode("utf-8"))
    assert code == 0 and out == LineCleaner().clean(DUMP_STORY) + "\n"
    assert cli([], stdin=b"") == (0, "", "")


def test_text_holds_the_standfirst_unless_told_otherwise(tmp_path: Path) -> None:
    """The standfirst is in text by default (the real corpora's references
    hold it) and in description; --include none leaves the body alone."""
    page = tmp_path / "bridge.html"
    dek = "The old river crossing carries traffic again after a year of work on its piers."
    page.write_text(
        "<html><head><title>Bridge reopens</title></head><body><article>"
        f"<h1>Bridge reopens after repairs</h1><p class='standfirst'>{dek}</p>"
        "<div class='byline'>By Meera Lyngdoh | 14 Jan 2026, 10:30</div>"
        + "<p>Greenford, Jan 14: The bridge over the river reopened on Monday after a year "
        "of repairs, and the first buses crossed it before seven in the morning.</p>"
        * 3
        + "</article></body></html>",
        encoding="utf-8",
    )
    code, rows = run(["extract", str(page), "-o", str(tmp_path / "a.jsonl")])
    assert code == 0 and rows[0]["description"] == dek
    assert rows[0]["text"].split("\n\n")[0] == dek
    code, rows = run(["extract", str(page), "--include", "none", "-o", str(tmp_path / "b.jsonl")])
    assert code == 0 and rows[0]["description"] == dek and dek not in rows[0]["text"]
    assert rows[0]["text"].startswith("Greenford, Jan 14")


def test_include_puts_roles_back_into_the_text(tmp_path: Path) -> None:
    from conftest import ROOT

    page = ROOT / "tests" / "data" / "golden" / "valley-harvest.html"
    code, rows = run(["extract", str(page), "-o", str(tmp_path / "a.jsonl")])
    assert code == 0 and rows[0]["byline"].startswith("By Meera Lyngdoh")
    assert "Meera Lyngdoh" not in rows[0]["text"]
    code, rows = run(["extract", str(page), "--include", "byline", "-o", str(tmp_path / "b.jsonl")])
    assert code == 0 and "By Meera Lyngdoh" in rows[0]["text"]
    with pytest.raises(SystemExit):
        main(["extract", str(page), "--include", "footer"])

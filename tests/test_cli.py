from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

from test_model import STORY

from classifier.cli import main


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


def test_stdout_when_no_output(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
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

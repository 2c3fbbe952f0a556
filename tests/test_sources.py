"""Reading the command line's inputs (classifier.sources)."""

from __future__ import annotations

import gzip
from pathlib import Path

from classifier.sources import STDIN, iter_inputs, iter_text_sources, read_page


def test_folders_give_their_html_files_sorted_and_recursively(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    for name in ("b/z.htm", "a.html", "b/y.html.gz", "notes.txt", "c.HTML"):
        (tmp_path / name).write_bytes(b"<p>x</p>")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_inputs([str(tmp_path)])]
    assert found == ["a.html", "b/y.html.gz", "b/z.htm", "c.HTML"]
    assert list(iter_inputs([str(tmp_path / "notes.txt")])) == [tmp_path / "notes.txt"]


def test_read_page_unzips_gz_files(tmp_path: Path) -> None:
    (tmp_path / "p.html.gz").write_bytes(gzip.compress(b"<p>story</p>"))
    assert read_page(tmp_path / "p.html.gz") == b"<p>story</p>"


def test_text_sources_default_to_stdin(tmp_path: Path) -> None:
    (tmp_path / "d.txt").write_text("x")
    assert list(iter_text_sources([])) == [(STDIN, None)]
    assert list(iter_text_sources(["-", str(tmp_path)])) == [
        (STDIN, None),
        (str(tmp_path / "d.txt"), tmp_path / "d.txt"),
    ]

from __future__ import annotations

from pathlib import Path

from conftest import page

from classifier.lines import (
    DumpError,
    check_dumps,
    decode_text,
    flatten_page,
    format_dump,
    parse_dump,
)
from classifier.segment import segment
from classifier.training import TRAINING_DIR


def test_decode_text_handles_boms_and_legacy_encodings() -> None:
    assert decode_text("\ufeffनमस्ते".encode("utf-8")) == "नमस्ते"
    assert decode_text("día".encode("utf-16")) == "día"
    assert "caf" in decode_text("café au lait, s'il vous plaît".encode("cp1252"))


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

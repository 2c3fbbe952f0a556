from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
from conftest import STORY

from classifier.cli import main
from classifier.model import (
    BLOCK_MODEL,
    LINE_MODEL,
    PORTABLE_NUMPY,
    card_path,
    load_model,
    portable_numpy_env,
)
from classifier.segment import segment
from classifier.training import (
    TRAINING_DIR,
    data_hash,
    line_data_hash,
    load_pages,
    train,
    train_lines,
)

GOOD = """<html><head><title>t</title></head><body data-label="chrome">
<nav>Home | News</nav>
<article data-label="article"><h1>Headline</h1><p>Story text.</p></article>
</body></html>
"""


def write(root: Path, name: str, html: str) -> Path:
    path = root / "pages" / "layout-a" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def test_shipped_training_data_is_valid() -> None:
    pages, errors = load_pages(TRAINING_DIR)
    assert errors == []
    assert len(pages) >= 80
    assert len({p.layout for p in pages}) >= 15


def test_check_data_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "good.html", GOOD)
    bad = write(tmp_path, "bad.html", GOOD.replace('data-label="article"', 'data-label="artcle"'))
    unlabelled = write(tmp_path, "none.html", GOOD.replace(' data-label="chrome"', ""))
    mixed = write(
        tmp_path,
        "mixed.html",
        GOOD.replace("<p>Story text.</p>", "<p>Story <span data-label='teaser'>text</span>.</p>"),
    )
    assert main(["check-data", "--data", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:3: data-label='artcle' is not one of article, teaser, chrome" in err
    assert f"{unlabelled}:" in err and "has no data-label" in err
    assert f"{mixed}:" in err and "mixes labels" in err
    assert "good.html" not in err


def test_committed_model_was_trained_on_committed_data() -> None:
    card = json.loads(card_path(BLOCK_MODEL).read_text())
    assert card["training_data_sha256"] == data_hash(TRAINING_DIR), "run `make train`"


def zip_members(path: Path) -> dict[str, bytes]:
    """A skops file's members, uncompressed (the bytes of the zip also depend on zlib)."""
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


@pytest.fixture(scope="module")
def retrained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both models retrained from the committed data, at once (two processes:
    the block and the line model are independent fits): their cards by kind."""
    out = tmp_path_factory.mktemp("retrained")
    spawn = multiprocessing.get_context("spawn")
    # the children import numpy with its kernels pinned, as `make train` does
    with (
        mock.patch.dict(os.environ, PORTABLE_NUMPY),
        ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool,
    ):
        block = pool.submit(train, TRAINING_DIR, out / BLOCK_MODEL.name, evaluate=False)
        line = pool.submit(train_lines, TRAINING_DIR, out / LINE_MODEL.name, evaluate=False)
        return {"block": block.result(), "line": line.result(), "dir": out}


@pytest.mark.slow
def test_retraining_reproduces_the_committed_model(retrained: dict[str, Any]) -> None:
    card, tmp_path = retrained["block"], retrained["dir"]
    fresh, _ = load_model(tmp_path / BLOCK_MODEL.name)
    shipped, shipped_card = load_model(BLOCK_MODEL)
    assert card["feature_names"] == shipped_card["feature_names"]
    assert zip_members(tmp_path / BLOCK_MODEL.name) == zip_members(BLOCK_MODEL), "make train"
    pages, _ = load_pages(TRAINING_DIR)
    blocks = [b for p in pages[::4] for b in p.page.blocks] + segment(STORY).blocks
    assert np.array_equal(fresh.predict_proba(blocks), shipped.predict_proba(blocks))


def test_committed_line_model_was_trained_on_committed_data() -> None:
    card = json.loads(card_path(LINE_MODEL).read_text())
    assert card["training_data_sha256"] == line_data_hash(TRAINING_DIR), "run `make train`"


@pytest.mark.slow
def test_retraining_reproduces_the_committed_line_model(retrained: dict[str, Any]) -> None:
    from classifier.lines import dump_from_pairs, flatten_page

    tmp_path = retrained["dir"]
    assert retrained["line"]["kind"] == "line"
    fresh, _ = load_model(tmp_path / LINE_MODEL.name)
    shipped, _ = load_model(LINE_MODEL)
    assert zip_members(tmp_path / LINE_MODEL.name) == zip_members(LINE_MODEL), "make train"
    pages, _ = load_pages(TRAINING_DIR)
    lines = [ln for p in pages[::4] for ln in dump_from_pairs(flatten_page(p.page)).lines]
    assert np.array_equal(fresh.predict_proba(lines), shipped.predict_proba(lines))


TINY = """<html><head><title>{n}</title></head><body data-label="chrome">
<nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/sport">Sport</a></nav>
<article data-label="article"><h1>Council story number {n}</h1>
<p>The council met on Monday and agreed to repair bridge {n} before the rains, the mayor said.</p>
<p>Work will start next week and take about a month, officials from the works office said.</p></article>
<section data-label="teaser"><h3>Hot this week</h3><ul>
<li><a href="/a{n}">Bus fares rise</a> The transport office said...</li>
<li><a href="/b{n}">College results out</a> Students can check...</li></ul></section>
<footer>(c) 2026 The Valley Herald</footer></body></html>
"""


def test_train_command_writes_both_models_and_cards(tmp_path: Path) -> None:
    data = tmp_path / "data"
    for k, layout in enumerate(("one", "two", "three")):
        for n in range(2):
            path = data / "pages" / layout / f"p{n}.html"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(TINY.format(n=f"{k}{n}"), encoding="utf-8")
    (data / "config.json").write_text(json.dumps({"threshold": 0.45}), encoding="utf-8")
    out = tmp_path / "models"
    # the real command line: it restarts itself with numpy's kernels pinned
    argv = ["train", "--data", str(data), "--output-dir", str(out), "--no-cv"]
    subprocess.run([sys.executable, "-m", "classifier", *argv], check=True, capture_output=True)
    pinned = subprocess.run(
        [
            sys.executable,
            "-c",
            "from classifier.model import numpy_kernels; print(numpy_kernels())",
        ],
        env=portable_numpy_env(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    block, block_card = load_model(out / BLOCK_MODEL.name)
    assert block_card["versions"]["numpy_kernels"] == pinned  # X86_V3 on an AVX-512 machine
    line, line_card = load_model(out / LINE_MODEL.name)
    assert (block_card["file"], line_card["file"]) == ("block_model.skops", "line_model.skops")
    assert (block_card["kind"], line_card["kind"]) == ("block", "line")
    assert block_card["threshold"] == 0.45  # the data folder's own decision rule
    assert block_card["n_pages"] == 6 and line_card["n_dumps"] == 6
    assert list(block.classes_) == list(line.classes_)


VALLEY = TINY.replace('<section data-label="teaser">', '<section data-label="article">')


def test_train_site_weighs_the_sites_pages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``train --site NAME``: a model where NAME's own labels outweigh the
    other layouts'. Here the site calls its list of items story, where every
    other layout calls the same list teaser."""
    data = tmp_path / "data"
    for k, layout in enumerate(("one", "two", "three")):
        for n in range(2):
            path = data / "pages" / layout / f"p{n}.html"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(TINY.format(n=f"{k}{n}"), encoding="utf-8")
    for n in range(3):
        path = data / "sites" / "valley" / f"v{n}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(VALLEY.format(n=f"v{n}"), encoding="utf-8")
    out = tmp_path / "valley-model"
    argv = ["train", "--data", str(data), "--output-dir", str(out), "--no-cv"]
    assert main([*argv, "--site", "valley"]) == 0
    assert "trained for site valley (3 pages, weighing 10x)" in capsys.readouterr().out
    model, card = load_model(out / BLOCK_MODEL.name)
    assert card["site"] == {"name": "valley", "weight": 10.0, "pages": 3}
    assert card["n_pages"] == 9  # a sites/ folder joins the pages it is trained for
    assert not (out / LINE_MODEL.name).exists()  # a per-site model is a block model
    even = train(
        data, tmp_path / "even" / BLOCK_MODEL.name, evaluate=False, site="valley", site_weight=1
    )
    plain, _ = load_model(tmp_path / "even" / BLOCK_MODEL.name)

    page = segment(VALLEY.format(n="new"))
    listed = [b.index for b in page.blocks if "fares" in b.text or "results" in b.text]
    assert listed
    art = list(model.classes_).index("article")
    weighted = model.predict_proba(page.blocks)[listed, art]
    unweighted = plain.predict_proba(page.blocks)[listed, art]
    assert even["site"]["weight"] == 1
    assert np.all(weighted > unweighted + 0.1), (weighted, unweighted)
    assert np.all(weighted > 0.5)

    assert main([*argv, "--site", "nowhere"]) == 1
    err = capsys.readouterr().err
    assert "no labelled pages of site 'nowhere'" in err and "valley" in err

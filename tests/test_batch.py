"""Batch extraction (classifier.batch): -j N worker processes, the progress bar, Dask."""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, STORY
from test_sources import http_response, mixed_records, story, warc_record, write_warc

from classifier.batch import (
    ExtractOptions,
    _init_worker,
    extract_bag,
    extract_files,
    extract_rows,
    models_loaded,
    partitions,
    start_method,
)
from classifier.cli import build_parser, main
from classifier.sources import iter_inputs, iter_pages


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """HTML pages good and bad, a WARC file and a truncated one, in one folder."""
    pages = tmp_path / "in"
    (pages / "sub").mkdir(parents=True)
    for i in range(5):
        (pages / f"a{i}.html").write_text(STORY.replace("Greenford", f"Greenford{i}"), "utf-8")
    (pages / "sub" / "b.html.gz").write_bytes(gzip.compress(STORY.encode()))
    (pages / "c-binary.html").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(256))
    (pages / "d-empty.html").write_bytes(b"")
    (pages / "e-corrupt.html.gz").write_bytes(b"not gzip at all")
    os.symlink(pages / "nowhere.html", pages / "f-unreadable.html")
    write_warc(pages / "g.warc.gz", mixed_records())
    records = [
        warc_record("response", f"https://x.test/{i}", http_response(story(i)), i) for i in range(3)
    ]
    starts = write_warc(pages / "h-cut.warc.gz", records)
    cut = pages / "h-cut.warc.gz"
    cut.write_bytes(cut.read_bytes()[: starts[2] + 40])  # inside the third record
    return pages


def test_jobs_output_is_byte_identical_and_in_input_order(inputs: Path, tmp_path: Path) -> None:
    one, two = tmp_path / "j1.jsonl", tmp_path / "j2.jsonl"
    assert main(["extract", str(inputs), "-o", str(one), "--url", "https://x.test/s"]) == 0
    # -j 2 as a user runs it: a fresh process, whose workers are forked (start_method)
    argv = ["extract", str(inputs), "-j", "2", "-q", "-o", str(two), "--url", "https://x.test/s"]
    proc = subprocess.run([sys.executable, "-m", "classifier", *argv], cwd=ROOT, check=False)
    assert proc.returncode == 0
    assert one.read_bytes() == two.read_bytes()
    rows = [json.loads(line) for line in one.read_text("utf-8").splitlines()]
    names = [Path(r["source"]).name for r in rows]
    records = {"g.warc.gz": 3, "h-cut.warc.gz": 3}  # HTML responses, or 2 and the error
    expected = []
    for f in iter_inputs([str(inputs)]):
        expected += [f.name] * records.get(f.name, 1)
    assert [n.split("#")[0] for n in names] == expected
    by_name = dict(zip(names, rows, strict=True))
    assert (
        "Greenford3" in by_name["a3.html"]["text"]
        and by_name["a3.html"]["url"] == "https://x.test/s"
    )
    for bad in ("c-binary.html", "d-empty.html", "e-corrupt.html.gz", "f-unreadable.html"):
        assert by_name[bad]["error"], bad
    warc = [r for r in rows if "g.warc.gz#" in r["source"]]
    assert [r["url"] for r in warc] == ["https://x.test/0", "https://x.test/1", "https://x.test/2"]
    assert [r["title"] for r in warc] == ["Story 0", "Story 1", "Story 2"]
    cut = [r for r in rows if "h-cut" in r["source"]]
    assert [r["url"] for r in cut[:2]] == ["https://x.test/0", "https://x.test/1"]
    assert cut[2]["source"] == str(inputs / "h-cut.warc.gz") and "truncated" in cut[2]["error"]
    assert set(cut[2]) == {"source", "url", "error"}


def test_a_model_error_in_the_workers_is_the_usual_exit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "p.html"
    page.write_text(STORY, "utf-8")
    missing = str(tmp_path / "no_model.joblib")
    assert main(["extract", str(page), "-j", "2", "--model", missing]) == 2
    assert "no_model.joblib" in capsys.readouterr().err


def test_workers_run_openmp_on_one_thread() -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from threadpoolctl import threadpool_info

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        1, ctx, initializer=_init_worker, initargs=(ExtractOptions(),)
    ) as pool:
        info = pool.submit(threadpool_info).result()
        loaded = pool.submit(models_loaded).result()
    openmp = [lib for lib in info if lib["user_api"] == "openmp"]
    assert openmp and all(lib["num_threads"] == 1 for lib in openmp)
    assert loaded == 1  # the initializer loaded the model, once


def test_rows_keep_input_order_with_one_page_chunks(inputs: Path) -> None:
    pages = list(iter_pages(iter_inputs([str(inputs)])))
    opts = ExtractOptions(with_blocks=False)
    serial = [r.line for r in extract_rows(pages, opts)]
    assert start_method() == "spawn"  # this process has a model now: no forking
    assert [r.line for r in extract_rows(pages, opts, jobs=2, chunk_pages=1)] == serial
    assert [json.loads(line)["source"] for line in serial] == [p.source for p in pages]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("tty,quiet", [(True, False), (False, False), (True, True)])
def test_progress_bar_only_on_a_terminal_and_not_quiet(
    inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tty: bool, quiet: bool
) -> None:
    err = _Terminal() if tty else io.StringIO()
    monkeypatch.setattr("sys.stderr", err)
    argv = ["extract", str(inputs), "-o", str(tmp_path / "o.jsonl"), "--no-blocks"]
    assert main(argv + (["--quiet"] if quiet else [])) == 0
    shown = err.getvalue()
    if tty and not quiet:
        assert "page/s" in shown and "errors=" in shown
        assert "errors=5" in shown  # 4 bad HTML files and the cut WARC
    else:
        assert "page/s" not in shown and "errors=" not in shown


def test_jobs_option() -> None:
    parse = build_parser().parse_args
    assert parse(["extract", "x", "-j", "3"]).jobs == 3
    assert parse(["extract", "x"]).jobs == 1
    assert parse(["extract", "x", "-j", "0"]).jobs == len(os.sched_getaffinity(0))
    with pytest.raises(SystemExit):
        parse(["extract", "x", "-j", "-1"])
    assert isinstance(parse(["extract", "x", "--quiet"]), argparse.Namespace)


# -- Dask


def test_partitions_put_each_warc_alone(inputs: Path) -> None:
    parts = partitions([inputs], files_per_partition=3)
    flat = [f for part in parts for f in part]
    assert flat == [str(p) for p in iter_inputs([str(inputs)])]
    # 9 HTML files, the two WARC files alone, then sub/b.html.gz
    assert [len(p) for p in parts] == [3, 3, 3, 1, 1, 1]
    assert parts[3][0].endswith("g.warc.gz") and parts[4][0].endswith("h-cut.warc.gz")
    assert extract_files([]) == []


def test_dask_bag_equals_extract_j1(inputs: Path, tmp_path: Path) -> None:
    pytest.importorskip("dask.bag")
    distributed = pytest.importorskip("distributed")
    one = tmp_path / "j1.jsonl"
    assert main(["extract", str(inputs), "-o", str(one)]) == 0
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_port=0,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        bag = extract_bag([inputs], files_per_partition=4)
        assert bag.npartitions == 6
        lines = bag.compute()
        loads = client.run(models_loaded)
    assert "".join(line + "\n" for line in lines) == one.read_text("utf-8")
    assert len(loads) == 2 and all(n <= 1 for n in loads.values()) and sum(loads.values()) >= 1

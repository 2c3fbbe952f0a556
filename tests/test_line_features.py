"""Line features (classifier.line_features), the twin of test_features."""

from __future__ import annotations

import numpy as np
from conftest import DUMP_STORY

from classifier.line_features import (
    FEATURE_NAMES,
    LINE_FEATURES,
    LineFeatures,
    dump_matrix,
    line_features,
    prose_column,
)
from classifier.lines import split_text

COL = {name: i for i, name in enumerate(FEATURE_NAMES)}


def test_line_features_see_datelines_snippets_and_prose() -> None:
    values = dict(
        zip(
            LINE_FEATURES,
            line_features(
                "Greenford, Sept 3: Farmers began cutting paddy two weeks earlier than usual this year."
            ),
            strict=True,
        )
    )
    assert values["has_dateline"] == 1.0 and values["is_prose"] == 1.0
    snippet = dict(zip(LINE_FEATURES, line_features("The river ferry between the..."), strict=True))
    assert snippet["ends_ellipsis"] == 1.0 and snippet["is_prose"] == 0.0
    cjk = dict(
        zip(
            LINE_FEATURES,
            line_features("大雨で川の水位が上がり、町は住民に避難を呼びかけた。" * 2),
            strict=True,
        )
    )
    assert cjk["cjk_ratio"] > 0.8 and cjk["is_prose"] == 1.0  # no spaces, still prose


def test_dump_matrix_has_neighbours_and_repeats() -> None:
    dump = split_text(DUMP_STORY + "\nPopular Categories\n")
    X = dump_matrix(dump)
    assert X.shape == (len(dump.lines), len(FEATURE_NAMES))
    texts = [ln.text for ln in dump.lines]
    repeated = texts.index("Popular Categories")
    assert X[repeated, COL["repeats"]] == 1.0
    assert X[0, COL["prev1_log_chars"]] == -1.0  # no line before the first
    assert X[1, COL["prev1_log_chars"]] == X[0, COL["log_chars"]]
    assert prose_column(X).tolist() == [bool(v) for v in X[:, COL["is_prose"]]]
    assert dump_matrix(dump) is X  # computed once a dump


def test_transformer_gives_rows_for_lines_in_any_order() -> None:
    dump = split_text(DUMP_STORY)
    whole = LineFeatures().transform(dump.lines)
    shuffled = LineFeatures().transform(dump.lines[::-1])
    assert np.array_equal(shuffled, whole[::-1])
    assert LineFeatures().transform(split_text("").lines).shape == (0, len(FEATURE_NAMES))

"""The models: scikit-learn Pipelines, saved as skops files beside a JSON card.

One module builds both: the block model (:func:`build_block_pipeline`,
:class:`~classifier.features.BlockFeatures` then calibrated gradient
boosting) and its twin for flattened text (:func:`build_line_pipeline`,
:class:`~classifier.line_features.LineFeatures`).  Calibration folds come
from a :class:`~sklearn.model_selection.GroupKFold` splitter fed the
layout ``groups`` through scikit-learn's metadata routing
(:func:`fit_grouped`): no fold indexes are baked into parameters, so
``clone(pipeline)`` refits correctly on other data.

Loading checks the card before reading the model: the SHA-256 of the model
file, the scikit-learn version it was trained with, and the labels and
feature names against what this code produces.  A mismatch refuses with the
command that rebuilds the model (dragnet's users' top complaint was models
that silently stopped unpickling after an upgrade).

Model files are never unpickled.  They are skops files (a zip of JSON and
``.npy`` arrays): loading builds only the types skops trusts by default
(scikit-learn estimators, numpy, builtins) and the few of ours listed in
:data:`TRUSTED_TYPES`, so a file received from someone else cannot run code
when it is loaded; anything else, a pickle included, is refused with
:class:`UnsafeModelError`.  The trees of the booster are stored packed and
bounds-checked on load (:class:`GroupedBooster`), and the file is written
canonically (:func:`model_bytes`): the same fitted model always gives the
same bytes, so ``make train`` reproduces the shipped files exactly.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import platform
import zipfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
import skops.io
from sklearn.base import TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.ensemble._hist_gradient_boosting.common import PREDICTOR_RECORD_DTYPE
from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from skops.io.exceptions import UntrustedTypesFoundException
from threadpoolctl import threadpool_limits

from . import features, line_features, profile
from .segment import LABELS

MODEL_DIR = Path(__file__).resolve().parent / "models"
BLOCK_MODEL = MODEL_DIR / "block_model.skops"
LINE_MODEL = MODEL_DIR / "line_model.skops"
# the second stages over site-profile evidence (classifier.profile), of the
# block model and of the line model
SITE_MODEL = MODEL_DIR / "site_model.skops"
LINE_SITE_MODEL = MODEL_DIR / "line_site_model.skops"
RETRAIN_HINT = "run `make train` (or `python -m classifier train`) to rebuild it"
TRACKED_PACKAGES = ("scikit-learn", "numpy", "scipy", "skops", "selectolax")
# The types a model file may hold beyond those skops trusts by default
# (scikit-learn's estimators, numpy, builtins): our own pipeline steps and two
# scikit-learn helpers skops does not list.  None of them runs code from its
# state: the feature steps are stateless, the booster checks its trees.
TRUSTED_TYPES = (
    "classifier.features.BlockFeatures",
    "classifier.line_features.LineFeatures",
    "classifier.profile.SiteFeatures",
    "classifier.model.GroupedBooster",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.model_selection._split.GroupKFold",
)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed member times: the same model, the same bytes
CALIBRATION_FOLDS = 3  # grouped folds of the isotonic calibration
# The block booster: few, larger trees, since prediction cost is per tree
# (measured on the dev corpora: 80 x 127 leaves scored as well as 250 x 31,
# at a third of the time).
BLOCK_BOOSTER: dict[str, Any] = {
    "max_iter": 80,
    "learning_rate": 0.12,
    "max_leaf_nodes": 127,
    "min_samples_leaf": 30,
    "l2_regularization": 1.0,
    "max_features": 0.5,
}
# a per-site model (``train --site``), the label app's refit and the lab's
# adaptation report weigh a block of the site's own pages this many times
SITE_WEIGHT = 10.0
# The site stage: twenty dense features over the first stage's output.
# Few trees, since a tree call costs about 7 us whatever its size: of 150
# trees of 15 leaves, 40 of 31 and 30 of 63, all within 0.002 of each other
# in grouped-CV story F1 (blocks and lines), 30 of 63 left the fewest
# template lines on tests/data/sites, at a fifth of the time of 150.
SITE_BOOSTER: dict[str, Any] = {
    "max_iter": 30,
    "learning_rate": 0.3,
    "max_leaf_nodes": 63,
    "min_samples_leaf": 30,
    "l2_regularization": 1.0,
    "monotonic_cst": [profile.SITE_MONOTONIC.get(n, 0) for n in profile.SITE_FEATURES],
}
# The line model's site stage: its rows (lines of flattened text) carry
# noisier site evidence than blocks, where a line's place is only the line
# before it.  More, smaller trees at a lower rate: all configurations tried
# were equal in grouped-CV story F1 (0.8939-0.8945), and this one, of the
# lowest variance, let 3 template lines through on tests/data/sites (100 x 31
# leaves at 0.1: 2, 60 x 63 at 0.15: 8, SITE_BOOSTER's 30 x 63 at 0.3: 7) and
# was the one of those run against tests/test_profile.py that kept its
# in-story newsletter line out.
LINE_SITE_BOOSTER: dict[str, Any] = {
    **SITE_BOOSTER,
    "max_iter": 150,
    "learning_rate": 0.05,
    "max_leaf_nodes": 31,
}
# The line booster: lines carry fewer, noisier features; smaller trees.
LINE_BOOSTER: dict[str, Any] = {
    "max_iter": 120,
    "learning_rate": 0.08,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 40,
    "l2_regularization": 1.0,
}


class ModelError(RuntimeError):
    """A model file is missing, altered, stale, or was built by another scikit-learn."""


class UnsafeModelError(ModelError):
    """A model file that is not a skops file of our pipeline (a pickle, a type
    outside :data:`TRUSTED_TYPES`, malformed trees): refused without running it."""


class GroupedBooster(HistGradientBoostingClassifier):
    """HistGradientBoostingClassifier that accepts (and ignores) ``groups`` in ``fit``.

    scikit-learn 1.9's CalibratedClassifierCV with ``ensemble=False`` routes
    ``groups`` to its splitter only through the parameters its estimator's
    ``fit`` requests (its internal ``cross_val_predict`` gets nothing else),
    so the booster requests them: the calibration folds are then grouped by
    layout, and the booster itself fits exactly as its parent does.
    """

    __metadata_request__fit = {"groups": True}  # scikit-learn's class-level request

    def fit(self, X: Any, y: Any, sample_weight: Any = None, groups: Any = None) -> GroupedBooster:
        super().fit(X, y, sample_weight=sample_weight)
        return self

    # The fitted trees are saved as one node array (and the tree sizes), not
    # as hundreds of TreePredictor objects: a model file then holds a few
    # arrays instead of ~900 (5x faster to load), TreePredictor need not be
    # trusted, and the nodes are bounds-checked here before any prediction
    # walks them (the predictor's compiled loop does not check indices).

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        predictors = state.pop("_predictors", None)
        if predictors is not None:
            trees = [tree for iteration in predictors for tree in iteration]
            if any(len(t.binned_left_cat_bitsets) or len(t.raw_left_cat_bitsets) for t in trees):
                raise ValueError("GroupedBooster does not save categorical splits")
            state["_tree_grid"] = np.array([len(predictors), len(predictors[0]) if trees else 0])
            state["_tree_sizes"] = np.array([len(t.nodes) for t in trees], dtype=np.int64)
            state["_tree_nodes"] = (
                np.concatenate([t.nodes for t in trees])
                if trees
                else np.zeros(0, PREDICTOR_RECORD_DTYPE)
            )
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        if "_tree_nodes" in state:
            state["_predictors"] = _unpack_trees(
                state.pop("_tree_nodes"),
                state.pop("_tree_sizes"),
                state.pop("_tree_grid"),
                state.get("n_features_in_"),
            )
        super().__setstate__(state)


def _unpack_trees(nodes: Any, sizes: Any, grid: Any, n_features: Any) -> list[list[TreePredictor]]:
    """The predictors of a packed booster, after checking that every tree is
    well formed: children after their parent and inside the tree (so every walk
    ends at a leaf), split features inside the input, no categorical splits."""

    def bad(why: str) -> ValueError:
        return ValueError(f"malformed booster trees: {why}")

    if not (isinstance(nodes, np.ndarray) and nodes.dtype == PREDICTOR_RECORD_DTYPE):
        raise bad("the node array is not of the predictor record type")
    if not isinstance(n_features, int) or n_features < 1:
        raise bad(f"n_features_in_ is {n_features!r}")
    sizes = np.asarray(sizes)
    grid = np.asarray(grid)
    if sizes.dtype.kind not in "iu" or grid.dtype.kind not in "iu" or grid.shape != (2,):
        raise bad("tree sizes or grid are not integers")
    n_iter, per_iter = (int(v) for v in grid)
    if sizes.ndim != 1 or len(sizes) != n_iter * per_iter or n_iter < 0 or per_iter < 0:
        raise bad(f"{len(sizes)} trees for a grid of {n_iter} x {per_iter}")
    if len(sizes) and (sizes.min() < 1 or int(sizes.sum()) != len(nodes)):
        raise bad("tree sizes do not add up to the node array")
    ends = np.cumsum(sizes)
    starts = ends - sizes
    local = np.arange(len(nodes)) - np.repeat(starts, sizes)
    size = np.repeat(sizes, sizes)
    split = nodes["is_leaf"] == 0
    for child in ("left", "right"):
        index = nodes[child][split].astype(np.int64)
        if np.any(index <= local[split]) or np.any(index >= size[split]):
            raise bad(f"a {child} child points outside its tree or backwards")
    feature = nodes["feature_idx"][split]
    if np.any(feature < 0) or np.any(feature >= n_features):
        raise bad(f"a split uses a feature outside 0..{n_features - 1}")
    if np.any(nodes["is_categorical"]):
        raise bad("categorical splits are not supported")
    empty = np.zeros((0, 8), dtype=np.uint32)
    trees = [TreePredictor(nodes[a:b], empty, empty) for a, b in zip(starts, ends, strict=True)]
    return [trees[i * per_iter : (i + 1) * per_iter] for i in range(n_iter)]


def build_pipeline(
    features_step: TransformerMixin,
    booster: dict[str, Any],
    *,
    calibration_folds: int = CALIBRATION_FOLDS,
    random_state: int = 0,
) -> Pipeline:
    """Features, then gradient boosting calibrated (isotonic) on grouped folds.

    ``booster`` holds HistGradientBoostingClassifier's hyperparameters.  Fit
    it with :func:`fit_grouped`, which routes ``groups`` to the calibration
    splitter so that calibration, like evaluation, never mixes one layout's
    units across folds.
    """
    clf = GroupedBooster(
        **booster, class_weight="balanced", early_stopping=False, random_state=random_state
    )
    calibrated = CalibratedClassifierCV(
        clf, method="isotonic", cv=GroupKFold(n_splits=calibration_folds), ensemble=False
    )
    return Pipeline([("features", features_step), ("model", calibrated)])


def build_block_pipeline(**overrides: Any) -> Pipeline:
    """The block model; keyword arguments override :data:`BLOCK_BOOSTER` or
    :func:`build_pipeline`'s ``calibration_folds`` / ``random_state``."""
    return _build(features.BlockFeatures(), BLOCK_BOOSTER, overrides)


def build_line_pipeline(**overrides: Any) -> Pipeline:
    """The line model (the block model's twin over :class:`~classifier.lines.Line`)."""
    return _build(line_features.LineFeatures(), LINE_BOOSTER, overrides)


def build_site_pipeline(**overrides: Any) -> Pipeline:
    """The site stage (:mod:`classifier.profile`): first-stage probabilities
    and site-profile evidence in, revised probabilities out."""
    return _build(profile.SiteFeatures(), SITE_BOOSTER, overrides)


def build_line_site_pipeline(**overrides: Any) -> Pipeline:
    """The line model's site stage: the same features, :data:`LINE_SITE_BOOSTER`."""
    return _build(profile.SiteFeatures(), LINE_SITE_BOOSTER, overrides)


def _build(step: TransformerMixin, booster: dict[str, Any], overrides: dict[str, Any]) -> Pipeline:
    own = {k: overrides.pop(k) for k in ("calibration_folds", "random_state") if k in overrides}
    return build_pipeline(step, {**booster, **overrides}, **own)


def fit_grouped(
    pipeline: Pipeline,
    X: Sequence[Any] | np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    sample_weight: np.ndarray | None = None,
) -> Pipeline:
    """``pipeline.fit(X, y, groups=groups)`` with metadata routing on for the call.

    With ``sample_weight`` (a per-site model: :func:`classifier.training.train`'s
    ``weights``), the weights reach the calibration and every booster fit; the
    requests that route them are set for the call only, so the saved model
    holds no trace of them.
    """
    with sklearn.config_context(enable_metadata_routing=True):
        if sample_weight is None:
            return pipeline.fit(X, y, groups=groups)
        model = pipeline.steps[-1][1]
        requesting = [model, model.estimator]
        for est in requesting:
            est.set_fit_request(sample_weight=True)
        try:
            pipeline.fit(X, y, groups=groups, sample_weight=sample_weight)
        finally:
            fitted = [c.estimator for c in getattr(model, "calibrated_classifiers_", [])]
            for est in requesting + fitted:
                est.__dict__.pop("_metadata_request", None)
        return pipeline


def quick_block_fit(X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray) -> GroupedBooster:
    """The block model's booster alone, on feature rows ``X``: one fit instead
    of the calibrated pipeline's five (about 20 s on the shipped data, one
    core), its probabilities uncalibrated.  The label app's refit and the
    lab's adaptation report use it."""
    booster = GroupedBooster(
        **BLOCK_BOOSTER, class_weight="balanced", early_stopping=False, random_state=0
    )
    return booster.fit(X, y, sample_weight=sample_weight)


def raw_scores(booster: HistGradientBoostingClassifier, X: np.ndarray) -> np.ndarray:
    """``booster._raw_predict(X)``, bit for bit, on one thread: the baseline,
    then every tree's values added in the booster's order.  Without its
    input validation, which costs more than ten small trees on a page: our
    feature steps give float rows of the fitted width, and the two checks
    that could fail on them (width, infinity) are kept."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != booster.n_features_in_:
        raise ValueError(
            f"X has shape {X.shape}, the booster takes {booster.n_features_in_} features"
        )
    if np.isinf(X).any():
        raise ValueError("Input X contains infinity")
    known_categories, feature_map = booster._bin_mapper.make_known_categories_bitsets()
    raw = np.zeros((X.shape[0], booster.n_trees_per_iteration_))
    raw += booster._baseline_prediction
    for trees in booster._predictors:
        for k, tree in enumerate(trees):
            raw[:, k] += tree.predict(X, known_categories, feature_map, 1)
    return raw


def isotonic(calibrator: IsotonicRegression, scores: np.ndarray) -> np.ndarray:
    """``calibrator.predict(scores)``, bit for bit, for the finite 1-d scores
    of :func:`raw_scores`: its clip and interpolation without the input
    validation, which costs as much as they do (scikit-learn 1.9's
    ``IsotonicRegression._transform``, in its order)."""
    T = np.asarray(scores, dtype=calibrator.X_thresholds_.dtype).reshape(-1)
    if calibrator.out_of_bounds == "clip":
        T = np.clip(T, calibrator.X_min_, calibrator.X_max_)
    return np.asarray(calibrator.f_(T)).astype(T.dtype)


def calibrated_proba(pipeline: Pipeline, units: Sequence[Any] | np.ndarray) -> np.ndarray:
    """``pipeline.predict_proba(units)``, bit for bit, for our pipelines of a
    feature step and a booster calibrated on one fold (``ensemble=False``),
    without the layers scikit-learn puts between: the calibration wrapper's
    checks, its label encoder and response-method lookup cost about as much
    as the trees on a page of a few hundred blocks.  The steps are
    scikit-learn's ``_CalibratedClassifier.predict_proba`` (1.9), in its
    order: the booster's raw scores (:func:`raw_scores`), each class's
    isotonic calibrator (:func:`isotonic`; a binary booster scores its
    second class), the normalisation, the clip
    of a hair above 1.  Any
    other pipeline goes through ``predict_proba``; a test holds the two
    equal on real pages."""
    model = pipeline.steps[-1][1]
    folds = getattr(model, "calibrated_classifiers_", None)
    if (
        len(pipeline.steps) != 2
        or not isinstance(model, CalibratedClassifierCV)
        or not folds
        or len(folds) != 1
        or folds[0].method != "isotonic"
        or list(folds[0].estimator.classes_) != list(model.classes_)
    ):
        return np.asarray(pipeline.predict_proba(units))
    fold = folds[0]
    X = pipeline.steps[0][1].transform(units)
    raw = raw_scores(fold.estimator, X)
    n_classes = len(model.classes_)
    proba = np.zeros((raw.shape[0], n_classes))
    if n_classes == 2:
        proba[:, 1] = isotonic(fold.calibrators[0], raw[:, 0])
        proba[:, 0] = 1.0 - proba[:, 1]
    else:
        for k, calibrator in enumerate(fold.calibrators):
            proba[:, k] = isotonic(calibrator, raw[:, k])
        denominator = np.sum(proba, axis=1)[:, np.newaxis]
        uniform = np.full_like(proba, 1 / n_classes)
        proba = np.divide(proba, denominator, out=uniform, where=denominator != 0)
    proba[(1.0 < proba) & (proba <= 1.0 + 1e-5)] = 1.0
    return proba


# numpy chooses its SIMD kernels by CPU when it is imported, and its AVX-512
# kernels round some functions (log, exp, ...) differently in the last bit from
# its AVX2 ones: features, and so the trees fit on them, then differ between
# machines.  Training runs with the AVX-512 kernels off (every x86-64-v3
# machine has the rest), so `make train` rebuilds the shipped models exactly on
# any of them.  It must be in the environment before numpy is imported:
# :func:`classifier.cli.run` restarts ``train`` with it.
PORTABLE_NUMPY = {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"}


def portable_numpy_env() -> dict[str, str]:
    """This process's environment with numpy's kernels pinned for training."""
    return {**os.environ, **PORTABLE_NUMPY}


def single_threaded() -> None:
    """Run the trees' OpenMP code on one thread, for the whole process.

    A page is a batch of a few hundred rows: thread start-up costs more than
    it saves, and on a busy machine far more (measured on 80 corpus pages:
    19 ms/page on one thread, 2,100 ms/page with default threads under a load
    of 5).  One thread also makes training bit-for-bit repeatable.
    """
    threadpool_limits(1, user_api="openmp")


def versions() -> dict[str, str]:
    """Versions of the libraries a saved model depends on."""
    out = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        out[name] = metadata.version(name)
    out["numpy_kernels"] = numpy_kernels()
    return out


def numpy_kernels() -> str:
    """The SIMD level numpy's float64 ``log`` runs at here (``X86_V3`` when
    pinned by :data:`PORTABLE_NUMPY` on an x86-64 machine)."""
    from numpy.lib.introspect import opt_func_info

    info = opt_func_info(func_name="log$", signature="float64")
    return str(info.get("log", {}).get("dd", {}).get("current", "unknown"))


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def card_path(model_path: Path) -> Path:
    return model_path.with_suffix(".json")


def model_bytes(estimator: Any) -> bytes:
    """The estimator as a canonical skops file: the same model, the same bytes.

    skops names objects (``__id__``) and array members by ``id()``, which
    differs from run to run, and stamps the zip members with the time.  Here
    the ids are renumbered in the order the schema lists them, the arrays
    named after them, and every member gets a fixed time and compression.
    Primitive values (skops' ``JsonNode``) get an id each: whether two equal
    numbers were one object carries no meaning, and differs between a model
    just fitted and the same model unpickled.
    """
    with zipfile.ZipFile(io.BytesIO(skops.io.dumps(estimator))) as src:
        members = set(src.namelist()) - {"schema.json"}
        schema = json.loads(src.read("schema.json"))
        ids: dict[int, int] = {}
        count = itertools.count(1)  # skops does not memoize an id of 0
        files: dict[str, str] = {}

        def renumber(node: Any) -> None:
            if isinstance(node, list):
                for item in node:
                    renumber(item)
                return
            if not isinstance(node, dict):
                return
            if "__id__" in node:
                old = node["__id__"]
                if node.get("__loader__") == "JsonNode" or old not in ids:
                    ids[old] = next(count)
                node["__id__"] = ids[old]
            name = node.get("file")
            if isinstance(name, str) and name in members:
                files.setdefault(name, f"{len(files)}{Path(name).suffix}")
                node["file"] = files[name]
            for value in node.values():
                renumber(value)

        renumber(schema)
        if set(files) != members:
            raise ModelError(f"skops {skops.__version__} wrote members this code cannot name")
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as dst:
            entries = [("schema.json", json.dumps(schema, indent=1).encode())]
            entries += [(new, src.read(old)) for old, new in files.items()]
            for name, data in entries:
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3
                info.external_attr = 0o644 << 16
                dst.writestr(info, data, compresslevel=6)
    return out.getvalue()


def read_model_bytes(data: bytes, path: Path) -> Any:
    """Build the estimator from a skops file's bytes, trusting only
    skops' defaults and :data:`TRUSTED_TYPES`; never unpickle."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise UnsafeModelError(
            f"model file {path} is not a skops model file (truncated, or a pickle such as "
            f"an older newsfilter's .joblib?); newsfilter never unpickles a model, since a "
            f"pickle can run any code when loaded; {RETRAIN_HINT} from your training data"
        )
    try:
        return skops.io.loads(data, trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException:
        found = sorted(set(skops.io.get_untrusted_types(data=data)) - set(TRUSTED_TYPES))
        raise UnsafeModelError(
            f"model file {path} holds types newsfilter does not trust: {', '.join(found)}; "
            f"refusing to load it (it may be made to run code). Use a model trained "
            f"by newsfilter: {RETRAIN_HINT}"
        ) from None
    except Exception as exc:  # a damaged or hand-made file fails in many ways
        raise UnsafeModelError(
            f"model file {path} cannot be read as a newsfilter model "
            f"({type(exc).__name__}: {exc}); {RETRAIN_HINT}"
        ) from exc


def save_model(estimator: Any, path: Path, card: dict[str, Any]) -> dict[str, Any]:
    """Write the model (canonical skops) and its card; return the card as written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = model_bytes(estimator)
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    card = {**card, "versions": versions(), "sha256": digest, "file": path.name}
    card["model_version"] = f"{path.stem}-{card['sha256'][:12]}"
    card_path(path).write_text(
        json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return card


def read_card(path: Path) -> dict[str, Any]:
    cpath = card_path(path)
    if not path.exists() or not cpath.exists():
        raise ModelError(f"model {path} or its card {cpath.name} is missing; {RETRAIN_HINT}")
    try:
        return json.loads(cpath.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ModelError(f"model card {cpath} is not valid JSON ({exc}); {RETRAIN_HINT}") from exc


def load_model(path: Path) -> tuple[Any, dict[str, Any]]:
    """Check the card, then read the skops file; return ``(estimator, card)``.

    Raises :class:`ModelError` for a missing, altered or stale model, and its
    subclass :class:`UnsafeModelError` for a file that is not a skops file of
    our pipeline; both name the file and say what to do.
    """
    card = read_card(path)
    data = path.read_bytes()  # hashed and loaded from the same bytes
    actual = hashlib.sha256(data).hexdigest()
    if actual != card.get("sha256"):
        raise ModelError(
            f"model file {path} does not match its card (SHA-256 {actual[:12]}..., "
            f"card says {str(card.get('sha256'))[:12]}...): it was altered or replaced; "
            f"refusing to load it; {RETRAIN_HINT}"
        )
    trained = card.get("versions", {}).get("scikit-learn")
    installed = metadata.version("scikit-learn")
    if trained != installed:
        raise ModelError(
            f"model {path} was trained with scikit-learn {trained}, this is {installed}; "
            f"{RETRAIN_HINT}, or install scikit-learn=={trained}"
        )
    check_card(path, card)
    single_threaded()
    model = read_model_bytes(data, path)
    check_pipeline(path, model, card.get("kind", "block"))
    return model, card


# the feature names each kind of model is built on, by the card's "kind"
FEATURE_NAMES = {
    "block": features.FEATURE_NAMES,
    "line": line_features.FEATURE_NAMES,
    "site": profile.SITE_FEATURES,
}
FEATURE_STEPS: dict[str, type[Any]] = {
    "block": features.BlockFeatures,
    "line": line_features.LineFeatures,
    "site": profile.SiteFeatures,
}


def check_pipeline(path: Path, model: Any, kind: str) -> None:
    """Refuse a loaded object that is not our pipeline for ``kind``: a
    Pipeline of that kind's feature step (holding nothing but its parameters)
    and a calibrated classifier."""
    step_type = FEATURE_STEPS[kind]
    steps = model.named_steps if isinstance(model, Pipeline) else {}
    step = steps.get("features")
    if (
        list(steps) != ["features", "model"]
        or type(step) is not step_type
        or not set(vars(step)) <= set(step_type().get_params())
        or not isinstance(steps["model"], CalibratedClassifierCV)
    ):
        raise UnsafeModelError(
            f"model file {path} is not a newsfilter {kind} model (a {type(model).__name__}, "
            f"expected a Pipeline of {step_type.__name__} and CalibratedClassifierCV); "
            f"{RETRAIN_HINT}"
        )


# the labels each kind of model predicts
KIND_LABELS = {"block": LABELS, "line": LABELS, "site": profile.SITE_LABELS}


def check_card(path: Path, card: dict[str, Any]) -> None:
    """Refuse a model whose card's labels or feature names differ from this code's."""
    want = KIND_LABELS.get(card.get("kind", "block"), LABELS)
    if list(card.get("labels", ())) != list(want):
        raise ModelError(
            f"model {path} predicts labels {card.get('labels')}, this code expects "
            f"{list(want)}; {RETRAIN_HINT}"
        )
    kind = card.get("kind", "block")
    expected = FEATURE_NAMES.get(kind)
    if expected is None:
        raise ModelError(f"model {path} is of unknown kind {kind!r}; {RETRAIN_HINT}")
    names = list(card.get("feature_names", ()))
    if names != list(expected):
        missing = sorted(set(expected) - set(names))
        extra = sorted(set(names) - set(expected))
        detail = (
            f"missing {missing[:5]}, unknown {extra[:5]}"
            if missing or extra
            else "the same names in another order"
        )
        raise ModelError(
            f"model {path} was trained on other features than this code computes ({detail}); "
            f"{RETRAIN_HINT}"
        )


class LoadedModel:
    """A checked, loaded model with its decision threshold: the base of the
    block :class:`~classifier.extract.Extractor` and the line
    :class:`~classifier.clean.LineCleaner`."""

    default_threshold = 0.5

    def __init__(self, model_path: Path | str, threshold: float | None = None) -> None:
        self.model, self.card = load_model(Path(model_path))
        self.labels = [str(c) for c in self.model.classes_]
        self.threshold = float(
            threshold
            if threshold is not None
            else self.card.get("threshold", self.default_threshold)
        )
        self.model_version = str(self.card.get("model_version", ""))

    def probabilities(self, units: Sequence[Any] | np.ndarray) -> np.ndarray:
        """P(label) for every unit of one document, columns in ``self.labels`` order."""
        if not len(units):
            return np.zeros((0, len(self.labels)))
        return calibrated_proba(self.model, units)


class SiteStage(LoadedModel):
    """A site stage (:mod:`classifier.profile`) loaded beside its first stage
    (the block or the line model), checked to be trained over that very model."""

    def __init__(self, model_path: Path | str, first: LoadedModel) -> None:
        super().__init__(model_path)
        over = self.card.get("first_stage_version")
        if over != first.model_version:
            raise ModelError(
                f"site model {model_path} was trained over {over}, this is "
                f"{first.model_version}; {RETRAIN_HINT} (it rebuilds both)"
            )

    def p_article(self, X: np.ndarray) -> np.ndarray:
        """P(article) over site features ``X`` (:meth:`probabilities`' column)."""
        return self.probabilities(X)[:, self.labels.index("article")]

    def revise(self, proba: np.ndarray, labels: Sequence[str], X: np.ndarray) -> np.ndarray:
        """The first stage's ``proba`` (columns in ``labels`` order) with
        P(article) from this stage over the site features ``X``; teaser and
        chrome share the rest as the first stage divided them."""
        p_art = self.p_article(X)
        art = list(labels).index("article")
        noise = proba.copy()
        noise[:, art] = 0.0
        total = noise.sum(axis=1, keepdims=True)
        split = np.divide(noise, total, out=np.full_like(noise, 0.5), where=total > 0)
        revised = split * (1.0 - p_art)[:, None]
        revised[:, art] = p_art
        return revised

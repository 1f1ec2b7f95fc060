"""Constant training data: every detector ranks a departure from the constant, none scores all zeros.

A series or channel that never moved in training has no variance to learn from. Window
models fall back to (or add) the deviation from the training value, with a warning; the
matrix profile against training data does the same per channel; detectors that only look
at the scored series are unaffected. Before this was handled, Sub-PCA, (Sub-)IForest and
Sub-MCD scored every timestep 0 and the neighbour/histogram models ranked noise.
"""

from __future__ import annotations

import numpy as np
import pytest

from omniad.detector import Detector
from omniad.plugins import get_registry

WINDOW = 20
LENGTH = 600
START, STOP = 300, 320  # the anomaly

LEARNING = [  # detectors whose score depends on the training series
    ("timeseries.sub_pca", {}),
    ("timeseries.iforest", {"n_estimators": 20}),
    ("timeseries.sub_iforest", {"n_estimators": 20}),
    ("timeseries.lof", {}),
    ("timeseries.sub_lof", {}),
    ("timeseries.sub_knn", {}),
    ("timeseries.sub_hbos", {}),
    ("timeseries.sub_mcd", {}),
    ("timeseries.kmeansad", {}),
    ("timeseries.matrix_profile", {"reference": "train"}),
]
# detectors that score the scored series against itself (KShapeAD too, left out here: tslearn's
# numba compilation costs a minute in a fresh process; it has no fit step at all)
SELF_REFERENCED = [
    ("timeseries.poly", {}),
    ("timeseries.matrix_profile", {}),
    ("timeseries.sr", {}),
    ("timeseries.seasonal", {}),
    ("timeseries.hampel", {}),
    ("timeseries.stray", {}),
]


def create(detector_id: str, params: dict) -> Detector:
    entry = get_registry().get("detector", detector_id)
    if "window" in entry.params_model().model_fields:
        params = {"window": WINDOW, **params}
    return entry.create(params, device="cpu", seed=0)


def flat_with_bump(level: float = 2.0, seed: int = 0) -> np.ndarray:
    x = level + np.random.default_rng(seed).normal(0, 0.05, LENGTH)
    x[START:STOP] += 1.0
    return x


def sine(seed: int) -> np.ndarray:
    t = np.arange(LENGTH)
    return np.sin(2 * np.pi * t / WINDOW) + np.random.default_rng(seed).normal(0, 0.05, LENGTH)


def assert_ranks_the_bump(scores: np.ndarray, name: str) -> None:
    assert np.isfinite(scores).all() and np.ptp(scores) > 0, f"{name}: all scores equal"
    inside = scores[START:STOP].mean()
    outside = np.r_[scores[: START - 2 * WINDOW], scores[STOP + 2 * WINDOW :]]
    # measured: the anomaly's mean score is 12-13x the 99th percentile elsewhere for every learning detector
    assert inside > np.quantile(outside, 0.99), f"{name}: the anomaly does not stand out"
    assert START - 2 * WINDOW <= int(np.argmax(scores)) < STOP + 2 * WINDOW, name


@pytest.mark.parametrize(("detector_id", "params"), LEARNING, ids=[f"{d}{p}" for d, p in LEARNING])
def test_a_constant_training_series_scores_the_deviation_from_it(detector_id, params, tmp_path) -> None:
    det = create(detector_id, params)
    with pytest.warns(UserWarning, match="training series is constant .*deviation"):
        det.fit([np.full(LENGTH, 2.0)])
    assert det.provenance() == {"constant_train_channels": 1}
    test = flat_with_bump()
    scores = det.score([test]).local[0]
    assert_ranks_the_bump(scores, detector_id)
    det.save(tmp_path / "det")  # the fallback has no model; its state must still round-trip
    np.testing.assert_allclose(type(det).load(tmp_path / "det").score([test]).local[0], scores, rtol=1e-12)


@pytest.mark.parametrize(("detector_id", "params"), SELF_REFERENCED, ids=[d for d, _ in SELF_REFERENCED])
def test_detectors_that_score_the_series_itself_ignore_a_constant_training_series(
    detector_id, params
) -> None:
    import warnings

    test = flat_with_bump()
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*constant")  # nothing to announce
        det = create(detector_id, params).fit([np.full(LENGTH, 2.0)])
    assert det.provenance() == {}
    expected = create(detector_id, params).fit([test]).score([test]).local[0]
    np.testing.assert_allclose(det.score([test]).local[0], expected, rtol=1e-12)
    assert np.ptp(expected) > 0


@pytest.mark.parametrize(("detector_id", "params"), LEARNING, ids=[f"{d}{p}" for d, p in LEARNING])
def test_a_constant_channel_of_a_multivariate_series(detector_id, params) -> None:
    train = np.stack([sine(0), np.full(LENGTH, 1.0)], axis=1)
    normal = np.stack([sine(1), np.full(LENGTH, 1.0)], axis=1)
    det = create(detector_id, params)
    with pytest.warns(UserWarning, match="1 of 2 training channels are constant"):
        det.fit([train])
    assert det.provenance() == {"constant_train_channels": 1}
    # while the channel stays at its value, the model is the one fitted on the varying channel
    alone = create(detector_id, params).fit([train[:, :1]]).score([normal[:, 0]]).local[0]
    scored = det.score([normal])
    if "per_variable" in scored.extras:  # channel-wise methods: min-max scaled channels are averaged
        np.testing.assert_allclose(scored.extras["per_variable"][0][:, 0], alone, rtol=1e-9)
    else:
        np.testing.assert_allclose(scored.local[0], alone, rtol=1e-9)
    # leaving the constant is flagged where it happens
    moved = normal.copy()
    moved[START:STOP, 1] += 1.0
    lift = det.score([moved]).local[0] - det.score([normal]).local[0]
    assert np.all(lift >= -1e-9) and lift[START:STOP].min() > 0, detector_id
    assert lift[: START - 2 * WINDOW].max() <= 1e-9 and lift[STOP + 2 * WINDOW :].max() <= 1e-9, detector_id


# neural detectors share one per-channel scaler (neural/scaling.py): a channel constant in training
# gets unit scale, so the model learns the constant and a departure from it is a large input.
# USAD only at its default (raw values): its sigmoid decoders cannot output the 0 that zscore and
# minmax map a constant to, so there it ranks the bump barely above noise (measured 1.0-1.1x)
NEURAL = [
    *(
        (d, n)
        for d in ("timeseries.cnn", "timeseries.lstm_ad", "timeseries.transformer")
        for n in ("zscore", "minmax")
    ),
    ("timeseries.usad", "none"),
]


@pytest.mark.parametrize(("detector_id", "normalize"), NEURAL, ids=[f"{d}-{n}" for d, n in NEURAL])
def test_neural_detectors_fitted_on_a_constant_series_rank_the_deviation(detector_id, normalize) -> None:
    pytest.importorskip("torch")
    import warnings

    det = create(detector_id, {"epochs": 10, "normalize": normalize})
    with warnings.catch_warnings():
        warnings.filterwarnings("error", category=RuntimeWarning)  # no division by zero on the way
        det.fit([np.full(LENGTH, 2.0)])
        scores = det.score([flat_with_bump()]).local[0]
    np.testing.assert_allclose(det.scale_, 1.0)  # the zero spread replaced by 1, not divided by
    # measured: the anomaly's mean is 48-68x the 99th percentile elsewhere (USAD on raw values: 2.3x)
    assert_ranks_the_bump(scores, detector_id)

"""Classic detectors against independent references (PyOD, scikit-learn, brute force) and on bad input."""

from __future__ import annotations

import numpy as np
import pytest

from omniad.errors import ConfigError, DataError
from omniad.plugins import get_registry
from omniad_timeseries.datasets.reading import shared_data_root
from omniad_timeseries.detectors.kmeans import mean_cover
from omniad_timeseries.detectors.profile import ab_join, self_join
from omniad_timeseries.detectors.windowed import window_zscore
from omniad_timeseries.windows import max_cover, sliding_windows

PERIOD = 16


def seasonal_series(length: int = 320, seed: int = 0, channels: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    x = np.stack([np.sin(2 * np.pi * t / PERIOD + c) for c in range(channels)], 1)
    x = x + rng.normal(0, 0.05, x.shape)
    x[length // 2 : length // 2 + 4] += 2.5  # one collective anomaly
    return x[:, 0] if channels == 1 else x


def detector(detector_id: str, **params: object):
    return get_registry().get("detector", detector_id).create(params, device="cpu", seed=0)


def local(detector_id: str, x: np.ndarray, fit_on: np.ndarray | None = None, **params: object) -> np.ndarray:
    det = detector(detector_id, **params).fit([x if fit_on is None else fit_on])
    return det.score([x]).local[0]


def centre(window_scores: np.ndarray, window: int) -> np.ndarray:
    """TSB-AD's window-to-point padding, written out independently."""
    head, tail = int(np.ceil((window - 1) / 2)), (window - 1) // 2
    return np.r_[[window_scores[0]] * head, window_scores, [window_scores[-1]] * tail]


def column_z(w: np.ndarray) -> np.ndarray:
    return (w - w.mean(0)) / w.std(0)


# -- against PyOD / scikit-learn ------------------------------------------------------------
def test_sub_pca_equals_pyod_pca() -> None:
    pyod_pca = pytest.importorskip("pyod.models.pca")
    x = seasonal_series()
    windows = sliding_windows(x[:, None], PERIOD)
    expected = pyod_pca.PCA(n_components=None, standardization=True, weighted=True).fit(windows).decision_scores_
    np.testing.assert_allclose(local("timeseries.sub_pca", x, window=PERIOD), centre(expected, PERIOD), rtol=1e-6)


def test_sub_hbos_equals_pyod_hbos() -> None:
    pyod_hbos = pytest.importorskip("pyod.models.hbos")
    x = seasonal_series()
    windows = window_zscore(sliding_windows(x[:, None], PERIOD), PERIOD, 1)
    expected = pyod_hbos.HBOS(n_bins=10, alpha=0.1, tol=0.5).fit(windows).decision_scores_
    np.testing.assert_allclose(local("timeseries.sub_hbos", x, window=PERIOD), centre(expected, PERIOD), rtol=1e-9)


def test_sub_knn_equals_pyod_knn_in_sample_and_new_data() -> None:
    pyod_knn = pytest.importorskip("pyod.models.knn")
    x, other = seasonal_series(), seasonal_series(seed=1)
    windows = window_zscore(sliding_windows(x[:, None], PERIOD), PERIOD, 1)
    model = pyod_knn.KNN(n_neighbors=5, method="largest").fit(windows)
    det = detector("timeseries.sub_knn", window=PERIOD, n_neighbors=5).fit([x])
    np.testing.assert_allclose(det.score([x]).local[0], centre(model.decision_scores_, PERIOD), rtol=1e-9)
    new = window_zscore(sliding_windows(other[:, None], PERIOD), PERIOD, 1)
    np.testing.assert_allclose(det.score([other]).local[0], centre(model.decision_function(new), PERIOD), rtol=1e-9)


def test_lof_equals_sklearn_in_sample_and_new_data() -> None:
    from sklearn.neighbors import LocalOutlierFactor

    x, other = seasonal_series(), seasonal_series(seed=1)
    windows = sliding_windows(x[:, None], PERIOD)
    mean, std = windows.mean(0), windows.std(0)
    lof = LocalOutlierFactor(n_neighbors=10, novelty=True).fit((windows - mean) / std)
    det = detector("timeseries.sub_lof", window=PERIOD, n_neighbors=10).fit([x])
    np.testing.assert_allclose(det.score([x]).local[0], centre(-lof.negative_outlier_factor_, PERIOD), rtol=1e-9)
    new = (sliding_windows(other[:, None], PERIOD) - mean) / std
    np.testing.assert_allclose(det.score([other]).local[0], centre(-lof.score_samples(new), PERIOD), rtol=1e-9)


def test_iforest_equals_sklearn_with_tsbad_max_features() -> None:
    from sklearn.ensemble import IsolationForest

    x = seasonal_series()
    windows = column_z(sliding_windows(x[:, None], 20))
    forest = IsolationForest(n_estimators=30, max_features=1, random_state=0).fit(windows)
    ours = local("timeseries.iforest", x, window=20, n_estimators=30)
    np.testing.assert_allclose(ours, centre(-forest.score_samples(windows), 20), rtol=1e-9)


def test_sub_mcd_equals_sklearn_mincovdet_on_new_data() -> None:
    from sklearn.covariance import MinCovDet

    train, test = seasonal_series(200, seed=2), seasonal_series()
    fit_windows = window_zscore(sliding_windows(train[:, None], 6), 6, 1)
    mcd = MinCovDet(random_state=0).fit(fit_windows)
    new = window_zscore(sliding_windows(test[:, None], 6), 6, 1)
    ours = local("timeseries.sub_mcd", test, fit_on=train, window=6)
    np.testing.assert_allclose(ours, centre(mcd.mahalanobis(new), 6), rtol=1e-6)


def test_profile_joins_equal_brute_force() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=90)
    x[20:32] = 1.0  # constant subsequences: distance 0 to each other, sqrt(m) to the rest
    b = rng.normal(size=40)
    m = 8

    def znorm(s: np.ndarray) -> np.ndarray:
        return (s - s.mean()) / s.std() if s.std() > 1e-8 else None

    def dist(p: np.ndarray, q: np.ndarray) -> float:
        zp, zq = znorm(p), znorm(q)
        if zp is None or zq is None:
            return 0.0 if zp is None and zq is None else np.sqrt(m)
        return float(np.linalg.norm(zp - zq))

    subs = [x[i : i + m] for i in range(x.size - m + 1)]
    zone = int(np.ceil(m / 4))
    brute_self = [min(dist(s, t) for j, t in enumerate(subs) if abs(i - j) > zone) for i, s in enumerate(subs)]
    np.testing.assert_allclose(self_join(x, m, "numpy"), brute_self, atol=1e-7)
    brute_ab = [min(dist(s, b[j : j + m]) for j in range(b.size - m + 1)) for s in subs]
    np.testing.assert_allclose(ab_join(x, b, m, "numpy"), brute_ab, atol=1e-7)



def test_profile_join_on_a_long_series_with_flat_stretches_equals_vectorised_brute_force() -> None:
    # running sums of a long series lose the spread of a window to rounding (1e-6 where it is 0,
    # errors of 1e-3 elsewhere); windows computed directly do not
    rng = np.random.default_rng(2)
    x = np.abs(rng.normal(size=1500)) * 3 + rng.integers(0, 50)
    x[900:960] = x[1200:1260] = round(float(x[899]), 1)
    m, zone = 16, 4
    w = sliding_windows(x[:, None], m)
    const = np.ptp(w, axis=1) == 0
    z = np.zeros_like(w)
    z[~const] = (w[~const] - w[~const].mean(1, keepdims=True)) / w[~const].std(1, keepdims=True)
    d = np.sqrt(np.maximum(((z[:, None, :] - z[None, :, :]) ** 2).sum(-1), 0))
    d[np.ix_(const, const)] = 0.0
    d[np.ix_(const, ~const)] = d[np.ix_(~const, const)] = np.sqrt(m)
    idx = np.arange(len(w))
    d[np.abs(idx[:, None] - idx[None, :]) <= zone] = np.inf
    # sqrt(2m(1 - corr)) turns a 1e-12 rounding of corr near 1 into ~1e-5 near distance 0 (stumpy too)
    np.testing.assert_allclose(self_join(x, m, "numpy"), d.min(1), atol=1e-4)


def test_mean_cover_equals_brute_force() -> None:
    scores = np.random.default_rng(0).random(20)
    w, length = 5, 24
    brute = [np.mean([scores[i] for i in range(scores.size) if i <= t < i + w]) for t in range(length)]
    np.testing.assert_allclose(mean_cover(scores, w, length), brute)


def test_max_cover_equals_brute_force_with_and_without_stride() -> None:
    scores = np.random.default_rng(1).random(20)
    w, length = 5, 24
    brute = [max(scores[i] for i in range(scores.size) if i <= t < i + w) for t in range(length)]
    np.testing.assert_allclose(max_cover(scores, w, length), brute)
    strided = scores[:8]  # windows start at 0, 3, ..., 21; the last one covers 21-25 of 26
    brute = [max(strided[i] for i in range(8) if 3 * i <= t < 3 * i + w) for t in range(26)]
    np.testing.assert_allclose(max_cover(strided, w, 26, stride=3), brute)


@pytest.mark.parametrize("detector_id", ["timeseries.sub_knn", "timeseries.sub_pca", "timeseries.matrix_profile"])
def test_point_score_max_cover_takes_the_covering_windows_maximum(detector_id: str) -> None:
    x = seasonal_series()
    centred = local(detector_id, x, window=PERIOD)
    covered = local(detector_id, x, window=PERIOD, point_score="max_cover")
    head = int(np.ceil((PERIOD - 1) / 2))
    window_scores = centred[head : head + x.size - PERIOD + 1]  # the centre rule places each window once
    np.testing.assert_allclose(covered, max_cover(window_scores, PERIOD, x.size), rtol=1e-9)
    assert not np.allclose(covered, centred)
    with pytest.raises(ConfigError, match="point_score"):
        detector(detector_id, point_score="median")


def test_sub_knn_on_raw_windows_with_max_cover_is_pyod_knn_the_targets_recipe() -> None:
    pyod_knn = pytest.importorskip("pyod.models.knn")
    x = seasonal_series()
    x = x * 3.0 + 7.0  # level and scale survive "none": the recipe z-normalises the series itself
    expected = pyod_knn.KNN(n_neighbors=5, method="largest").fit(sliding_windows(x[:, None], PERIOD)).decision_scores_
    ours = local("timeseries.sub_knn", x, window=PERIOD, n_neighbors=5, normalize="none", point_score="max_cover")
    np.testing.assert_allclose(ours, max_cover(expected, PERIOD, x.size), rtol=1e-9)


def test_normalize_option_overrides_the_tsbad_default_and_survives_save_load(tmp_path) -> None:
    x, other = seasonal_series(), seasonal_series(seed=1)
    shape_only = local("timeseries.sub_knn", x, window=PERIOD)
    det = detector("timeseries.sub_knn", window=PERIOD, normalize="column").fit([x])
    assert not np.allclose(det.score([x]).local[0], shape_only)
    det.save(tmp_path / "knn")
    loaded = type(det).load(tmp_path / "knn")
    np.testing.assert_allclose(loaded.score([other]).local[0], det.score([other]).local[0], rtol=1e-12)
    with pytest.raises(ConfigError, match="normalize"):
        detector("timeseries.sub_pca", normalize="minmax")


def test_window_zscore_constant_windows_are_zero() -> None:
    w = sliding_windows(np.r_[np.ones(10), np.arange(10.0)][:, None], 5)
    z = window_zscore(w, 5, 1)
    assert np.all(z[0] == 0) and np.isfinite(z).all()
    np.testing.assert_allclose(z[-1], (w[-1] - w[-1].mean()) / w[-1].std(ddof=1))


# -- behaviour every detector shares ------------------------------------------------------------
CLASSIC = [
    ("timeseries.poly", {}),
    ("timeseries.sub_pca", {}),
    ("timeseries.iforest", {"window": 20, "n_estimators": 20}),
    ("timeseries.sub_iforest", {"n_estimators": 20}),
    ("timeseries.lof", {}),
    ("timeseries.sub_lof", {}),
    ("timeseries.sub_knn", {}),
    ("timeseries.sub_hbos", {}),
    ("timeseries.sub_mcd", {"window": 6}),
    ("timeseries.kmeansad", {}),
    ("timeseries.kshapead", {"n_clusters": 3, "max_iter": 10}),
    ("timeseries.matrix_profile", {}),
    ("timeseries.sr", {}),
    ("timeseries.seasonal", {}),
    ("timeseries.hampel", {}),
    ("timeseries.stray", {}),
    ("timeseries.random", {}),
]


@pytest.mark.parametrize(("detector_id", "params"), CLASSIC, ids=[c[0] for c in CLASSIC])
def test_multivariate_constant_and_short_input(detector_id: str, params: dict) -> None:
    entry = get_registry().get("detector", detector_id)
    x = seasonal_series(channels=3)
    det = entry.create(params, device="cpu", seed=0).fit([x[:160] if entry.card.fit_on == "train" else x])
    scores = det.score([x])
    assert scores.local[0].shape == (x.shape[0],) and np.isfinite(scores.local[0]).all()
    assert scores.sample[0] == scores.local[0].max()
    if "per_variable" in scores.extras:
        assert scores.extras["per_variable"][0].shape == x.shape
    with pytest.raises(DataError, match="channels"):
        det.score([x[:, :2]])
    # a constant series is scored (finite, documented handling), never NaN; it has no period,
    # so the window is given (the period rule would fall back to 125)
    flat = np.ones((400, 3))
    windowed = "window" in entry.params_model().model_fields
    flat_det = entry.create({"window": 20, **params} if windowed else params, device="cpu", seed=0).fit([flat])
    assert np.isfinite(flat_det.score([flat]).local[0]).all()
    if windowed:  # a series shorter than the window: a clear error
        short = entry.create({**params, "window": 50}, device="cpu", seed=0)
        with pytest.raises(DataError, match="window|timesteps"):
            short.fit([x[:30]]).score([x[:30]])


@pytest.mark.parametrize("detector_id", ["timeseries.poly", "timeseries.sub_pca", "timeseries.seasonal",
                                         "timeseries.matrix_profile", "timeseries.stray", "timeseries.kmeansad"])
def test_the_collective_anomaly_scores_highest(detector_id: str) -> None:
    x = seasonal_series(480)
    scores = local(detector_id, x)
    peak = int(np.argmax(scores))
    assert 240 - 2 * PERIOD <= peak <= 244 + 2 * PERIOD  # measured peaks 234..242


def test_poly_warm_up_and_constant_series() -> None:
    x = seasonal_series(480)
    scores = local("timeseries.poly", x, window=PERIOD)
    assert np.all(scores[: 48 // PERIOD * PERIOD] == 0)  # min(500, 10%) = 48 points of warm-up
    np.testing.assert_array_equal(local("timeseries.poly", np.full(300, 2.0)), 0.0)
    smoothed = local("timeseries.poly", x, window=PERIOD, smooth=True)
    brute = [scores[max(0, t - PERIOD // 2) : t - PERIOD // 2 + PERIOD].mean() for t in range(scores.size)]
    np.testing.assert_allclose(smoothed, brute, rtol=1e-9)


# -- real data --------------------------------------------------------------------------------
NAB = shared_data_root() / "data" / "nab"


@pytest.mark.skipif(not (NAB / "labels").is_dir(), reason=f"NAB data not found at {NAB} (set OMNIAD_SHARED_DATA)")
def test_real_nab_smoke() -> None:
    from sklearn.metrics import roc_auc_score

    dataset = get_registry().get("dataset", "timeseries.nab").create({"series": ["art_daily_jumpsup"]})
    (subset,) = list(dataset.subsets())
    x, y = subset.test.samples[0], subset.test.targets[0]
    for detector_id in ("timeseries.poly", "timeseries.sub_pca"):
        assert roc_auc_score(y, local(detector_id, x)) > 0.75, detector_id  # measured POLY 0.934, Sub-PCA 0.977


def test_ensemble_is_the_mean_of_member_ranks_and_minmax() -> None:
    from scipy.stats import rankdata

    x = seasonal_series()
    members = [{"id": "timeseries.poly"}, {"id": "timeseries.sub_pca"}]
    parts = [local("timeseries.poly", x), local("timeseries.sub_pca", x)]
    ranked = np.mean([(rankdata(p) - 1) / (p.size - 1) for p in parts], axis=0)
    np.testing.assert_allclose(local("timeseries.ensemble", x, members=members), ranked)
    scaled = np.mean([(p - p.min()) / (p.max() - p.min()) for p in parts], axis=0)
    np.testing.assert_allclose(local("timeseries.ensemble", x, members=members, combine="minmax_mean"), scaled)
    with pytest.raises(ConfigError, match="unknown detector id"):
        detector("timeseries.ensemble", members=[{"id": "timeseries.nope"}]).fit([x])
    with pytest.raises(ConfigError, match="not a time-series detector"):
        detector("timeseries.ensemble", members=[{"id": "core.knn"}]).fit([x])


def test_stray_equals_sktime_on_standardised_windows_and_smooths() -> None:
    from sktime.detection.stray import STRAY

    x = seasonal_series()
    rows = column_z(sliding_windows(x[:, None], PERIOD))
    raw = centre(np.asarray(STRAY(k=10).fit(rows).score_, dtype=float), PERIOD)
    np.testing.assert_allclose(local("timeseries.stray", x, window=PERIOD, smooth=False), raw, rtol=1e-9)
    brute = [raw[max(0, t - PERIOD // 2) : t - PERIOD // 2 + PERIOD].mean() for t in range(raw.size)]
    np.testing.assert_allclose(local("timeseries.stray", x, window=PERIOD), brute, rtol=1e-9)

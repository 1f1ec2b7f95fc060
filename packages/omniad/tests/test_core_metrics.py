"""Core metrics against scikit-learn/scipy (random cases, 1e-9) and hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest

from omniad import metrics as M
from omniad.errors import DataError

sklearn_metrics = pytest.importorskip("sklearn.metrics", reason="scikit-learn is the reference (pip install omniad[test])")
stats = pytest.importorskip("scipy.stats")


def random_case(rng: np.random.Generator, n: int, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    y = (rng.random(n) < rng.uniform(0.05, 0.6)).astype(int)
    y[0], y[1] = 0, 1  # both classes present
    s = rng.normal(size=n) + y * rng.uniform(0, 2)
    if ties:
        s = np.round(s, 1)
    return y, s


@pytest.mark.parametrize("seed", range(40))
def test_ranking_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y, s = random_case(rng, int(rng.integers(2, 3000)), ties=seed % 2 == 0)
    assert M.roc_auc(y, s) == pytest.approx(sklearn_metrics.roc_auc_score(y, s), abs=1e-9)
    assert M.average_precision(y, s) == pytest.approx(sklearn_metrics.average_precision_score(y, s), abs=1e-9)


@pytest.mark.parametrize("seed", range(20))
def test_best_f1_matches_sklearn_curve(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    y, s = random_case(rng, int(rng.integers(2, 2000)), ties=seed % 3 == 0)
    precision, recall, _ = sklearn_metrics.precision_recall_curve(y, s)
    denom = precision + recall
    f1 = np.where(denom > 0, 2 * precision * recall / np.where(denom > 0, denom, 1), 0)[:-1]
    f1_max, threshold = M.best_f1(y, s)
    assert f1_max == pytest.approx(f1.max(), abs=1e-9)
    # the returned threshold reaches that F1 when applied as score >= threshold
    assert sklearn_metrics.f1_score(y, s >= threshold) == pytest.approx(f1_max, abs=1e-9)


@pytest.mark.parametrize("seed", range(20))
def test_prf_at_threshold_matches_sklearn(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    y, s = random_case(rng, 500, ties=True)
    t = float(np.quantile(s, rng.uniform(0.1, 0.99)))
    p, r, f1 = M.precision_recall_f1(y, s, t)
    pred = (s >= t).astype(int)
    assert p == pytest.approx(sklearn_metrics.precision_score(y, pred, zero_division=0), abs=1e-12)
    assert r == pytest.approx(sklearn_metrics.recall_score(y, pred), abs=1e-12)
    assert f1 == pytest.approx(sklearn_metrics.f1_score(y, pred, zero_division=0), abs=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_severity_correlation_matches_scipy_spearman(seed: int) -> None:
    rng = np.random.default_rng(300 + seed)
    sev = rng.integers(0, 4, size=200)
    s = sev * rng.uniform(0, 1) + rng.normal(size=200)
    if seed % 2:
        s = np.round(s)
    assert M.severity_correlation(sev, s) == pytest.approx(stats.spearmanr(sev, s).statistic, abs=1e-9)


def test_hand_worked_cases() -> None:
    # 4 samples, one inversion out of 4 positive/negative pairs -> AUROC 3/4
    assert M.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    # AP: ranking 0.8(1) 0.4(0) 0.35(1) 0.1(0): P@1 = 1, P@3 = 2/3 -> (1 + 2/3) / 2
    assert M.average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(5 / 6)
    # a tie between a positive and a negative counts half
    assert M.roc_auc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)
    assert M.best_f1([0, 1, 1], [0.1, 0.9, 0.8]) == (pytest.approx(1.0), pytest.approx(0.8))
    assert M.quantile_threshold(np.arange(101), 0.9) == pytest.approx(90.0)


def test_bad_input_is_rejected_with_clear_errors() -> None:
    with pytest.raises(DataError, match="no anomalous"):
        M.roc_auc([0, 0, 0], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="2 labels but 3 scores"):
        M.roc_auc([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(DataError, match="NaN"):
        M.average_precision([0, 1], [0.1, np.nan])
    with pytest.raises(DataError, match="0/1"):
        M.roc_auc([0, 2], [0.1, 0.2])
    with pytest.raises(DataError, match="quantile"):
        M.quantile_threshold([1.0, 2.0], 1.5)
    with pytest.raises(DataError, match="two distinct severity"):
        M.severity_correlation([1, 1], [0.1, 0.2])


def test_aupro_of_regions_hand_worked() -> None:
    """Two regions (sizes 2 and 1) and three normal elements, worked by hand.

    Sorted scores: 0.9 (r1), 0.8 (r2), 0.4 (bg), 0.3 (r1), 0.2 (bg), 0.1 (bg). The curve
    reaches PRO 0.75 at FPR 0, stays there to FPR 1/3, then PRO 1: area 0.25 + 2/3 to FPR 1,
    0.25 + 1/6 up to FPR 0.5 (normalised: / 0.5).
    """
    from omniad.metrics.overlap import aupro_of_regions, pro_curve_of_regions

    regions = [np.array([0, 0, 1, 1, 2, 0])]
    maps = [np.array([0.1, 0.2, 0.9, 0.3, 0.8, 0.4])]
    assert aupro_of_regions(regions, maps, max_fpr=1.0) == pytest.approx(0.25 + 2 / 3, abs=1e-12)
    assert aupro_of_regions(regions, maps, max_fpr=0.5) == pytest.approx((0.25 + 1 / 6) / 0.5, abs=1e-12)
    fpr, pro, _ = pro_curve_of_regions(regions, maps)
    assert pro[2] == pytest.approx(0.75) and fpr[2] == 0.0
    with pytest.raises(DataError, match="no anomalous points"):
        aupro_of_regions([np.zeros(4, dtype=int)], [np.ones(4)], element="point")

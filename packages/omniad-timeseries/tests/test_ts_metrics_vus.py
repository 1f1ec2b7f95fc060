"""VUS-ROC / VUS-PR: hand cases, a brute-force reference from the definition, the components."""

from __future__ import annotations

import numpy as np
import pytest

from omniad.data import Split
from omniad.errors import ConfigError, DataError
from omniad.metrics import average_precision, roc_auc
from omniad.plugins import get_registry
from omniad.scores import Scores
from omniad.testing import MetricCase, MetricConformance
from omniad_timeseries.metrics.ranges import runs
from omniad_timeseries.metrics.vus import vus
from omniad_timeseries.periodicity import find_length_rank


def brute_force_vus(labels: np.ndarray, scores: np.ndarray, window: int, n_thresholds: int = 250) -> tuple[float, float]:
    """VUS written straight from the definition: loops over buffers, ranges, thresholds; no reuse."""
    y = np.asarray(labels, dtype=np.int64)
    n = y.size
    ranges = list(zip(*runs(y), strict=True))
    desc = sorted(scores, reverse=True)
    thresholds = [desc[int(i)] for i in np.linspace(0, n - 1, n_thresholds).astype(int)]
    n_anom = int(y.sum())
    rocs, prs = [], []
    for b in range(window + 1):
        h = b // 2
        weight = y.astype(np.float64)
        for s, e in ranges:
            for d in range(1, h + 1):
                for t in (s - d, e + d):
                    if 0 <= t < n:
                        weight[t] += np.sqrt(1 - d / b)
        weight = np.minimum(weight, 1.0)
        groups: list[list[int]] = []  # widened ranges sharing a timestep are one range
        for s, e in ranges:
            lo, hi = max(s - h, 0), min(e + h, n - 1)
            if groups and lo <= groups[-1][1]:
                groups[-1][1] = hi
            else:
                groups.append([lo, hi])
        tpr, fpr, prec = [0.0], [0.0], []
        for thr in thresholds:
            pred = np.asarray(scores) >= thr
            credited = np.where(y == 1, 1.0, weight * pred)  # range points always count in P'
            tp = float(np.sum(credited * pred))
            p_new = (n_anom + credited.sum()) / 2
            found = sum(bool(pred[lo : hi + 1].any()) for lo, hi in groups)
            tpr.append(min(tp / p_new, 1.0) * found / len(groups))
            fpr.append((pred.sum() - tp) / (n - p_new))
            prec.append(tp / pred.sum())
        tpr.append(1.0)
        fpr.append(1.0)
        rocs.append(sum((fpr[i + 1] - fpr[i]) * (tpr[i + 1] + tpr[i]) / 2 for i in range(len(tpr) - 1)))
        prs.append(sum((tpr[i + 1] - tpr[i]) * prec[i] for i in range(len(prec))))
    return float(np.mean(rocs)), float(np.mean(prs))


def random_case(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.zeros(n, dtype=np.int64)
    for _ in range(int(rng.integers(1, 6))):
        a = int(rng.integers(0, n))
        y[a : a + int(rng.integers(1, max(2, n // 15)))] = 1
    if rng.random() < 0.3:  # ranges touching the series ends
        y[: int(rng.integers(1, 4))] = 1
        y[-int(rng.integers(1, 4)) :] = 1
    y[int(rng.integers(0, n))] = 0
    scores = y * rng.random() + rng.normal(0, 1, n)
    if rng.random() < 0.5:
        scores = np.round(scores, 1)  # ties
    return y, scores


@pytest.mark.parametrize("seed", range(12))
def test_fast_vus_equals_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 400))
    y, s = random_case(rng, n)
    window = int(rng.integers(0, 25))
    n_thr = int(rng.choice([250, 40, 7]))
    got = vus(y, s, window, n_thr)
    roc, pr = brute_force_vus(y, s, window, n_thr)
    assert got["vus_roc"] == pytest.approx(roc, abs=1e-9)
    assert got["vus_pr"] == pytest.approx(pr, abs=1e-9)


def test_dense_short_ranges_with_overlapping_buffers() -> None:
    # many ranges closer than the buffer: weights add up and clip, widened ranges merge
    rng = np.random.default_rng(5)
    y = (rng.random(300) < 0.15).astype(int)
    s = rng.random(300)
    got = vus(y, s, 30)
    roc, pr = brute_force_vus(y, s, 30)
    assert (got["vus_roc"], got["vus_pr"]) == pytest.approx((roc, pr), abs=1e-9)


def test_perfect_scores_give_one_for_every_window() -> None:
    y = np.zeros(1000, dtype=int)
    y[100:120] = 1
    y[700:705] = 1
    for window in (0, 1, 10, 100):
        assert vus(y, y.astype(float), window) == pytest.approx({"vus_roc": 1.0, "vus_pr": 1.0})


def test_window_zero_single_range_is_plain_auc_and_ap_when_every_threshold_is_on_the_grid() -> None:
    # one range: existence is 1 whenever recall > 0; T <= 250: the grid holds every score
    rng = np.random.default_rng(2)
    y = np.zeros(200, dtype=int)
    y[50:70] = 1
    s = y * 0.7 + rng.random(200)
    got = vus(y, s, 0)
    assert got["vus_roc"] == pytest.approx(roc_auc(y, s), abs=1e-12)
    assert got["vus_pr"] == pytest.approx(average_precision(y, s), abs=1e-12)


def test_constant_scores_give_the_degenerate_value() -> None:
    # everything predicted at every threshold: TPR = 1, FPR = (T - P - B) / (T - P - B/2) with
    # B the buffer weight; ROC area 1 - FPR/2, PR area (P + B) / T; averaged over buffers
    y = np.zeros(100, dtype=int)
    y[40:50] = 1
    window = 4
    got = vus(y, np.zeros(100), window)
    rocs, prs = [], []
    for b in range(window + 1):
        buffer = 2 * sum(np.sqrt(1 - d / b) for d in range(1, b // 2 + 1))
        fpr = (100 - 10 - buffer) / (100 - 10 - buffer / 2)
        rocs.append(1 - fpr / 2)
        prs.append((10 + buffer) / 100)
    assert got["vus_roc"] == pytest.approx(np.mean(rocs), abs=1e-12)
    assert got["vus_pr"] == pytest.approx(np.mean(prs), abs=1e-12)
    assert vus(y, np.zeros(100), 0)["vus_roc"] == pytest.approx(0.5)


def test_invariant_to_increasing_transform_and_sensitive_to_ranking() -> None:
    rng = np.random.default_rng(1)
    y, s = random_case(rng, 500)
    a = vus(y, s, 20)
    assert vus(y, np.exp(s) * 5 - 3, 20) == pytest.approx(a, abs=1e-12)
    worse = vus(y, -s, 20)
    assert worse["vus_pr"] < a["vus_pr"]


@pytest.mark.parametrize(
    ("labels", "scores", "window", "match"),
    [
        (np.zeros(10), np.arange(10.0), 3, "no anomalous"),
        (np.ones(10), np.arange(10.0), 3, "no normal"),
        (np.r_[np.zeros(9), 1], np.r_[np.arange(9.0), np.nan], 3, "NaN"),
        (np.r_[np.zeros(9), 1], np.arange(9.0), 3, "align"),
        (np.r_[np.zeros(9), 2], np.arange(10.0), 3, "0/1"),
        (np.r_[np.zeros(9), 1], np.arange(10.0), -1, "window"),
        (np.r_[np.zeros(9), 1], np.arange(10.0), 2.5, "window"),
    ],
)
def test_bad_input_raises_one_line_data_error(labels, scores, window, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataError, match=match):
        vus(labels, scores, window)


# -- components ------------------------------------------------------------------------------


def periodic_case(n: int = 600, period: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.sin(2 * np.pi * np.arange(n) / period) + rng.normal(0, 0.05, n)
    y = np.zeros(n, dtype=np.int8)
    y[300:320] = 1
    x[300:320] += 2
    s = np.abs(x - np.sin(2 * np.pi * np.arange(n) / period)) + rng.random(n) * 0.5
    return x, y, s


def one_series(x: np.ndarray, y: np.ndarray, s: np.ndarray) -> tuple[Split, Scores]:
    return Split(samples=[x], labels=np.array([1]), targets=[y]), Scores(sample=np.array([1.0]), local=[s])


class _VUSConformance(MetricConformance):
    key: str

    def cases(self) -> list[MetricCase]:
        x, y, s = periodic_case()
        truth, scores = one_series(x, y, s)
        window = find_length_rank(x, rank=1)
        return [
            MetricCase(truth, scores, {self.key: vus(y, s, window)[self.key], "window": window}),
            MetricCase(truth, scores, vus(y, s, 12)[self.key], params={"window": 12}),
            MetricCase(truth, Scores(sample=np.array([1.0]), local=[y.astype(float)]), 1.0, params={"window": 30}),
        ]


class TestVUSPRConformance(_VUSConformance):
    metric_id = "timeseries.vus_pr"
    key = "vus_pr"


class TestVUSROCConformance(_VUSConformance):
    metric_id = "timeseries.vus_roc"
    key = "vus_roc"


def create(metric_id: str, **params: object):  # type: ignore[no-untyped-def]
    return get_registry().get("metric", metric_id).create(params)


def test_auto_window_is_the_tsbad_period_and_multivariate_uses_the_first_channel() -> None:
    x, y, s = periodic_case(period=40)
    assert find_length_rank(x, rank=1) == 40
    got = create("timeseries.vus_pr")(*one_series(x, y, s))
    assert got["window"] == 40
    assert got["vus_pr"] == pytest.approx(vus(y, s, 40)["vus_pr"])
    noise = np.random.default_rng(9).normal(size=x.size)
    multi = create("timeseries.vus_pr")(*one_series(np.column_stack([x, noise]), y, s))
    assert multi == pytest.approx(got)


def test_several_series_are_scored_apart_and_averaged_skipping_normal_only_series() -> None:
    x, y, s = periodic_case()
    x2, y2, s2 = periodic_case(seed=3)
    y2 = np.roll(y2, 100)
    truth = Split(samples=[x, x2, x], labels=np.array([1, 1, 0]), targets=[y, y2, np.zeros_like(y)])
    scores = Scores(sample=np.zeros(3), local=[s, s2, np.random.default_rng(0).random(y.size)])
    got = create("timeseries.vus_roc", window=10)(truth, scores)
    expected = (vus(y, s, 10)["vus_roc"] + vus(y2, s2, 10)["vus_roc"]) / 2
    assert got["vus_roc"] == pytest.approx(expected, abs=1e-12)


def test_component_errors_are_clear() -> None:
    x, y, s = periodic_case()
    metric = create("timeseries.vus_pr", window=5)
    no_anomaly = Split(samples=[x], labels=np.array([0]), targets=[np.zeros_like(y)])
    with pytest.raises(DataError, match="no test series has both"):
        metric(no_anomaly, Scores(sample=np.zeros(1), local=[s]))
    with pytest.raises(DataError, match="localization scores"):
        metric(*one_series(x, y, s)[:1], Scores(sample=np.zeros(1)))
    short = Split(samples=[x[:10]], labels=np.array([1]), targets=[y])
    with pytest.raises(DataError, match="window='auto'"):
        create("timeseries.vus_pr")(short, Scores(sample=np.zeros(1), local=[s]))
    with pytest.raises(ConfigError, match="window"):
        create("timeseries.vus_pr", window=-3)


def test_cards_and_params_import_no_heavy_modules() -> None:
    import subprocess
    import sys

    code = (
        "import sys, omniad_timeseries.metrics.cards, omniad_timeseries.metrics.params\n"
        "heavy = [m for m in ('torch', 'sklearn', 'scipy', 'pandas', 'timm') if m in sys.modules]\n"
        "sys.exit(f'imported {heavy}' if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-500:]

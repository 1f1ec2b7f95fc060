"""Range-based (Tatbul et al.), event-wise (Garg et al.) and point-adjusted F1: hand cases,
loop references written from the papers, exact threshold sweeps, the registered components."""

from __future__ import annotations

import numpy as np
import pytest

from omniad.data import Split
from omniad.errors import ConfigError, DataError
from omniad.plugins import get_registry
from omniad.scores import Scores
from omniad.testing import MetricCase, MetricConformance
from omniad_timeseries.metrics import (
    adjust_predictions,
    adjusted_scores,
    affiliation_precision_recall,
    event_curve,
    event_precision_recall,
    pa_k_curve,
    pa_k_precision_recall,
    range_precision_recall,
    thresholded,
)
from omniad_timeseries.metrics.ranges import candidate_thresholds, runs

TRUTH = np.array([0, 0, 1, 1, 1, 1, 1])
PRED = np.array([0, 1, 1, 1, 1, 0, 0])


# -- range-based: hand cases -------------------------------------------------------------


def test_tatbul_example_alpha0_flat() -> None:
    # real range = positions 2..6 (5 points), predicted 1..4 (4 points), overlap 2..4 (3 points)
    assert range_precision_recall(TRUTH, PRED) == pytest.approx((0.75, 0.6))
    # cardinality does not matter here (one range each side); alpha adds the existence reward
    assert range_precision_recall(TRUTH, PRED, cardinality="reciprocal") == pytest.approx((0.75, 0.6))
    assert range_precision_recall(TRUTH, PRED, alpha=0.5)[1] == pytest.approx(0.5 + 0.5 * 0.6)
    assert range_precision_recall(TRUTH, PRED, alpha=1.0)[1] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("bias", "recall", "precision"),
    [
        # recall: overlap = positions 1,2,3 of 5; precision: positions 2,3,4 of 4
        ("flat", 3 / 5, 3 / 4),
        ("front", (5 + 4 + 3) / 15, (3 + 2 + 1) / 10),  # delta = L - i + 1
        ("back", (1 + 2 + 3) / 15, (2 + 3 + 4) / 10),  # delta = i
        ("middle", (1 + 2 + 3) / 9, (2 + 2 + 1) / 6),  # delta = 1,2,3,2,1 and 1,2,2,1
    ],
)
def test_positional_bias_hand_cases(bias: str, recall: float, precision: float) -> None:
    got = range_precision_recall(TRUTH, PRED, recall_bias=bias, precision_bias=bias)  # type: ignore[arg-type]
    assert got == pytest.approx((precision, recall))


def test_cardinality_penalises_fragmented_detection() -> None:
    truth = np.array([1, 1, 1, 1, 1, 1, 0])
    pred = np.array([1, 1, 0, 0, 1, 1, 0])  # two predicted ranges inside one real range
    assert range_precision_recall(truth, pred, cardinality="one") == pytest.approx((1.0, 4 / 6))
    assert range_precision_recall(truth, pred, cardinality="reciprocal") == pytest.approx((1.0, 4 / 6 / 2))
    assert range_precision_recall(truth, np.zeros(7)) == (0.0, 0.0)


def loop_range_pr(y, p, alpha, cardinality, bias):  # type: ignore[no-untyped-def]
    """Tatbul et al.'s formulas with plain loops."""

    def delta(i, length):  # type: ignore[no-untyped-def]
        return {"flat": 1, "front": length - i + 1, "back": i,
                "middle": i if i <= length / 2 else length - i + 1}[bias]

    def reward(own, other, a):  # type: ignore[no-untyped-def]
        if not own:
            return 0.0
        total = 0.0
        for s, e in own:
            length = e - s + 1
            hit = [(os, oe) for os, oe in other if os <= e and oe >= s]
            covered = {t for os, oe in hit for t in range(max(s, os), min(e, oe) + 1)}
            omega = sum(delta(t - s + 1, length) for t in covered) / sum(
                delta(i, length) for i in range(1, length + 1))
            gamma = 1.0 if len(hit) <= 1 or cardinality == "one" else 1 / len(hit)
            total += a * (len(hit) > 0) + (1 - a) * gamma * omega
        return total / len(own)

    ry, rp = list(zip(*runs(y), strict=True)), list(zip(*runs(p), strict=True))
    return reward(rp, ry, 0.0), reward(ry, rp, alpha)


@pytest.mark.parametrize("seed", range(6))
def test_range_pr_equals_loop_reference(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(15):
        n = int(rng.integers(5, 120))
        y = (rng.random(n) < rng.choice([0.1, 0.5])).astype(int)
        y[int(rng.integers(0, n))] = 1
        p = (rng.random(n) < rng.choice([0.1, 0.5, 0.9])).astype(int)
        alpha = float(rng.choice([0.0, 0.2, 1.0]))
        card = str(rng.choice(["one", "reciprocal"]))
        bias = str(rng.choice(["flat", "front", "back", "middle"]))
        got = range_precision_recall(y, p, alpha=alpha, cardinality=card, recall_bias=bias, precision_bias=bias)  # type: ignore[arg-type]
        assert got == pytest.approx(loop_range_pr(y, p, alpha, card, bias), abs=1e-12)


@pytest.mark.parametrize(
    ("vector", "starts", "ends"),
    [
        ([0, 0, 0], [], []),
        ([1, 1, 1], [0], [2]),
        ([1, 0, 1, 1, 0, 0, 1], [0, 2, 6], [0, 3, 6]),
        ([0, 1, 1, 0], [1], [2]),
    ],
)
def test_runs_give_inclusive_ranges(vector: list[int], starts: list[int], ends: list[int]) -> None:
    got = runs(np.array(vector))
    assert got[0].tolist() == starts and got[1].tolist() == ends


def test_candidate_thresholds_are_distinct_descending_and_rank_spaced() -> None:
    s = np.r_[np.arange(1000.0), np.arange(10.0)]
    assert candidate_thresholds(s, None).tolist() == list(np.arange(999.0, -1, -1))
    thin = candidate_thresholds(s, 11)
    assert thin.tolist() == [999.0, 899.0, 799.0, 699.0, 599.0, 499.0, 400.0, 300.0, 200.0, 100.0, 0.0]
    assert np.array_equal(candidate_thresholds(np.exp(s / 100), 11), np.exp(thin / 100))


@pytest.mark.parametrize(
    "fn",
    [range_precision_recall, event_precision_recall, pa_k_precision_recall, adjust_predictions,
     affiliation_precision_recall],
)
def test_prediction_level_functions_validate_their_input(fn) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataError, match="no anomaly"):
        fn(np.zeros(5), np.ones(5))
    with pytest.raises(DataError, match="aligned"):
        fn(np.r_[0, 1, 1], np.ones(5))
    with pytest.raises(DataError, match="labels must be 0/1"):
        fn(np.r_[0, 2, 1], np.ones(3))
    with pytest.raises(DataError, match="predictions must be 0/1"):
        fn(np.r_[0, 1, 1], np.r_[0.5, 1, 0])


# -- point adjustment and event-wise F1 -----------------------------------------------------

Y = np.array([0, 1, 1, 1, 0, 0, 1, 1, 0, 0])
S = np.array([0.1, 0.2, 0.9, 0.3, 0.2, 0.8, 0.4, 0.1, 0.0, 0.3])


def test_point_adjust_hand_case() -> None:
    pred = S >= 0.8  # flags t=2 (inside range 1..3) and t=5 (normal)
    assert adjust_predictions(Y, pred).astype(int).tolist() == [0, 1, 1, 1, 0, 1, 0, 0, 0, 0]
    assert pa_k_precision_recall(Y, pred, 0.0) == pytest.approx((3 / 4, 3 / 5))
    # 1 of 3 points = 33 %: adjusted for K < 33.3, not for K >= 33.4
    assert pa_k_precision_recall(Y, pred, 30.0) == pytest.approx((3 / 4, 3 / 5))
    assert pa_k_precision_recall(Y, pred, 50.0) == pytest.approx((1 / 2, 1 / 5))
    assert pa_k_precision_recall(Y, pred, 100.0) == pytest.approx((1 / 2, 1 / 5))
    # exactly K %: "more than K %" is strict (2 of 4 = 50 % is not adjusted at K = 50)
    assert adjust_predictions([1, 1, 1, 1], [1, 1, 0, 0], 50.0).tolist() == [1, 1, 0, 0]
    assert adjust_predictions([1, 1, 1, 1], [1, 1, 0, 0], 49.9).tolist() == [1, 1, 1, 1]


def test_event_f1_hand_case() -> None:
    pred = S >= 0.8
    # point precision 1 of 2 flagged; events: range 1..3 found, range 6..7 missed
    assert event_precision_recall(Y, pred) == pytest.approx((1 / 2, 1 / 2))
    assert event_precision_recall(Y, np.zeros(10)) == (0.0, 0.0)


@pytest.mark.parametrize("k", [0.0, 20.0, 50.0, 99.0, 100.0])
def test_exact_sweeps_agree_with_thresholding_predictions(k: float) -> None:
    rng = np.random.default_rng(int(k))
    y = (rng.random(300) < 0.08).astype(int)
    y[100:140] = 1
    s = np.round(y * 0.3 + rng.random(300), 2)
    for curve, at in [
        (lambda yy, ss: pa_k_curve(yy, ss, k), lambda yy, pp: pa_k_precision_recall(yy, pp, k)),
        (event_curve, event_precision_recall),
    ]:
        precision, recall, thresholds = curve(y, s)
        assert np.all(np.diff(thresholds) < 0)
        for i in range(0, thresholds.size, 7):
            assert (precision[i], recall[i]) == pytest.approx(at(y, s >= thresholds[i]), abs=1e-12)


def test_adjusted_scores_only_raise_anomalous_points() -> None:
    out = adjusted_scores(Y, S, 0.0)
    assert np.array_equal(out[Y == 0], S[Y == 0])
    assert out[1:4].tolist() == [0.9, 0.9, 0.9] and out[6:8].tolist() == [0.4, 0.4]
    with pytest.raises(DataError, match="K must be"):
        adjusted_scores(Y, S, 120.0)


def test_best_threshold_is_an_oracle_over_all_thresholds_and_ties_pick_the_highest() -> None:
    best = thresholded(Y, S, "best", lambda y, p: pa_k_precision_recall(y, p, 0.0),
                       exact_curve=pa_k_curve)
    brute = max(
        (thresholded(Y, S, float(t), lambda y, p: pa_k_precision_recall(y, p, 0.0))["f1"], -t)
        for t in np.unique(S)
    )
    assert best["f1"] == pytest.approx(brute[0])
    assert best["threshold"] == pytest.approx(-brute[1])
    with pytest.raises(DataError, match="finite"):
        thresholded(Y, S, float("nan"), event_precision_recall)


def test_random_scores_flatter_pa_f1_but_not_event_or_range_f1() -> None:
    # wide labelled windows (NAB style): PA-F1 of random scores is high, honest metrics are not
    rng = np.random.default_rng(0)
    y = np.zeros(5000, dtype=int)
    for a in (500, 2000, 3500):
        y[a : a + 250] = 1
    s = rng.random(5000)
    pa = thresholded(y, s, "best", lambda yy, p: pa_k_precision_recall(yy, p, 0.0), exact_curve=pa_k_curve)
    plain = thresholded(y, s, "best", lambda yy, p: pa_k_precision_recall(yy, p, 100.0),
                        exact_curve=lambda yy, ss: pa_k_curve(yy, ss, 100.0))
    assert pa["f1"] > 0.85  # measured 0.989
    # measured 0.261, which is flagging every point: 2 * 0.15 / 1.15 (the bound was 0.3, too close)
    assert plain["f1"] < 0.32


# -- components -------------------------------------------------------------------------------


def series(y: np.ndarray, s: np.ndarray) -> tuple[Split, Scores]:
    x = np.random.default_rng(0).normal(size=y.size)
    return Split(samples=[x], labels=np.array([1]), targets=[y]), Scores(sample=np.ones(1), local=[s])


def f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r)


class TestRangeF1Conformance(MetricConformance):
    metric_id = "timeseries.range_f1"

    def cases(self) -> list[MetricCase]:
        s = np.array([0.0, 0.6, 0.7, 0.9, 0.8, 0.1, 0.2])  # >= 0.5 predicts PRED
        truth, scores = series(TRUTH, s)
        paper = {"alpha": 0.0, "cardinality": "one", "threshold": 0.5}
        return [
            MetricCase(truth, scores, {"f1": f1(0.75, 0.6), "precision": 0.75, "recall": 0.6, "threshold": 0.5},
                       params=paper),
            MetricCase(truth, scores, {"recall": 0.2 + 0.8 * 0.6}, params={"threshold": 0.5}),
            MetricCase(truth, series(TRUTH, TRUTH * 1.0)[1], {"f1": 1.0, "threshold": 1.0}),
        ]


class TestEventF1Conformance(MetricConformance):
    metric_id = "timeseries.event_f1"

    def cases(self) -> list[MetricCase]:
        truth, scores = series(Y, S)
        return [
            MetricCase(truth, scores, {"f1": 0.5, "precision": 0.5, "recall": 0.5}, params={"threshold": 0.8}),
            # best over all thresholds: t=0.4 flags {2, 5, 6}: point precision 2/3, both events found
            MetricCase(truth, scores, {"f1": f1(2 / 3, 1.0), "threshold": 0.4}),
        ]


class TestPointAdjustedF1Conformance(MetricConformance):
    metric_id = "timeseries.pa_f1"

    def cases(self) -> list[MetricCase]:
        truth, scores = series(Y, S)
        return [
            MetricCase(truth, scores, {"f1": f1(0.75, 0.6), "precision": 0.75, "recall": 0.6},
                       params={"threshold": 0.8}),
            # best: t=0.4 flags {2,5,6} -> adjusted TP=5, FP=1
            MetricCase(truth, scores, {"f1": f1(5 / 6, 1.0), "threshold": 0.4}),
        ]


class TestPAKF1Conformance(MetricConformance):
    metric_id = "timeseries.pa_k_f1"

    def cases(self) -> list[MetricCase]:
        truth, scores = series(Y, S)
        at_08 = {"threshold": 0.8}
        # at t=0.8 range 1..3 is 1/3 flagged: adjusted for K = 0, 10, 20, 30 (F1 2/3), not above
        unadjusted = f1(0.5, 0.2)
        k_curve = np.array([2 / 3] * 4 + [unadjusted] * 7)
        area = float(np.sum(np.diff(np.linspace(0, 100, 11)) * (k_curve[1:] + k_curve[:-1]) / 2) / 100)
        return [
            MetricCase(truth, scores, {"f1": f1(0.5, 0.2)}, params={**at_08, "k": 50}),
            MetricCase(truth, scores, {"f1": f1(0.75, 0.6)}, params={**at_08, "k": 30}),
            MetricCase(truth, scores, {"f1_auc": area, "f1_k0": 2 / 3, "f1_k100": unadjusted}, params=at_08),
        ]


def test_threshold_metric_cards_are_tagged_and_pa_is_not_honest() -> None:
    registry = get_registry()
    for metric_id in ("range_f1", "event_f1", "affiliation_f1", "pa_f1", "pa_k_f1"):
        card = registry.get("metric", f"timeseries.{metric_id}").card
        assert "threshold-dependent" in card.tags
        assert card.honest == (metric_id not in ("pa_f1", "pa_k_f1"))
    for metric_id in ("vus_pr", "vus_roc"):
        assert "threshold-dependent" not in registry.get("metric", f"timeseries.{metric_id}").card.tags


def test_bad_parameters_are_config_errors() -> None:
    entry = get_registry().get("metric", "timeseries.range_f1")
    with pytest.raises(ConfigError, match="alpha"):
        entry.create({"alpha": 1.5})
    with pytest.raises(ConfigError, match="recall_bias"):
        entry.create({"recall_bias": "left"})
    with pytest.raises(ConfigError, match="threshold"):
        entry.create({"threshold": "oracle"})
    with pytest.raises(ConfigError, match="k"):
        get_registry().get("metric", "timeseries.pa_k_f1").create({"k": 101})

"""Affiliation precision/recall: hand-integrated cases, a grid reference from the definition,
the registered component."""

from __future__ import annotations

import numpy as np
import pytest

from omniad.data import Split
from omniad.scores import Scores
from omniad.testing import MetricCase, MetricConformance
from omniad_timeseries.metrics import affiliation_precision_recall
from omniad_timeseries.metrics.ranges import runs


def vec(n: int, *spans: tuple[int, int]) -> np.ndarray:
    v = np.zeros(n, dtype=int)
    for a, b in spans:
        v[a:b] = 1
    return v


# (T, true events, predicted events, precision, recall), each integrated by hand
HAND = [
    # one event J=[4,6), zone [0,10); prediction [0,1) at distance 3..4: precision
    # int_3^4 (8 - 2d)/10 dd = 0.1; recall: y in J sees pivot 1, int of 1 - min(2y - 2, 9)/10 over
    # [4, 6) = 0.425, / |J| = 0.2125
    (10, [(4, 6)], [(0, 1)], 0.1, 0.2125),
    (10, [(4, 6)], [(4, 6)], 1.0, 1.0),
    # prediction [3,5): precision (int_0^1 (8 - 2d)/10 + 1) / 2 = 0.85; recall (1 + 0.9) / 2 = 0.95
    (10, [(4, 6)], [(3, 5)], 0.85, 0.95),
    # two zones [0,4.5) and [4.5,10): precisions 5/9 and 13/44, recalls 7/9 and 41/88
    (10, [(2, 3), (6, 7)], [(1, 2), (8, 9)], (5 / 9 + 13 / 44) / 2, (7 / 9 + 41 / 88) / 2),
    # nothing predicted in the second zone: precision averages zone 1 only, recall counts 0 there
    (10, [(2, 3), (6, 7)], [(1, 2)], 5 / 9, 7 / 9 / 2),
]


@pytest.mark.parametrize(("n", "truth", "pred", "precision", "recall"), HAND)
def test_hand_integrated_cases(n, truth, pred, precision, recall) -> None:  # type: ignore[no-untyped-def]
    got = affiliation_precision_recall(vec(n, *truth), vec(n, *pred))
    assert got == pytest.approx((precision, recall), abs=1e-12)


def test_nothing_predicted_gives_zero() -> None:
    assert affiliation_precision_recall(vec(10, (2, 4)), np.zeros(10)) == (0.0, 0.0)


def grid_affiliation(y: np.ndarray, p: np.ndarray, per_unit: int = 100) -> tuple[float, float]:
    """The definition evaluated on a fine grid: probabilities by counting grid points."""
    n = y.size
    grid = (np.arange(n * per_unit) + 0.5) / per_unit
    on_y, on_p = y[grid.astype(int)] == 1, p[grid.astype(int)] == 1
    events = [(int(s), int(e) + 1) for s, e in zip(*runs(y), strict=True)]
    bounds = [0.0] + [(events[j][1] + events[j + 1][0]) / 2 for j in range(len(events) - 1)] + [float(n)]
    precisions, recalls = [], []
    for j, (js, je) in enumerate(events):
        zone = (grid >= bounds[j]) & (grid < bounds[j + 1])
        x = grid[zone]
        to_j = np.maximum(np.maximum(js - x, x - je), 0)
        sorted_to_j = np.sort(to_j)
        pred_x = zone & on_p
        if pred_x.any():
            d = np.maximum(np.maximum(js - grid[pred_x], grid[pred_x] - je), 0)
            survive = 1 - np.searchsorted(sorted_to_j, d, side="left") / x.size
            precisions.append(survive.mean())
        pred_pts = grid[pred_x]
        if pred_pts.size == 0:
            recalls.append(0.0)
            continue
        ys = grid[zone & on_y]
        near = np.abs(ys[:, None] - pred_pts[None, :]).min(axis=1)
        inside = np.searchsorted(x, ys + near, side="left") - np.searchsorted(x, ys - near, side="right")
        recalls.append(float(np.mean(1 - np.maximum(inside, 0) / x.size)))
    return (float(np.mean(precisions)) if precisions else 0.0), float(np.mean(recalls))


@pytest.mark.parametrize("seed", range(8))
def test_closed_forms_match_the_definition_on_a_grid(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 60))
    y = (rng.random(n) < 0.15).astype(int)
    y[int(rng.integers(0, n))] = 1
    p = (rng.random(n) < rng.choice([0.1, 0.4])).astype(int)
    got = affiliation_precision_recall(y, p)
    assert got == pytest.approx(grid_affiliation(y, p), abs=5e-3)


class TestAffiliationF1Conformance(MetricConformance):
    metric_id = "timeseries.affiliation_f1"

    def cases(self) -> list[MetricCase]:
        y = vec(10, (2, 3), (6, 7))
        s = np.array([0.0, 0.9, 0.3, 0.1, 0.2, 0.0, 0.4, 0.1, 0.8, 0.2])  # >= 0.5 flags [1,2), [8,9)
        truth = Split(samples=[np.zeros(10)], labels=np.array([1]), targets=[y])
        scores = Scores(sample=np.ones(1), local=[s])
        p, r = (5 / 9 + 13 / 44) / 2, (7 / 9 + 41 / 88) / 2
        perfect = Scores(sample=np.ones(1), local=[y * 1.0])
        return [
            MetricCase(truth, scores, {"f1": 2 * p * r / (p + r), "precision": p, "recall": r},
                       params={"threshold": 0.5}),
            MetricCase(truth, perfect, {"f1": 1.0, "threshold": 1.0}),
        ]

"""omniad's time-series metrics against TSB-AD 1.5's own code, where TSB-AD is importable.

TSB-AD is not a dependency (it pins scikit-learn 1.5). These tests import its evaluation
package from ``OMNIAD_TSBAD_PATH`` (default ``/tmp/ref/tsbad``, a folder holding ``TSB_AD``)
or from an installed ``tsb-ad``, and skip otherwise; the always-on tests compare with
brute-force references written from the papers instead.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings

import numpy as np
import pytest

from omniad_timeseries.metrics import (
    adjust_predictions,
    affiliation_precision_recall,
    event_precision_recall,
    range_precision_recall,
    vus,
)


def _tsbad():  # type: ignore[no-untyped-def]
    path = os.environ.get("OMNIAD_TSBAD_PATH", "/tmp/ref/tsbad")
    if os.path.isdir(os.path.join(path, "TSB_AD")) and path not in sys.path:
        sys.path.insert(0, path)
    try:
        return importlib.import_module("TSB_AD.evaluation.basic_metrics")
    except ImportError as exc:
        pytest.skip(f"TSB-AD not importable ({exc}); set OMNIAD_TSBAD_PATH to a folder holding TSB_AD")


@pytest.fixture(scope="module")
def tsbad():  # type: ignore[no-untyped-def]
    return _tsbad()


def labelled_series(rng: np.random.Generator, n: int, n_ranges: int) -> np.ndarray:
    y = np.zeros(n, dtype=np.int64)
    for _ in range(n_ranges):
        a = int(rng.integers(0, n))
        y[a : a + int(rng.integers(1, max(2, n // 25)))] = 1
    y[0] = 0
    return y


CASES = [  # (length, window, ranges, score ties)
    (200, 0, 1, False), (200, 1, 3, True), (300, 100, 2, False), (500, 7, 5, True),
    (500, 60, 1, False), (800, 33, 8, True), (1000, 100, 3, False), (1000, 2, 12, True),
    (1500, 50, 4, False), (2000, 17, 6, True), (2000, 100, 2, False), (2500, 80, 9, True),
    (3000, 5, 3, False), (3000, 45, 15, True), (4000, 90, 4, False), (4000, 0, 7, True),
    (5000, 25, 5, False), (5000, 64, 10, True), (5000, 100, 1, False), (250, 99, 20, True),
]


@pytest.mark.parametrize(("n", "window", "n_ranges", "ties"), CASES)
def test_vus_equals_tsbad_get_metrics(tsbad, n: int, window: int, n_ranges: int, ties: bool) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(n * 1000 + window)
    y = labelled_series(rng, n, n_ranges)
    s = y * rng.uniform(0.2, 2) + rng.normal(0, 1, n)
    if ties:
        s = np.round(s, 1)
    *_, ref_roc, ref_pr = tsbad.generate_curve(y, s, window, "opt", 250)
    got = vus(y, s, window)
    assert got["vus_roc"] == pytest.approx(ref_roc, abs=1e-6)
    assert got["vus_pr"] == pytest.approx(ref_pr, abs=1e-6)


def prediction_cases(seed: int, count: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        n = int(rng.integers(10, 400))
        y = (rng.random(n) < rng.choice([0.03, 0.1, 0.4])).astype(np.int64)
        y[int(rng.integers(0, n))] = 1
        p = (rng.random(n) < rng.choice([0.02, 0.2, 0.7])).astype(np.int64)
        p[int(rng.integers(0, n))] = 0  # TSB-AD finds no range in an all-ones vector
        out.append((y, p))
    return out


def test_range_precision_recall_equals_tsbad(tsbad) -> None:  # type: ignore[no-untyped-def]
    grader = tsbad.basic_metricor()
    for y, p in prediction_cases(0, 150):
        recall = grader.range_recall_new(y, p, 0.2)[0]
        precision = grader.range_recall_new(p, y, 0)[0]
        got = range_precision_recall(y, p, alpha=0.2, cardinality="reciprocal")
        assert got == pytest.approx((precision, recall), abs=1e-12)


def test_affiliation_equals_the_reference_package(tsbad) -> None:  # type: ignore[no-untyped-def]
    from TSB_AD.evaluation.affiliation.generics import convert_vector_to_events
    from TSB_AD.evaluation.affiliation.metrics import pr_from_events

    for y, p in prediction_cases(1, 150):
        if not p.any():
            continue
        ref = pr_from_events(convert_vector_to_events(p), convert_vector_to_events(y), (0, y.size))
        got = affiliation_precision_recall(y, p)
        assert got == pytest.approx((ref["Affiliation_Precision"], ref["Affiliation_Recall"]), abs=1e-12)


def test_point_adjust_and_event_f1_equal_tsbad_at_given_predictions(tsbad) -> None:  # type: ignore[no-untyped-def]
    grader = tsbad.basic_metricor()
    for y, p in prediction_cases(2, 100):
        if not p.any():
            continue
        # TSB-AD quirks at the series ends: its backward adjustment loop never reaches index 0,
        # and its event list cuts the last point off a range that ends the series
        y[0] = y[-1] = 0
        if not y.any():
            continue
        adjusted = grader._adjust_predicts(np.zeros(y.size), y, pred=p.astype(bool))
        assert np.array_equal(adjust_predictions(y, p, 0.0), adjusted)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = grader.metric_EventF1PA(y, np.zeros(y.size), preds=p)
        precision, recall = event_precision_recall(y, p)
        f1 = 2 * precision * recall / (precision + recall + 1e-15)
        assert f1 == pytest.approx(ref, abs=1e-12)

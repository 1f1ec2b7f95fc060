"""Turning scores into a threshold-dependent F1: a given threshold, or the oracle best one.

``score >= threshold`` is anomalous everywhere (the core's convention). ``"best"`` is an
oracle: it picks, per series, the threshold with the highest F1 using the labels, so it
is an upper bound on what a deployed threshold achieves and is labelled as such in the
results (the chosen threshold is reported). Ties go to the highest threshold.

Metrics whose counts can be swept in one sort (point-adjusted, event-wise) search every
distinct score exactly; the others (range-based, affiliation) evaluate up to
``max_thresholds`` candidates at evenly spaced ranks of the distinct scores.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np

from omniad_timeseries.metrics.ranges import candidate_thresholds, check_threshold, f1_from

Threshold = float | Literal["best"]
FromPredictions = Callable[[np.ndarray, np.ndarray], tuple[float, float]]
ExactCurve = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def _result(precision: float, recall: float, threshold: float) -> dict[str, float]:
    return {
        "f1": float(f1_from(precision, recall)),
        "precision": float(precision),
        "recall": float(recall),
        "threshold": float(threshold),
    }


def best_of_curve(precision: np.ndarray, recall: np.ndarray, thresholds: np.ndarray) -> dict[str, float]:
    """The curve point with the highest F1 (first = highest threshold on ties)."""
    i = int(np.argmax(f1_from(precision, recall)))
    return _result(precision[i], recall[i], thresholds[i])


def grid_curve(
    labels: np.ndarray, scores: np.ndarray, from_predictions: FromPredictions, max_thresholds: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    thresholds = candidate_thresholds(scores, max_thresholds)
    pr = np.array([from_predictions(labels, scores >= t) for t in thresholds], dtype=np.float64)
    return pr[:, 0], pr[:, 1], thresholds


def thresholded(
    labels: np.ndarray,
    scores: np.ndarray,
    threshold: Threshold,
    from_predictions: FromPredictions,
    *,
    exact_curve: ExactCurve | None = None,
    max_thresholds: int | None = None,
    where: str = "metric",
) -> dict[str, float]:
    """F1, precision, recall and the threshold used, for validated labels and scores of one series."""
    if threshold == "best":
        if exact_curve is not None:
            return best_of_curve(*exact_curve(labels, scores))
        return best_of_curve(*grid_curve(labels, scores, from_predictions, max_thresholds))
    t = check_threshold(threshold, where)  # type: ignore[arg-type]
    return _result(*from_predictions(labels, scores >= t), t)

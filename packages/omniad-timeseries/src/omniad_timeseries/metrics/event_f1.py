"""Event-wise F1: the composite F-score of Garg et al. (IEEE TNNLS 2021).

Recall is counted over events (a true anomaly range is detected when any of its points
is flagged), precision over points (flagged points that are anomalous). Event recall
alone would reward flagging everything; point precision keeps false alarms costly,
which is why Garg et al. pair them instead of using event precision, whose count of
"false events" depends on how predictions fragment. TSB-AD reports the same quantity as
``Event-based-F1``.
"""

from __future__ import annotations

import numpy as np

from omniad.metrics.ranking import binary_curve
from omniad_timeseries.metrics.ranges import check_prediction, check_series, runs


def _range_maxima(labels: np.ndarray, values: np.ndarray) -> np.ndarray:
    starts, ends = runs(labels)
    return np.maximum.reduceat(np.r_[values, -np.inf], np.ravel(np.column_stack([starts, ends + 1])))[::2]


def event_precision_recall(labels: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    """Point-wise precision (0 when nothing is predicted) and event-wise recall."""
    y, p = check_prediction(labels, pred, "event_precision_recall")
    n_pred = int(p.sum())
    precision = float(np.sum(p & y)) / n_pred if n_pred else 0.0
    recall = float(np.mean(_range_maxima(y, p.astype(np.float64)) > 0))
    return precision, recall


def event_curve(labels: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point precision and event recall at every distinct threshold (highest first)."""
    labels, scores = check_series(labels, scores, "event_curve")
    fps, tps, thresholds = binary_curve(labels, scores)
    peaks = np.sort(_range_maxima(labels, scores))
    detected = peaks.size - np.searchsorted(peaks, thresholds, side="left")
    return tps / (tps + fps), detected / peaks.size, thresholds

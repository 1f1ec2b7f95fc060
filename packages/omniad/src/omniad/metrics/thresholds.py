"""Threshold-dependent metrics and threshold calibration."""

from __future__ import annotations

import numpy as np

from omniad.errors import DataError
from omniad.metrics.ranking import binary_curve, check_binary_scores


def best_f1(y_true: object, y_score: object) -> tuple[float, float]:
    """F1-max over all thresholds and the threshold that reaches it (predict ``score >= t``)."""
    y, s = check_binary_scores(y_true, y_score, "best_f1")
    fps, tps, thr = binary_curve(y, s)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(denom), where=denom > 0)
    i = int(np.argmax(f1))
    return float(f1[i]), float(thr[i])


def precision_recall_f1(y_true: object, y_score: object, threshold: float) -> tuple[float, float, float]:
    """Precision, recall and F1 when ``score >= threshold`` is called anomalous.

    Precision is 0 when nothing is predicted anomalous (scikit-learn's ``zero_division=0``).
    """
    y, s = check_binary_scores(y_true, y_score, "precision_recall_f1")
    if not np.isfinite(threshold):
        raise DataError(f"precision_recall_f1: threshold must be finite, got {threshold}")
    pred = s >= threshold
    tp = float(np.sum(pred & (y == 1)))
    fp = float(np.sum(pred & (y == 0)))
    fn = float(np.sum(~pred & (y == 1)))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def quantile_threshold(normal_scores: object, quantile: float = 0.99) -> float:
    """Threshold = a quantile of scores on held-out normal data (expected false-alarm rate 1 - q)."""
    s = np.asarray(normal_scores, dtype=np.float64).reshape(-1)
    if not 0.0 < quantile < 1.0:
        raise DataError(f"quantile_threshold: quantile must be in (0, 1), got {quantile}")
    if s.size == 0:
        raise DataError("quantile_threshold: no validation scores; pass scores of normal samples")
    if not np.all(np.isfinite(s)):
        raise DataError("quantile_threshold: validation scores contain NaN/inf")
    return float(np.quantile(s, quantile))

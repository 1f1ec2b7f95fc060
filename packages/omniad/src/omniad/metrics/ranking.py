"""Threshold-free ranking metrics: AUROC and average precision (AUPR)."""

from __future__ import annotations

import numpy as np

from omniad.errors import DataError


def check_binary_scores(y_true: object, y_score: object, where: str = "metric") -> tuple[np.ndarray, np.ndarray]:
    """Validate a (labels, scores) pair once for every metric: same length, finite, both classes."""
    y = np.asarray(y_true).reshape(-1)
    s = np.asarray(y_score)
    # float32 maps stay float32: pooled pixel metrics over millions of pixels would
    # otherwise double their memory; sorting and counting are exact either way.
    s = (s if s.dtype == np.float32 else s.astype(np.float64, copy=False)).reshape(-1)
    if y.shape != s.shape:
        raise DataError(f"{where}: {y.size} labels but {s.size} scores; they must align one to one")
    if y.size == 0:
        raise DataError(f"{where}: no labels/scores given")
    if not np.isin(y, (0, 1)).all():
        raise DataError(f"{where}: labels must be 0/1 (1 = anomalous), found {np.unique(y)[:5].tolist()}")
    if not np.all(np.isfinite(s)):
        raise DataError(
            f"{where}: {int((~np.isfinite(s)).sum())} scores are NaN/inf; fix the detector or the input"
        )
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == y.size:
        cls = "anomalous" if n_pos == 0 else "normal"
        raise DataError(f"{where}: the ground truth has no {cls} elements, so the metric is undefined")
    return y.astype(np.int8), s


def binary_curve(y_true: np.ndarray, y_score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative false and true positives at each distinct threshold, highest score first.

    Returns ``(fps, tps, thresholds)``; predicting "anomalous" for ``score >= thresholds[i]``
    gives ``fps[i]`` false and ``tps[i]`` true positives.
    """
    order = np.argsort(y_score, kind="mergesort")[::-1]
    s = y_score[order]
    distinct = np.flatnonzero(s[1:] != s[:-1])
    del s
    last = np.r_[distinct, y_true.size - 1]
    count_type = np.int32 if y_true.size < 2**31 else np.int64
    tps = np.cumsum(y_true[order], dtype=count_type)[last].astype(np.float64)
    fps = 1 + last - tps
    return fps, tps, y_score[order[last]].astype(np.float64)


def roc_curve(y_true: object, y_score: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, s = check_binary_scores(y_true, y_score, "roc_curve")
    fps, tps, thr = binary_curve(y, s)
    fpr = np.r_[0.0, fps / fps[-1]]
    tpr = np.r_[0.0, tps / tps[-1]]
    return fpr, tpr, np.r_[np.inf, thr]


def roc_auc(y_true: object, y_score: object) -> float:
    """Area under the ROC curve (ties count half, as in scikit-learn)."""
    fpr, tpr, _ = roc_curve(y_true, y_score)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2.0)


def average_precision(y_true: object, y_score: object) -> float:
    """AP = sum over thresholds of (R_n - R_{n-1}) * P_n, scikit-learn's definition (no interpolation)."""
    y, s = check_binary_scores(y_true, y_score, "average_precision")
    fps, tps, _ = binary_curve(y, s)
    precision = tps / (tps + fps)
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))

"""Anomaly ranges of a 0/1 label vector and the input checks every series metric shares.

Range metrics reason about contiguous runs of 1s ("events"), so they all start from the
same run extraction; keeping it in one place keeps their notion of a range identical.
"""

from __future__ import annotations

import numpy as np

from omniad.errors import DataError
from omniad.metrics.ranking import check_binary_scores


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and inclusive end index of every run of non-zero values in a 1-D array."""
    m = np.asarray(mask).reshape(-1) != 0
    edges = np.diff(np.r_[0, m.view(np.int8), 0])
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return starts, ends


def range_positions(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every timestep inside the ranges, in order, and the index of the range holding it."""
    lengths = ends - starts + 1
    owner = np.repeat(np.arange(starts.size), lengths)
    first = np.cumsum(lengths) - lengths
    return np.arange(int(lengths.sum())) - first[owner] + starts[owner], owner


def check_series(labels: object, scores: object, where: str) -> tuple[np.ndarray, np.ndarray]:
    """One series' per-timestep labels and scores, validated (both classes present, finite)."""
    y = np.asarray(labels)
    s = np.asarray(scores)
    if y.ndim != 1 or s.ndim != 1:
        raise DataError(
            f"{where}: labels and scores must be 1-D per-timestep arrays, got shapes "
            f"{y.shape} and {s.shape}; score each timestep of one series"
        )
    return check_binary_scores(y, s, where)


def _is_binary(a: np.ndarray) -> bool:
    return a.dtype == bool or bool(((a == 0) | (a == 1)).all())


def check_prediction(labels: object, pred: object, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Labels (at least one anomaly) and a 0/1 prediction of one series, as bool arrays.

    Cheap enough to run at every threshold of a sweep (two comparisons per element).
    """
    y, p = np.asarray(labels), np.asarray(pred)
    if y.ndim != 1 or p.shape != y.shape:
        raise DataError(
            f"{where}: labels and prediction must be 1-D and aligned, got shapes {y.shape} and {p.shape}"
        )
    if not _is_binary(y):
        raise DataError(f"{where}: labels must be 0/1 (1 = anomalous), found {np.unique(y)[:5].tolist()}")
    if not y.any():
        raise DataError(f"{where}: the labels hold no anomaly, so the metric is undefined")
    if not _is_binary(p):
        raise DataError(f"{where}: predictions must be 0/1 (1 = anomalous), found {np.unique(p)[:5].tolist()}")
    return y.astype(bool), p.astype(bool)


def check_threshold(threshold: float, where: str) -> float:
    t = float(threshold)
    if not np.isfinite(t):
        raise DataError(f"{where}: threshold must be a finite number, got {threshold}; or use 'best'")
    return t


def candidate_thresholds(scores: np.ndarray, max_thresholds: int | None) -> np.ndarray:
    """Distinct score values, highest first; thinned to evenly spaced ranks when there are too many.

    Rank spacing (not value spacing) keeps the candidate set unchanged under any increasing
    transform of the scores, so the oracle F1 does not depend on the score scale.
    """
    distinct = np.unique(scores)[::-1]
    if max_thresholds is None or distinct.size <= max_thresholds:
        return distinct
    keep = np.unique(np.linspace(0, distinct.size - 1, max_thresholds).round().astype(np.int64))
    return distinct[keep]


def f1_from(precision: np.ndarray | float, recall: np.ndarray | float) -> np.ndarray:
    p = np.asarray(precision, dtype=np.float64)
    r = np.asarray(recall, dtype=np.float64)
    denom = p + r
    return np.divide(2 * p * r, denom, out=np.zeros_like(denom), where=denom > 0)

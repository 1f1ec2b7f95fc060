"""Severity alignment: do scores rise with the severity level of multilevel anomalies?

MAD-Bench style: Spearman rank correlation between the annotated severity level (0 =
normal, larger = more severe) and the anomaly score. 1 means scores order samples exactly
by severity; a detector can have high AUROC yet rank mild defects above severe ones.
"""

from __future__ import annotations

import numpy as np

from omniad.errors import DataError


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties sharing their mean rank."""
    order = np.argsort(values, kind="mergesort")
    sorted_vals = values[order]
    boundaries = np.r_[True, sorted_vals[1:] != sorted_vals[:-1], True]
    starts = np.flatnonzero(boundaries)
    mean_rank = (starts[:-1] + starts[1:] - 1) / 2.0 + 1.0
    counts = np.diff(starts)
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.repeat(mean_rank, counts)
    return ranks


def severity_correlation(severity: object, y_score: object) -> float:
    sev = np.asarray(severity, dtype=np.float64).reshape(-1)
    s = np.asarray(y_score, dtype=np.float64).reshape(-1)
    if sev.shape != s.shape:
        raise DataError(f"severity_correlation: {sev.size} severity levels but {s.size} scores")
    if not (np.all(np.isfinite(sev)) and np.all(np.isfinite(s))):
        raise DataError("severity_correlation: severity levels and scores must be finite")
    if np.unique(sev).size < 2:
        raise DataError("severity_correlation: needs at least two distinct severity levels")
    if np.unique(s).size < 2:
        return 0.0  # constant scores carry no ordering information
    ra, rb = average_ranks(sev), average_ranks(s)
    ra -= ra.mean()
    rb -= rb.mean()
    return float(np.dot(ra, rb) / np.sqrt(np.dot(ra, ra) * np.dot(rb, rb)))

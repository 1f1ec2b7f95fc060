"""Point-adjusted F1 (Xu et al., WWW 2018) and PA%K (Kim et al., AAAI 2022).

Point adjustment: once any point of a true anomaly range is flagged, the whole range
counts as detected; then the ordinary point-wise F1 is taken. It flatters: Kim et al.
show random scores reach state-of-the-art PA-F1, and on NAB's wide label windows random
scores reach PA-F1 0.93 (``../shared/design/targets.md``). Report it only beside an honest
metric (VUS-PR, AUC-PR).

PA%K adjusts a range only when more than K % of its points are flagged (K = 0 is PA,
K = 100 is no adjustment).

Both reduce to the point-wise F1 of *adjusted scores*: inside a range, a point is
counted at threshold t when its own score or the range's critical score (the m-th
largest score in the range, m the fewest points that exceed K %) is >= t. So every
threshold is evaluated exactly with one sort (the core's ``best_f1``), not on a grid.
"""

from __future__ import annotations

import numpy as np

from omniad.errors import DataError
from omniad.metrics.ranking import binary_curve
from omniad_timeseries.metrics.ranges import check_prediction, check_series, range_positions, runs


def points_needed(lengths: np.ndarray, k: float) -> np.ndarray:
    """Fewest flagged points c with c / L > K / 100, i.e. 100 c > K L (L + 1 when none)."""
    kl = k * lengths.astype(np.float64)
    c = np.floor(kl / 100).astype(np.int64) + 1
    c = np.where(100.0 * (c - 1) > kl, c - 1, c)  # guard against rounding in kl / 100
    return np.where(100.0 * c <= kl, c + 1, c)


def _check_k(k: float) -> None:
    if not 0.0 <= k <= 100.0:
        raise DataError(f"PA%K: K must be a percentage in [0, 100], got {k}")


def adjusted_scores(labels: np.ndarray, scores: np.ndarray, k: float = 0.0) -> np.ndarray:
    """Scores under which point-wise thresholding equals PA%K thresholding of ``scores``."""
    _check_k(k)
    labels, scores = check_series(labels, scores, "adjusted_scores")
    starts, ends = runs(labels)
    lengths = ends - starts + 1
    pos, owner = range_positions(starts, ends)
    # sort points by range, then by score descending: the m-th entry of a block is its critical score
    order = np.lexsort((-scores[pos], owner))
    need = points_needed(lengths, k)
    block_start = np.cumsum(lengths) - lengths
    reachable = need <= lengths
    critical = np.full(starts.size, -np.inf)
    critical[reachable] = scores[pos[order]][block_start[reachable] + need[reachable] - 1]
    out = np.array(scores, dtype=np.float64, copy=True)
    out[pos] = np.maximum(scores[pos], critical[owner])
    return out


def point_precision_recall(labels: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    """Point-wise precision (0 when nothing is predicted) and recall."""
    y, p = check_prediction(labels, pred, "point_precision_recall")
    tp = float(np.sum(p & y))
    n_pred = float(p.sum())
    return (tp / n_pred if n_pred else 0.0), tp / float(y.sum())


def adjust_predictions(labels: np.ndarray, pred: np.ndarray, k: float = 0.0) -> np.ndarray:
    """PA%K on a 0/1 prediction: flag a whole range when more than K % of it is flagged."""
    _check_k(k)
    labels, p = check_prediction(labels, pred, "adjust_predictions")
    starts, ends = runs(labels)
    pos, owner = range_positions(starts, ends)
    hits = np.bincount(owner, weights=p[pos], minlength=starts.size)
    full = hits >= points_needed(ends - starts + 1, k)
    p[pos[full[owner]]] = True
    return p


def pa_k_precision_recall(labels: np.ndarray, pred: np.ndarray, k: float = 0.0) -> tuple[float, float]:
    return point_precision_recall(labels, adjust_predictions(labels, pred, k))


def pa_k_curve(labels: np.ndarray, scores: np.ndarray, k: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall at every distinct threshold of the adjusted scores (highest first)."""
    labels, scores = check_series(labels, scores, "pa_k_curve")
    fps, tps, thresholds = binary_curve(labels, adjusted_scores(labels, scores, k))
    return tps / (tps + fps), tps / tps[-1], thresholds

"""VUS-ROC and VUS-PR (Paparrizos et al., VLDB 2022), equal to TSB-AD 1.5's ``opt`` version.

Definition (what TSB-AD's ``RangeAUC_volume_opt`` computes, restated): for every buffer
length ``b`` in ``0..window`` each anomaly range is widened by ``b // 2`` points per side,
a widened point at distance ``d`` weighing ``sqrt(1 - d / b)`` (weights of overlapping
buffers add, capped at 1; range points weigh 1). At each of ``n_thresholds`` thresholds
(the sorted scores at ``linspace(0, T - 1, n_thresholds)``; ``score >= t`` is predicted):

* ``TP`` = predicted weight, ``P' = P + (TP - TP_in_ranges) / 2``,
* ``TPR = min(TP / P', 1) * existence`` with existence = share of widened (merged) ranges
  holding a prediction, ``FPR = (#predicted - TP) / (T - P')``, ``precision = TP / #predicted``,

and the ROC curve ``(0,0), points, (1,1)`` is integrated by trapezoids, the PR curve as
``sum(delta TPR * precision)``. VUS is the mean over the ``window + 1`` buffer lengths.

How it is fast (TSB-AD: one O(T) pass per threshold per buffer length, ~25,000 passes):
every timestep gets the index of the first threshold that predicts it (one sort plus
``searchsorted``), so per-threshold counts are cumulative sums of a histogram. A buffer
point's weight depends only on its distance ``d1`` to the nearest range and ``d2`` to the
second nearest (two contributions always exceed 1, since each is at least ``sqrt(1/2)``),
so one (threshold x distance) histogram gives the predicted buffer weight of all
thresholds for each buffer length. Existence needs, per merged range, the first threshold
that predicts any of its points: a running minimum per range as the buffer grows. Cost:
O(T log T) for the sort plus O(n_thresholds * window**2) — independent of T.
"""

from __future__ import annotations

import numpy as np

from omniad.errors import DataError
from omniad_timeseries.metrics.ranges import check_series, runs

TSBAD_THRESHOLDS = 250


def _check_window(window: int, n_thresholds: int, where: str) -> None:
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 0:
        raise DataError(f"{where}: window must be an integer >= 0 (buffer length), got {window!r}")
    if isinstance(n_thresholds, bool) or not isinstance(n_thresholds, (int, np.integer)) or n_thresholds < 1:
        raise DataError(f"{where}: n_thresholds must be an integer >= 1, got {n_thresholds!r}")


def _first_predicting_threshold(scores: np.ndarray, n_thresholds: int) -> np.ndarray:
    """Index k of the first (highest) threshold with ``scores >= thr[k]``; n_thresholds if none."""
    descending = np.sort(scores)[::-1]
    thr = descending[np.linspace(0, scores.size - 1, n_thresholds).astype(int)]
    return np.searchsorted(-thr, -scores, side="left")


def _cumulative_counts(index: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    return np.cumsum(np.bincount(index, weights=weights, minlength=n + 1)[:n])


def _buffer_points(y: np.ndarray, starts: np.ndarray, ends: np.ndarray, reach: int) -> tuple[np.ndarray, ...]:
    """Normal timesteps within ``reach`` of a range: position, nearest range, d1, d2."""
    n = y.size
    cover = np.bincount(np.maximum(starts - reach, 0), minlength=n + 1)[: n + 1]
    cover -= np.bincount(np.minimum(ends + reach, n - 1) + 1, minlength=n + 1)[: n + 1]
    pos = np.flatnonzero((np.cumsum(cover[:n]) > 0) & (y == 0))
    far = np.int64(2 * n + 2 * reach + 2)
    n_ranges = starts.size
    left = np.searchsorted(ends, pos, side="left") - 1  # last range ending before pos
    right = np.searchsorted(starts, pos, side="right")  # first range starting after pos

    def dist(idx: np.ndarray, edge: np.ndarray, sign: int) -> np.ndarray:
        ok = (idx >= 0) & (idx < n_ranges)
        return np.where(ok, sign * (pos - edge[np.clip(idx, 0, n_ranges - 1)]), far)

    dl1, dl2 = dist(left, ends, 1), dist(left - 1, ends, 1)
    dr1, dr2 = dist(right, starts, -1), dist(right + 1, starts, -1)
    d1 = np.minimum(dl1, dr1)
    d2 = np.minimum(np.maximum(dl1, dr1), np.minimum(dl2, dr2))
    nearest = np.where(dl1 <= dr1, left, right)
    return pos, nearest, d1, d2


def vus(labels: object, scores: object, window: int, n_thresholds: int = TSBAD_THRESHOLDS) -> dict[str, float]:
    """VUS-ROC and VUS-PR of one series for buffer lengths ``0..window``.

    Equal (to float rounding) to TSB-AD 1.5's ``get_metrics(score, labels,
    slidingWindow=window)['VUS-ROC' / 'VUS-PR']`` with its default ``thre=250``.
    """
    _check_window(window, n_thresholds, "vus")
    y, s = check_series(labels, scores, "vus")
    n, n_thr, reach = y.size, int(n_thresholds), int(window) // 2
    starts, ends = runs(y)
    n_anom = int(y.sum())

    kt = _first_predicting_threshold(s, n_thr)
    n_pred = _cumulative_counts(kt, n_thr).astype(np.float64)
    tp_in_ranges = _cumulative_counts(kt[y == 1], n_thr).astype(np.float64)

    # running minimum over each range of the first predicting threshold, grown with the buffer
    pad = np.r_[kt, n_thr]
    range_first = np.minimum.reduceat(pad, np.ravel(np.column_stack([starts, ends + 1])))[::2]
    gaps = starts[1:] - ends[:-1]

    pos, nearest, d1, d2 = _buffer_points(y, starts, ends, reach)
    kb = kt[pos]
    width = min(reach, n) + 1  # no timestep lies farther than n from a range
    cells = (n_thr + 1) * width
    single = np.bincount(kb * width + d1, minlength=cells).reshape(n_thr + 1, width)[:n_thr].astype(np.float64)
    double = np.zeros(cells)  # (threshold, d1) histogram of points whose d2 is within the buffer
    by_d1 = np.argsort(d1, kind="stable")
    d1_sorted = d1[by_d1]
    by_d2 = np.argsort(d2, kind="stable")
    d2_sorted = d2[by_d2]

    auc = np.empty(window + 1)
    ap = np.empty(window + 1)
    h_done = 0
    for b in range(window + 1):
        h = b // 2
        while h_done < h:  # buffer grows by one point per side
            h_done += 1
            lo, hi = np.searchsorted(d1_sorted, [h_done, h_done + 1])
            sel = by_d1[lo:hi]
            np.minimum.at(range_first, nearest[sel], kb[sel])
            lo, hi = np.searchsorted(d2_sorted, [h_done, h_done + 1])
            sel = by_d2[lo:hi]
            double += np.bincount(kb[sel] * width + d1[sel], minlength=cells)
        if h:
            hh = min(h, width - 1)
            w = np.sqrt(1 - np.arange(1, hh + 1) / b)
            in_reach = double.reshape(n_thr + 1, width)[:n_thr, 1 : hh + 1]
            buffer_tp = np.cumsum(single[:, 1 : hh + 1] @ w + in_reach @ (1 - w))
        else:
            buffer_tp = np.zeros(n_thr)

        group_starts = np.r_[0, np.flatnonzero(gaps > 2 * h) + 1]
        group_first = np.minimum.reduceat(range_first, group_starts)
        existence = _cumulative_counts(group_first, n_thr) / group_starts.size

        tp = tp_in_ranges + buffer_tp
        p_new = n_anom + buffer_tp / 2
        tpr = np.r_[0.0, np.minimum(tp / p_new, 1.0) * existence, 1.0]
        fpr = np.r_[0.0, (n_pred - tp) / (n - p_new), 1.0]
        precision = tp / n_pred
        auc[b] = np.dot(np.diff(fpr), (tpr[1:] + tpr[:-1]) / 2)
        ap[b] = np.dot(np.diff(tpr[:-1]), precision)
    return {"vus_roc": float(auc.mean()), "vus_pr": float(ap.mean())}


def vus_roc(labels: object, scores: object, window: int, n_thresholds: int = TSBAD_THRESHOLDS) -> float:
    return vus(labels, scores, window, n_thresholds)["vus_roc"]


def vus_pr(labels: object, scores: object, window: int, n_thresholds: int = TSBAD_THRESHOLDS) -> float:
    return vus(labels, scores, window, n_thresholds)["vus_pr"]


def check_auto_window_input(series: object, length: int, where: str) -> np.ndarray:
    """The test series a window is derived from: (T,) or (T, C), finite, aligned with the labels."""
    x = np.asarray(series, dtype=np.float64)
    if x.ndim not in (1, 2) or x.shape[0] != length:
        raise DataError(
            f"{where}: window='auto' needs the test series (T,) or (T, C) aligned with its {length} "
            f"labels, got shape {x.shape}; pass an integer window instead"
        )
    if not np.all(np.isfinite(x)):
        raise DataError(f"{where}: the test series has NaN/inf, so window='auto' cannot estimate its period")
    return x

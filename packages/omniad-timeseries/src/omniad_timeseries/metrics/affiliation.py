"""Affiliation precision and recall (Huet, Navarro and Rossi, KDD 2022), from the paper's definitions.

Timestep ``i`` is the interval ``[i, i + 1)``; the series spans ``[0, T)``. Each true event
``J`` owns an affiliation zone ``E``: the points closer to ``J`` than to any other true event
(zone borders at the midpoints between events, the outer ones at 0 and T). Inside the zone:

* precision of ``J``: mean over predicted points ``x`` in ``E`` of ``P(dist(X, J) >= dist(x, J))``
  for ``X`` uniform on ``E`` — how much closer to ``J`` the predictions are than chance;
  undefined (left out of the average) when nothing is predicted in ``E``;
* recall of ``J``: mean over ``y`` in ``J`` of ``P(|X - y| >= dist(y, predictions in E))`` —
  0 when nothing is predicted in ``E``.

Precision and recall average these over events. Both survival functions are piecewise
linear in the distance and the distances are piecewise linear in position, so the
integrals have closed forms (``_phi`` and ``_psi`` below); we evaluate them for all predicted
pieces at once instead of looping over events.
"""

from __future__ import annotations

import numpy as np

from omniad_timeseries.metrics.ranges import check_prediction, runs


def _phi(d: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Integral of ``min(t, cap)`` for t from 0 to d."""
    return np.where(d <= cap, d * d / 2, cap * cap / 2 + cap * (d - cap))


def _psi(t: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Integral of ``min(2 tau, cap)`` for tau from 0 to t."""
    return np.where(2 * t <= cap, t * t, cap * cap / 4 + cap * (t - cap / 2))


def _zones(g_start: np.ndarray, g_stop: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    mid = (g_stop[:-1] + g_start[1:]) / 2
    return np.r_[0.0, mid], np.r_[mid, float(length)]


def _pieces(
    p_start: np.ndarray, p_stop: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predicted intervals cut at zone borders: (start, stop, zone) of every non-empty piece."""
    inner = hi[:-1]
    z_first = np.searchsorted(inner, p_start, side="right")
    z_last = np.searchsorted(inner, p_stop, side="left")
    count = z_last - z_first + 1
    owner = np.repeat(np.arange(p_start.size), count)
    zone = np.repeat(z_first, count) + (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count))
    start = np.maximum(p_start[owner], lo[zone])
    stop = np.minimum(p_stop[owner], hi[zone])
    keep = stop > start
    return start[keep], stop[keep], zone[keep]


def _precision_integral(u, v, js, je, lo, hi) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Integral over x in [u, v) of P(dist(X, J) >= dist(x, J)), X uniform on [lo, hi)."""
    size = hi - lo
    left_cap, right_cap = js - lo, hi - je
    inside = np.clip(np.minimum(v, je) - np.maximum(u, js), 0, None)

    def side(d_a: np.ndarray, d_b: np.ndarray) -> np.ndarray:
        span = np.clip(d_b - d_a, 0, None)
        d_b = d_a + span
        mass = _phi(d_b, left_cap) - _phi(d_a, left_cap) + _phi(d_b, right_cap) - _phi(d_a, right_cap)
        return span * (1 - (je - js) / size) - mass / size

    before = side(js - np.minimum(v, js), js - np.minimum(u, js))
    after = side(np.maximum(u, je) - je, np.maximum(v, je) - je)
    return inside + before + after


def _recall_integral(a, b, pivot, cap, size) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Integral over y in [a, b) of 1 - min(2|y - pivot|, cap) / size, [a, b) on one side of pivot."""
    span = np.clip(b - a, 0, None)
    t_near = np.minimum(np.abs(a - pivot), np.abs(b - pivot))
    return span - (_psi(t_near + span, cap) - _psi(t_near, cap)) / size


def affiliation_precision_recall(labels: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    """Affiliation precision and recall of a 0/1 prediction against 0/1 labels.

    Precision is 0 when nothing is predicted (the paper leaves it undefined).
    """
    labels, pred = check_prediction(labels, pred, "affiliation_precision_recall")
    gs, ge = runs(labels)
    g_start, g_stop = gs.astype(np.float64), ge + 1.0
    lo, hi = _zones(g_start, g_stop, np.size(labels))
    ps, pe = runs(pred)
    if ps.size == 0:
        return 0.0, 0.0
    u, v, zone = _pieces(ps.astype(np.float64), pe + 1.0, lo, hi)
    n_zones = gs.size
    js, je, zlo, zhi = g_start[zone], g_stop[zone], lo[zone], hi[zone]

    # precision: per zone, mean of the survival probability over its predicted pieces
    num = np.bincount(zone, _precision_integral(u, v, js, je, zlo, zhi), minlength=n_zones)
    den = np.bincount(zone, v - u, minlength=n_zones)
    has_pred = den > 0
    precision = float(np.mean(num[has_pred] / den[has_pred]))

    # recall: J is split between the pieces of its zone by midpoints; each part looks at one pivot
    first = np.r_[True, zone[1:] != zone[:-1]]
    last = np.r_[zone[1:] != zone[:-1], True]
    left_bound = np.where(first, zlo, (np.r_[0.0, v[:-1]] + u) / 2)
    right_bound = np.where(last, zhi, (v + np.r_[u[1:], 0.0]) / 2)
    size = zhi - zlo
    covered = np.clip(np.minimum(v, je) - np.maximum(u, js), 0, None)
    before = _recall_integral(np.maximum(left_bound, js), np.minimum(u, je), u, u - zlo, size)
    after = _recall_integral(np.maximum(v, js), np.minimum(right_bound, je), v, zhi - v, size)
    per_zone = np.bincount(zone, covered + before + after, minlength=n_zones) / (g_stop - g_start)
    recall = float(per_zone.sum() / n_zones)
    return precision, recall

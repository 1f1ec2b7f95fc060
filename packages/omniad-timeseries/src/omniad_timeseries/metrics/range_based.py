"""Range-based precision and recall (Tatbul et al., NeurIPS 2018, "Precision and Recall for Time Series").

For real ranges R_i and predicted ranges P_j:

* ``Recall(R_i) = alpha * Existence + (1 - alpha) * Cardinality(R_i) * sum_j omega(R_i, R_i ∩ P_j)``
* ``Precision(P_j) = Cardinality(P_j) * sum_i omega(P_j, P_j ∩ R_i)`` (no existence term),

averaged over ranges. ``omega`` is the positional-bias-weighted share of the range that is
covered (bias ``delta(i, L)`` for the i-th of L points: flat 1, front ``L - i + 1``, back ``i``,
middle ``min(i, L - i + 1)``). Cardinality is 1 when a range overlaps at most one range of
the other side, else ``gamma``: 1 (``"one"``) or ``1 / overlaps`` (``"reciprocal"``).

Vectorised over ranges (prefix sums of weights and of range starts), so a threshold costs
a few O(T) numpy passes.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from omniad.errors import DataError
from omniad_timeseries.metrics.ranges import check_prediction, range_positions, runs

Bias = Literal["flat", "front", "back", "middle"]
Cardinality = Literal["one", "reciprocal"]
BIASES: tuple[str, ...] = ("flat", "front", "back", "middle")
CARDINALITIES: tuple[str, ...] = ("one", "reciprocal")


def positional_weights(starts: np.ndarray, ends: np.ndarray, bias: Bias) -> tuple[np.ndarray, np.ndarray]:
    """Positions covered by the ranges and the bias weight of each (1-based position i of L)."""
    pos, owner = range_positions(starts, ends)
    i = pos - starts[owner] + 1
    length = (ends - starts + 1)[owner]
    if bias == "flat":
        w = np.ones(i.size)
    elif bias == "front":
        w = (length - i + 1).astype(np.float64)
    elif bias == "back":
        w = i.astype(np.float64)
    elif bias == "middle":
        w = np.where(i <= length / 2, i, length - i + 1).astype(np.float64)
    else:
        raise DataError(f"range metric: unknown positional bias {bias!r}; use one of {', '.join(BIASES)}")
    return pos, w


def _side(
    starts: np.ndarray,
    ends: np.ndarray,
    other: np.ndarray,
    other_starts: np.ndarray,
    alpha: float,
    cardinality: Cardinality,
    bias: Bias,
) -> float:
    """Mean over the ranges (starts, ends) of their reward against the other side's mask."""
    if starts.size == 0:
        return 0.0
    pos, w = positional_weights(starts, ends, bias)
    first = np.r_[0, np.cumsum(ends - starts + 1)[:-1]]
    covered = np.add.reduceat(w * other[pos], first)
    omega = covered / np.add.reduceat(w, first)
    # other ranges overlapping [s, e]: those starting in (s, e] plus one containing s
    start_mark = np.zeros(other.size, dtype=np.int64)
    start_mark[other_starts] = 1
    cum = np.cumsum(start_mark)
    n_overlap = cum[ends] - cum[starts] + other[starts]
    if cardinality == "reciprocal":
        factor = np.where(n_overlap > 1, 1.0 / np.maximum(n_overlap, 1), 1.0)
    elif cardinality == "one":
        factor = np.ones(starts.size)
    else:
        raise DataError(
            f"range metric: unknown cardinality {cardinality!r}; use one of {', '.join(CARDINALITIES)}"
        )
    reward = alpha * (n_overlap > 0) + (1 - alpha) * factor * omega
    return float(reward.mean())


def range_precision_recall(
    labels: np.ndarray,
    pred: np.ndarray,
    *,
    alpha: float = 0.0,
    cardinality: Cardinality = "one",
    recall_bias: Bias = "flat",
    precision_bias: Bias = "flat",
) -> tuple[float, float]:
    """Range precision and recall of a 0/1 prediction against 0/1 labels.

    Precision is 0 when nothing is predicted.
    """
    if not 0.0 <= alpha <= 1.0:
        raise DataError(f"range_precision_recall: alpha must be in [0, 1], got {alpha}")
    y, p = (a.astype(np.int64) for a in check_prediction(labels, pred, "range_precision_recall"))
    ys, ye = runs(y)
    ps, pe = runs(p)
    recall = _side(ys, ye, p, ps, alpha, cardinality, recall_bias)
    precision = _side(ps, pe, y, ys, 0.0, cardinality, precision_bias)
    return precision, recall

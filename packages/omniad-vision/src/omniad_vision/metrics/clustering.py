"""How well discovered anomaly classes match the true defect types (AnomalyNCD's evaluation).

NMI and ARI are scikit-learn's; the clustering accuracy is the share of samples whose cluster,
mapped one-to-one to a true class by the Hungarian algorithm (scipy), names their class, as
novel-class-discovery papers report it. Cluster ids are arbitrary, so all three are invariant to
renaming them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad.errors import DataError


def _labels(truth: Sequence[Any] | np.ndarray, predicted: Sequence[Any] | np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    t, p = np.asarray(truth), np.asarray(predicted)
    if t.ndim != 1 or p.ndim != 1 or len(t) != len(p):
        raise DataError(f"{where}: give two 1-D label sequences of the same length, got shapes {t.shape} and {p.shape}")
    if len(t) == 0:
        raise DataError(f"{where}: no samples to compare; pass at least one label")
    return np.unique(t, return_inverse=True)[1], np.unique(p, return_inverse=True)[1]


def cluster_accuracy(truth: Sequence[Any] | np.ndarray, predicted: Sequence[Any] | np.ndarray) -> float:
    """Share of samples right after the best one-to-one matching of clusters to classes."""
    from scipy.optimize import linear_sum_assignment

    t, p = _labels(truth, predicted, "cluster_accuracy")
    counts = np.zeros((p.max() + 1, t.max() + 1), dtype=np.int64)
    np.add.at(counts, (p, t), 1)
    rows, cols = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, cols].sum() / len(t))


def clustering_scores(truth: Sequence[Any] | np.ndarray, predicted: Sequence[Any] | np.ndarray) -> dict[str, float]:
    """``{"nmi", "ari", "accuracy"}`` of predicted clusters against true classes."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    t, p = _labels(truth, predicted, "clustering_scores")
    return {"nmi": float(normalized_mutual_info_score(t, p)), "ari": float(adjusted_rand_score(t, p)),
            "accuracy": cluster_accuracy(t, p)}

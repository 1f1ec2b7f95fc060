"""Normal (or abnormal) patterns as k-means centres of feature rows (FOD's references, NAGL's prototypes)."""

from __future__ import annotations

import numpy as np
import torch


def kmeans_rows(x: torch.Tensor, k: int, seed: int, max_rows: int = 4096) -> torch.Tensor:
    """``k`` k-means centres (scikit-learn) of a seeded sample of at most ``max_rows`` rows of ``x``;
    with fewer rows than ``k`` the rows are repeated."""
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(seed)
    rows = x[torch.from_numpy(rng.choice(len(x), min(len(x), max_rows), replace=False))].double().numpy()
    if len(rows) < k:
        return torch.from_numpy(rows[np.arange(k) % len(rows)]).float()
    return torch.from_numpy(KMeans(k, n_init=1, random_state=seed).fit(rows).cluster_centers_).float()

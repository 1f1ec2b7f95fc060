"""The k-th nearest-neighbour distance, exact and in bounded blocks (``video.frame_knn``, ``video.cell_knn``'s regions).

Direct differences, not torch's matrix-product form: that form subtracts squared norms of ~100
to get squared distances of ~0.08 between near-identical Ped2 frames, so its float32 rounding
(which BLAS kernel, which alignment) moved frame scores by 1e-4 relative between two processes
scoring the same video (a fresh-clone CI run); direct differences cost 0.7 s per 2,010 x 2,550
frames. ``video.cell_knn``'s cells keep the matrix-product form on standardised cues, where
distances and norms are alike and nothing cancels.
"""

from __future__ import annotations

import numpy as np


def kth_distance(query: np.ndarray, bank: np.ndarray, k: int, rows: int, device: str = "cpu") -> np.ndarray:
    """``(len(query),)`` float64: each query row's distance to its k-th nearest bank row (k capped at the
    bank's size), ``rows`` query rows per distance block."""
    import torch

    if not len(query):
        return np.zeros(0)
    b = torch.from_numpy(np.ascontiguousarray(bank, dtype=np.float32)).to(device)
    k, rows = min(int(k), len(bank)), max(1, int(rows))
    out = []
    for start in range(0, len(query), rows):
        q = torch.from_numpy(np.ascontiguousarray(query[start:start + rows], dtype=np.float32)).to(device)
        d = torch.cdist(q, b, compute_mode="donot_use_mm_for_euclid_dist")
        out.append(d.topk(k, dim=1, largest=False).values[:, -1].cpu().numpy())
    return np.concatenate(out).astype(np.float64)

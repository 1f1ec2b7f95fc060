"""Exact k-nearest neighbours in torch, chunked so that 100k-point clouds fit in memory.

A k-d tree (scipy, Open3D) is faster on one CPU core for tiny k, but the descriptors and
detectors here run on the GPU when one is present; exact brute force in blocks of queries
keeps one code path for both and is what the FPFH benchmark measures.
"""

from __future__ import annotations

import torch

#: distances computed at once: queries x points (x 4 bytes) per block, about 256 MiB
BLOCK_ELEMENTS = 64 * 1024 * 1024


def knn(points: torch.Tensor, k: int, queries: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(squared distances, indices)`` of the ``k`` nearest ``points`` to each query, nearest first.

    Without ``queries`` the points query themselves, so column 0 is each point itself
    (distance 0), as in Open3D's searches.
    """
    q = points if queries is None else queries
    k = min(int(k), points.shape[0])
    sq = (points * points).sum(1)
    block = max(1, BLOCK_ELEMENTS // max(points.shape[0], 1))
    dists, idxs = [], []
    for start in range(0, q.shape[0], block):
        qb = q[start : start + block]
        d = (qb * qb).sum(1, keepdim=True) - 2.0 * qb @ points.T + sq[None, :]
        d.clamp_(min=0.0)
        dv, iv = torch.topk(d, k, dim=1, largest=False, sorted=True)
        dists.append(dv)
        idxs.append(iv)
    return torch.cat(dists), torch.cat(idxs)


def radius_neighbours(
    points: torch.Tensor, radius: float, max_nn: int, queries: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Open3D's hybrid search: the ``max_nn`` nearest within ``radius``.

    Returns ``(squared distances, indices, valid mask)``, each ``(Q, max_nn)``, nearest first;
    entries beyond the radius are masked out (their index points at the query's nearest).
    """
    d, i = knn(points, max_nn, queries)
    valid = d <= radius * radius
    i = torch.where(valid, i, i[:, :1])
    return d, i, valid

"""Farthest point sampling, greedy k-center coreset and nearest-neighbour distances in torch.

omniad-vision's PatchCore has its own coreset; the point cloud package installs without
vision, so the few lines live here too (same algorithm: Sener & Savarese 2018 greedy
k-center on a random projection, as PatchCore).
"""

from __future__ import annotations

import torch

from omniad_pointcloud.features.neighbours import knn


def farthest_points(points: torch.Tensor, m: int, start: int = 0) -> torch.Tensor:
    """Indices of ``m`` points spread over the cloud, each the farthest from those chosen before."""
    n = points.shape[0]
    m = min(m, n)
    chosen = torch.empty(m, dtype=torch.long, device=points.device)
    dist = torch.full((n,), float("inf"), dtype=points.dtype, device=points.device)
    current = start % n
    for j in range(m):
        chosen[j] = current
        dist = torch.minimum(dist, ((points - points[current]) ** 2).sum(1))
        current = int(torch.argmax(dist))
    return chosen


def coreset(features: torch.Tensor, m: int, generator: torch.Generator, projection_dim: int = 128) -> torch.Tensor:
    """Indices of ``m`` rows covering ``features`` (greedy k-center on a random projection)."""
    n, d = features.shape
    if m >= n:
        return torch.arange(n, device=features.device)
    x = features
    if d > projection_dim:
        proj = torch.randn(d, projection_dim, generator=generator, dtype=features.dtype) / projection_dim**0.5
        x = features @ proj.to(features.device)
    start = int(torch.randint(n, (1,), generator=generator))
    return farthest_points(x, m, start)


def nearest_distance(bank: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
    d, _ = knn(bank, 1, queries)
    return d[:, 0].sqrt()

"""Surface normals by local PCA, oriented consistently.

The normal is the eigenvector of the smallest eigenvalue of the neighbourhood covariance
(the same estimate Open3D and PCL make). PCA leaves the sign open; descriptors such as FPFH
depend on it, so it is fixed by a rule: away from the cloud's centroid (closed objects) or
towards a viewpoint (single-view scans such as MVTec 3D-AD, camera at the origin).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from omniad_pointcloud.features.neighbours import (
    check_cloud,
    check_search,
    radius_dense,
    spatial_order,
)
from omniad_pointcloud.features.pairs import Pairs, hybrid_pairs

Orientation = Literal["outward", "viewpoint", "none"]


def estimate_normals(
    points: torch.Tensor,
    radius: float,
    max_nn: int = 30,
    *,
    orient: Orientation = "outward",
    viewpoint: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> torch.Tensor:
    """Unit normals ``(N, 3)`` from the ``max_nn`` nearest neighbours within ``radius``.

    A point with fewer than 3 neighbours (itself included) has no plane to fit; it gets
    ``(0, 0, 1)`` as in Open3D (an arbitrary vector of the covariance's null space depended on
    the LAPACK build and broke FPFH's pose invariance there).

    On a CPU the neighbours come from a k-d tree and the covariances are float64 NumPy (as
    Open3D's); on CUDA everything stays in torch on the device.
    """
    check_cloud(points, "estimate_normals")
    if orient not in ("outward", "viewpoint", "none"):
        raise ValueError(f"estimate_normals: orient must be 'outward', 'viewpoint' or 'none', got {orient!r}")
    if points.device.type == "cpu":
        max_nn = check_search(radius, max_nn, "estimate_normals")
        order = spatial_order(points.detach().double().numpy())
        pts = points.detach().double().numpy()[order]
        out = np.empty_like(pts)
        out[order] = _pca_numpy(pts, hybrid_pairs(pts, radius, max_nn))
        normals = torch.from_numpy(out).to(points.dtype)
    else:
        normals = _pca_torch(
            points, *radius_dense(points, radius, check_search(radius, max_nn, "estimate_normals"))[1:]
        )
    if orient == "outward":
        ref = points - points.mean(0, keepdim=True)
        normals = torch.where(((normals * ref).sum(1) < 0)[:, None], -normals, normals)
    elif orient == "viewpoint":
        ref = torch.tensor(viewpoint, dtype=points.dtype, device=points.device) - points
        normals = torch.where(((normals * ref).sum(1) < 0)[:, None], -normals, normals)
    return normals


def _pca_numpy(points: np.ndarray, pairs: Pairs) -> np.ndarray:
    """Smallest-eigenvalue eigenvector of each neighbourhood covariance (the point included), float64.

    Two passes (mean, then moments of the centred coordinates), as the torch path; the sums
    over each point's variable number of neighbours are ``bincount``s over the pair list.
    """
    n = len(points)
    count = pairs.count.astype(np.float64)

    def per_point(values: np.ndarray, own: np.ndarray) -> np.ndarray:
        return np.bincount(pairs.src, weights=values, minlength=n) + own

    nb = [points[pairs.dst, c] for c in range(3)]
    mean = [per_point(nb[c], points[:, c]) / count for c in range(3)]
    centred = [nb[c] - mean[c][pairs.src] for c in range(3)]
    own = [points[:, c] - mean[c] for c in range(3)]
    cov = np.empty((n, 3, 3))
    for a in range(3):
        for b in range(a, 3):
            cov[:, a, b] = cov[:, b, a] = per_point(centred[a] * centred[b], own[a] * own[b]) / count
    normals = np.linalg.eigh(cov)[1][:, :, 0]
    normals[pairs.count < 3] = (0.0, 0.0, 1.0)
    return normals


def _pca_torch(points: torch.Tensor, idx: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """``_pca_numpy`` in torch on the points' device (the CUDA path)."""
    nb = points[idx]  # (N, K, 3)
    w = valid.to(points.dtype).unsqueeze(-1)
    count = w.sum(1).clamp(min=1.0)
    mean = (nb * w).sum(1) / count
    centred = (nb - mean[:, None, :]) * w
    cov = centred.transpose(1, 2) @ centred / count[:, :, None]
    _, vecs = torch.linalg.eigh(cov.double())
    normals = vecs[:, :, 0].to(points.dtype)
    normals[valid.sum(1) < 3] = torch.tensor((0.0, 0.0, 1.0), dtype=points.dtype, device=points.device)
    return normals

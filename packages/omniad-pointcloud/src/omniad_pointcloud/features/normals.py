"""Surface normals by local PCA, oriented consistently.

The normal is the eigenvector of the smallest eigenvalue of the neighbourhood covariance
(the same estimate Open3D and PCL make). PCA leaves the sign open; descriptors such as FPFH
depend on it, so it is fixed by a rule: away from the cloud's centroid (closed objects) or
towards a viewpoint (single-view scans such as MVTec 3D-AD, camera at the origin).
"""

from __future__ import annotations

from typing import Literal

import torch

from omniad_pointcloud.features.neighbours import radius_neighbours

Orientation = Literal["outward", "viewpoint", "none"]


def estimate_normals(
    points: torch.Tensor, radius: float, max_nn: int = 30, *, orient: Orientation = "outward",
    viewpoint: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> torch.Tensor:
    """Unit normals ``(N, 3)`` from the ``max_nn`` nearest neighbours within ``radius``."""
    _, idx, valid = radius_neighbours(points, radius, max_nn)
    nb = points[idx]  # (N, K, 3)
    w = valid.to(points.dtype).unsqueeze(-1)
    count = w.sum(1).clamp(min=1.0)
    mean = (nb * w).sum(1) / count
    centred = (nb - mean[:, None, :]) * w
    cov = centred.transpose(1, 2) @ centred / count[:, :, None]
    _, vecs = torch.linalg.eigh(cov.double())
    normals = vecs[:, :, 0].to(points.dtype)
    if orient == "outward":
        ref = points - points.mean(0, keepdim=True)
        normals = torch.where(((normals * ref).sum(1) < 0)[:, None], -normals, normals)
    elif orient == "viewpoint":
        ref = torch.tensor(viewpoint, dtype=points.dtype, device=points.device) - points
        normals = torch.where(((normals * ref).sum(1) < 0)[:, None], -normals, normals)
    return normals

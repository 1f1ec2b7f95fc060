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
        # no leaf-order permutation here (as FPFH has): a normals neighbourhood is small and
        # the permutation cost what it saved
        pts = points.detach().double().numpy()
        out = _pca_numpy(pts, hybrid_pairs(pts, radius, max_nn))
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
    over each point's variable number of neighbours are ``bincount``s over the pair list, once
    from each end of a pair.
    """
    n, i, j = len(points), pairs.i, pairs.j
    count = pairs.count.astype(np.float64)
    w_i, w_j = pairs.keep_ij.astype(np.float64), pairs.keep_ji.astype(np.float64)

    def per_point(from_i: np.ndarray, from_j: np.ndarray, own: np.ndarray) -> np.ndarray:
        return (
            np.bincount(i, weights=from_i * w_i, minlength=n)
            + np.bincount(j, weights=from_j * w_j, minlength=n)
            + own
        )

    xyz = [np.ascontiguousarray(points[:, c]) for c in range(3)]
    mean = [per_point(x[j], x[i], x) / count for x in xyz]
    at_i = [x[j] - mu[i] for x, mu in zip(xyz, mean, strict=True)]  # j seen from i's mean
    at_j = [x[i] - mu[j] for x, mu in zip(xyz, mean, strict=True)]
    own = [x - mu for x, mu in zip(xyz, mean, strict=True)]
    cov = np.empty((n, 3, 3))
    for a in range(3):
        for b in range(a, 3):
            moment = per_point(at_i[a] * at_i[b], at_j[a] * at_j[b], own[a] * own[b])
            cov[:, a, b] = cov[:, b, a] = moment / count
    normals = smallest_eigenvectors(cov)
    normals[pairs.count < 3] = (0.0, 0.0, 1.0)
    return normals


def smallest_eigenvectors(cov: np.ndarray) -> np.ndarray:
    """Unit eigenvector of the smallest eigenvalue of each symmetric 3 x 3 matrix ``(N, 3, 3)``.

    Closed form (the eigenvalue by the trigonometric formula, the vector as the largest cross
    product of two rows of ``cov - lambda I``), as Open3D's fast normals do: batched LAPACK
    ``eigh`` took a third of the normals' time. Where the two smallest eigenvalues come within
    1e-3 of the spread (no well-defined normal: the closed form loses digits there) ``eigh``
    answers instead.
    """
    a00, a11, a22 = cov[:, 0, 0], cov[:, 1, 1], cov[:, 2, 2]
    a01, a02, a12 = cov[:, 0, 1], cov[:, 0, 2], cov[:, 1, 2]
    q = (a00 + a11 + a22) / 3.0
    b00, b11, b22 = a00 - q, a11 - q, a22 - q
    p = np.sqrt((b00 * b00 + b11 * b11 + b22 * b22 + 2.0 * (a01 * a01 + a02 * a02 + a12 * a12)) / 6.0)
    ps = np.where(p > 0, p, 1.0)
    det = b00 * (b11 * b22 - a12 * a12) - a01 * (a01 * b22 - a12 * a02) + a02 * (a01 * a12 - b11 * a02)
    phi = np.arccos(np.clip(det / (2.0 * ps**3), -1.0, 1.0)) / 3.0
    lam = q + 2.0 * p * np.cos(phi + 2.0 * np.pi / 3.0)
    rows = [(a00 - lam, a01, a02), (a01, a11 - lam, a12), (a02, a12, a22 - lam)]
    best = np.zeros((len(cov), 3))
    best_norm = np.zeros(len(cov))
    for u, v in ((0, 1), (0, 2), (1, 2)):
        r, t = rows[u], rows[v]
        c = np.stack(
            [r[1] * t[2] - r[2] * t[1], r[2] * t[0] - r[0] * t[2], r[0] * t[1] - r[1] * t[0]], axis=1
        )
        norm = np.einsum("ij,ij->i", c, c)
        better = norm > best_norm
        best[better], best_norm[better] = c[better], norm[better]
    out = best / np.sqrt(np.where(best_norm > 0, best_norm, 1.0))[:, None]
    unsure = ~(best_norm > (1e-3 * p * p) ** 2)  # also catches p == 0 and NaN
    if unsure.any():
        out[unsure] = np.linalg.eigh(cov[unsure])[1][:, :, 0]
    return out


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

"""Fast Point Feature Histograms (Rusu, Blodow & Beetz, ICRA 2009) in torch.

The definition is Open3D's ``compute_fpfh_feature`` (which follows PCL): for every point and
each neighbour of its hybrid neighbourhood, the Darboux-frame pair features
``(alpha, phi, theta)`` are binned into 3 x 11 bins (the SPFH, each neighbour adding
100 / (neighbours - 1)); the FPFH of a point is its SPFH plus the SPFHs of its neighbours
weighted by one over their *squared* distance, each 11-bin block renormalised to sum to 100.
Computed for all points at once in blocks, on CUDA when the tensors are there (on a CPU the
NumPy path in ``fpfh_cpu.py`` runs instead); checked against Open3D in
``tests/test_pointcloud_features.py``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from omniad_pointcloud.features.neighbours import (
    check_cloud,
    check_search,
    radius_dense,
    spatial_order,
)
from omniad_pointcloud.features.pairs import hybrid_pairs

BINS = 11
#: points per block: bounds the (block x max_nn x 3) intermediate tensors
BLOCK = 8192


def _pair_features(p1, n1, p2, n2, valid):
    """Open3D's ComputePairFeatures, vectorised; pairs outside the neighbourhood come back not ``valid``."""
    dp = p2 - p1
    f4 = dp.norm(dim=-1)
    safe = f4.clamp(min=1e-12)
    a1 = (n1 * dp).sum(-1) / safe
    a2 = (n2 * dp).sum(-1) / safe
    swap = torch.acos(a1.abs().clamp(max=1.0)) > torch.acos(a2.abs().clamp(max=1.0))
    sw = swap.unsqueeze(-1)
    m1 = torch.where(sw, n2, n1)
    m2 = torch.where(sw, n1, n2)
    dp = torch.where(sw, -dp, dp)
    f3 = torch.where(swap, -a2, a1)
    v = torch.cross(dp, m1, dim=-1)
    vn = v.norm(dim=-1)
    degenerate = (f4 == 0) | (vn == 0)  # Open3D returns all-zero features, which are still binned
    v = v / vn.clamp(min=1e-12).unsqueeze(-1)
    w = torch.cross(m1, v, dim=-1)
    zero = torch.zeros_like(f4)
    f2 = torch.where(degenerate, zero, (v * m2).sum(-1))
    f1 = torch.where(degenerate, zero, torch.atan2((w * m2).sum(-1), (m1 * m2).sum(-1)))
    f3 = torch.where(degenerate, zero, f3)
    return f1, f2, f3, valid


def _bin(values: torch.Tensor, low: float, width: float) -> torch.Tensor:
    return torch.floor(BINS * (values - low) / width).long().clamp(0, BINS - 1)


def spfh(points: torch.Tensor, normals: torch.Tensor, idx: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Simplified point feature histograms ``(N, 33)``; column 0 of ``idx`` is the point itself."""
    n = points.shape[0]
    out = torch.zeros(n, 3 * BINS, dtype=points.dtype, device=points.device)
    for start in range(0, n, BLOCK):
        sl = slice(start, start + BLOCK)
        nb, nv = idx[sl, 1:], valid[sl, 1:]
        p1, n1 = points[sl].unsqueeze(1), normals[sl].unsqueeze(1)
        f1, f2, f3, ok = _pair_features(
            p1.expand_as(points[nb]), n1.expand_as(points[nb]), points[nb], normals[nb], nv
        )
        count = valid[sl].sum(1)  # neighbours including the point itself
        incr = torch.where(count > 1, 100.0 / (count - 1).clamp(min=1).to(points.dtype), 0.0).unsqueeze(1)
        w = ok.to(points.dtype) * incr
        rows = torch.arange(start, start + nb.shape[0], device=points.device).unsqueeze(1).expand_as(nb)
        for block, bins in enumerate(
            (_bin(f1, -math.pi, 2 * math.pi), _bin(f2, -1.0, 2.0), _bin(f3, -1.0, 2.0))
        ):
            out.index_put_(
                (rows.reshape(-1), (bins + block * BINS).reshape(-1)), w.reshape(-1), accumulate=True
            )
    return out


def fpfh(points: torch.Tensor, normals: torch.Tensor, radius: float, max_nn: int = 100) -> torch.Tensor:
    """FPFH descriptors ``(N, 33)`` for every point, neighbourhood = ``max_nn`` nearest within ``radius``.

    On a CPU the NumPy path (``fpfh_cpu``: k-d tree, pairs once, sparse gather) runs, about 30x
    faster than these torch blocks there; on CUDA the torch blocks stay on the device.
    """
    check_cloud(points, "fpfh")
    if not isinstance(normals, torch.Tensor) or normals.shape != points.shape:
        got = tuple(normals.shape) if isinstance(normals, torch.Tensor) else type(normals).__name__
        raise ValueError(
            f"fpfh: normals must be a tensor shaped like points {tuple(points.shape)}, got {got}"
        )
    if points.device.type == "cpu":
        from omniad_pointcloud.features import fpfh_cpu

        max_nn = check_search(radius, max_nn, "fpfh")
        order = spatial_order(points.detach().double().numpy())
        pts = points.detach().double().numpy()[order]
        out = np.empty((len(order), 3 * BINS))
        out[order] = fpfh_cpu.fpfh(
            pts, normals.detach().double().numpy()[order], hybrid_pairs(pts, radius, max_nn)
        )
        return torch.from_numpy(out).to(points.dtype)
    return fpfh_torch(points, normals, radius, max_nn)


def fpfh_torch(points: torch.Tensor, normals: torch.Tensor, radius: float, max_nn: int = 100) -> torch.Tensor:
    """The torch blocks (the CUDA path), on any device; ``fpfh`` checks the inputs."""
    dist, idx, valid = radius_dense(points, radius, max_nn)
    s = spfh(points, normals, idx, valid)
    out = torch.zeros_like(s)
    for start in range(0, points.shape[0], BLOCK):
        sl = slice(start, start + BLOCK)
        d, nb, nv = dist[sl, 1:], idx[sl, 1:], valid[sl, 1:]
        w = torch.where(nv & (d > 0), 1.0 / d.clamp(min=1e-30), torch.zeros_like(d))
        acc = (s[nb] * w.unsqueeze(-1)).sum(1)  # (B, 33)
        sums = acc.view(-1, 3, BINS).sum(-1, keepdim=True)
        norm = torch.where(sums != 0, 100.0 / sums.clamp(min=1e-30), torch.zeros_like(sums))
        has = (valid[sl].sum(1) > 1).to(points.dtype).view(-1, 1, 1)
        out[sl] = ((acc.view(-1, 3, BINS) * norm) * has).view(-1, 3 * BINS) + s[sl]
    return out

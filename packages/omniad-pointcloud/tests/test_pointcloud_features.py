"""Neighbours, normals and FPFH in torch, against scipy, geometry, and Open3D."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from omniad_pointcloud import reference
from omniad_pointcloud.features.fpfh import fpfh
from omniad_pointcloud.features.neighbours import knn, radius_neighbours
from omniad_pointcloud.features.normals import estimate_normals
from omniad_pointcloud.shapes import sample_shape


def _torus(n: int = 1500) -> np.ndarray:
    return sample_shape("torus", n, np.random.default_rng(0))[0]


def test_knn_is_exact() -> None:
    from scipy.spatial import cKDTree

    pts = _torus()
    d, i = knn(torch.from_numpy(pts).double(), 8)
    ref_d, ref_i = cKDTree(pts).query(pts, k=8)
    np.testing.assert_allclose(d.sqrt().numpy(), ref_d, atol=1e-6)
    assert (i.numpy() == ref_i).mean() > 0.999  # ties may order differently
    _, _, valid = radius_neighbours(torch.from_numpy(pts).double(), 0.05, 16)
    np.testing.assert_array_equal(
        valid.sum(1).numpy(), np.minimum([len(x) for x in cKDTree(pts).query_ball_point(pts, 0.05)], 16)
    )


def test_normals_of_a_sphere_are_radial_and_outward() -> None:
    pts, _ = sample_shape("sphere", 2000, np.random.default_rng(1), noise=0.0)
    n = estimate_normals(torch.from_numpy(pts).double(), 0.15, 30).numpy()
    cos = (n * pts).sum(1) / np.linalg.norm(pts, axis=1)
    assert cos.min() > 0.98 and np.median(cos) > 0.999  # radial and outward; measured 0.9875 and 0.99980


def test_fpfh_is_pose_invariant() -> None:
    pts = torch.from_numpy(_torus()).double()
    q, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    moved = pts @ torch.from_numpy(q).T + torch.tensor([0.3, -2.0, 1.0], dtype=torch.float64)
    n = estimate_normals(pts, 0.12, 30, orient="none")
    a = fpfh(pts, n, 0.25, 64)
    b = fpfh(moved, n @ torch.from_numpy(q).T, 0.25, 64)
    # alpha and phi are stable; theta flips sign where the pair's two angles nearly tie (Open3D
    # and PCL take the same branch), so that block is compared by its per-point correlation
    np.testing.assert_allclose(a[:, :22].numpy(), b[:, :22].numpy(), atol=1e-6)
    corr = [np.corrcoef(x, y)[0, 1] for x, y in zip(a[:, 22:].numpy(), b[:, 22:].numpy(), strict=True)]
    assert min(corr) > 0.99  # measured 0.9984
    blocks = a.view(-1, 3, 11).sum(-1).numpy()
    np.testing.assert_allclose(blocks[blocks.sum(1) > 0], 200.0, atol=1e-6)  # SPFH 100 + weighted 100


def test_fpfh_agrees_with_open3d() -> None:
    """Same points, same normals, same hybrid neighbourhood (radius 0.25, at most 100).

    Measured with Open3D 0.20.0: the alpha and phi blocks agree to 2e-13 on every point; all 33
    bins agree exactly on 54.7% of the points (limit 0.5; the torch FPFH gives the same 54.7%),
    on the rest one neighbour's theta lands in another bin: last-bit rounding at near-ties (with
    the normals rounded to float32 all points agree, test_pointcloud_features_cpu.py);
    per-point correlation is at least 0.99981 (limit 0.999) (docs/features.md).
    """
    if reference.open3d() is None:
        pytest.skip("Open3D is not importable here (pip install omniad-pointcloud[open3d])")
    pts = _torus(3000)
    t = torch.from_numpy(pts).double()
    n = estimate_normals(t, 0.1, 30)
    ours = fpfh(t, n, 0.25, 100).numpy()
    theirs = reference.fpfh(pts.astype(np.float64), n.numpy(), 0.25, 100)
    np.testing.assert_allclose(ours[:, :22], theirs[:, :22], atol=1e-6)
    exact = (np.abs(ours - theirs).max(1) < 1e-6).mean()
    assert exact > 0.5, exact
    corr = [np.corrcoef(a, b)[0, 1] for a, b in zip(ours, theirs, strict=True)]
    assert min(corr) > 0.999
    np.testing.assert_allclose(ours.sum(1), theirs.sum(1), atol=1e-6)


def test_normals_agree_with_open3d_up_to_sign() -> None:
    if reference.open3d() is None:
        pytest.skip("Open3D is not importable here (pip install omniad-pointcloud[open3d])")
    pts = _torus()
    ours = estimate_normals(torch.from_numpy(pts).double(), 0.2, 30).numpy()
    theirs = reference.normals(pts, 0.2, 30)
    agree = np.abs((ours * theirs).sum(1)) > 0.9999
    assert agree.mean() > 0.995, agree.mean()  # measured 1.0 (Open3D 0.20.0); isolated points may differ

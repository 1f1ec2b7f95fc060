"""Registration: centring/scaling and ICP recover a known pose (and agree with Open3D's ICP)."""

from __future__ import annotations

import numpy as np
import pytest

from omniad_pointcloud import reference
from omniad_pointcloud.registration import align_cloud, apply, center_scale, icp
from omniad_pointcloud.shapes import sample_shape


def _pose(angle: float = 0.3) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    t = np.eye(4)
    t[:3, :3] = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]) @ np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    t[:3, 3] = [0.05, -0.02, 0.03]
    return t


def test_center_scale() -> None:
    pts = sample_shape("box", 500, np.random.default_rng(0))[0] * 7 + 3
    out, centroid, scale = center_scale(pts)
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    assert np.sqrt(np.mean(np.sum(out**2, axis=1))) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(out * scale + centroid, pts, atol=1e-4)


def test_icp_recovers_a_known_pose() -> None:
    target = sample_shape("box", 800, np.random.default_rng(0), noise=0.0)[0]
    truth = _pose()
    source = apply(np.linalg.inv(truth), target)
    transform, rmse = icp(source, target, iterations=80)
    assert rmse < 1e-3
    np.testing.assert_allclose(transform, truth, atol=1e-3)
    if reference.open3d() is not None:
        np.testing.assert_allclose(transform, reference.icp(source, target, 1.0, 80), atol=1e-3)


def test_align_modes() -> None:
    pts = sample_shape("torus", 600, np.random.default_rng(3))[0] * 4 + 1
    assert np.allclose(align_cloud(pts, "none"), pts)
    template = center_scale(pts)[0]
    moved = apply(_pose(0.2), pts)
    np.testing.assert_allclose(align_cloud(moved, "icp", template), template, atol=2e-2)

"""Point AU-PRO: hand-worked cases, region rules, agreement with the core on grids."""

from __future__ import annotations

import numpy as np
import pytest

import omniad
from omniad.data import Split
from omniad.errors import DataError
from omniad.metrics.overlap import aupro_of_regions
from omniad.scores import Scores
from omniad.testing import MetricConformance
from omniad.testing.metric import MetricCase
from omniad_pointcloud.cloud import PointCloud
from omniad_pointcloud.metrics.regions import cloud_regions


def _line_cloud(n: int, offset: float = 0.0) -> PointCloud:
    """Points on a line at unit spacing: the radius graph joins neighbours only."""
    return PointCloud(points=np.c_[np.arange(n) + offset, np.zeros(n), np.zeros(n)])


def _case() -> MetricCase:
    """Cloud A: 8 points, region {2,3} (2 points); cloud B: 8 points, region {5} and region {0} (1 point each).

    Scores: the three regions are scored 0.9/0.3 (A), 0.8 (B's point 5), 0.1 (B's point 0); all
    normal points score below 0.5 except A's point 7 (0.6). Normal points: 12.
    Thresholds from the top: 0.9 -> PRO (1/2)/3, FPR 0; 0.8 -> PRO (1/2 + 1)/3 = 0.5; 0.6 -> FPR 1/12;
    0.3 -> PRO (1 + 1)/3; then normals at 0.2 (x11, FPR 1); 0.1 -> PRO 1.
    Up to FPR 0.3 (area / 0.3): [0, 1/12] at PRO 0.5 -> 0.5/12; [1/12, 0.3] at 2/3 ... the 0.3
    threshold comes before the next normal, so PRO 2/3 from FPR 1/12 on: area = 0.5/12 + (0.3 - 1/12) * 2/3.
    """
    a, b = _line_cloud(8), _line_cloud(8)
    ta = np.array([0, 0, 1, 1, 0, 0, 0, 0])
    tb = np.array([1, 0, 0, 0, 0, 1, 0, 0])
    sa = np.array([0.2, 0.2, 0.9, 0.3, 0.2, 0.2, 0.2, 0.6])
    sb = np.array([0.1, 0.2, 0.2, 0.2, 0.2, 0.8, 0.2, 0.2])
    truth = Split(samples=[a, b], targets=[ta, tb]).with_labels_from_targets()
    expected = (0.5 / 12 + (0.3 - 1 / 12) * 2 / 3) / 0.3
    return MetricCase(truth=truth, scores=Scores(sample=np.array([0.9, 0.8]), local=[sa, sb]), expected=expected)


class TestPointAUPRO(MetricConformance):
    metric_id = "pointcloud.aupro"

    def cases(self) -> list[MetricCase]:
        perfect = _case()
        perfect_scores = Scores(sample=np.array([1.0, 1.0]), local=[t.astype(float) + 0.0 for t in perfect.truth.targets])
        return [_case(), MetricCase(truth=perfect.truth, scores=perfect_scores, expected=1.0)]


def test_region_rule_on_free_clouds() -> None:
    cloud = PointCloud(points=np.r_[np.c_[np.arange(10.0), np.zeros(10), np.zeros(10)],
                                    np.c_[np.arange(10.0) + 100, np.zeros(10), np.zeros(10)]])
    target = np.r_[np.zeros(3), np.ones(4), np.zeros(3), np.zeros(2), np.ones(5), np.zeros(3)]
    labels, n = cloud_regions(cloud, target)
    assert n == 2
    assert set(labels[3:7]) == {1} and set(labels[12:17]) == {2} and labels[target == 0].max() == 0
    gap = target.copy()
    gap[5] = 0  # a one-point gap is bridged (radius 3 x spacing)
    assert cloud_regions(cloud, gap)[1] == 2


def test_grid_regions_match_pixel_components() -> None:
    """On an organised scan, regions are 8-connected pixel components: same value as the core
    curve on scipy-labelled masks laid out on the grid."""
    from scipy import ndimage

    rng = np.random.default_rng(0)
    xyz = rng.normal(size=(12, 12, 3)).astype(np.float32)
    xyz[0, :] = 0  # a row the scanner did not see
    mask = np.zeros((12, 12), bool)
    mask[3:5, 3:5] = True
    mask[5, 5] = True  # diagonal: joins the first region under 8-connectivity
    mask[9:11, 1:3] = True
    cloud = PointCloud.from_grid(xyz)
    valid = cloud.grid >= 0
    target = mask[valid].astype(np.int8)
    scores = rng.random(len(cloud))
    got = omniad.create_metric("pointcloud.aupro")(Split(samples=[cloud], targets=[target]).with_labels_from_targets(),
                                                   Scores(sample=np.ones(1), local=[scores]))
    comp, n = ndimage.label(mask, structure=np.ones((3, 3)))
    assert n == 2
    expected = aupro_of_regions([comp[valid]], [scores])
    assert got == pytest.approx(expected, abs=1e-12)


def test_needs_anomalous_points() -> None:
    cloud = _line_cloud(10)
    with pytest.raises(DataError, match="no anomalous points"):
        omniad.create_metric("pointcloud.aupro")(Split(samples=[cloud], targets=[np.zeros(10)], labels=np.zeros(1)),
                                                 Scores(sample=np.ones(1), local=[np.ones(10)]))

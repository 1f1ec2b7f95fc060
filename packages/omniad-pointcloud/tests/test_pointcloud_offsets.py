"""Corrective-offset detector: conformance, it scores a bulge above the rest, it names bad input."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

import omniad
from omniad.data import Subset
from omniad.errors import DataError
from omniad.testing import DetectorConformance

TINY = {"shapes": ["torus"], "n_points": 300, "n_train": 3, "n_test_normal": 2, "n_test_per_defect": 1,
        "defects": ["bulge", "dent"]}
FAST = {"epochs": 2, "min_steps": 4, "k": 8, "hidden": 16, "max_points": 200}


class TestOffsetsConformance(DetectorConformance):
    detector_id = "pointcloud.offsets"
    params: ClassVar = FAST
    heavy_modules = ("torch", "tifffile", "open3d", "scipy")

    def make_subset(self) -> Subset:
        return omniad.create_dataset("pointcloud.synthetic", TINY).load()[0]

    def make_bad_samples(self) -> list[Any]:
        nan = np.asarray(self._subset().test.samples[0].points).copy()
        nan[3] = np.nan
        return [nan]


def test_bulge_points_score_above_the_rest() -> None:
    data = {"shapes": ["sphere"], "n_points": 800, "n_train": 3, "n_test_normal": 0, "n_test_per_defect": 2,
            "defects": ["bulge"], "defect_depth": 0.15}
    sub = omniad.create_dataset("pointcloud.synthetic", data).load()[0]
    det = omniad.create_detector("pointcloud.offsets", {"epochs": 10, "min_steps": 300, "max_points": 400},
                                 device="cpu", seed=0).fit(sub.train.samples)
    s = det.score(sub.test.samples)
    for local, target in zip(s.local, sub.test.targets, strict=True):
        target = np.asarray(target).reshape(-1) > 0
        assert local.shape == target.shape
        assert local[target].mean() > 1.5 * local[~target].mean()  # measured 8.3x and 6.6x (seeds 1-4: >= 4.1x)


def test_bad_clouds_are_named() -> None:
    sub = omniad.create_dataset("pointcloud.synthetic", TINY).load()[0]
    det = omniad.create_detector("pointcloud.offsets", FAST, device="cpu", seed=0).fit(sub.train.samples)
    with pytest.raises(DataError, match="sample #1"):
        det.score([sub.test.samples[0], np.ones((4, 3))])
    with pytest.raises(DataError, match="sample #0"):
        det.score([np.zeros((0, 3))])

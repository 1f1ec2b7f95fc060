"""What every point cloud detector shares: input checks, alignment, device tensors.

Each sample goes through :func:`omniad_pointcloud.cloud.as_cloud` (so empty clouds, NaN
coordinates, too few points fail the same way everywhere) and then through the documented
registration step (``align``), with the template taken from the first training cloud.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad.detector import Detector
from omniad.state import Array, declare
from omniad_pointcloud.cloud import PointCloud, as_cloud
from omniad_pointcloud.registration import align_cloud


class CloudDetector(Detector):
    #: the ICP template (the first training cloud, centred and scaled); empty unless ``align="icp"``
    state_spec = declare(template_=Array("t", 3, min_size=0))

    def _clouds(self, samples: Sequence[Any], where: str) -> list[PointCloud]:
        return [as_cloud(s, f"{where}: sample #{i}") for i, s in enumerate(samples)]

    def _aligned(self, cloud: PointCloud) -> np.ndarray:
        template = getattr(self, "template_", None)
        if self.params.align == "icp" and (template is None or len(template) == 0):
            template = None
        return align_cloud(cloud.points, self.params.align, template, device="cpu")

    def _set_template(self, clouds: list[PointCloud]) -> None:
        self.template_ = (
            align_cloud(clouds[0].points, "center_scale") if self.params.align == "icp" else np.zeros((0, 3), np.float32)
        )

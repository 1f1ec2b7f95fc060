"""What every point cloud detector shares: input checks, alignment, device tensors.

Each sample goes through :func:`omniad_pointcloud.cloud.as_cloud` (so empty clouds, NaN
coordinates, too few points fail the same way everywhere) and then through the documented
registration step (``align``), with the template taken from the first training cloud.

What ``fit`` / ``score`` take (:meth:`CloudDetector._coerce`): a sequence of clouds (each a
``PointCloud`` or an ``(N, 3)`` array), one ``PointCloud`` or ``(N, 3)`` array (one cloud), a
``(B, N, 3)`` array (B clouds of N points), a DataFrame with x, y, z columns (one cloud), or a
path to a cloud file or folder (read by the core with the loader that reads it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad.detector import Detector
from omniad.errors import DataError
from omniad.state import Array, declare
from omniad_pointcloud.cloud import PointCloud, as_cloud
from omniad_pointcloud.registration import align_cloud

_WHAT_TO_PASS = ("pass one cloud as an (N, 3) array of x, y, z (or a PointCloud), several as a list of them or a "
                 "(B, N, 3) array, or the path of a .ply/.pcd/.npy/.npz/.xyz/.txt file or folder")


class CloudDetector(Detector):
    #: the ICP template (the first training cloud, centred and scaled); empty unless ``align="icp"``
    state_spec = declare(template_=Array("t", 3, min_size=0))

    def _coerce(self, samples: Any, where: str) -> Any:
        """One cloud given bare (an ``(N, 3)`` array, a PointCloud, a DataFrame) is one sample, not N."""
        if isinstance(samples, PointCloud):
            return [samples]
        if isinstance(samples, np.ndarray):
            if samples.ndim == 2:
                return [samples]
            if samples.ndim == 3:
                return list(samples)
            if samples.ndim == 1 and samples.dtype == object:  # clouds of different sizes, held in an array
                return list(samples)
            raise DataError(f"{where}: got an array of shape {samples.shape}; {_WHAT_TO_PASS}")
        columns = getattr(samples, "columns", None)
        if columns is not None and hasattr(samples, "to_numpy"):  # a pandas DataFrame: one cloud
            named = {str(c).strip().lower(): c for c in columns}
            if not {"x", "y", "z"} <= set(named):
                raise DataError(f"{where}: a DataFrame is one cloud with columns x, y, z; it has columns "
                                f"{[str(c) for c in columns][:10]}; rename them, or {_WHAT_TO_PASS}")
            return [samples[[named["x"], named["y"], named["z"]]].to_numpy(dtype=np.float64)]
        if isinstance(samples, (list, tuple)) and samples and not isinstance(samples[0], PointCloud):
            first = samples[0]
            if isinstance(first, (list, tuple, np.ndarray)) and np.ndim(first) == 1:
                raise DataError(f"{where}: got a list whose first item has shape ({len(first)},), one point rather "
                                f"than a cloud; for one cloud pass np.asarray(points) of shape (N, 3); "
                                f"{_WHAT_TO_PASS}")
        if isinstance(samples, (str, bytes)) or not hasattr(samples, "__len__"):
            raise DataError(f"{where}: got {type(samples).__name__}; {_WHAT_TO_PASS}")
        return samples

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

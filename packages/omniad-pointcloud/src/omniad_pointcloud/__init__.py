"""omniad-pointcloud: 3D point cloud anomaly detection with point-level localization.

Importing this package is cheap (no torch): features and detectors import torch when a
detector is fitted. A sample is a :class:`~omniad_pointcloud.cloud.PointCloud` (or a plain
``(N, 3)`` array); its localization target is one 0/1 label per point.
"""

from __future__ import annotations

from omniad_pointcloud.cloud import PointCloud, as_cloud
from omniad_pointcloud.version import __version__

__all__ = ["PointCloud", "__version__", "as_cloud"]

"""Anomaly-ShapeNet: as Real3D-AD, with ``GT/`` and ``positive`` naming the normal test clouds.

``<category>/train/*template*.pcd``, ``test/<category>_<kind><i>.pcd`` and
``GT/<category>_<kind><i>.txt`` (x y z label), as the dataset's README (Chopper-233/Anomaly-ShapeNet)
shows; see ``docs/datasets.md``.
"""

from __future__ import annotations

import re

from omniad_pointcloud.datasets.real3d import Real3D


class AnomalyShapeNet(Real3D):
    gt_folder = "GT"
    normal_pattern = re.compile(r"positive")

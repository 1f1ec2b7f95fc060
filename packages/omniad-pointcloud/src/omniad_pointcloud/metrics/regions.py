"""What one defect region is in a point cloud, for AU-PRO.

AU-PRO weighs every connected defect once. On an organised scan (a cloud with a ``grid``,
such as MVTec 3D-AD's xyz images) a region is an 8-connected component of the ground-truth
mask on the grid, as in MVTec 3D-AD's own evaluation. A free cloud has no pixels, so a region
is a connected component of the anomalous points in their radius graph: two anomalous points
are joined when they are closer than ``RADIUS_FACTOR`` times the cloud's median
nearest-neighbour spacing (far enough to bridge sampling gaps, too short to join separate defects).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad_pointcloud.cloud import as_cloud

RADIUS_FACTOR = 3.0
EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def cloud_regions(cloud: Any, target: np.ndarray) -> tuple[np.ndarray, int]:
    """Region number (1..R) of every point of ``cloud``, 0 for normal points."""
    from scipy import ndimage
    from scipy.sparse.csgraph import connected_components
    from scipy.spatial import cKDTree

    cloud = as_cloud(cloud, "aupro")
    labels = np.zeros(len(cloud), dtype=np.int64)
    bad = np.flatnonzero(np.asarray(target).reshape(-1) > 0)
    if bad.size == 0:
        return labels, 0
    if cloud.grid is not None:
        mask = cloud.grid_values(np.asarray(target) > 0, fill=False)
        comp, n = ndimage.label(mask, structure=EIGHT_CONNECTED)
        valid = cloud.grid >= 0
        labels[cloud.grid[valid]] = comp[valid]
        return labels, int(n)
    tree = cKDTree(cloud.points)
    spacing = float(np.median(tree.query(cloud.points, k=2)[0][:, 1]))
    graph = cKDTree(cloud.points[bad]).sparse_distance_matrix(
        cKDTree(cloud.points[bad]), RADIUS_FACTOR * max(spacing, 1e-12), output_type="coo_matrix"
    )
    n, comp = connected_components(graph, directed=False)
    labels[bad] = comp + 1
    return labels, int(n)


def numbered_regions(clouds: Sequence[Any], targets: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Regions of every cloud, numbered 1..R across all clouds (what the core's PRO curve takes)."""
    out, offset = [], 0
    for cloud, target in zip(clouds, targets, strict=True):
        labels, n = cloud_regions(cloud, target)
        out.append(np.where(labels > 0, labels + offset, 0))
        offset += n
    return out

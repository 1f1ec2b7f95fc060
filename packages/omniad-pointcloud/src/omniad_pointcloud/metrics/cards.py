"""Registry cards for point cloud metrics (no heavy imports here).

Object AUROC and point AUROC are the core's ``core.auroc`` and ``core.local_auroc`` (all
points of all clouds pooled); only the region-aware AU-PRO is point-cloud specific.
"""

from __future__ import annotations

from omniad.registry import Registrar


def register(registry: Registrar) -> None:
    registry.add(
        id="pointcloud.aupro", target="omniad_pointcloud.metrics.components:PointAUPRO",
        params="omniad_pointcloud.metrics.components:AUPROParams", modality="pointcloud", level="local",
        localization=("point",), short_name="AU-PRO",
        summary="Area under the per-region-overlap curve up to FPR 0.3 over points; regions are grid components "
        "on organised scans, radius-graph components on free clouds",
        reference="Bergmann et al., MVTec 3D-AD, VISAPP 2022",
    )

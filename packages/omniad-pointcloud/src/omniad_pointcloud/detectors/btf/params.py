"""Parameters of the BTF detectors (units are those of the aligned cloud: RMS radius 1)."""

from __future__ import annotations

from pydantic import Field

from omniad_pointcloud.detectors.cloud_params import CloudParams


class BTFParams(CloudParams):
    n_centres: int = Field(default=512, ge=4, description="patch centres per cloud (farthest point sampling)")
    patch_size: int = Field(default=32, ge=4, description="points per patch (nearest to its centre)")
    normal_radius: float = Field(default=0.15, gt=0, description="normals: neighbours within this radius")
    fpfh_radius: float = Field(default=0.3, gt=0, description="FPFH: neighbours within this radius")
    max_nn: int = Field(default=64, ge=4, description="FPFH / normals: at most this many neighbours")
    coreset_ratio: float = Field(default=0.1, gt=0, le=1, description="fraction of training patches kept in the bank")
    interpolate_k: int = Field(default=3, ge=1, description="point scores: inverse-distance over this many centres")

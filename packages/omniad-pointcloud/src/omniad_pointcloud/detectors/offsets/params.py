"""Parameters of the corrective-offset detector (units of the aligned cloud: RMS radius 1)."""

from __future__ import annotations

from pydantic import Field

from omniad_pointcloud.detectors.cloud_params import CloudParams


class OffsetParams(CloudParams):
    k: int = Field(default=16, ge=4, description="neighbours that make up each point's local patch")
    hidden: int = Field(default=64, ge=8, description="width of the point network")
    epochs: int = Field(default=40, ge=1, description="passes over the training clouds")
    min_steps: int = Field(default=300, ge=1, description="at least this many training steps, however few the clouds")
    lr: float = Field(default=2e-3, gt=0)
    max_points: int = Field(default=2048, ge=64, description="points per training cloud per step (random subset)")
    defect_size: tuple[float, float] = Field(default=(0.2, 0.5), description="synthetic bump radius range")
    defect_depth: tuple[float, float] = Field(default=(0.03, 0.1), description="synthetic bump height range")
    max_bumps: int = Field(default=3, ge=1, description="synthetic bumps per training step (1 to this many)")
    clean_fraction: float = Field(default=0.2, ge=0, le=1, description="training steps without a synthetic defect")
    normal_radius: float = Field(default=0.15, gt=0, description="normals for the synthetic bumps")
    top_fraction: float = Field(default=0.01, gt=0, le=1, description="cloud score: mean of this top fraction of point scores")

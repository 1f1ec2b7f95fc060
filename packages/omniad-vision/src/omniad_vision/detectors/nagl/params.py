"""NAGL parameters (pydantic only: imported by discovery)."""

from __future__ import annotations

from pydantic import Field

from omniad_vision.detectors.generalist.params import ReferenceParams


class Params(ReferenceParams):
    prototypes: int = Field(default=8, ge=1, description="residual prototypes mined per side (normal and abnormal)")
    dim: int = Field(default=128, ge=1, description="width of the prototype attention and of the anomaly-feature MLP")
    abnormal_per_image: int = Field(
        default=1, ge=1, description="pseudo-anomalous copies of each training image (synthetic defects) at fit",
    )
    min_defect_fraction: float = Field(
        default=0.25, gt=0, le=1, description="a pseudo-anomalous patch is labelled abnormal from this share of its pixels"
    )
    train_steps: int = Field(default=300, ge=1, description="optimizer steps")
    train_patches: int = Field(default=1024, ge=1, description="normal patches and abnormal patches per step (each)")
    lr: float = Field(default=1e-3, gt=0)

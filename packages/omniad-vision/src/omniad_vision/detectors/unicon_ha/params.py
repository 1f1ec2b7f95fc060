"""UniCon-HA parameters (pydantic only: imported by discovery)."""

from __future__ import annotations

from pydantic import Field

from omniad_vision.detectors.generalist.params import GeneralistParams


class Params(GeneralistParams):
    views: int = Field(default=1, ge=1, description="mildly augmented copies of each training image (flip, colour, noise)")
    shifted: int = Field(default=1, ge=1, description="distribution-shifted copies of each image (synthetic defects)")
    hidden: int = Field(default=256, ge=1, description="projection head hidden width")
    out_dim: int = Field(default=128, ge=2, description="embedding width")
    temperature: float = Field(default=0.2, gt=0, description="contrastive temperature")
    weight_temperature: float = Field(
        default=0.5, gt=0, description="temperature of the soft re-weighting of augmented inliers by their closeness "
        "to the inlier mean (lower = stronger down-weighting of strayed views)",
    )
    feature_noise: float = Field(default=0.01, ge=0, description="std of the feature-level noise that makes a second view")
    min_defect_fraction: float = Field(
        default=0.25, gt=0, le=1, description="a shifted patch is a virtual outlier from this share of defect pixels"
    )
    train_steps: int = Field(default=300, ge=1, description="optimizer steps")
    train_patches: int = Field(default=256, ge=2, description="patches per group (easy inliers, hard inliers, outliers) per step")
    lr: float = Field(default=1e-3, gt=0)

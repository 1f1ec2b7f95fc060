"""ResAD++ parameters (pydantic only: imported by discovery)."""

from __future__ import annotations

from pydantic import Field

from omniad_vision.detectors.generalist.params import ReferenceParams


class Params(ReferenceParams):
    hidden: int = Field(default=256, ge=1, description="feature constraintor hidden width")
    out_dim: int = Field(default=64, ge=2, description="width of the constrained residuals the Gaussian estimator models")
    noise_std: float = Field(
        default=0.02, gt=0,
        description="std per channel of the Gaussian noise added to normal residuals to make the pseudo-abnormal "
        "residuals pushed out of the hypersphere",
    )
    inner_radius: float = Field(default=1.0, gt=0, description="normal constrained residuals are pulled inside this radius")
    outer_radius: float = Field(default=2.0, gt=0, description="pseudo-abnormal ones are pushed beyond this radius")
    train_steps: int = Field(default=300, ge=1, description="optimizer steps of the constraintor")
    train_patches: int = Field(default=2048, ge=1, description="residual patches per step")
    lr: float = Field(default=1e-3, gt=0)

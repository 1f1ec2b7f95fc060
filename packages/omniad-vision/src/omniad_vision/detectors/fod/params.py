"""FOD parameters (pydantic only: imported by discovery)."""

from __future__ import annotations

from pydantic import Field

from omniad_vision.detectors.generalist.params import GeneralistParams


class Params(GeneralistParams):
    references: int = Field(default=32, ge=1, description="normal reference patterns (k-means centres of training tokens)")
    dim: int = Field(default=128, ge=1, description="hidden width of the I2Correlation block")
    sigma: float = Field(
        default=1.0, gt=0,
        description="RBF-kernel width of the intra-correlation target, in patches: a normal patch correlates with "
        "its spatial neighbours",
    )
    intra_weight: float = Field(default=0.1, ge=0, description="weight of the intra-correlation discrepancy, in loss and score")
    inter_weight: float = Field(default=0.1, ge=0, description="weight of the inter-correlation entropy, in loss and score")
    train_steps: int = Field(default=300, ge=1, description="optimizer steps")
    train_batch_size: int = Field(default=8, ge=1, description="images per step")
    lr: float = Field(default=1e-3, gt=0)

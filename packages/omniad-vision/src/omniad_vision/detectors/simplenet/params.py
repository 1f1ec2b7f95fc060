"""SimpleNet parameters (pydantic only: imported by discovery, so no torch here)."""

from __future__ import annotations

from pydantic import Field, field_validator

from omniad_vision.detectors.extra_params import ImageInputParams


class Params(ImageInputParams):
    backbone: str = Field(default="mobilenetv2_100", description="timm backbone (frozen feature extractor)")
    weights: str | None = Field(
        default="imagenet",
        description="'imagenet' (local file in $OMNIAD_WEIGHTS_DIR or ../shared/weights), a weight-file path, "
        "or None for a random backbone (tests only)",
    )
    layers: tuple[str, ...] = Field(
        default=("blocks.2", "blocks.4"), min_length=1, description="feature layers, shallow to deep"
    )
    patch_size: int = Field(default=3, ge=1, description="neighbourhood averaged into each patch feature (odd)")
    adaptor: bool = Field(default=True, description="train the linear feature adaptor (False = identity)")
    noise_std: float = Field(default=0.015, gt=0, description="std of the Gaussian noise that makes anomalous features")
    hidden: int = Field(default=1024, ge=1, description="discriminator hidden width")
    margin: float = Field(default=0.5, gt=0, description="truncated-L1 margin th+ = th- of the paper")
    epochs: int = Field(default=160, ge=1, description="passes over the training images (paper: 160)")
    train_batch_size: int = Field(default=8, ge=1, description="images per step; all their patches are used")
    adaptor_lr: float = Field(default=1e-4, gt=0)
    discriminator_lr: float = Field(default=2e-4, gt=0)
    weight_decay: float = Field(default=1e-5, ge=0)
    sigma: float = Field(default=4.0, ge=0, description="Gaussian blur of the map at model input size (0 = none)")

    @field_validator("patch_size")
    @classmethod
    def _check_odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError(f"patch_size must be odd so patches stay centred, got {value}")
        return value

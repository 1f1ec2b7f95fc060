"""SimpleNet parameters (pydantic only: imported by discovery, so no torch here)."""

from __future__ import annotations

from pydantic import Field

from omniad_vision.detectors.backbone_params import BackboneParams


class Params(BackboneParams):
    """Backbone, layers, weights, image_size, mean/std as for every backbone detector (paper: WRN-50 layers 2+3)."""

    pool_size: int = Field(default=3, ge=1, description="locally aware patch features: neighbourhood averaged per patch")
    adaptor: bool = Field(default=True, description="train the linear feature adaptor (False = identity)")
    noise_std: float = Field(default=0.015, gt=0, description="std of the Gaussian noise that makes anomalous features")
    hidden: int = Field(default=1024, ge=1, description="discriminator hidden width")
    margin: float = Field(default=0.5, gt=0, description="truncated-L1 margin th+ = th- of the paper")
    epochs: int = Field(default=160, ge=1, description="passes over the training images (paper: 160)")
    train_batch_size: int = Field(default=8, ge=1, description="images per step; all their patches are used")
    adaptor_lr: float = Field(default=1e-4, gt=0)
    discriminator_lr: float = Field(default=2e-4, gt=0)
    weight_decay: float = Field(default=1e-5, ge=0)
    blur_sigma: float = Field(default=4.0, ge=0, description="Gaussian blur of the map, in pixels at image_size")

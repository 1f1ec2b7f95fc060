"""Gaussian MVG parameters (pydantic only: imported by discovery)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from omniad_vision.detectors.backbone_params import BackboneParams, layers_field


class GaussianMVGParams(BackboneParams):
    default_strides: ClassVar[tuple[int, ...] | None] = None

    backbone: str = Field(default="efficientnet_b4", description="timm model name (paper: EfficientNet-B4)")
    layers: tuple[str, ...] | None = layers_field(
        None, " (EfficientNet-B4: blocks.0, 1, 2, 4, 6); each is average-pooled to one vector and gets its own Gaussian"
    )
    image_size: int | tuple[int, int] = Field(default=380, description="resize, no crop (paper: 380 for B4)")
    npca_variance: float | None = Field(
        default=None, gt=0, lt=1,
        description="NPCA: drop the leading principal components that explain this share of the variance "
        "and model only the low-variance rest (paper: 0.99); None = keep all",
    )

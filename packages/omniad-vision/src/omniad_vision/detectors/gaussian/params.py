"""Gaussian MVG parameters (pydantic only: imported by discovery)."""

from __future__ import annotations

from pydantic import Field

from omniad_vision.detectors.backbone_params import BackboneParams


class GaussianMVGParams(BackboneParams):
    backbone: str = Field(default="efficientnet_b4", description="timm model name (paper: EfficientNet-B4)")
    layers: tuple[str, ...] = Field(
        default=("blocks.0", "blocks.1", "blocks.2", "blocks.4", "blocks.6"),
        description="feature levels; each is average-pooled to one vector and gets its own Gaussian",
    )
    image_size: int | tuple[int, int] = Field(default=380, description="resize, no crop (paper: 380 for B4)")
    npca_variance: float | None = Field(
        default=None, gt=0, lt=1,
        description="NPCA: drop the leading principal components that explain this share of the variance "
        "and model only the low-variance rest (paper: 0.99); None = keep all",
    )

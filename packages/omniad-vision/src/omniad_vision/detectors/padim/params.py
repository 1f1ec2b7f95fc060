"""PaDiM parameters (pydantic only: imported by discovery)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from omniad_vision.detectors.backbone_params import BackboneParams, layers_field


class PaDiMParams(BackboneParams):
    default_strides: ClassVar[tuple[int, ...] | None] = (4, 8, 16)

    backbone: str = Field(default="resnet18", description="timm model name (paper: resnet18, wide_resnet50_2)")
    layers: tuple[str, ...] | None = layers_field((4, 8, 16), " (the paper's layer1..layer3)")
    n_features: int | None = Field(
        default=100, ge=1,
        description="random subset of embedding channels (paper: 100 for resnet18, 550 for wide_resnet50_2); None = all",
    )
    covariance: Literal["ridge", "ledoit_wolf"] = Field(
        default="ridge",
        description="ridge = sample covariance + ridge * I (paper); ledoit_wolf = shrinkage estimated per position",
    )
    ridge: float = Field(default=0.01, ge=0, description="added to the covariance diagonal (ridge estimator)")
    blur_sigma: float = Field(default=4.0, ge=0, description="Gaussian blur of the map, in pixels at image_size")

"""PaDiM parameters (pydantic only: imported by discovery)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from omniad_vision.detectors.backbone_params import BackboneParams


class PaDiMParams(BackboneParams):
    backbone: str = Field(default="resnet18", description="timm model name (paper: resnet18, wide_resnet50_2)")
    layers: tuple[str, ...] = Field(default=("layer1", "layer2", "layer3"), description="feature layers, shallow to deep")
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

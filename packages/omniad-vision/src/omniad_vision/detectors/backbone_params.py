"""Parameters every backbone-feature detector shares (pydantic only: imported by discovery).

Resizing and normalisation are explicit: images are resized to ``image_size`` (bilinear,
antialiased, no crop) and normalised with ``mean``/``std``; maps are returned at each
input image's own resolution.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from omniad.params import Params

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class BackboneParams(Params):
    backbone: str = Field(default="wide_resnet50_2", description="timm model name")
    layers: tuple[str, ...] = Field(
        default=("layer2", "layer3"),
        description="feature layers, shallow to deep: timm module names ('layer2', 'blocks.4') or indices",
    )
    weights: str | None = Field(
        default="imagenet",
        description="'imagenet' = local file in $OMNIAD_WEIGHTS_DIR or $OMNIAD_SHARED_DATA/weights, else the "
        "timm hub cache; a path to a .safetensors/.pth file (torchvision layouts are remapped); "
        "None = random initialisation",
    )
    image_size: int | tuple[int, int] = Field(default=256, description="resize (H, W) or side, no crop")
    mean: tuple[float, float, float] = Field(default=IMAGENET_MEAN, description="per-channel normalisation mean")
    std: tuple[float, float, float] = Field(default=IMAGENET_STD, description="per-channel normalisation std")
    batch_size: int = Field(default=16, ge=1, description="images per forward pass")

    @field_validator("image_size")
    @classmethod
    def _check_size(cls, value: int | tuple[int, int]) -> int | tuple[int, int]:
        sides = (value,) if isinstance(value, int) else value
        if any(s < 32 for s in sides):
            raise ValueError("image_size must be at least 32 pixels per side")
        return value

    @field_validator("layers")
    @classmethod
    def _check_layers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("give at least one feature layer")
        return value

    @field_validator("std")
    @classmethod
    def _check_std(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if any(s <= 0 for s in value):
            raise ValueError("std must be positive")
        return value

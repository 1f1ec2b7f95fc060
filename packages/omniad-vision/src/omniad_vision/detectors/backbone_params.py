"""Parameters every backbone-feature detector shares (pydantic only: imported by discovery).

The image input (``image_size``, ``mean``, ``std``, ``batch_size``) is ``ImageParams``'s;
backbone detectors add the timm backbone, its feature layers and weights, accept sides of
32 pixels and more, and score 16 images per forward pass by default. Random weights are
``weights="random"`` rather than only ``None``, because a TOML grid cannot write null.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from omniad_vision.detectors.image_params import ImageParams

#: the ``weights`` value for a randomly initialised backbone (every config format can write it).
RANDOM_WEIGHTS = "random"


class BackboneParams(ImageParams):
    min_side: ClassVar[int] = 32

    backbone: str = Field(default="wide_resnet50_2", description="timm model name")
    layers: tuple[str, ...] = Field(
        default=("layer2", "layer3"),
        description="feature layers, shallow to deep: timm module names ('layer2', 'blocks.4') or indices",
    )
    weights: str = Field(
        default="imagenet",
        description="'imagenet' = local file in $OMNIAD_WEIGHTS_DIR or $OMNIAD_SHARED_DATA/weights, else the "
        "timm hub (its cache when offline); a path to a .safetensors/.pth file (torchvision layouts are "
        "remapped); 'random' = random initialisation, seeded (None means the same from Python/YAML/JSON)",
    )
    batch_size: int = Field(default=16, ge=1, description="images per forward pass")

    @field_validator("weights", mode="before")
    @classmethod
    def _spell_random(cls, value: object) -> object:
        """TOML has no null, so random weights are spelled 'random'; None is read as that too."""
        if value is None or (isinstance(value, str) and value.strip().lower() == RANDOM_WEIGHTS):
            return RANDOM_WEIGHTS
        return value

    @field_validator("layers")
    @classmethod
    def _check_layers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("give at least one feature layer")
        return value

"""Parameters every backbone-feature detector shares (pydantic only: imported by discovery).

The image input (``image_size``, ``mean``, ``std``, ``batch_size``) is ``ImageParams``'s;
backbone detectors add the timm backbone, its feature layers and weights, accept sides of
32 pixels and more, and score 16 images per forward pass by default. Random weights are
``weights="random"`` rather than only ``None``, because a TOML grid cannot write null.

``layers`` depend on ``backbone``, so their default is ``None``: the backbone's own levels at the
detector's ``default_strides`` (``feature_levels.default_layers``), resolved at fit and recorded
in the run's provenance and the saved model. Explicit layers are checked against the backbone
here when the static table knows it (no torch), else at fit.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, ValidationInfo, field_validator

from omniad_vision.detectors.image_params import ImageParams
from omniad_vision.feature_levels import check_layers, describe_default

#: the ``weights`` value for a randomly initialised backbone (every config format can write it).
RANDOM_WEIGHTS = "random"


def layers_field(strides: tuple[int, ...] | None, extra: str = "") -> Any:
    """The ``layers`` field of a detector whose default levels sit at ``strides`` (None = all levels)."""
    return Field(
        default=None,
        description="feature layers, shallow to deep: timm module names ('layer2', 'blocks.4') or indices; "
        f"None = {describe_default(strides)}{extra}",
    )


class BackboneParams(ImageParams):
    min_side: ClassVar[int] = 32
    #: strides of the feature levels ``layers=None`` picks (None = every level); redeclare ``layers``
    #: with ``layers_field`` when changing it, so its description says so
    default_strides: ClassVar[tuple[int, ...] | None] = (8, 16)

    backbone: str = Field(default="wide_resnet50_2", description="timm model name")
    layers: tuple[str, ...] | None = layers_field((8, 16))
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
    def _check_layers(cls, value: tuple[str, ...] | None, info: ValidationInfo) -> tuple[str, ...] | None:
        """Explicit layers must exist in the backbone (known backbones; the others at fit)."""
        backbone = info.data.get("backbone", "")  # absent when the backbone itself failed validation
        check_layers(backbone, value)
        return value

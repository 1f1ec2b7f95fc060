"""Image-input parameters every vision detector states (pydantic only: imported by discovery).

Resizing and normalisation are explicit parameters rather than hidden in a model, so two
runs with different preprocessing never share a results row by accident: images are
resized to ``image_size`` (bilinear, antialiased, no crop) and normalised per channel with
``mean``/``std``; maps come back at each input image's own resolution.

Subclasses change a default by redeclaring the field and the smallest accepted side with
``min_side``. Kept free of torch: discovery imports the parameter models.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from omniad.params import Params

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

Size = int | tuple[int, int]


class ImageParams(Params):
    """Resize (bilinear, antialiased, no crop) and per-channel normalisation of the input."""

    #: smallest accepted ``image_size`` side, in pixels
    min_side: ClassVar[int] = 16

    image_size: Size = Field(default=256, description="model input size: one int (square) or (H, W); no crop")
    mean: tuple[float, float, float] = Field(default=IMAGENET_MEAN, description="per-channel mean (RGB, 0..1 scale)")
    std: tuple[float, float, float] = Field(default=IMAGENET_STD, description="per-channel std (RGB, 0..1 scale)")
    batch_size: int = Field(default=8, ge=1, description="images per forward pass when scoring")

    @field_validator("image_size")
    @classmethod
    def _check_size(cls, value: Size | None) -> Size | None:
        if value is None:  # subclasses that read the size from a checkpoint
            return value
        sides = (value,) if isinstance(value, int) else value
        if any(s < cls.min_side for s in sides):
            raise ValueError(f"image_size must be at least {cls.min_side} pixels per side, got {value}")
        return value

    @field_validator("std")
    @classmethod
    def _check_std(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if any(s <= 0 for s in value):
            raise ValueError(f"std must be positive per channel, got {value}")
        return value

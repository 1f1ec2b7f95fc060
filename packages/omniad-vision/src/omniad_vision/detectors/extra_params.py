"""Input parameters shared by EfficientAD, SimpleNet, WinCLIP and Dinomaly (pydantic only).

Resizing and normalisation are stated in every detector's parameters rather than hidden in
a model, so two runs with different preprocessing never share a results row by accident.
Kept free of torch: discovery imports the parameter models.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from omniad.params import Params

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

Size = int | tuple[int, int]


class ImageInputParams(Params):
    """Resize (bilinear, antialiased, no crop) and per-channel normalisation of the input."""

    image_size: Size = Field(default=256, description="model input size: one int (square) or (H, W)")
    mean: tuple[float, float, float] = Field(default=IMAGENET_MEAN, description="per-channel mean (RGB, 0..1 scale)")
    std: tuple[float, float, float] = Field(default=IMAGENET_STD, description="per-channel std (RGB, 0..1 scale)")
    batch_size: int = Field(default=8, ge=1, description="images per forward pass when scoring")

    @field_validator("image_size")
    @classmethod
    def _check_size(cls, value: Size | None) -> Size | None:
        if value is None:  # subclasses that read the size from a checkpoint
            return value
        sides = (value,) if isinstance(value, int) else value
        if any(s < 16 for s in sides):
            raise ValueError(f"image_size must be at least 16 pixels per side, got {value}")
        return value

    @field_validator("std")
    @classmethod
    def _check_std(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if any(s <= 0 for s in value):
            raise ValueError(f"std must be positive per channel, got {value}")
        return value


class LocalWeightsParams(Params):
    """A transformers model read from a local directory: these machines assume no hub access."""

    weights_dir: Path | None = Field(
        default=None,
        description="local Hugging Face model directory as written by save_pretrained "
        "(config.json + model.safetensors, plus the tokenizer files for CLIP); required",
    )

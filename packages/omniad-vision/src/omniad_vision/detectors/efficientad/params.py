"""EfficientAD parameters (pydantic only: imported by discovery, so no torch here)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from omniad_vision.detectors.image_params import ImageParams
from omniad_vision.feature_levels import check_layers, describe_default

#: strides of the backbone levels the teacher distils when ``backbone_layers`` is None
DISTIL_STRIDES = (8, 16)


class Params(ImageParams):
    model_size: Literal["small", "medium"] = Field(
        default="small", description="PDN size: small (EfficientAD-S) or medium (EfficientAD-M)"
    )
    out_channels: int | None = Field(
        default=None,
        ge=1,
        description="teacher feature channels; None = the teacher file's, min(384, backbone target channels) "
        "when distilling on the fly, 384 for a random teacher",
    )
    padding: bool = Field(
        default=False,
        description="zero-pad the PDN convolutions (the paper's table); False = unpadded as in anomalib, "
        "maps are then padded back to the input grid",
    )
    teacher_weights: Path | None = Field(
        default=None,
        description="safetensors teacher written by tools/distill_efficientad_teacher.py; None = see teacher_init",
    )
    teacher_init: Literal["distil", "random"] = Field(
        default="distil",
        description="without teacher_weights: distil the teacher on the training images from `backbone` "
        "(slower, see README) or keep a random-init teacher (tests and ablations only)",
    )
    backbone: str = Field(default="mobilenetv2_100", description="timm backbone whose features the teacher distils")
    backbone_weights: str = Field(
        default="imagenet",
        description="'imagenet' (local file in $OMNIAD_WEIGHTS_DIR or ../shared/weights), a weight-file path, "
        "or 'random' (a random-init backbone to distil from: tests and ablations only)",
    )
    backbone_layers: tuple[str, ...] | None = Field(
        default=None,
        description="backbone layers of the distillation target, shallow to deep; "
        f"None = {describe_default(DISTIL_STRIDES)}",
    )
    distil_steps: int = Field(default=400, ge=1, description="on-the-fly teacher distillation steps")
    distil_batch_size: int = Field(default=8, ge=1)
    distil_lr: float = Field(default=1e-3, gt=0)
    distil_crop: int | None = Field(
        default=128, ge=40,
        description="side of the random crops the teacher is distilled on (the PDN sees 33x33 patches, so crops "
        "keep the images' scale at a fraction of the cost); None = whole images",
    )
    train_steps: int = Field(default=1000, ge=1, description="student/autoencoder steps (paper: 70,000)")
    train_batch_size: int = Field(default=1, ge=1, description="paper: 1")
    lr: float = Field(default=1e-4, gt=0, description="Adam learning rate, divided by 10 after 95% of the steps")
    weight_decay: float = Field(default=1e-5, ge=0)
    hard_quantile: float = Field(
        default=0.999, ge=0, lt=1, description="hard-feature loss keeps the distances above this quantile"
    )
    penalty_images: str | None = Field(
        default=None,
        description="stand-in for the paper's ImageNet penalty: None = off, 'synthetic' = procedural "
        "textures, or a folder of generic images (searched recursively)",
    )
    val_fraction: float = Field(
        default=0.1,
        ge=0,
        lt=1,
        description="share of training images held out to fit the map-normalisation quantiles (0 = use train)",
    )
    map_quantiles: tuple[float, float] = Field(
        default=(0.9, 0.995), description="(q_a, q_b): map values at these quantiles become 0 and 0.1"
    )

    @field_validator("image_size")
    @classmethod
    def _check_min_size(cls, value: int | tuple[int, int]) -> int | tuple[int, int]:
        if min((value,) if isinstance(value, int) else value) < 64:
            raise ValueError(f"EfficientAD needs image_size >= 64 (the autoencoder halves it five times), got {value}")
        return value

    @field_validator("backbone_layers")
    @classmethod
    def _check_backbone_layers(cls, value: tuple[str, ...] | None, info: ValidationInfo) -> tuple[str, ...] | None:
        """Explicit layers must exist in the backbone (known backbones; the others at fit)."""
        check_layers(info.data.get("backbone", ""), value)
        return value

    @field_validator("map_quantiles")
    @classmethod
    def _check_quantiles(cls, value: tuple[float, float]) -> tuple[float, float]:
        a, b = value
        if not 0 <= a < b <= 1:
            raise ValueError(f"map_quantiles must satisfy 0 <= q_a < q_b <= 1, got {value}")
        return value

    @model_validator(mode="after")
    def _check_random_teacher(self) -> Params:
        if self.teacher_weights is not None and self.teacher_init == "random":
            raise ValueError("teacher_init='random' contradicts teacher_weights; drop one of them")
        return self

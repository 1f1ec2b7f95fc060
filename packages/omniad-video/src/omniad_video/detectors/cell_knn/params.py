"""Parameters of video.cell_knn (pydantic only: imported by discovery)."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from omniad_video.smoothing import SmoothingParams
from omniad_video.vision_backbone import VISION_PREFIX


class CellKNNParams(SmoothingParams):
    cell_size: int = Field(default=20, ge=4, le=512, description="side of a grid cell, in pixels of the decoded frame")
    lags: tuple[int, ...] = Field(
        default=(1, 3), description="frame lags (decoded frames) of the motion cues; a longer lag sees slow objects"
    )
    appearance: bool = Field(default=True, description="add each cell's edge density, brightness and contrast")
    flow: bool = Field(
        default=True,
        description="add each cell's block-matching speed (mean, 90th percentile, moving fraction): "
        "UCSD Ped2 frame AUROC 0.873 without, 0.953 with (package README)",
    )
    flow_radius: int = Field(
        default=4, ge=1, le=8,
        description="block-matching search radius in decoded pixels (faster motion reads as this speed); "
        "the cost grows with (2 radius + 1)^2",
    )
    flow_step: int = Field(
        default=1, ge=1, le=4,
        description="match every flow_step-th pixel (shifts stay 1 pixel): 2 is 4x cheaper than 1; on UCSD Ped2 "
        "1 (radius 4) measured 0.953 against 0.939 for 2 (radius 3), at about half the scoring speed",
    )
    k: int = Field(default=3, ge=1, description="score = distance to the k-th nearest training cell")
    neighbourhood: int = Field(
        default=2, ge=0, le=3,
        description="cells compared with the training cells within this many cells around the same place "
        "(0 = the same cell only; 2 measured best on UCSD Ped2): tolerates objects that cross cell borders",
    )
    max_train_frames: int = Field(default=4000, ge=1, description="training frames kept (seeded subset) to bound memory")
    smoothing_window: int = Field(default=9, ge=1, le=10_000, description="smoothing window, in decoded frames")
    chunk_cells: int = Field(default=8, ge=1, description="cells per distance computation (memory vs speed)")
    regions: bool = Field(
        default=False,
        description="also score whole moving regions (connected block-matching motion) by their place and size "
        "against the normal regions; needs flow. UCSD Ped2: 0.953 -> 0.960 frame AUROC, 0.97 with region_features",
    )
    region_features: str | None = Field(
        default=None,
        description="'vision:<timm name>' (e.g. 'vision:mobilenetv2_100', needs omniad-vision): also score what "
        "each moving region looks like (its crop through the backbone); needs regions",
    )
    region_layers: tuple[str, ...] | None = Field(
        default=None, description="backbone layers pooled for region crops; None = strides 8 and 16 (MobileNetV2: "
        "blocks.2, blocks.4)",
    )
    region_weights: str = Field(
        default="imagenet",
        description="region backbone weights: 'imagenet' (a local file found by omniad-vision), a "
        ".safetensors/.pth path, or 'random' (seeded random init)",
    )
    region_crop_size: int = Field(
        default=128, ge=16, le=512,
        description="side in pixels each region's crop (twice its box) is resized to for the backbone; UCSD Ped2 "
        "with MobileNetV2: 64 -> 128 raised the crops alone from 0.906 to 0.937 frame AUROC (README)",
    )
    region_k: int = Field(default=5, ge=1, description="a region scores by its distance to the k-th nearest normal region")
    region_min_area: int = Field(default=12, ge=1, description="moving regions smaller than this many decoded pixels are dropped")
    calibration_frames: int = Field(
        default=4000, ge=10,
        description="with regions: about this many training frames (whole videos, every n-th) are scored against "
        "the other training videos to put the cell and region scores on one scale before they are added; "
        "fewer make the fit cheaper",
    )

    @field_validator("lags")
    @classmethod
    def _check_lags(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(lag < 1 or lag > 100 for lag in value) or len(set(value)) != len(value):
            raise ValueError("give one or more distinct lags between 1 and 100 frames, e.g. [1, 3]")
        return tuple(sorted(value))

    @field_validator("region_features")
    @classmethod
    def _check_region_features(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith(VISION_PREFIX) and len(value) > len(VISION_PREFIX)):
            raise ValueError("region_features takes 'vision:<timm model name>', e.g. 'vision:mobilenetv2_100', or null")
        return value

    @model_validator(mode="after")
    def _regions_need_flow(self) -> CellKNNParams:
        if self.regions and not self.flow:
            raise ValueError("regions are found in the block-matching motion: set flow=true, or regions=false")
        if self.region_features is not None and not self.regions:
            raise ValueError("region_features describes the moving regions: set regions=true as well")
        return self

"""PatchCore parameters (pydantic only: imported by discovery)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from omniad_vision.detectors.backbone_params import BackboneParams


class PatchCoreParams(BackboneParams):
    pool_size: int = Field(
        default=3, ge=1, description="locally aware patch features: average over a pool_size x pool_size neighbourhood"
    )
    coreset_ratio: float = Field(
        default=0.1, gt=0, le=1, description="fraction of training patches kept by greedy coreset selection"
    )
    projection_dim: int | None = Field(
        default=128, ge=1,
        description="random projection dimension for coreset distances; ignored when features are not larger",
    )
    max_memory_gb: float | None = Field(
        default=8.0, gt=0, allow_inf_nan=False,
        description="cap on what fit holds for patch features, coreset work arrays and the memory bank (GiB; the "
        "backbone, one image batch and Python come on top). Within it the coreset is the exact greedy one; above "
        "it the patches are split into chunks of whole images, each gets its own greedy coreset and the bank is "
        "their union, and if the bank itself would pass half the cap coreset_ratio is lowered; both are warned "
        "about and recorded in adjusted_params and the fitted coreset_. None = no cap",
    )
    coreset_chunk_size: int | None = Field(
        default=None, ge=1,
        description="most patches per greedy coreset chunk (rounded down to whole images); bounds the coreset's "
        "time, which grows as patches x chunk x coreset_ratio (one chunk = exact greedy: patches^2 x ratio). "
        "None = as many as max_memory_gb allows",
    )
    num_neighbors: int = Field(
        default=9, ge=1, description="b: memory-bank neighbours of m* used by the image-score reweighting"
    )
    score_reweighting: bool = Field(
        default=True,
        description="image score = paper Eq. 7 weight x max patch distance (as anomalib); False = max patch distance",
    )
    knn_backend: Literal["auto", "torch", "faiss"] = Field(
        default="auto", description="exact nearest-neighbour search; auto = faiss on CPU when installed, else torch"
    )
    knn_memory_mb: int = Field(default=256, ge=1, description="bound on one distance block of the torch backend")
    blur_sigma: float = Field(default=4.0, ge=0, description="Gaussian blur of the map, in pixels at image_size")
    map_interpolation: Literal["bilinear", "nearest"] = Field(
        default="bilinear", description="upsampling of the patch-score grid to image_size (anomalib: nearest)"
    )

"""AnomalyDINO parameters (pydantic only: imported by discovery). DictAS and AnomalyNCD extend them."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from omniad_vision.detectors.foundation_params import FoundationParams


class ReferenceParams(FoundationParams):
    """A bank of normal reference patch tokens, augmented by rotations, optionally masked."""

    rotations: tuple[int, ...] = Field(
        default=(0, 90, 180, 270),
        description="augment the reference images by these rotations (multiples of 90 degrees; the paper rotates "
        "the shots too); (0,) = no augmentation",
    )
    masking: bool = Field(
        default=False,
        description="zero the distances of background patches (first principal component of the reference tokens, "
        "sign set so the image border is background, dilated by one patch); the paper masks some object classes",
    )
    top_fraction: float = Field(
        default=0.01, gt=0, le=1, description="image score = mean of this top share of the patch distances (at least one)"
    )
    blur_sigma: float = Field(default=4.0, ge=0, description="Gaussian blur of the map, in pixels at image_size")
    knn_backend: Literal["auto", "torch", "faiss"] = Field(
        default="auto", description="exact nearest-neighbour search; auto = faiss on CPU when installed, else torch"
    )
    knn_memory_mb: int = Field(default=256, ge=1, description="bound on one distance block of the torch backend")

    @field_validator("rotations")
    @classmethod
    def _check_rotations(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(v % 90 for v in value) or len({v % 360 for v in value}) != len(value):
            raise ValueError(f"rotations must be distinct multiples of 90 degrees, e.g. (0, 90, 180, 270); got {value}")
        return value


class Params(ReferenceParams):
    """AnomalyDINO: patch distance = cosine distance to the nearest reference token."""

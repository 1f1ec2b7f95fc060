"""DictAS parameters (pydantic only: imported by discovery)."""

from __future__ import annotations

from pydantic import Field

from omniad_vision.detectors.anomalydino.params import ReferenceParams


class Params(ReferenceParams):
    rotations: tuple[int, ...] = Field(
        default=(0,), description="augment the reference images by these rotations (multiples of 90 degrees); "
        "(0,) = none (the dictionary is the shots' tokens as they are)",
    )
    lookup_k: int = Field(
        default=8, ge=2,
        description="sparse lookup: each query is rebuilt from its lookup_k most similar dictionary entries "
        "(the other entries get weight 0)",
    )
    temperature: float = Field(
        default=0.05, gt=0, description="softmax temperature over the cosine similarities of the retrieved entries"
    )

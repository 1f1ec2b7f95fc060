"""Parameters of video.frame_knn / video.frame_gaussian (pydantic only: imported by discovery)."""

from __future__ import annotations

from pydantic import Field

from omniad_video.frame_features import FrameFeatureParams
from omniad_video.smoothing import SmoothingParams


class FrameScoreParams(SmoothingParams, FrameFeatureParams):
    pass


class FrameKNNParams(FrameScoreParams):
    k: int = Field(default=5, ge=1, description="score = distance to the k-th nearest training frame")
    max_bank: int = Field(
        default=50_000, ge=1, description="training frames kept (random subset, seeded) to bound memory and time"
    )
    chunk_size: int = Field(default=1024, ge=1, description="query frames per distance computation")


class FrameGaussianParams(FrameScoreParams):
    pass

"""Parameters of video.cell_knn (pydantic only: imported by discovery)."""

from __future__ import annotations

from pydantic import Field, field_validator

from omniad_video.smoothing import SmoothingParams


class CellKNNParams(SmoothingParams):
    cell_size: int = Field(default=20, ge=4, le=512, description="side of a grid cell, in pixels of the decoded frame")
    lags: tuple[int, ...] = Field(
        default=(1, 3), description="frame lags (decoded frames) of the motion cues; a longer lag sees slow objects"
    )
    appearance: bool = Field(default=True, description="add each cell's edge density, brightness and contrast")
    k: int = Field(default=3, ge=1, description="score = distance to the k-th nearest training cell")
    neighbourhood: int = Field(
        default=2, ge=0, le=3,
        description="cells compared with the training cells within this many cells around the same place "
        "(0 = the same cell only; 2 measured best on UCSD Ped2): tolerates objects that cross cell borders",
    )
    max_train_frames: int = Field(default=4000, ge=1, description="training frames kept (seeded subset) to bound memory")
    smoothing_window: int = Field(default=9, ge=1, le=10_000, description="smoothing window, in decoded frames")
    chunk_cells: int = Field(default=8, ge=1, description="cells per distance computation (memory vs speed)")

    @field_validator("lags")
    @classmethod
    def _check_lags(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(lag < 1 or lag > 100 for lag in value) or len(set(value)) != len(value):
            raise ValueError("give one or more distinct lags between 1 and 100 frames, e.g. [1, 3]")
        return tuple(sorted(value))

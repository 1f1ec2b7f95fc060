"""Parameters of the frame and video-file datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from omniad.params import Params


class SyntheticParams(Params):
    n_train: int = Field(default=4, ge=1, description="normal training videos")
    n_test_normal: int = Field(default=2, ge=1, description="normal test videos (>= 1: video-level AUROC)")
    n_test_per_anomaly: int = Field(default=2, ge=1)
    anomalies: tuple[Literal["speed", "direction", "object"], ...] = ("speed", "direction", "object")
    n_frames: int = Field(default=48, ge=8)
    size: int = Field(default=32, ge=16, description="frame height and width (pixels)")
    n_objects: int = Field(default=2, ge=1)
    seed: int = 0


class DecodeParams(Params):
    stride: int = Field(default=1, ge=1, description="keep every n-th frame (scores are spread back to all frames)")
    max_side: int | None = Field(default=160, ge=8, description="downscale so the longer side is at most this")


class FramesParams(DecodeParams):
    root: Path = Field(description="dataset folder")


class UCSDParams(FramesParams):
    subset: Literal["ped1", "ped2"] = "ped2"


class FilesParams(DecodeParams):
    root: Path = Field(description="folder with train/ and test/ video files")
    labels: Path = Field(description="CSV 'video,start,end' of anomalous frame ranges (end inclusive), one row per event")
    fps: float | None = Field(default=None, gt=0, description="sample at this rate instead of by stride")

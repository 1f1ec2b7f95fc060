"""Parameters of the pre-extracted feature datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from omniad.params import Params


class UCFCrimeParams(Params):
    root: Path | None = Field(default=None, description="folder with features/ and annotations/ "
                              "(default $OMNIAD_SHARED_DATA/data/ucf_crime_c3d_sample)")
    frame_counts: Path | None = Field(
        default=None, description="file of 'video n_frames' lines (whitespace or comma); required for frame targets",
    )
    level: Literal["frame", "video"] = Field(
        default="frame", description="frame: per-frame targets (needs frame_counts); video: video-level labels only",
    )
    protocol: Literal["leave_one_out", "lists"] = Field(
        default="leave_one_out", description="leave_one_out: one subset per video, trained on the others; "
        "lists: train_list / test_list",
    )
    train_list: Path | None = None
    test_list: Path | None = None


class RTFMParams(Params):
    root: Path = Field(description="folder of <video>.npy features (T x crops x D)")
    train_list: Path = Field(description="training videos, one per line, a 0/1 video label after a space or comma")
    test_list: Path = Field(description="test videos, one per line")
    labels: Path = Field(description="folder of <video>.npy per-frame 0/1 labels (length = frames_per_segment x T)")
    frames_per_segment: int = Field(default=16, ge=1, description="frames covered by one feature step (I3D: 16)")


class SyntheticFeaturesParams(Params):
    n_train_normal: int = Field(default=16, ge=1)
    n_train_anomalous: int = Field(default=16, ge=1)
    n_test_normal: int = Field(default=8, ge=1)
    n_test_anomalous: int = Field(default=8, ge=1)
    n_segments: int = Field(default=32, ge=4)
    dim: int = Field(default=64, ge=2)
    frames_per_segment: int = Field(default=16, ge=1)
    shift: float = Field(default=1.5, gt=0, description="distance of the anomalous segment distribution")
    seed: int = 0

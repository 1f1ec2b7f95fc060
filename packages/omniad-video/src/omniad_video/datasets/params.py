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


#: 'all' is what ``omniad fit / score / detect`` open a bare path with (the cards' ``source_params``)
SPLIT_HELP = ("'benchmark': the released train / test split, ground truth required; 'all': every video in one "
              "test split (fit on those without labelled anomalous frames), labels optional")


class FramesParams(DecodeParams):
    root: Path = Field(description="dataset folder")
    split: Literal["benchmark", "all"] = Field(default="benchmark", description=SPLIT_HELP)


class UCSDParams(FramesParams):
    subset: Literal["ped1", "ped2"] = "ped2"


class FilesParams(DecodeParams):
    root: Path = Field(description="split='benchmark': a folder with train/ and test/ video files; split='all': "
                       "one video file, or any folder of them (subfolders searched)")
    labels: Path | None = Field(
        default=None,
        description="CSV 'video,start,end' of anomalous frame ranges (0-based, end inclusive), one row per event; "
        "required with split='benchmark'; with 'all' optional (default: root/labels.csv when present)",
    )
    fps: float | None = Field(default=None, gt=0, description="sample at this rate instead of by stride")
    split: Literal["benchmark", "all"] = Field(default="benchmark", description=SPLIT_HELP)


class FrameFoldersParams(DecodeParams):
    root: Path = Field(description="a folder of frame images (one video), or a folder whose subfolders are frame "
                       "folders (one video each, searched to any depth)")
    labels: Path | None = Field(
        default=None,
        description="CSV 'video,start,end' of anomalous frame ranges (0-based, end inclusive; video = the frame "
        "folder's name or path below root); default: root/labels.csv when present; none: unlabelled",
    )
    frame_rate: float | None = Field(
        default=None, gt=0, description="frames per second of the footage, for the time_s column (frame folders "
        "do not store it)",
    )

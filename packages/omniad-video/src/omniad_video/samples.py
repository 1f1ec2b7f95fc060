"""The two kinds of video sample, and how segment scores become frame scores.

Frame-level evaluation (UCSD, Avenue, ShanghaiTech, UCF-Crime) labels every frame of the
original video, so a sample always knows its frame count and its target is ``(n_frames,)``:

* :class:`FrameVideo` holds decoded frames, ``(F, H, W, 3)`` uint8 (grayscale sources are
  repeated to three channels), possibly subsampled: ``frame_index[i]`` is the original
  frame number of ``frames[i]`` and ``n_frames`` the original length, so scores on the kept
  frames are spread back to every frame.
* :class:`SegmentFeatures` holds pre-extracted features, ``(S, D)`` (UCF-Crime C3D: 32
  segments x 4096) or ``(S, crops, D)`` (RTFM's ten-crop I3D), for a video of
  ``n_frames`` frames. ``label`` is the weak video-level label (1 = contains an anomaly)
  that MIL and RTFM train on; ``None`` when unknown (test videos).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from omniad.errors import DataError


@dataclass(frozen=True, eq=False)
class FrameVideo:
    frames: np.ndarray
    n_frames: int | None = None
    frame_index: np.ndarray | None = None
    fps: float | None = None
    name: str = ""
    label: int | None = None
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        where = f"video {self.name!r}" if self.name else "video"
        frames = np.asarray(self.frames)
        if frames.ndim == 3:  # (F, H, W) grayscale
            frames = np.repeat(frames[..., None], 3, axis=3)
        if frames.ndim != 4 or frames.shape[3] not in (1, 3):
            raise DataError(f"{where}: expected frames of shape (F, H, W, 3), got {frames.shape}")
        if frames.shape[3] == 1:
            frames = np.repeat(frames, 3, axis=3)
        if len(frames) == 0:
            raise DataError(f"{where}: has no frames; the file may be empty or the stride too large")
        if frames.dtype != np.uint8:
            raise DataError(f"{where}: frames must be uint8 (0-255), got {frames.dtype}")
        object.__setattr__(self, "frames", frames)
        index = np.arange(len(frames)) if self.frame_index is None else np.asarray(self.frame_index, dtype=np.int64)
        n = int(index[-1]) + 1 if self.n_frames is None else int(self.n_frames)
        if index.shape != (len(frames),) or (index.size > 1 and np.any(np.diff(index) <= 0)):
            raise DataError(f"{where}: frame_index must give one increasing frame number per decoded frame")
        if index[0] < 0 or index[-1] >= n:
            raise DataError(f"{where}: frame_index runs to {int(index[-1])} but the video has {n} frames")
        object.__setattr__(self, "frame_index", index)
        object.__setattr__(self, "n_frames", n)
        _check_label(self.label, where)

    def __len__(self) -> int:
        return int(self.n_frames or 0)

    def to_all_frames(self, kept_scores: np.ndarray) -> np.ndarray:
        """Scores of the decoded frames spread to every original frame (each frame takes the
        score of the nearest decoded frame at or before it)."""
        kept = np.asarray(kept_scores, dtype=np.float64).reshape(-1)
        if kept.shape != (len(self.frames),):
            raise DataError(f"video {self.name!r}: {kept.size} scores for {len(self.frames)} decoded frames")
        assert self.frame_index is not None and self.n_frames is not None
        slot = np.searchsorted(self.frame_index, np.arange(self.n_frames), side="right") - 1
        return kept[np.clip(slot, 0, len(kept) - 1)]


@dataclass(frozen=True, eq=False)
class SegmentFeatures:
    features: np.ndarray
    n_frames: int
    name: str = ""
    label: int | None = None
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        where = f"features of video {self.name!r}" if self.name else "video features"
        arr = np.asarray(self.features)
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
            raise DataError(f"{where}: features must be numeric, got dtype {arr.dtype}")
        if arr.ndim not in (2, 3) or arr.shape[0] == 0 or arr.shape[-1] == 0:
            raise DataError(f"{where}: expected (segments, D) or (segments, crops, D) features, got {arr.shape}")
        arr = arr.astype(np.float32, copy=False)
        if not np.all(np.isfinite(arr)):
            raise DataError(f"{where}: {int((~np.isfinite(arr)).sum())} feature values are NaN/inf")
        object.__setattr__(self, "features", arr)
        if int(self.n_frames) < arr.shape[0]:
            raise DataError(f"{where}: {arr.shape[0]} segments but only {self.n_frames} frames")
        object.__setattr__(self, "n_frames", int(self.n_frames))
        _check_label(self.label, where)

    def __len__(self) -> int:
        return self.n_frames

    @property
    def n_segments(self) -> int:
        return int(self.features.shape[0])


def _check_label(label: Any, where: str) -> None:
    if label is not None and label not in (0, 1):
        raise DataError(f"{where}: the video label must be 0 (normal), 1 (anomalous) or None, got {label!r}")


def segment_bounds(n_segments: int, n_frames: int) -> np.ndarray:
    """``(S + 1,)`` frame boundaries: segment ``j`` covers frames ``[b[j], b[j+1])``.

    Sultani et al.'s split of a video into 32 equal temporal segments (rounded to whole
    frames); every frame belongs to exactly one segment.
    """
    if n_segments < 1 or n_frames < n_segments:
        raise DataError(f"cannot split {n_frames} frames into {n_segments} segments")
    return np.round(np.linspace(0, n_frames, n_segments + 1)).astype(np.int64)


def segments_to_frames(segment_scores: np.ndarray, n_frames: int) -> np.ndarray:
    """Each frame takes the score of the segment it falls in: ``(S,)`` -> ``(n_frames,)``."""
    scores = np.asarray(segment_scores, dtype=np.float64).reshape(-1)
    bounds = segment_bounds(len(scores), n_frames)
    return np.repeat(scores, np.diff(bounds))


#: what the frame detectors take, said wherever they are given something else
FRAMES_HINT = ("pass one video as a FrameVideo or an (F, H, W, 3) / (F, H, W) uint8 array of its frames, several as a "
               "list of them or a (B, F, H, W, 3) array, or the path of a video file, a frame folder or a folder of "
               "either")


def _frames_video(frames: np.ndarray, where: str) -> FrameVideo:
    shape = tuple(frames.shape)
    if frames.ndim == 3 and shape[-1] == 3:
        raise DataError(f"{where}: got one {shape} image; a video is (F, H, W, 3): stack its frames with "
                        "np.stack(frames) (one image is scored by an image detector, e.g. omniad-vision's)")
    if frames.ndim == 4 and shape[-1] not in (1, 3):
        hint = "; frames look channels-first: np.moveaxis(frames, 1, -1)" if shape[1] in (1, 3) else ""
        raise DataError(f"{where}: got an array of shape {shape}, whose last axis is not 3 colour channels{hint}; "
                        f"{FRAMES_HINT}")
    if frames.dtype != np.uint8:
        raise DataError(f"{where}: got {frames.dtype} frames {shape}; frames are uint8 (0-255): convert with "
                        "(frames * 255).round().astype(np.uint8) for values in [0, 1], or frames.astype(np.uint8)")
    return FrameVideo(frames=frames)


def as_videos(samples: Any, where: str) -> list[FrameVideo]:
    """What a frame detector's ``fit`` / ``score`` were given, as a list of videos.

    One video given bare (a FrameVideo, an ``(F, H, W, 3)`` or ``(F, H, W)`` uint8 array) is one
    sample, not F; a ``(B, F, H, W, 3)`` array or a list holds several. Anything else fails with a
    message naming what was received and what to pass.
    """
    if isinstance(samples, FrameVideo):
        return [samples]
    if isinstance(samples, SegmentFeatures):
        raise DataError(f"{where}: got SegmentFeatures (pre-extracted features); frame detectors take decoded frames, "
                        "features are scored by video.mil / video.rtfm")
    if isinstance(samples, np.ndarray) and not (samples.dtype == object and samples.ndim == 1):
        if samples.ndim in (3, 4):
            return [_frames_video(samples, where)]
        if samples.ndim == 5:
            return [_frames_video(v, f"{where}: sample #{i}") for i, v in enumerate(samples)]
        what = "one frame" if samples.ndim == 2 else f"an array of shape {samples.shape}"
        raise DataError(f"{where}: got {what}, not a video; {FRAMES_HINT}")
    if isinstance(samples, (str, bytes)) or not isinstance(samples, (list, tuple, np.ndarray)):
        raise DataError(f"{where}: got {type(samples).__name__}; {FRAMES_HINT}")
    out = []
    for i, item in enumerate(samples):
        if isinstance(item, FrameVideo):
            out.append(item)
        elif isinstance(item, np.ndarray) and item.ndim in (3, 4):
            out.append(_frames_video(item, f"{where}: sample #{i}"))
        elif isinstance(item, np.ndarray) and item.ndim == 2:
            raise DataError(f"{where}: sample #{i} is a ndarray, not a FrameVideo: a {item.shape} array is one frame; "
                            f"for one video pass its frames stacked, np.stack(frames); {FRAMES_HINT}")
        else:
            shape = f" of shape {item.shape}" if isinstance(item, np.ndarray) else ""
            raise DataError(f"{where}: sample #{i} is a {type(item).__name__}{shape}, not a FrameVideo; {FRAMES_HINT}")
    return out

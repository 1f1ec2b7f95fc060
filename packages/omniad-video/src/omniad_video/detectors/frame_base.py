"""What the one-class frame detectors share: what ``fit`` / ``score`` accept.

A user holding one video as an array should not get F samples of one frame each: one
``(F, H, W, 3)`` / ``(F, H, W)`` uint8 array or one FrameVideo is one video, a
``(B, F, H, W, 3)`` array or a list holds several, a path is read by the core with the loader
that reads it (a video file, a frame folder, a folder of either). Everything else fails
with a message that says what to pass (:func:`omniad_video.samples.as_videos`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from omniad.detector import Detector
from omniad.scores import Scores
from omniad_video.samples import FrameVideo, as_videos
from omniad_video.smoothing import SmoothingParams, smooth_scores


class FrameDetector(Detector):
    def _coerce(self, samples: Any, where: str) -> Any:
        return as_videos(samples, where)


def frame_level_scores(videos: Sequence[FrameVideo], raw: Callable[[FrameVideo], np.ndarray],
                       params: SmoothingParams) -> Scores:
    """Each video's decoded-frame scores ``raw(video)``, smoothed and spread to every original frame;
    a video scores by its worst frame."""
    local = []
    for video in videos:
        kept = smooth_scores(raw(video), params.smoothing, params.smoothing_window, causal=params.causal)
        local.append(video.to_all_frames(kept))
    return Scores(sample=np.array([float(s.max()) for s in local]), local=local)

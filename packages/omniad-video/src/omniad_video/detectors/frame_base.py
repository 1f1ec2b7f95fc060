"""What the one-class frame detectors share: what ``fit`` / ``score`` accept.

A user holding one video as an array should not get F samples of one frame each: one
``(F, H, W, 3)`` / ``(F, H, W)`` uint8 array or one FrameVideo is one video, a
``(B, F, H, W, 3)`` array or a list holds several, a path is read by the core with the loader
that reads it (a video file, a frame folder, a folder of either). Everything else fails
with a message that says what to pass (:func:`omniad_video.samples.as_videos`).

Detectors that know where in the frame they looked (``video.cell_knn``'s cells,
``video.future_frame``'s prediction error) also return that map per decoded frame, so the
report's thumbnails show why a frame scored high (:data:`HEAT`, :data:`HEAT_EXTENT`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from omniad.detector import Detector
from omniad.errors import DataError
from omniad.scores import Scores
from omniad_video.samples import FrameVideo, as_videos
from omniad_video.smoothing import SmoothingParams, smooth_scores

#: ``Scores.extras`` key: per video a ``(F_decoded, h, w)`` float32 map of where the detector
#: looked in each decoded frame (higher = more anomalous), coarser than the frame
HEAT = "heat"
#: ``Scores.extras`` key: per video ``[rows, cols]``, the decoded-frame pixels the map covers from
#: the top-left corner (a grid of whole cells may leave a margin uncovered)
HEAT_EXTENT = "heat_extent"

#: what a detector's per-video scorer returns: decoded-frame scores, or those with their heat map and extent
RawScores = np.ndarray | tuple[np.ndarray, np.ndarray, tuple[int, int]]


class FrameDetector(Detector):
    def _coerce(self, samples: Any, where: str) -> Any:
        return as_videos(samples, where)


def frame_level_scores(videos: Sequence[FrameVideo], raw: Callable[[FrameVideo], RawScores],
                       params: SmoothingParams) -> Scores:
    """Each video's decoded-frame scores ``raw(video)``, smoothed and spread to every original frame;
    a video scores by its worst frame. Where ``raw`` also gives heat maps (every video or none),
    they go to ``extras`` unsmoothed, one per decoded frame, as the thumbnails are decoded frames."""
    local, heat, extent = [], [], []
    for video in videos:
        out = raw(video)
        if isinstance(out, tuple):
            out, maps, covers = out
            maps = np.asarray(maps, dtype=np.float32)
            if maps.ndim != 3 or len(maps) != len(video.frames):
                raise DataError(f"video {video.name!r}: heat maps of shape {maps.shape} for {len(video.frames)} "
                                "decoded frames; a detector must give one (h, w) map per decoded frame")
            heat.append(maps)
            extent.append(np.asarray(covers, dtype=np.int64).reshape(2))
        kept = smooth_scores(out, params.smoothing, params.smoothing_window, causal=params.causal)
        local.append(video.to_all_frames(kept))
    extras = {HEAT: heat, HEAT_EXTENT: extent} if heat else {}
    if heat and len(heat) != len(local):
        raise DataError("frame_level_scores: heat maps for some videos only; give them for every video or none")
    return Scores(sample=np.array([float(s.max()) for s in local]), local=local, extras=extras)

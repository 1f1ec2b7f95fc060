"""What the one-class frame detectors share: what ``fit`` / ``score`` accept.

A user holding one video as an array should not get F samples of one frame each: one
``(F, H, W, 3)`` / ``(F, H, W)`` uint8 array or one FrameVideo is one video, a
``(B, F, H, W, 3)`` array or a list holds several, a path is read by the core with the loader
that reads it (a video file, a frame folder, a folder of either). Everything else fails
with a message that says what to pass (:func:`omniad_video.samples.as_videos`).
"""

from __future__ import annotations

from typing import Any

from omniad.detector import Detector
from omniad_video.samples import as_videos


class FrameDetector(Detector):
    def _coerce(self, samples: Any, where: str) -> Any:
        return as_videos(samples, where)

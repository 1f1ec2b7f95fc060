"""omniad-video: frame-level video anomaly scores, one-class from frames or weakly supervised from features.

Importing this package is cheap (no torch, no PyAV). A sample is a
:class:`~omniad_video.samples.FrameVideo` (decoded frames) or a
:class:`~omniad_video.samples.SegmentFeatures` (pre-extracted features); its localization
target is one 0/1 label per frame of the original video.
"""

from __future__ import annotations

from omniad_video.samples import FrameVideo, SegmentFeatures, segments_to_frames
from omniad_video.version import __version__

__all__ = ["FrameVideo", "SegmentFeatures", "__version__", "segments_to_frames"]

"""What the weakly supervised feature detectors share: sample checks, weak labels, frame expansion.

They train on video-level labels only (1 = the video contains an anomaly somewhere), read
from each training sample's ``label``; both kinds of video must be present. Scores are per
segment and spread to every frame of the original video (``segments_to_frames``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad.detector import Detector
from omniad.errors import DataError
from omniad_video.samples import SegmentFeatures, segments_to_frames


class WeakDetector(Detector):
    def _videos(self, samples: Sequence[Any], where: str) -> list[SegmentFeatures]:
        out = []
        for i, s in enumerate(samples):
            if not isinstance(s, SegmentFeatures):
                raise DataError(
                    f"{where}: sample #{i} is a {type(s).__name__}, not SegmentFeatures; this detector reads "
                    "pre-extracted features (video.ucf_crime, video.rtfm, video.synthetic_features)"
                )
            out.append(s)
        dims = {v.features.shape[-1] for v in out}
        if hasattr(self, "dim_") and dims != {self.dim_}:
            raise DataError(f"{where}: features have dimension {sorted(dims)} but the model was trained on {self.dim_}")
        if len(dims) > 1:
            raise DataError(f"{where}: videos have features of different dimensions {sorted(dims)}")
        return out

    def _weak_labels(self, videos: list[SegmentFeatures], where: str) -> np.ndarray:
        missing = [v.name for v in videos if v.label is None]
        if missing:
            raise DataError(
                f"{where}: {self.component_id} is weakly supervised and {len(missing)} of {len(videos)} training "
                f"videos have no video label (e.g. {missing[0]!r}); give SegmentFeatures(label=0 or 1)"
            )
        labels = np.array([v.label for v in videos])
        if labels.min() == labels.max():
            raise DataError(f"{where}: training needs both normal and anomalous videos; all have label {labels[0]}")
        return labels

    @staticmethod
    def _segments(video: SegmentFeatures) -> np.ndarray:
        """``(S, D)``: ten-crop features averaged over crops, as RTFM's and MIL's test code do."""
        f = video.features
        return f.mean(1) if f.ndim == 3 else f

    @staticmethod
    def _frames(video: SegmentFeatures, segment_scores: np.ndarray) -> np.ndarray:
        return segments_to_frames(segment_scores, video.n_frames)

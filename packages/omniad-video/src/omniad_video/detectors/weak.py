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
from omniad.scores import Scores
from omniad.state import Array, Int, Module, Spec, declare
from omniad_video.samples import SegmentFeatures, segments_to_frames

NET = "net"


def weak_state(first_layer: str, rows: str | None) -> Any:
    """State of a weak detector whose first layer ``net.<first_layer>`` is a ``(rows, dim_)`` weight.

    Binding ``dim_`` to that weight makes an edited ``dim_`` fail at load instead of building a
    network of that width; one loss per training iteration.
    """
    entries: dict[str, Spec] = {
        "dim_": Int(ge=1, bind="dim"),
        "train_loss_": Array("params.iterations"),
        NET: Module(),
        f"{NET}.{first_layer}": Array(rows, "dim"),
    }
    return declare(entries)


class WeakDetector(Detector):
    """Subclasses build ``net_`` (``_build_net``), train it in ``_fit`` (setting ``dim_`` and
    ``train_loss_``) and say how it scores segments (``_segment_scores``); scoring, frame
    expansion and persistence are shared."""
    uses_torch = True

    def _build_net(self) -> Any:
        raise NotImplementedError

    def _coerce(self, samples: Any, where: str) -> Any:
        """One video's SegmentFeatures is one sample; a bare features array lacks the frame count it needs."""
        if isinstance(samples, SegmentFeatures):
            return [samples]
        if isinstance(samples, np.ndarray) and samples.dtype != object:
            raise DataError(f"{where}: got a {samples.shape} array; features are scored per video with its frame count: "
                            "pass SegmentFeatures(features, n_frames=...) (or a list of them), or a feature dataset "
                            "(video.ucf_crime, video.rtfm)")
        return samples

    def _segment_scores(self, segments: Any) -> Any:
        raise NotImplementedError

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

    def _score(self, samples: Sequence[Any]) -> Scores:
        import torch

        videos = self._videos(samples, f"{self.where}.score")
        sample, local = [], []
        with torch.inference_mode():
            for v in videos:
                s = self._segment_scores(torch.as_tensor(self._segments(v), device=self.device)).double().cpu().numpy()
                sample.append(float(s.max()))
                local.append(self._frames(v, s))
        return Scores(sample=np.array(sample), local=local)

    def get_state(self) -> dict[str, Any]:
        from omniad.torchstate import module_arrays

        return {"dim_": self.dim_, "train_loss_": self.train_loss_, **module_arrays(self.net_, NET)}

    def set_state(self, state: dict[str, Any]) -> None:
        from omniad.torchstate import load_module_arrays

        self.dim_ = int(state["dim_"])
        self.train_loss_ = np.asarray(state["train_loss_"])
        self.net_ = self._build_net()
        load_module_arrays(self.net_, state, NET)
        self.net_.to(self.device).eval()

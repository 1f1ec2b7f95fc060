"""Frame-level one-class detectors: distance of each frame's features to the normal frames.

The simplest frame-level video baselines: every normal training frame is a point in
feature space; a test frame scores by how far it lies from them, either its k-th nearest
neighbour (no distribution assumption; torch ``cdist`` in chunks, no faiss needed at
these bank sizes) or its Mahalanobis distance under one Gaussian with a Ledoit-Wolf
covariance (shrinkage, because frames are far fewer than feature dimensions). Scores are
smoothed over time and spread to every original frame; a video scores by its worst frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, Float, Int, declare
from omniad_video.detectors.frame_base import FrameDetector, frame_level_scores
from omniad_video.detectors.frame_knn.params import FrameGaussianParams, FrameKNNParams, FrameScoreParams
from omniad_video.frame_features import FrameFeaturizer, check_videos
from omniad_video.nearest import kth_distance


class _FrameScorer(FrameDetector):
    Params = FrameScoreParams
    params: FrameScoreParams

    @property
    def featurizer(self) -> FrameFeaturizer:
        if getattr(self, "_featurizer", None) is None:
            self._featurizer = FrameFeaturizer(self.params, self.device, self.seed, self.where)
        return self._featurizer

    def _train_features(self, samples: Sequence[Any]) -> np.ndarray:
        videos = check_videos(samples, f"{self.where}.fit")
        feats = np.concatenate(self.featurizer.videos(videos))
        if not np.all(np.isfinite(feats)):
            raise DataError(f"{self.where}.fit: frame features contain NaN/inf; check the frames and the backbone")
        self.n_train_frames_ = len(feats)
        return feats

    def _frame_scores(self, feats: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _fitted_width(self) -> int:
        """Width of the frame vectors the fitted state holds."""
        raise NotImplementedError

    def _expected_width(self) -> int | None:
        """Frame-vector width the parameters fix (pixel features), None when the backbone decides."""
        p = self.params
        if self.featurizer.is_vision:
            return None
        return p.pixel_size**2 * (2 if p.motion else 1)

    def check_state(self, state: dict[str, Any]) -> None:
        self._check_width(self._state_width(state), "the saved state holds")

    def _state_width(self, state: dict[str, Any]) -> int:
        raise NotImplementedError

    def _check_width(self, width: int, what: str) -> None:
        want = self._expected_width()
        if want is not None and width != want:
            p = self.params
            raise DataError(
                f"{self.where}: {what} {width}-wide frame vectors but pixel_size={p.pixel_size}, motion={p.motion} "
                f"make {want}; the model folder does not match its parameters, re-save the model"
            )

    def _features(self, video: Any, where: str) -> np.ndarray:
        feats = self.featurizer.video(video)
        if feats.shape[1] != self._fitted_width():
            raise DataError(
                f"{where}: video {video.name!r} gives {feats.shape[1]}-wide frame features but the detector was "
                f"fitted on {self._fitted_width()}-wide ones; score with the parameters it was fitted with"
            )
        return feats

    def _score(self, samples: Sequence[Any]) -> Scores:
        where = f"{self.where}.score"
        return frame_level_scores(check_videos(samples, where),
                                  lambda video: self._frame_scores(self._features(video, where)), self.params)

    def provenance(self) -> dict[str, Any]:
        return {**self.featurizer.provenance(), "train_frames": int(getattr(self, "n_train_frames_", 0))}


class FrameKNN(_FrameScorer):
    """``video.frame_knn``: distance to the k-th nearest normal training frame."""

    Params = FrameKNNParams
    params: FrameKNNParams
    state_attributes = ("bank_", "k_")
    state_spec = declare(bank_=Array("n", "d"), k_=Int(ge=1, le="n"))

    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        n, k = len(state["bank_"]), state["k_"]
        if n > self.params.max_bank:
            raise DataError(f"{self.where}: the saved bank holds {n} frames, more than max_bank={self.params.max_bank}; "
                            "re-save the model")
        if k != min(self.params.k, n):
            raise DataError(f"{self.where}: saved k_={k} but k={self.params.k} with {n} bank frames gives "
                            f"{min(self.params.k, n)}; re-save the model")

    def _state_width(self, state: dict[str, Any]) -> int:
        return int(state["bank_"].shape[1])

    def _fitted_width(self) -> int:
        return int(self.bank_.shape[1])

    def _fit(self, samples: Sequence[Any]) -> None:
        feats = self._train_features(samples)
        if len(feats) > self.params.max_bank:
            rng = np.random.default_rng(self.seed)
            feats = feats[np.sort(rng.choice(len(feats), self.params.max_bank, replace=False))]
        self.bank_ = feats.astype(np.float32)
        self.k_ = self._limit("k", self.params.k, len(self.bank_), f"only {len(self.bank_)} training frames")

    def _frame_scores(self, feats: np.ndarray) -> np.ndarray:
        return kth_distance(feats, self.bank_, int(self.k_), self.params.chunk_size, self.device)

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.k_ = int(self.k_)


class FrameGaussian(_FrameScorer):
    """``video.frame_gaussian``: Mahalanobis distance under a Ledoit-Wolf Gaussian of normal frames."""

    Params = FrameGaussianParams
    params: FrameGaussianParams
    state_attributes = ("mean_", "precision_", "shrinkage_")
    state_spec = declare(mean_=Array("d"), precision_=Array("d", "d"), shrinkage_=Float(ge=0, le=1))

    def _state_width(self, state: dict[str, Any]) -> int:
        return int(state["mean_"].shape[0])

    def _fitted_width(self) -> int:
        return int(self.mean_.shape[0])

    def _fit(self, samples: Sequence[Any]) -> None:
        from sklearn.covariance import LedoitWolf

        feats = self._train_features(samples).astype(np.float64)
        if len(feats) < 2:
            raise DataError(f"{self.where}.fit: a Gaussian needs at least 2 training frames, got {len(feats)}")
        lw = LedoitWolf(assume_centered=False).fit(feats)
        self.mean_ = lw.location_.astype(np.float64)
        self.precision_ = lw.precision_.astype(np.float64)
        self.shrinkage_ = float(lw.shrinkage_)

    def _frame_scores(self, feats: np.ndarray) -> np.ndarray:
        centered = feats.astype(np.float64) - self.mean_
        d2 = np.einsum("ij,jk,ik->i", centered, self.precision_, centered)
        return np.sqrt(np.maximum(d2, 0.0))

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.shrinkage_ = float(self.shrinkage_)

    def provenance(self) -> dict[str, Any]:
        return {**super().provenance(), "ledoit_wolf_shrinkage": float(getattr(self, "shrinkage_", float("nan")))}


__all__ = ["FrameGaussian", "FrameKNN"]

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

from omniad.detector import Detector
from omniad.errors import DataError
from omniad.scores import Scores
from omniad_video.detectors.frame_knn.params import FrameGaussianParams, FrameKNNParams, FrameScoreParams
from omniad_video.frame_features import FrameFeaturizer, check_videos
from omniad_video.smoothing import smooth_scores


class _FrameScorer(Detector):
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

    def _score(self, samples: Sequence[Any]) -> Scores:
        videos = check_videos(samples, f"{self.where}.score")
        local = []
        for video in videos:
            raw = self._frame_scores(self.featurizer.video(video))
            kept = smooth_scores(raw, self.params.smoothing, self.params.smoothing_window, causal=self.params.causal)
            local.append(video.to_all_frames(kept))
        return Scores(sample=np.array([float(s.max()) for s in local]), local=local)

    def provenance(self) -> dict[str, Any]:
        return {**self.featurizer.provenance(), "train_frames": int(getattr(self, "n_train_frames_", 0))}


class FrameKNN(_FrameScorer):
    """``video.frame_knn``: distance to the k-th nearest normal training frame."""

    Params = FrameKNNParams
    params: FrameKNNParams
    state_attributes = ("bank_", "k_")

    def _fit(self, samples: Sequence[Any]) -> None:
        feats = self._train_features(samples)
        if len(feats) > self.params.max_bank:
            rng = np.random.default_rng(self.seed)
            feats = feats[np.sort(rng.choice(len(feats), self.params.max_bank, replace=False))]
        self.bank_ = feats.astype(np.float32)
        self.k_ = self._limit("k", self.params.k, len(self.bank_), f"only {len(self.bank_)} training frames")

    def _frame_scores(self, feats: np.ndarray) -> np.ndarray:
        import torch

        bank = torch.from_numpy(np.asarray(self.bank_, dtype=np.float32)).to(self.device)
        k = int(self.k_)
        out = []
        for i in range(0, len(feats), self.params.chunk_size):
            q = torch.from_numpy(feats[i:i + self.params.chunk_size]).to(self.device)
            d = torch.cdist(q, bank)
            out.append(d.topk(k, dim=1, largest=False).values[:, -1].cpu().numpy())
        return np.concatenate(out).astype(np.float64)

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.k_ = int(self.k_)


class FrameGaussian(_FrameScorer):
    """``video.frame_gaussian``: Mahalanobis distance under a Ledoit-Wolf Gaussian of normal frames."""

    Params = FrameGaussianParams
    params: FrameGaussianParams
    state_attributes = ("mean_", "precision_", "shrinkage_")

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

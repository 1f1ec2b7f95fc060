"""Gaussian MVG detector: image-level Mahalanobis distance of globally pooled features.

Rippel, Mertens & Merhof, "Modeling the Distribution of Normal Data in Pre-Trained Deep
Features for Anomaly Detection" (ICPR 2020). Every feature level is average-pooled over
space to one vector; a multivariate Gaussian with Ledoit-Wolf shrinkage (scikit-learn) is
fitted per level, and the score is the sum of the levels' Mahalanobis distances. NPCA
optionally keeps only the low-variance principal components, where the paper found normal
data most discriminative. The method is image-level only: ``Scores.local`` is None and
pixel metrics do not apply to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from omniad.errors import ConfigError, DataError
from omniad.state import Array, Int, Spec, declare
from omniad_vision.detectors.backbone_detector import BackboneDetector
from omniad_vision.detectors.gaussian.params import GaussianMVGParams

#: feature levels one model may hold (timm backbones have up to about 24); each has its own entries
MAX_LEVELS = 32


def _level_spec() -> dict[str, Spec]:
    """Per level l: mean (c_l,), kept basis (c_l, k_l) and precision (k_l, k_l); levels past n_levels_ absent."""
    spec: dict[str, Spec] = {"n_levels_": Int(ge=1, le=MAX_LEVELS)}
    for level in range(MAX_LEVELS):
        spec[f"mean_{level}"] = Array(f"c{level}", optional=True)
        spec[f"basis_{level}"] = Array(f"c{level}", f"k{level}", optional=True)
        spec[f"precision_{level}"] = Array(f"k{level}", f"k{level}", optional=True)
    return spec


class GaussianMVG(BackboneDetector):
    Params = GaussianMVGParams
    state_attributes = ("n_levels_",)
    state_spec = declare(_level_spec())

    def check_state(self, state: dict[str, Any]) -> None:
        n = state["n_levels_"]
        for level in range(MAX_LEVELS):
            present = [k for k in (f"mean_{level}", f"basis_{level}", f"precision_{level}") if state.get(k) is not None]
            if level < n and len(present) < 3:
                raise DataError(f"{self.where}: saved state has n_levels_={n} but lacks level {level}'s Gaussian; re-save the model")
            if level >= n and present:
                raise DataError(f"{self.where}: saved state has n_levels_={n} but holds {present[0]!r}; re-save the model")
        layers = state.get("layers_")
        if layers is not None and len(layers) != n:
            raise DataError(f"{self.where}: saved state has n_levels_={n} but {len(layers)} layers_; re-save the model")

    def check_loaded(self) -> None:
        channels = self.extractor_.channels
        if self.n_levels_ != len(channels):
            raise DataError(
                f"{self.where}: saved state has n_levels_={self.n_levels_} but backbone {self.params.backbone!r} "
                f"at layers {self.layers_} gives {len(channels)} levels; re-save the model"
            )
        for level, width in enumerate(channels):
            self.check_width(f"mean_{level}", int(getattr(self, f"mean_{level}").shape[0]), width)

    def _pooled(self, samples: Sequence[Any], where: str) -> list[np.ndarray]:
        """One ``(N, C_l)`` matrix of pooled features per level."""
        levels: list[list[np.ndarray]] = []
        with torch.inference_mode():
            for _, _, x in self.batches(samples, where):
                feats = self.extractor_(x)
                if not levels:
                    levels = [[] for _ in feats]
                for acc, f in zip(levels, feats, strict=True):
                    acc.append(f.mean(dim=(2, 3)).double().cpu().numpy())
        return [np.concatenate(acc) for acc in levels]

    def _fit(self, samples: Sequence[Any]) -> None:
        from sklearn.covariance import LedoitWolf

        where = f"{self.where}.fit"
        self.build_extractor(self.params.weights)
        pooled = self._pooled(samples, where)
        if pooled[0].shape[0] < 2:
            raise DataError(f"{where}: a Gaussian needs at least 2 training images, got {pooled[0].shape[0]}")
        if len(pooled) > MAX_LEVELS:
            raise ConfigError(f"{where}: {len(pooled)} feature levels, more than the {MAX_LEVELS} supported; pass fewer layers")
        self.n_levels_ = len(pooled)
        for level, feats in enumerate(pooled):
            mean = feats.mean(0)
            basis = self._npca_basis(feats - mean)
            lw = LedoitWolf(assume_centered=True, store_precision=False).fit((feats - mean) @ basis)
            setattr(self, f"mean_{level}", mean)
            setattr(self, f"basis_{level}", basis)
            # shrinkage makes the covariance well conditioned: an LU inverse suffices (scikit-learn's
            # eigendecomposition-based pinvh took 0.5 s per level here)
            setattr(self, f"precision_{level}", torch.linalg.inv(torch.from_numpy(lw.covariance_)).numpy())

    def _npca_basis(self, centred: np.ndarray) -> np.ndarray:
        """Columns spanning the kept subspace (identity without NPCA)."""
        share = self.params.npca_variance
        if share is None:
            return np.eye(centred.shape[1])
        _, sv, vt = np.linalg.svd(centred, full_matrices=False)
        var = sv**2
        keep_from = int(np.searchsorted(np.cumsum(var) / var.sum(), share, side="right")) + 1
        nonzero = int(np.sum(var > var.max() * 1e-12))
        keep_from = min(keep_from, nonzero - 1)  # keep at least one component with variance
        return vt[keep_from:nonzero].T

    def score_batch(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        feats = self.extractor_(x)
        total = torch.zeros(x.shape[0], dtype=torch.float64)
        for level, f in enumerate(feats):
            z = (f.mean(dim=(2, 3)).double().cpu().numpy() - getattr(self, f"mean_{level}")) @ getattr(self, f"basis_{level}")
            m2 = np.einsum("ij,jk,ik->i", z, getattr(self, f"precision_{level}"), z)
            total += torch.from_numpy(np.sqrt(np.maximum(m2, 0.0)))
        return total, None

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        for level in range(self.n_levels_):
            for name in ("mean", "basis", "precision"):
                state[f"{name}_{level}"] = getattr(self, f"{name}_{level}")
        return state

    def export_onnx(self, path: Any, *, opset: int = 17) -> Any:
        raise ConfigError(f"{self.where}: ONNX export is offered for PatchCore and PaDiM only")

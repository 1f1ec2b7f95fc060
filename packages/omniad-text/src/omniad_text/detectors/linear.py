"""Gaussian and linear-subspace detectors on text embeddings: ``text.mahalanobis`` and ``text.pca``.

Both fit with scikit-learn and keep only the arrays that define the model (mean,
precision, components), so save/load is exact without pickle or refit.

``text.mahalanobis`` uses scikit-learn's Ledoit-Wolf shrinkage by default: a few hundred
normal texts in 384 dimensions give a near-singular sample covariance, and the
Ledoit-Wolf estimate picks its shrinkage from the data instead of a hand-set constant.
``text.pca`` scores the squared reconstruction error (squared prediction error, SPE) of a
text outside the principal subspace of the normal texts: a text of another topic has
energy in directions the normal topic never uses.
"""

from __future__ import annotations

import numpy as np

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, declare
from omniad_text.detectors.base import EmbeddingDetector
from omniad_text.detectors.params import MahalanobisParams, PCAParams


class TextMahalanobis(EmbeddingDetector):
    Params = MahalanobisParams
    model_state = ("mean_", "precision_")
    state_spec = declare(mean_=Array("d"), precision_=Array("d", "d"))

    def _fit_vectors(self, x: np.ndarray) -> None:
        from sklearn.covariance import EmpiricalCovariance, LedoitWolf

        if len(x) < 2:
            raise DataError(f"{self.where}.fit: a covariance needs 2+ training texts, got {len(x)}; pass more texts")
        model = LedoitWolf() if self.params.covariance == "ledoit_wolf" else EmpiricalCovariance()
        model.fit(x)
        self.mean_ = np.asarray(model.location_, dtype=np.float64)
        self.precision_ = np.linalg.pinv(model.covariance_, hermitian=True)

    def _score_vectors(self, x: np.ndarray) -> Scores:
        d = x - self.mean_
        return Scores(sample=np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", d, self.precision_, d), 0.0)))


class TextPCA(EmbeddingDetector):
    Params = PCAParams
    model_state = ("mean_", "components_", "explained_variance_")
    state_spec = declare(mean_=Array("d"), components_=Array("k", "d"), explained_variance_=Array("k"))

    def _fit_vectors(self, x: np.ndarray) -> None:
        from sklearn.decomposition import PCA

        n_components = self.params.n_components
        if isinstance(n_components, float) and n_components >= 1:
            raise DataError(f"{self.where}.fit: n_components={n_components} as a share of variance must be below 1")
        if isinstance(n_components, int):
            limit = min(x.shape) - 1
            n_components = self._limit("n_components", n_components, limit,
                                       f"{x.shape[0]} texts x {x.shape[1]} dimensions allow {limit} residual-leaving components")
        elif len(x) < 2:
            raise DataError(f"{self.where}.fit: PCA needs 2+ training texts, got {len(x)}")
        model = PCA(n_components=n_components, svd_solver="full").fit(x)
        self.mean_ = model.mean_.astype(np.float64)
        self.components_ = model.components_.astype(np.float64)
        self.explained_variance_ = model.explained_variance_.astype(np.float64)

    def _score_vectors(self, x: np.ndarray) -> Scores:
        centred = x - self.mean_
        projected = centred @ self.components_.T
        residual = centred - projected @ self.components_
        score = np.einsum("ij,ij->i", residual, residual)
        if self.params.whiten_residual:
            score = score + (projected**2 / np.maximum(self.explained_variance_, 1e-12)).sum(axis=1)
        return Scores(sample=score)

"""Nearest-neighbour detectors on text embeddings: ``text.knn`` and ``text.lof`` (scikit-learn).

Both keep the training embeddings (that is the model), so save/load is exact without
pickle: ``text.knn`` queries them directly; ``text.lof`` refits scikit-learn's
``LocalOutlierFactor(novelty=True)`` on them at load (deterministic) and checks the refit
reproduces the saved training scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.scores import Scores
from omniad.state import Array, declare
from omniad_text.detectors.base import EmbeddingDetector, refit_check
from omniad_text.detectors.params import KNNParams, LOFParams


class TextKNN(EmbeddingDetector):
    """Distance to the k-th (or mean of the k) nearest training embeddings (PyOD's KNN rule)."""

    Params = KNNParams
    model_state = ("train_",)
    state_spec = declare(train_=Array("n", "d"))

    def _k(self) -> int:
        n = len(self.train_)
        return self._limit("n_neighbors", self.params.n_neighbors, n, f"only {n} training texts were given")

    def _index(self) -> Any:
        from sklearn.neighbors import NearestNeighbors

        return NearestNeighbors(metric=self.params.metric, algorithm="brute").fit(self.train_)

    def _fit_vectors(self, x: np.ndarray) -> None:
        self.train_ = x
        self._k()
        self.index_ = self._index()

    def _restore(self, state: dict[str, Any]) -> None:
        self.train_ = np.asarray(self.train_, dtype=np.float64)
        self._k()  # an edited n_neighbors above the saved rows fails at load, naming the folder
        self.index_ = self._index()

    def _score_vectors(self, x: np.ndarray) -> Scores:
        k = self._k()
        dist, _ = self.index_.kneighbors(x, n_neighbors=k)
        dist = np.maximum(dist, 0.0)  # cosine distances of near-duplicates can round below 0
        return Scores(sample=dist[:, -1] if self.params.method == "largest" else dist.mean(axis=1))


class TextLOF(EmbeddingDetector):
    """Local outlier factor of each text against the training texts (novelty mode)."""

    Params = LOFParams
    model_state = ("train_", "train_scores_")
    state_spec = declare(train_=Array("n", "d"), train_scores_=Array("n"))

    def _model(self, x: np.ndarray) -> Any:
        from sklearn.neighbors import LocalOutlierFactor

        n = len(x)
        k = self._limit("n_neighbors", self.params.n_neighbors, n - 1, f"only {n} training texts were given")
        return LocalOutlierFactor(n_neighbors=k, metric=self.params.metric, novelty=True).fit(x)

    def _fit_vectors(self, x: np.ndarray) -> None:
        self.train_ = x
        self.model_ = self._model(x)
        self.train_scores_ = -self.model_.score_samples(x)

    def _restore(self, state: dict[str, Any]) -> None:
        self.train_ = np.asarray(self.train_, dtype=np.float64)
        self.model_ = self._model(self.train_)
        refit_check(self.where, self.train_scores_, -self.model_.score_samples(self.train_))

    def _score_vectors(self, x: np.ndarray) -> Scores:
        return Scores(sample=-self.model_.score_samples(x))

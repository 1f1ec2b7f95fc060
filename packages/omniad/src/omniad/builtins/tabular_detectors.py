"""Built-in feature-vector detectors, numpy only, so the core demo runs without torch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field

from omniad.detector import Detector
from omniad.errors import DataError
from omniad.params import Params
from omniad.scores import Scores
from omniad.state import Array, Int, declare
from omniad.tabular import as_matrix


class KNNParams(Params):
    n_neighbors: int = Field(default=5, ge=1)
    method: str = Field(default="largest", pattern="^(largest|mean)$")
    chunk_size: int = Field(default=2048, ge=1, description="query rows per distance block, at most")
    block_mb: int = Field(
        default=256, ge=1,
        description="memory of one distance block (query rows x training rows); fewer query rows per block "
        "when the training set is large",
    )


class KNN(Detector):
    """Distance to the k-th nearest (or mean of k nearest) training vectors."""

    Params = KNNParams
    state_attributes = ("train_",)
    state_spec = declare(train_=Array("n", "d"))

    def _k(self) -> int:
        n = len(self.train_)
        return self._limit("n_neighbors", self.params.n_neighbors, n, f"only {n} training vectors were given")

    def check_state(self, state: dict[str, Any]) -> None:
        """An edited ``n_neighbors`` above the saved rows fails at load, naming the folder, not at score."""
        n = len(state["train_"])
        self._limit(
            "n_neighbors", self.params.n_neighbors, n, f"the saved model holds only {n} training vectors"
        )

    def _fit(self, samples: Sequence[Any]) -> None:
        self.train_ = as_matrix(samples, f"{self.where}.fit")
        self._k()  # fail at fit, not at score, when the data is too small for k

    def _score(self, samples: Sequence[Any]) -> Scores:
        x = as_matrix(samples, f"{self.where}.score", n_features=self.train_.shape[1])
        k = self._k()
        sq_train = np.einsum("ij,ij->i", self.train_, self.train_)
        out = np.empty(len(x))
        # a block and its temporaries are ~3 float64 (rows x n_train) arrays: 2,048 rows against 128,000
        # training rows took 6.6 GB at once
        rows = max(1, min(self.params.chunk_size, self.params.block_mb * 2**20 // (24 * max(1, len(self.train_)))))
        for start in range(0, len(x), rows):
            q = x[start : start + rows]
            d2 = np.einsum("ij,ij->i", q, q)[:, None] + sq_train[None] - 2 * q @ self.train_.T
            part = np.sqrt(np.maximum(np.partition(d2, k - 1, axis=1)[:, :k], 0))
            out[start : start + len(q)] = part.max(1) if self.params.method == "largest" else part.mean(1)
        return Scores(sample=out)


class MahalanobisParams(Params):
    shrinkage: float = Field(default=0.01, ge=0, le=1, description="blend with scaled identity")


class Mahalanobis(Detector):
    """Mahalanobis distance to a single Gaussian fitted on normal vectors."""

    Params = MahalanobisParams
    state_attributes = ("mean_", "precision_")
    state_spec = declare(mean_=Array("d"), precision_=Array("d", "d"))

    def _fit(self, samples: Sequence[Any]) -> None:
        x = as_matrix(samples, f"{self.where}.fit")
        if len(x) < 2:
            raise DataError(
                f"{self.where}.fit: a covariance needs at least 2 training rows, got {len(x)}; "
                "pass more normal samples"
            )
        self.mean_ = x.mean(0)
        cov = np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])
        a = self.params.shrinkage
        cov = (1 - a) * cov + a * (np.trace(cov) / cov.shape[0] + 1e-12) * np.eye(cov.shape[0])
        self.precision_ = np.linalg.pinv(cov)

    def _score(self, samples: Sequence[Any]) -> Scores:
        x = as_matrix(samples, f"{self.where}.score", n_features=self.mean_.shape[0]) - self.mean_
        return Scores(sample=np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", x, self.precision_, x), 0)))


class RandomScores(Detector):
    """Uniform random scores: the floor every detector must clear (seeded)."""

    state_attributes = ("n_features_",)
    state_spec = declare(n_features_=Int(ge=1))

    def _fit(self, samples: Sequence[Any]) -> None:
        self.n_features_ = int(as_matrix(samples, f"{self.where}.fit").shape[1])

    def _score(self, samples: Sequence[Any]) -> Scores:
        as_matrix(samples, f"{self.where}.score", n_features=self.n_features_)
        return Scores(sample=np.random.default_rng(self.seed).random(len(samples)))

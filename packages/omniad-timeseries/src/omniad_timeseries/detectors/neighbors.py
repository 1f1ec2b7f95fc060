"""Neighbour methods on windows: LOF (TSB-AD: single points), Sub-LOF and Sub-KNN (period windows).

On the training series itself a window is not its own neighbour (scikit-learn's
``negative_outlier_factor_`` and ``kneighbors()`` without a query, as PyOD/TSB-AD use them);
other series are queried against all training windows. The fitted state is the training
windows, from which the index is rebuilt on load.
"""

from __future__ import annotations

import numpy as np

from omniad.detector import Detector
from omniad.errors import DataError
from omniad.state import Array, declare
from omniad_timeseries.detectors.params import LOFParams, SubKNNParams, SubLOFParams
from omniad_timeseries.detectors.windowed import WindowModel


def usable_k(detector: Detector, n_windows: int) -> int:
    """``n_neighbors`` for ``n_windows`` training windows (a window is not its own neighbour)."""
    if n_windows < 2:
        raise DataError(f"{detector.where}: needs at least 2 training windows, got {n_windows}; use a longer series")
    return detector._limit(
        "n_neighbors", detector.params.n_neighbors, n_windows - 1,
        f"this subset has only {n_windows} training windows",
    )


class LOF(WindowModel):
    Params = LOFParams
    normalization = "column"
    model_state = ("train_windows_",)
    state_spec = declare(train_windows_=Array("n", "wd", optional=True))

    def _build(self) -> None:
        from sklearn.neighbors import LocalOutlierFactor

        k = usable_k(self, len(self.train_windows_))
        self.lof_ = LocalOutlierFactor(n_neighbors=k, metric=self.params.metric, novelty=True)
        self.lof_.fit(self.train_windows_)

    def _fit_windows(self, windows: np.ndarray) -> np.ndarray:
        self.train_windows_ = windows
        self._build()
        return -self.lof_.negative_outlier_factor_

    def _score_windows(self, windows: np.ndarray) -> np.ndarray:
        return -self.lof_.score_samples(windows)

    def _restore_model(self) -> None:
        self._build()


class SubLOF(LOF):
    Params = SubLOFParams


class SubKNN(WindowModel):
    Params = SubKNNParams
    normalization = "window"
    model_state = ("train_windows_",)
    state_spec = declare(train_windows_=Array("n", "wd", optional=True))

    def _build(self) -> None:
        from sklearn.neighbors import NearestNeighbors

        self.k_ = usable_k(self, len(self.train_windows_))
        self.index_ = NearestNeighbors(n_neighbors=self.k_).fit(self.train_windows_)

    def _reduce(self, dist: np.ndarray) -> np.ndarray:
        method = self.params.method
        if method == "largest":
            return dist[:, -1]
        return dist.mean(axis=1) if method == "mean" else np.median(dist, axis=1)

    def _fit_windows(self, windows: np.ndarray) -> np.ndarray:
        self.train_windows_ = windows
        self._build()
        return self._reduce(self.index_.kneighbors(return_distance=True)[0])

    def _score_windows(self, windows: np.ndarray) -> np.ndarray:
        return self._reduce(self.index_.kneighbors(windows, n_neighbors=self.k_, return_distance=True)[0])

    def _restore_model(self) -> None:
        self._build()

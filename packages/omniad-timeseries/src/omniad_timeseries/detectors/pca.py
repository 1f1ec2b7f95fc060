"""Sub-PCA: PCA over z-scored windows; a window's score is its weighted distance to the principal axes.

The score follows PyOD's PCA (which TSB-AD wraps): the sum over components of the
Euclidean distance between the window and the unit component vector, divided by that
component's explained-variance ratio, so low-variance directions weigh most. Constant
window positions are dropped before the fit (PyOD's zero pruning); components whose
variance ratio is numerically zero (< 1e-12) are dropped instead of dividing by ~0.
Channels constant in training never reach the PCA: ``WindowModel`` scores their deviation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad.state import Array, declare
from omniad_timeseries.detectors.params import SubPCAParams
from omniad_timeseries.detectors.windowed import WindowModel

MIN_RATIO = 1e-12


class SubPCA(WindowModel):
    Params = SubPCAParams
    normalization = "column"
    model_state = ("kept_", "components_", "weights_")
    state_spec = declare(
        kept_=Array("wd", kinds="b", optional=True),
        components_=Array("k", None, min_size=0, optional=True),
        weights_=Array("k", min_size=0, optional=True),
    )

    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        kept, components, weights = state.get("kept_"), state.get("components_"), state.get("weights_")
        if kept is None:
            return
        if components.size and components.shape[1] != int(kept.sum()):
            raise DataError(f"saved state 'components_' has {components.shape[1]} columns but 'kept_' keeps "
                            f"{int(kept.sum())} window values; re-save the model")
        if not np.all(weights > 0):
            raise DataError("saved state 'weights_' must be positive; re-save the model")

    def _fit_windows(self, windows: np.ndarray) -> None:
        from sklearn.decomposition import PCA

        self.kept_ = np.any(windows != 0, axis=0)
        x = windows[:, self.kept_]
        if x.shape[1] == 0:  # a constant series: no direction to measure, every window scores 0
            self.components_, self.weights_ = np.zeros((0, 0)), np.zeros(0)
            return None
        n_components = self.params.n_components
        if isinstance(n_components, int):
            n_components = self._limit(
                "n_components", n_components, min(x.shape),
                f"{x.shape[0]} training windows of {x.shape[1]} non-constant values allow only {min(x.shape)} components",
            )
        pca = PCA(n_components=n_components, random_state=0).fit(x)
        ratio = pca.explained_variance_ratio_ if self.params.weighted else np.ones(pca.n_components_)
        keep = ratio > MIN_RATIO
        self.components_ = pca.components_[keep]
        self.weights_ = ratio[keep]
        return None

    def _score_windows(self, windows: np.ndarray) -> np.ndarray:
        if self.components_.size == 0:
            return np.zeros(len(windows))
        x = windows[:, self.kept_]
        sq = np.einsum("ij,ij->i", x, x)[:, None] - 2 * x @ self.components_.T + 1.0
        return (np.sqrt(np.maximum(sq, 0)) / self.weights_).sum(axis=1)

    def _restore_model(self) -> None:
        self.kept_ = np.asarray(self.kept_, dtype=bool)

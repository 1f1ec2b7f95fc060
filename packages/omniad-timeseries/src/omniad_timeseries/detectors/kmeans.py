"""KMeansAD: k-means over z-normalised windows; a window's score is its distance to its centroid.

Timestep scores are the mean over all windows covering the timestep (TSB-AD's
``_custom_reverse_windowing`` for this method), not the centre assignment used by the
Sub- detectors.
"""

from __future__ import annotations

import numpy as np

from omniad.state import Array, declare
from omniad_timeseries.detectors.params import KMeansADParams
from omniad_timeseries.detectors.windowed import WindowModel


def mean_cover(window_scores: np.ndarray, window: int, length: int) -> np.ndarray:
    """Each timestep gets the mean score of the (stride-1) windows that contain it."""
    s = np.asarray(window_scores, dtype=np.float64)
    csum = np.r_[0.0, np.cumsum(s)]
    t = np.arange(length)
    lo = np.maximum(0, t - window + 1)
    hi = np.minimum(t, s.size - 1)
    return (csum[hi + 1] - csum[lo]) / (hi - lo + 1)


class KMeansAD(WindowModel):
    Params = KMeansADParams
    normalization = "window"
    model_state = ("centers_",)
    state_spec = declare(centers_=Array("k", "wd", optional=True))

    def _fit_windows(self, windows: np.ndarray) -> None:
        from sklearn.cluster import KMeans

        n = len(windows)
        k = self._limit("n_clusters", self.params.n_clusters, n, f"this subset has only {n} training windows")
        seed = self.seed if self.seed is not None else 0
        self.centers_ = KMeans(n_clusters=k, random_state=seed, n_init="auto").fit(windows).cluster_centers_
        return None

    def _score_windows(self, windows: np.ndarray) -> np.ndarray:
        sq = (
            np.einsum("ij,ij->i", windows, windows)[:, None]
            - 2 * windows @ self.centers_.T
            + np.einsum("ij,ij->i", self.centers_, self.centers_)[None]
        )
        return np.sqrt(np.maximum(sq.min(axis=1), 0))

    def _to_points(self, window_scores: np.ndarray, length: int) -> np.ndarray:
        return mean_cover(window_scores, self.window_, length)

"""KShapeAD: TSB-AD's KShapeAD, i.e. SAND (Boniol et al., VLDB 2021) run offline on the whole series.

Long subsequences (``subsequence_factor`` windows long, one every ``stride_factor`` windows)
are clustered with k-Shape (tslearn). Each centroid is a "normal pattern" weighted by
how often it occurs (squared), how central it is among the centroids (divided by the sum of
its shape-based distances to the others) and how recently its cluster was seen; a
window's score is the weighted mean over centroids of its z-normalised nearest-neighbour
distance into the centroid (an AB-join, ``profile.py``), smoothed by a moving average of one window.
"""

from __future__ import annotations

import numpy as np

from omniad.errors import DataError
from omniad_timeseries.detectors.base import SeriesDetector
from omniad_timeseries.detectors.params import KShapeADParams
from omniad_timeseries.detectors.profile import ab_join

ALPHA = 0.5  # SAND's update rate; offline it mixes the weight with its time-decayed value


def sbd(x: np.ndarray, y: np.ndarray) -> float:
    """Shape-based distance: 1 - max normalised cross-correlation over all shifts."""
    den = np.linalg.norm(x) * np.linalg.norm(y)
    if den == 0:
        return 1.0
    size = 1 << (2 * len(x) - 1).bit_length()
    cc = np.fft.irfft(np.fft.rfft(x, size) * np.conj(np.fft.rfft(y, size)), size)
    cc = np.concatenate((cc[-(len(x) - 1):], cc[: len(x)])) if len(x) > 1 else cc[:1]
    return float(1 - cc.max() / den)


def normal_model_weights(centroids: list[np.ndarray], sizes: np.ndarray, last_seen: np.ndarray, n: int) -> np.ndarray:
    """SAND's weight of each normal pattern: frequency^2 / centrality, mixed with its time decay."""
    centrality = np.array([sum(sbd(c, o) for j, o in enumerate(centroids) if j != i) for i, c in enumerate(centroids)])
    freq = sizes.astype(np.float64)

    def rescale(v: np.ndarray) -> np.ndarray:
        return (v - v.min()) / (v.max() - v.min() + 1e-7) + 1

    weights = rescale(freq) ** 2 / rescale(centrality)
    decay = n - last_seen.astype(np.float64)
    return (1 - ALPHA) * weights + ALPHA * weights / (1 + np.maximum(0, decay))


def running_mean(x: np.ndarray, width: int) -> np.ndarray:
    csum = np.r_[0.0, np.cumsum(x)]
    return (csum[width:] - csum[:-width]) / width


class KShapeAD(SeriesDetector):
    Params = KShapeADParams
    per_channel = True

    def _score_channel(self, x: np.ndarray, channel: int) -> np.ndarray:
        from tslearn.clustering import KShape

        p = self.params
        window = max(3, self.resolve_window(x[:, None]))
        length = p.subsequence_factor * window
        step = max(1, int(p.stride_factor * window))
        starts = np.arange(0, x.size - length, step)
        if starts.size < p.n_clusters:
            raise DataError(
                f"{self.where}: series of {x.size} timesteps gives {starts.size} subsequences of length {length} "
                f"for {p.n_clusters} clusters; use a longer series, a smaller window or fewer clusters"
            )
        subsequences = np.stack([x[s : s + length] for s in starts])[:, :, None]
        seed = self.seed if self.seed is not None else 0
        model = KShape(n_clusters=p.n_clusters, max_iter=p.max_iter, random_state=seed)
        labels = model.fit_predict(subsequences)
        used = [k for k in range(p.n_clusters) if np.any(labels == k)]
        centroids = [model.cluster_centers_[k, :, 0] for k in used]
        sizes = np.array([np.sum(labels == k) for k in used])
        last_seen = np.array([starts[labels == k].max() for k in used])
        weights = normal_model_weights(centroids, sizes, last_seen, x.size)
        join = np.zeros(x.size - window + 1)
        for w, centroid in zip(weights, centroids):
            profile = ab_join(x, centroid, window, p.backend)
            join += w * np.nan_to_num(profile, nan=0.0, posinf=0.0)
        join = np.r_[join, np.full(window - 1, join[-1])] / weights.sum()
        smooth = running_mean(join, window)
        return np.r_[np.full(window - 1, smooth[0]), smooth]

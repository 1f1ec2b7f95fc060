"""POLY (TSB-AD): a local polynomial predicts each block from its surroundings; the miss is the score.

The series is min-max scaled and cut into blocks of one window. For every block a
polynomial of degree ``power`` is fitted to the ``neighborhood`` points around it (the block
itself left out) and evaluated on the block; the block's score is the L2 distance between
the Fourier transforms of the observed and the predicted block, divided by its length, and
every timestep of the block gets it. As in TSB-AD, the first blocks covering
``min(500, 10%)`` of the series are not scored (score 0): they serve as the warm-up.

Differences to TSB-AD's code, none of which moves its results beyond noise: the polynomial
is fitted in coordinates centred on the block (better conditioned for power 4 on long
series) and evaluated on the block's own timesteps (TSB-AD evaluates it on a grid
stretched by one step), and a constant series scores 0 everywhere instead of dividing by 0.
``smooth=True`` (not TSB-AD) averages the scores over one window.
"""

from __future__ import annotations

import math

import numpy as np

from omniad_timeseries.detectors.base import SeriesDetector, moving_average
from omniad_timeseries.detectors.params import POLYParams

WARMUP_MAX = 500
WARMUP_FRACTION = 0.1


def fit_points(index: int, window: int, neighborhood: int, n: int) -> np.ndarray:
    """Timesteps used to fit the polynomial for the block starting at ``index`` (TSB-AD's rule)."""
    half = neighborhood // 2
    if index + half < n and index - half > 0:
        return np.r_[index - half : index, index + window : index + half]
    if index + half >= n and index + window < n:
        return np.r_[n - neighborhood : index, index + window : n]
    if index + window >= n:
        return np.arange(n - neighborhood, index)
    return np.r_[0:index, index + window : neighborhood]


def poly_scores(x: np.ndarray, window: int, power: int, neighborhood: int | None) -> np.ndarray:
    n = x.size
    lo, hi = float(x.min()), float(x.max())
    if hi <= lo:
        return np.zeros(n)
    x = (x - lo) / (hi - lo)
    neighborhood = min(n, neighborhood if neighborhood is not None else max(10 * window, 100))
    first = math.ceil(min(WARMUP_MAX, int(WARMUP_FRACTION * n)) / window)
    last = n // window
    scores = np.zeros(n)
    for i in range(first, last + 1):
        start = i * window
        end = n if i == last else start + window
        if start >= end:
            continue
        points = fit_points(start, window, neighborhood, n)
        points = points[(points >= 0) & (points < n)]
        if points.size <= power:
            continue
        coef = np.polynomial.polynomial.polyfit(points - start, x[points], power)
        estimate = np.polynomial.polynomial.polyval(np.arange(end - start), coef)
        diff = np.fft.fft(x[start:end]) - np.fft.fft(estimate)
        scores[start:end] = np.linalg.norm(diff) / (end - start)
    return scores


class POLY(SeriesDetector):
    Params = POLYParams
    per_channel = True

    def _score_channel(self, x: np.ndarray, channel: int) -> np.ndarray:
        window = self.resolve_window(x[:, None])
        neighborhood = self.params.neighborhood
        if neighborhood is not None:
            neighborhood = self._limit("neighborhood", neighborhood, x.size, f"the series has only {x.size} timesteps")
        scores = poly_scores(x, window, self.params.power, neighborhood)
        return moving_average(scores, window) if self.params.smooth else scores

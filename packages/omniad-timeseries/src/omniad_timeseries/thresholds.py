"""Turning scores into 0/1 labels: validation quantiles and peaks-over-threshold (SPOT/DSPOT).

Two ways to pick a threshold without looking at test labels:

- ``quantile_threshold``: a quantile of scores on held-out normal data (expected false-alarm
  rate = 1 - quantile). Simple, but it cannot go beyond the largest validation score.
- ``pot_threshold`` / ``SPOT`` (Siffer et al., KDD 2017): fit a generalised Pareto
  distribution (GPD) to the excesses over a high empirical quantile (extreme value theory,
  Pickands-Balkema-de Haan) and extrapolate to a risk ``q`` far smaller than 1 / n. ``SPOT``
  then runs on a stream, refitting as new peaks arrive; with ``depth > 0`` it is DSPOT,
  which works on the deviation from the mean of the last ``depth`` normal scores (drift).

The GPD is fitted by maximum likelihood with Grimshaw's reduction to a one-dimensional
root search (as in the paper), or by ``scipy.stats.genpareto.fit`` (``method="scipy"``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from omniad.errors import DataError, NotFittedError
from omniad.metrics.thresholds import quantile_threshold

__all__ = [
    "SPOT",
    "GPDFit",
    "SPOTResult",
    "apply_threshold",
    "fit_gpd",
    "gpd_loglik",
    "pot_threshold",
    "quantile_threshold",
]

Method = Literal["grimshaw", "scipy"]
MIN_PEAKS = 10
GRID = 400
_EPS = 1e-8


def _finite(values: object, what: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).reshape(-1)
    if arr.size == 0:
        raise DataError(f"{what}: no scores given")
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{what}: scores contain NaN/inf (first at index {int(np.flatnonzero(~np.isfinite(arr))[0])})")
    return arr


def _check_prob(value: float, name: str, what: str) -> None:
    if not 0.0 < value < 1.0:
        raise DataError(f"{what}: {name} must be in (0, 1), got {value}")


def gpd_loglik(excesses: np.ndarray, shape: float, scale: float) -> float:
    """Log-likelihood of excesses (>= 0) under GPD(shape, scale); -inf outside the support."""
    y = np.asarray(excesses, dtype=np.float64)
    if scale <= 0:
        return -np.inf
    if abs(shape) < _EPS:
        return float(-y.size * np.log(scale) - y.sum() / scale)
    arg = 1 + shape * y / scale
    if np.any(arg <= 0):
        return -np.inf
    return float(-y.size * np.log(scale) - (1 + 1 / shape) * np.log(arg).sum())


def _roots(func: Callable[[float], float], grid: np.ndarray, values: np.ndarray) -> list[float]:
    """Roots of ``func`` between neighbouring grid points where ``values`` changes sign (Brent)."""
    from scipy.optimize import brentq

    change = np.flatnonzero(np.isfinite(values[:-1]) & np.isfinite(values[1:]) & (values[:-1] * values[1:] < 0))
    return [brentq(func, grid[i], grid[i + 1]) for i in change]


def _grimshaw(y: np.ndarray) -> tuple[float, float]:
    """Grimshaw (1993): the MLE solves u(x) v(x) = 1 with x = shape / scale; pick the best root."""
    ymin, ymax, ymean = float(y.min()), float(y.max()), float(y.mean())

    def u(x: float) -> float:
        return float(np.mean(1 / (1 + x * y)))

    def v(x: float) -> float:
        return float(1 + np.mean(np.log1p(x * y)))

    def w(x: float) -> float:
        return u(x) * v(x) - 1

    def w_grid(grid: np.ndarray) -> np.ndarray:  # w on a whole grid at once
        xy = grid[:, None] * y[None, :]
        return np.mean(1 / (1 + xy), axis=1) * (1 + np.mean(np.log1p(xy), axis=1)) - 1

    # Grimshaw's bounds: negative roots lie in (-1/max, 0), positive ones below 2(mean-min)/min^2
    upper = max(2 * (ymean - ymin) / ymin**2, 10 * _EPS)
    negative = np.linspace(-1 / ymax + _EPS, -_EPS, GRID)
    positive = np.geomspace(_EPS, upper, GRID)
    candidates = [(0.0, ymean)]  # the exponential (shape 0) limit
    for x in _roots(w, negative, w_grid(negative)) + _roots(w, positive, w_grid(positive)):
        shape = v(x) - 1
        if x != 0 and shape != 0:
            candidates.append((shape, shape / x))
    return max(candidates, key=lambda c: gpd_loglik(y, c[0], c[1]))


def fit_gpd(excesses: object, method: Method = "grimshaw") -> tuple[float, float]:
    """Maximum-likelihood GPD ``(shape, scale)`` of non-negative excesses over a threshold."""
    y = _finite(excesses, "fit_gpd")
    if np.any(y < 0):
        raise DataError("fit_gpd: excesses must be >= 0 (values minus the threshold they exceed)")
    if y.size < 2 or np.ptp(y) <= 0:
        raise DataError(f"fit_gpd: need at least 2 distinct excesses, got {y.size}; lower the level or give more scores")
    if method == "scipy":
        from scipy.stats import genpareto

        shape, _, scale = genpareto.fit(y, floc=0)
        return float(shape), float(scale)
    if method != "grimshaw":
        raise DataError(f"fit_gpd: unknown method {method!r}; use 'grimshaw' or 'scipy'")
    y = np.maximum(y, _EPS)  # Grimshaw's bounds need a positive minimum
    return _grimshaw(y)


@dataclass(frozen=True)
class GPDFit:
    """A peaks-over-threshold model: ``initial`` = the empirical quantile the peaks exceed."""

    initial: float
    shape: float
    scale: float
    n_peaks: int
    n_total: int

    def quantile(self, q: float) -> float:
        """Score exceeded with probability ``q`` under the fitted tail (Siffer et al., eq. 1)."""
        ratio = q * self.n_total / self.n_peaks
        if abs(self.shape) < _EPS:
            return float(self.initial - self.scale * np.log(ratio))
        return float(self.initial + self.scale / self.shape * (ratio ** (-self.shape) - 1))


def _pot(scores: np.ndarray, level: float, method: Method, what: str) -> GPDFit:
    initial = float(np.quantile(scores, level))
    peaks = scores[scores > initial] - initial
    if peaks.size < MIN_PEAKS:
        raise DataError(
            f"{what}: only {peaks.size} scores exceed the {level} quantile; a tail fit needs at least "
            f"{MIN_PEAKS}: give more calibration scores or lower 'level'"
        )
    shape, scale = fit_gpd(peaks, method)
    return GPDFit(initial, shape, scale, int(peaks.size), int(scores.size))


def pot_threshold(scores: object, q: float = 1e-3, level: float = 0.98, method: Method = "grimshaw") -> float:
    """Threshold with exceedance probability ``q`` from calibration scores (static POT)."""
    what = "pot_threshold"
    _check_prob(q, "q", what)
    _check_prob(level, "level", what)
    return _pot(_finite(scores, what), level, method, what).quantile(q)


def apply_threshold(scores: object, threshold: float) -> np.ndarray:
    """0/1 labels: 1 where ``score > threshold``."""
    if not np.isfinite(threshold):
        raise DataError(f"apply_threshold: threshold must be finite, got {threshold}")
    return (_finite(scores, "apply_threshold") > threshold).astype(np.int8)


@dataclass
class SPOTResult:
    thresholds: np.ndarray
    alarms: np.ndarray


class SPOT:
    """Streaming peaks-over-threshold (SPOT; DSPOT when ``depth > 0``).

    ``fit(initial_scores)`` calibrates on a batch assumed mostly normal; ``run(stream)``
    labels each new score, adding normal peaks to the tail model as it goes (alarms are
    not learnt from). ``threshold_`` is the current alarm threshold (in score units).
    """

    def __init__(self, q: float = 1e-4, level: float = 0.98, depth: int = 0, method: Method = "grimshaw") -> None:
        _check_prob(q, "q", "SPOT")
        _check_prob(level, "level", "SPOT")
        if depth < 0:
            raise DataError(f"SPOT: depth must be >= 0, got {depth}")
        self.q, self.level, self.depth, self.method = q, level, int(depth), method

    def _drift(self, scores: np.ndarray) -> np.ndarray:
        if self.depth == 0:
            return scores
        csum = np.r_[0.0, np.cumsum(scores)]
        means = (csum[self.depth :] - csum[: -self.depth]) / self.depth
        return scores[self.depth :] - means[:-1]

    def fit(self, initial_scores: object) -> SPOT:
        scores = _finite(initial_scores, "SPOT.fit")
        if self.depth and scores.size <= self.depth + MIN_PEAKS:
            raise DataError(f"SPOT.fit: need more than depth + {MIN_PEAKS} = {self.depth + MIN_PEAKS} initial scores")
        deviations = self._drift(scores)
        fit = _pot(deviations, self.level, self.method, "SPOT.fit")
        self.initial_ = fit.initial
        self.peaks_ = list(deviations[deviations > fit.initial] - fit.initial)
        self.n_ = int(deviations.size)
        self.shape_, self.scale_ = fit.shape, fit.scale
        self.window_ = deque(scores[-self.depth :].tolist(), maxlen=self.depth) if self.depth else None
        self._update()
        return self

    def _update(self) -> None:
        fit = GPDFit(self.initial_, self.shape_, self.scale_, len(self.peaks_), self.n_)
        self.extreme_ = fit.quantile(self.q)

    @property
    def threshold_(self) -> float:
        return self.extreme_ + (float(np.mean(self.window_)) if self.window_ else 0.0)

    def step(self, score: float) -> bool:
        """Label one new score (True = alarm) and update the model with it when it is normal."""
        if not hasattr(self, "initial_"):
            raise NotFittedError("SPOT.step: call fit() with initial scores first")
        if not np.isfinite(score):
            raise DataError(f"SPOT.step: score must be finite, got {score}")
        local = float(np.mean(self.window_)) if self.window_ else 0.0
        deviation = score - local
        if deviation > self.extreme_:
            return True
        if deviation > self.initial_:
            self.peaks_.append(deviation - self.initial_)
            self.n_ += 1
            self.shape_, self.scale_ = fit_gpd(np.asarray(self.peaks_), self.method)
            self._update()
        else:
            self.n_ += 1
        if self.window_ is not None:
            self.window_.append(score)
        return False

    def run(self, stream: object) -> SPOTResult:
        """Label a stream of scores; returns the threshold in force at each step and the alarms."""
        scores = _finite(stream, "SPOT.run")
        thresholds = np.empty(scores.size)
        alarms = np.zeros(scores.size, dtype=np.int8)
        for i, score in enumerate(scores):
            thresholds[i] = self.threshold_ if hasattr(self, "initial_") else np.nan
            alarms[i] = self.step(float(score))
        return SPOTResult(thresholds=thresholds, alarms=alarms)

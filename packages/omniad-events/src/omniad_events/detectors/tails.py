"""A training distribution turned into a surprise -log P(X >= x) (``Tail``), shared by CAR's components and
APE's numeric tails.

Components on different scales (log-probabilities, counts, raw numbers) then add up as one score (Fisher's
method ranks by the same sum). P is the empirical share of training values >= x, with one added count so
nothing is impossible; beyond the training maximum the tail decays exponentially, with the mean excess of
the top 5 % as its scale (peaks over threshold with shape 0), so extremes stay ordered instead of all tying
at the largest training surprise. NumPy only.
"""

from __future__ import annotations

import numpy as np

from omniad.errors import DataError


class Tail:
    """Surprise -log P(X >= x) under a training sample (see the module docstring)."""

    #: at most this many quantiles of the training values are kept (and saved)
    KEEP = 2048

    def __init__(self, grid: np.ndarray, n: int, scale: float) -> None:
        self.grid = np.asarray(grid, dtype=np.float64)
        self.n = int(n)
        self.scale = float(scale)

    @classmethod
    def fit(cls, values: np.ndarray, keep: int = KEEP) -> Tail:
        v = np.sort(np.asarray(values, dtype=np.float64))
        if v.size == 0:
            raise DataError("no training values to calibrate a score component on")
        grid = v if v.size <= keep else np.quantile(v, np.linspace(0, 1, keep))
        top = v[int(0.95 * (v.size - 1)) :]
        excess = float(np.mean(top - top[0])) if top.size > 1 else 0.0
        spread = float(v[-1] - v[0])
        scale = excess if excess > 0 else spread if spread > 0 else 1.0
        return cls(grid, v.size, scale)

    def surprise(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        share_ge = 1.0 - np.searchsorted(self.grid, x, side="left") / len(self.grid)
        s = -np.log((1.0 + self.n * share_ge) / (1.0 + self.n))
        beyond = x > self.grid[-1]
        return np.where(beyond, np.log1p(self.n) + (x - self.grid[-1]) / self.scale, s)

    def state(self) -> np.ndarray:
        """[n, scale, grid...] as one array."""
        return np.r_[float(self.n), self.scale, self.grid]

    @classmethod
    def from_state(cls, arr: np.ndarray, where: str) -> Tail:
        if arr.ndim != 1 or arr.size < 3 or arr[0] < 1 or arr[1] <= 0 or np.any(np.diff(arr[2:]) < 0):
            raise DataError(
                f"{where}: saved calibration is not [n, scale, increasing values]; re-save the model"
            )
        return cls(arr[2:], int(arr[0]), float(arr[1]))

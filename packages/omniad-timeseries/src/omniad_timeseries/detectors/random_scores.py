"""Uniform random scores, one per timestep: the floor every detector has to clear."""

from __future__ import annotations

import numpy as np

from omniad_timeseries.detectors.base import SeriesDetector
from omniad_timeseries.detectors.params import RandomParams


class RandomScores(SeriesDetector):
    Params = RandomParams

    def _score(self, samples):  # type: ignore[override]
        self._rng = np.random.default_rng(self.seed)
        return super()._score(samples)

    def _score_series(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        return self._rng.random(x.shape[0]), None

"""Robust seasonal baseline: residual from a median trend plus a median seasonal profile.

The trend is a centred rolling median over ``trend_periods`` periods, the seasonal profile
the median of the detrended series at each phase of the period, and the score the absolute
residual in units of its robust scale (1.4826 x MAD), optionally averaged over ``smooth``
steps. Medians make the decomposition itself insensitive to the anomalies it should
reveal, which a least-squares seasonal fit is not. It is computed on the scored series
alone (unsupervised). Written here because no installed library offers a robust
seasonal decomposition (statsmodels' STL is not a dependency); it is a few numpy lines.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from omniad_timeseries.detectors.base import SeriesDetector, moving_average
from omniad_timeseries.detectors.params import SeasonalParams

MAD_TO_SIGMA = 1.4826


def rolling_median(x: np.ndarray, width: int) -> np.ndarray:
    """Centred rolling median; the ends repeat the nearest full window's median."""
    width = max(1, min(width, x.size))
    med = np.median(sliding_window_view(x, width), axis=1)
    head = (width - 1) // 2
    return np.r_[np.full(head, med[0]), med, np.full(x.size - med.size - head, med[-1])]


def seasonal_residual(x: np.ndarray, period: int, trend_periods: float) -> np.ndarray:
    trend = rolling_median(x, round(trend_periods * period) | 1)
    detrended = x - trend
    phase = np.arange(x.size) % period
    profile = np.array([np.median(detrended[phase == k]) for k in range(period)])
    return detrended - profile[phase]


def robust_scores(residual: np.ndarray) -> np.ndarray:
    centred = residual - np.median(residual)
    scale = MAD_TO_SIGMA * np.median(np.abs(centred))
    if scale <= 1e-12:
        scale = float(np.std(centred)) or 1.0
    return np.abs(centred) / scale


class SeasonalBaseline(SeriesDetector):
    Params = SeasonalParams
    per_channel = True

    def _score_channel(self, x: np.ndarray, channel: int) -> np.ndarray:
        period = self.resolve_window(x[:, None])
        scores = robust_scores(seasonal_residual(x, max(1, period), self.params.trend_periods))
        return moving_average(scores, self.params.smooth) if self.params.smooth > 1 else scores

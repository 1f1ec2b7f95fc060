"""sktime's anomaly detectors as omniad components: the Hampel filter and STRAY.

- Hampel (``sktime.detection.hampel.HampelDetector``): a value's absolute deviation from
  the median of a centred window, in units of the window's scaled MAD. It is univariate in
  sktime; here each channel is scored and the channel scores are combined.
- STRAY (``sktime.detection.stray.STRAY``, Talagala et al. 2021): the k-nearest-neighbour
  distance at the largest gap among the k neighbours (robust to small clusters of
  anomalies). sktime applies it to rows; here the rows are the series' sliding windows
  (standardised per position), so it scores sub-sequences, and each window's score goes to
  its centre timestep, and (``smooth``, default) the timestep scores are averaged over one
  window. STRAY's own threshold is not used: omniad scores, thresholds live in
  ``omniad_timeseries.thresholds``.
"""

from __future__ import annotations

import warnings

import numpy as np

from omniad_timeseries.detectors.base import SeriesDetector, moving_average
from omniad_timeseries.detectors.params import HampelParams, STRAYParams
from omniad_timeseries.windows import sliding_windows, window_to_point


class Hampel(SeriesDetector):
    Params = HampelParams
    per_channel = True

    def _score_channel(self, x: np.ndarray, channel: int) -> np.ndarray:
        import pandas as pd
        from sktime.detection.hampel import HampelDetector

        window = self.resolve_window(x[:, None])
        detector = HampelDetector(window_length=max(3, window), k=self.params.k)
        series = pd.Series(x)
        return detector.fit(series).transform_scores(series).to_numpy(dtype=np.float64).reshape(-1)


class STRAY(SeriesDetector):
    Params = STRAYParams

    def _score_series(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        from sktime.detection.stray import STRAY as SktimeSTRAY

        window = self.resolve_window(x)
        rows = sliding_windows(x, window)
        std = rows.std(axis=0)
        rows = (rows - rows.mean(axis=0)) / np.where(std > 1e-12, std, 1.0)
        k = self._limit("k", self.params.k, len(rows) - 1, f"this series has only {len(rows)} windows")
        model = SktimeSTRAY(k=k, knn_algorithm=self.params.knn_algorithm)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=FutureWarning)
            scores = np.asarray(model.fit(rows).score_, dtype=np.float64)
        points = window_to_point(scores, window, x.shape[0])
        return (moving_average(points, window) if self.params.smooth else points), None

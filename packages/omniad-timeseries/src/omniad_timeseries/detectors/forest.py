"""Isolation Forest on windows (TSB-AD's IForest: windows of 100; Sub-IForest: period-length windows).

A fitted forest is saved as its (normalised) training windows and rebuilt on load with the
same seed: scikit-learn grows the identical forest, and nothing is pickled.
"""

from __future__ import annotations

import numpy as np

from omniad.state import Array, declare
from omniad_timeseries.detectors.params import IForestParams, SubIForestParams
from omniad_timeseries.detectors.windowed import WindowModel


class IForest(WindowModel):
    Params = IForestParams
    normalization = "column"
    model_state = ("train_windows_",)
    state_spec = declare(train_windows_=Array("n", "wd", optional=True))

    def _build(self) -> None:
        from sklearn.ensemble import IsolationForest

        p = self.params
        self.forest_ = IsolationForest(
            n_estimators=p.n_estimators, max_samples=p.max_samples, max_features=p.max_features,
            random_state=self.seed if self.seed is not None else 0,
        ).fit(self.train_windows_)

    def _fit_windows(self, windows: np.ndarray) -> None:
        self.train_windows_ = windows
        self._build()
        return None

    def _score_windows(self, windows: np.ndarray) -> np.ndarray:
        return -self.forest_.score_samples(windows)

    def _restore_model(self) -> None:
        self._build()


class SubIForest(IForest):
    Params = SubIForestParams

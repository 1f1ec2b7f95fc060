"""Sub-HBOS: histogram-based outlier score of z-normalised windows, one histogram per window position.

A window's score is minus the sum over positions of log2(density + alpha) of the bin its
value falls in; values outside the training range within ``tol`` bin widths of it count as
the edge bin, farther ones get the lowest density seen (PyOD's rule, which TSB-AD uses).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad.state import Array, declare
from omniad_timeseries.detectors.params import SubHBOSParams
from omniad_timeseries.detectors.windowed import WindowModel


class SubHBOS(WindowModel):
    Params = SubHBOSParams
    normalization = "window"
    model_state = ("hist_", "edges_")
    state_spec = declare(hist_=Array("params.n_bins", "wd", optional=True), edges_=Array(None, "wd", optional=True))

    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        hist, edges = state.get("hist_"), state.get("edges_")
        if edges is not None and edges.shape[0] != self.params.n_bins + 1:
            raise DataError(f"saved state 'edges_' has {edges.shape[0]} rows, not n_bins + 1 = {self.params.n_bins + 1}; "
                            "re-save the model")
        if edges is not None and np.any(np.diff(edges, axis=0) < 0):
            raise DataError("saved state 'edges_' must be increasing down each column; re-save the model")
        if hist is not None and np.any(hist < 0):
            raise DataError("saved state 'hist_' holds negative densities; re-save the model")

    def _fit_windows(self, windows: np.ndarray) -> None:
        bins = self.params.n_bins
        self.hist_ = np.empty((bins, windows.shape[1]))
        self.edges_ = np.empty((bins + 1, windows.shape[1]))
        for j in range(windows.shape[1]):
            self.hist_[:, j], self.edges_[:, j] = np.histogram(windows[:, j], bins=bins, density=True)
        return None

    def _score_windows(self, windows: np.ndarray) -> np.ndarray:
        p = self.params
        log_density = np.log2(self.hist_ + p.alpha)  # (bins, d)
        out = np.empty_like(windows)
        for j in range(windows.shape[1]):
            x, edges, dens = windows[:, j], self.edges_[:, j], log_density[:, j]
            idx = np.digitize(x, edges, right=True)
            inside = np.clip(idx - 1, 0, p.n_bins - 1)
            score = dens[inside]
            below, above = idx == 0, idx == p.n_bins + 1
            far_below = below & (edges[0] - x > (edges[1] - edges[0]) * p.tol)
            far_above = above & (x - edges[-1] > (edges[-1] - edges[-2]) * p.tol)
            score = np.where(below, dens[0], score)
            score = np.where(above, dens[-1], score)
            score = np.where(far_below | far_above, dens.min(), score)
            out[:, j] = score
        return -out.sum(axis=1)

"""Sub-sequence detectors: a tabular model over sliding windows, scores mapped back to timesteps.

This is TSB-AD's "Sub-" recipe (Sub-PCA, Sub-IForest, Sub-LOF, ...): cut the series into
windows of the period length (stride 1), normalise, fit a point-outlier model on them, and
give each window's score to its centre timestep (TSB-AD's padding at the ends).

Scoring the training series itself is special for neighbour methods: PyOD/TSB-AD report a
training window's score without counting the window as its own neighbour. Models that
return such in-sample scores from ``_fit_windows`` get them back when exactly that series
(same values) is scored again, which is what happens in TSB-AD's unsupervised protocol
(fit on the series, score the series); any other series is scored as new data.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from omniad_timeseries.detectors.base import SeriesDetector, fingerprint
from omniad_timeseries.windows import max_cover, sliding_windows, window_to_point

IN_SAMPLE_PREFIX = "in_sample_"


def window_zscore(windows: np.ndarray, window: int, n_channels: int) -> np.ndarray:
    """Z-normalise each window per channel (ddof=1, as TSB-AD); constant windows become 0."""
    w = windows.reshape(len(windows), window, n_channels)
    mean = w.mean(axis=1, keepdims=True)
    std = w.std(axis=1, ddof=1, keepdims=True) if window > 1 else np.zeros_like(mean)
    out = np.divide(w - mean, std, out=np.zeros_like(w), where=std > 1e-12)
    return out.reshape(len(windows), window * n_channels)


class WindowModel(SeriesDetector):
    """Base of the sub-sequence detectors; subclasses fit and score window matrices."""

    #: TSB-AD's scaling for this detector, used when ``params.normalize`` is "default":
    #: "none", "column" (standardise each window position with training statistics) or
    #: "window" (z-normalise every window on its own)
    normalization: ClassVar[str] = "none"
    #: names of fitted arrays/values the subclass adds to the saved state
    model_state: ClassVar[tuple[str, ...]] = ()

    # -- what subclasses provide ---------------------------------------------------------
    def _fit_windows(self, windows: np.ndarray) -> np.ndarray | None:
        """Fit on normalised training windows; return in-sample window scores or None."""
        raise NotImplementedError

    def _score_windows(self, windows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _restore_model(self) -> None:
        """Rebuild derived objects after ``set_state`` (e.g. refit a forest from saved windows)."""

    def _to_points(self, window_scores: np.ndarray, length: int) -> np.ndarray:
        """Window scores to timestep scores, by the ``point_score`` rule (default: TSB-AD's centre)."""
        if self.params.point_score == "max_cover":
            return max_cover(window_scores, self.window_, length)
        return window_to_point(window_scores, self.window_, length)

    # -- machinery -------------------------------------------------------------------------
    @property
    def window_norm(self) -> str:
        chosen = getattr(self.params, "normalize", "default")  # KMeansAD keeps TSB-AD's fixed choice
        return self.normalization if chosen == "default" else chosen

    def min_length(self) -> int:
        return int(getattr(self, "window_", 2))

    def windows(self, x: np.ndarray) -> np.ndarray:
        """Normalised windows ``(T - w + 1, w * C)`` of one series."""
        raw = sliding_windows(x, self.window_)
        if self.window_norm == "window":
            return window_zscore(raw, self.window_, x.shape[1])
        if self.window_norm == "column":
            return (raw - self.col_mean_) / self.col_scale_
        return np.ascontiguousarray(raw, dtype=np.float64)

    def _fit_series(self, series: list[np.ndarray]) -> None:
        self.window_ = int(np.median([self.resolve_window(x) for x in series]))
        for x in series:
            if x.shape[0] < self.window_:
                self.resolve_window(x)  # raises the clear error
        if self.window_norm == "column":
            raw = np.concatenate([sliding_windows(x, self.window_) for x in series])
            self.col_mean_ = raw.mean(axis=0)
            std = raw.std(axis=0)
            self.col_scale_ = np.where(std > 1e-12, std, 1.0)
        blocks = [self.windows(x) for x in series]
        in_sample = self._fit_windows(np.concatenate(blocks))
        self.in_sample_keys_: list[str] = []
        self.in_sample_: list[np.ndarray] = []
        if in_sample is not None:
            start = 0
            for x, block in zip(series, blocks):
                self.in_sample_keys_.append(fingerprint(x))
                self.in_sample_.append(np.asarray(in_sample[start : start + len(block)], dtype=np.float64))
                start += len(block)

    def _score_series(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        key = fingerprint(x)
        if key in self.in_sample_keys_:
            window_scores = self.in_sample_[self.in_sample_keys_.index(key)]
        else:
            window_scores = self._score_windows(self.windows(x))
        return self._to_points(window_scores, x.shape[0]), None

    # -- persistence -----------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"n_channels_": int(self.n_channels_), "window_": int(self.window_)}
        if self.window_norm == "column":
            state.update(col_mean_=self.col_mean_, col_scale_=self.col_scale_)
        state["in_sample_keys_"] = list(self.in_sample_keys_)
        state.update({f"{IN_SAMPLE_PREFIX}{i}": arr for i, arr in enumerate(self.in_sample_)})
        state.update({name: getattr(self, name) for name in self.model_state})
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        self.n_channels_ = int(state["n_channels_"])
        self.window_ = int(state["window_"])
        if self.window_norm == "column":
            self.col_mean_ = np.asarray(state["col_mean_"])
            self.col_scale_ = np.asarray(state["col_scale_"])
        self.in_sample_keys_ = list(state["in_sample_keys_"])
        self.in_sample_ = [np.asarray(state[f"{IN_SAMPLE_PREFIX}{i}"]) for i in range(len(self.in_sample_keys_))]
        for name in self.model_state:
            setattr(self, name, state[name])
        self._restore_model()

"""Sub-sequence detectors: a tabular model over sliding windows, scores mapped back to timesteps.

This is TSB-AD's "Sub-" recipe (Sub-PCA, Sub-IForest, Sub-LOF, ...): cut the series into
windows of the period length (stride 1), normalise, fit a point-outlier model on them, and
give each window's score to its centre timestep (TSB-AD's padding at the ends).

Scoring the training series itself is special for neighbour methods: PyOD/TSB-AD report a
training window's score without counting the window as its own neighbour. Models that
return such in-sample scores from ``_fit_windows`` get them back when exactly that series
(same values) is scored again, which is what happens in TSB-AD's unsupervised protocol
(fit on the series, score the series); any other series is scored as new data.

Channels that are constant in training carry no spread to learn (PCA and MCD break on such
columns, a forest or a histogram learns nothing from them), but leaving that constant is
exactly what should be flagged. So the model learns from the varying channels only, and a
window's mean absolute deviation from the training constants is added to its score, scaled
so that one standard deviation of a typical varying channel adds one standard deviation of
the model's training scores. When every channel is constant there is no model: the
deviation alone is the score. Both cases are announced with a warning.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from omniad.errors import DataError
from omniad.state import Array, Float, Int, Json, Str, declare
from omniad_timeseries.detectors.base import (
    NumberedArrays,
    SeriesDetector,
    constant_channels,
    fingerprint,
    numbered,
    warn_constant,
)
from omniad_timeseries.windows import max_cover, sliding_windows, window_to_point

#: in-sample window scores of training series i are saved as ``in_sample.<i>``
IN_SAMPLE = "in_sample"
IN_SAMPLE_PREFIX = f"{IN_SAMPLE}."
ALL_CONSTANT = "each window is scored by its mean absolute deviation from the training values instead"
SOME_CONSTANT = (
    "the model learns from the other channels and a deviation from the constant values adds to the score"
)


def window_zscore(windows: np.ndarray, window: int, n_channels: int) -> np.ndarray:
    """Z-normalise each window per channel (ddof=1, as TSB-AD); constant windows become 0."""
    w = windows.reshape(len(windows), window, n_channels)
    mean = w.mean(axis=1, keepdims=True)
    std = w.std(axis=1, ddof=1, keepdims=True) if window > 1 else np.zeros_like(mean)
    out = np.divide(w - mean, std, out=np.zeros_like(w), where=std > 1e-12)
    return out.reshape(len(windows), window * n_channels)


def declared_dim(cls: type, state: dict[str, Any], name: str) -> int | None:
    """The size of dimension ``name`` as the first saved array declared with it has it; None if none is saved."""
    for key, entry in (cls.declared_state() or {}).items():
        value = state.get(key)
        if isinstance(entry, Array) and entry.shape and name in entry.shape and isinstance(value, np.ndarray):
            return int(value.shape[entry.shape.index(name)])
    return None


class WindowModel(SeriesDetector):
    """Base of the sub-sequence detectors; subclasses fit and score window matrices.

    Saved state: the window, the constant-channel mask and values with the deviation weight,
    the column statistics (``normalize`` "column"), the in-sample scores of the training
    series, and the subclass's ``model_state`` arrays, none of which exist when every training
    channel was constant. ``wd`` names the width of a normalised window: window x varying channels.
    """

    state_spec = declare({
        "window_": Int(ge=1, bind="params.window"),
        "constant_": Array("c", kinds="ib"),
        "constant_values_": Array("c"),
        "deviation_weight_": Float(ge=0),
        "col_mean_": Array("wd", optional=True),
        "col_scale_": Array("wd", optional=True),
        "in_sample_keys_": Json(types=(list,), items=Str()),
        IN_SAMPLE: NumberedArrays(ndim=1, optional=True),
    })

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

    @property
    def learned(self) -> bool:
        """False when every training channel was constant: no model, the deviation is the score."""
        return not bool(self.constant_.all())

    def _fit_series(self, series: list[np.ndarray]) -> None:
        self.constant_, self.constant_values_ = constant_channels(series)
        self.deviation_weight_ = 0.0
        self.in_sample_keys_: list[str] = []
        self.in_sample_: list[np.ndarray] = []
        varying = [x[:, ~self.constant_] for x in series] if self.learned else series
        self.window_ = int(np.median([self.resolve_window(x) for x in varying]))
        for x in series:
            if x.shape[0] < self.window_:
                self.resolve_window(x)  # raises the clear error
        if not self.learned:
            warn_constant(self.where, self.constant_, self.constant_values_, ALL_CONSTANT)
            return
        if self.window_norm == "column":
            raw = np.concatenate([sliding_windows(x, self.window_) for x in varying])
            self.col_mean_ = raw.mean(axis=0)
            std = raw.std(axis=0)
            self.col_scale_ = np.where(std > 1e-12, std, 1.0)
        blocks = [self.windows(x) for x in varying]
        in_sample = self._fit_windows(np.concatenate(blocks))
        if self.constant_.any():
            train_scores = in_sample if in_sample is not None else self._score_windows(np.concatenate(blocks))
            spread = float(np.std(train_scores))
            typical = float(np.median(np.concatenate(varying).std(axis=0)))
            self.deviation_weight_ = (spread if spread > 1e-12 else 1.0) / typical
            warn_constant(self.where, self.constant_, self.constant_values_, SOME_CONSTANT)
        if in_sample is not None:
            start = 0
            for x, block in zip(series, blocks):
                self.in_sample_keys_.append(fingerprint(x))
                self.in_sample_.append(np.asarray(in_sample[start : start + len(block)], dtype=np.float64))
                start += len(block)

    def constant_deviation(self, x: np.ndarray) -> np.ndarray:
        """Per window: the mean absolute deviation from the training value, summed over constant channels."""
        k = int(self.constant_.sum())
        raw = sliding_windows(x[:, self.constant_], self.window_).reshape(-1, self.window_, k)
        return np.abs(raw - self.constant_values_[self.constant_]).mean(axis=1).sum(axis=1)

    def _window_scores(self, x: np.ndarray) -> np.ndarray:
        if not self.learned:
            return self.constant_deviation(x)
        scores = self._score_windows(self.windows(x[:, ~self.constant_]))
        if self.constant_.any():
            scores = scores + self.deviation_weight_ * self.constant_deviation(x)
        return scores

    def _score_series(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        key = fingerprint(x)
        if key in self.in_sample_keys_:  # the training series: constant channels did not deviate
            window_scores = self.in_sample_[self.in_sample_keys_.index(key)]
            if window_scores.size != x.shape[0] - self.window_ + 1:
                raise DataError(
                    f"{self.where}.score: the saved in-sample scores of this training series hold {window_scores.size} "
                    f"windows, not {x.shape[0] - self.window_ + 1}; the model folder was edited, re-save the model"
                )
        else:
            window_scores = self._window_scores(x)
        return self._to_points(window_scores, x.shape[0]), None

    # -- persistence -----------------------------------------------------------------------
    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        constant = state["constant_"]
        if not np.isin(constant, (0, 1)).all():
            raise DataError("saved state 'constant_' must hold 0/1 flags; re-save the model")
        varying = int(constant.size - np.count_nonzero(constant))
        needed = list(self.model_state) if varying else []
        if varying and self.window_norm == "column":
            needed += ["col_mean_", "col_scale_"]
        missing = [k for k in needed if state.get(k) is None]
        if missing:
            raise DataError(f"saved state lacks {missing}, which a model fitted on {varying} varying channels "
                            "has; re-save the model")
        wd = declared_dim(type(self), state, "wd")
        if varying and wd is not None and wd != state["window_"] * varying:
            raise DataError(f"saved model arrays are {wd} values wide but window_ = {state['window_']} and "
                            f"{varying} varying channels make {state['window_'] * varying}; re-save the model")
        if state.get("col_scale_") is not None and not np.all(state["col_scale_"] > 0):
            raise DataError("saved state 'col_scale_' must be positive; re-save the model")
        numbered(state, IN_SAMPLE, len(state["in_sample_keys_"]), "in_sample_keys_")

    def get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"n_channels_": int(self.n_channels_), "window_": int(self.window_)}
        state.update(constant_=self.constant_.astype(np.int8), constant_values_=self.constant_values_,
                     deviation_weight_=float(self.deviation_weight_))
        if self.learned and self.window_norm == "column":
            state.update(col_mean_=self.col_mean_, col_scale_=self.col_scale_)
        state["in_sample_keys_"] = list(self.in_sample_keys_)
        state.update({f"{IN_SAMPLE_PREFIX}{i}": arr for i, arr in enumerate(self.in_sample_)})
        if self.learned:
            state.update({name: getattr(self, name) for name in self.model_state})
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        self.n_channels_ = int(state["n_channels_"])
        self.window_ = int(state["window_"])
        self.constant_ = np.asarray(state["constant_"]).astype(bool)
        self.constant_values_ = np.asarray(state["constant_values_"], dtype=np.float64)
        self.deviation_weight_ = float(state["deviation_weight_"])
        if self.learned and self.window_norm == "column":
            self.col_mean_ = np.asarray(state["col_mean_"])
            self.col_scale_ = np.asarray(state["col_scale_"])
        self.in_sample_keys_ = list(state["in_sample_keys_"])
        self.in_sample_ = [np.asarray(state[f"{IN_SAMPLE_PREFIX}{i}"]) for i in range(len(self.in_sample_keys_))]
        if self.learned:
            for name in self.model_state:
                setattr(self, name, state[name])
            self._restore_model()

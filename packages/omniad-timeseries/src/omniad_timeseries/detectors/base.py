"""What the classic time-series detectors share: input checks, window choice, channel handling.

Every detector here turns one series ``(T, C)`` into one score per timestep; the sample
score is the maximum of those. Methods defined on a single channel (POLY, SR, matrix
profile, ...) run on each channel of a multivariate series; their per-channel scores are
min-max scaled, combined (mean or max) and also returned as ``extras["per_variable"]``.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from omniad.detector import Detector
from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Context, Int, Module, StateError, declare
from omniad_timeseries.periodicity import find_length_rank
from omniad_timeseries.series import as_series, coerce_samples


def fingerprint(x: np.ndarray) -> str:
    """Identity of a series' values, to recognise the training series when it is scored again."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    return hashlib.sha1(x.tobytes() + str(x.shape).encode()).hexdigest()


#: a channel is constant when every value is within this (relative to max(1, |value|)) of its first
CONSTANT_TOLERANCE = 1e-12
CONSTANT_DOC = "docs/detectors.md, 'Constant training data'"


def constant_channels(series: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Channels that never change across all training series: mask ``(C,)`` and their values ``(C,)``.

    A model cannot learn a spread from such a channel (zero variance), yet a series that
    leaves the constant is exactly what it should flag; callers score that deviation.
    """
    x = np.concatenate(series, axis=0)
    first = x[0]
    const = np.all(np.abs(x - first) <= CONSTANT_TOLERANCE * np.maximum(1.0, np.abs(first)), axis=0)
    return const, np.where(const, first, 0.0)


def warn_constant(where: str, constant: np.ndarray, values: np.ndarray, how: str) -> None:
    """Say (as a warning, which the runner records) that training channels were constant and what is done."""
    n = int(constant.sum())
    if n == 0:
        return
    if constant.size == 1:
        what = f"the training series is constant (value {values[0]:g})"
    else:
        listed = ", ".join(str(int(c)) for c in np.flatnonzero(constant)[:10]) + (", ..." if n > 10 else "")
        what = f"{n} of {constant.size} training channels are constant (channels {listed})"
    warnings.warn(f"{where}.fit: {what}: there is no spread to learn there; {how} ({CONSTANT_DOC})", stacklevel=3)


@dataclass(frozen=True)
class NumberedArrays(Module):
    """Numbered float arrays of ``ndim`` dimensions under one prefix (``in_sample.0``, ``train.1``, ...).

    A ``Module`` for the prefix rule (a detector saves as many as it saw training series); the
    owner's ``check_state`` checks that the numbers match the count they belong to.
    """

    ndim: int = 1

    def describe(self) -> str:
        return f"{self.ndim}-D float arrays"

    def check(self, value: Any, ctx: Context, key: str) -> None:
        super().check(value, ctx, key)
        if value.ndim != self.ndim or value.dtype.kind != "f" or value.size == 0:
            raise StateError(f"has shape {value.shape} and dtype {value.dtype}, not {self.describe()}")


def numbered(state: dict[str, Any], prefix: str, count: int, count_key: str) -> None:
    """Raise DataError unless ``state`` holds exactly ``<prefix>.0`` ... ``<prefix>.<count - 1>``."""
    saved = sorted(k for k in state if k.startswith(prefix + "."))
    expected = sorted(f"{prefix}.{i}" for i in range(count))
    if saved != expected:
        shown = ", ".join(saved[:5]) + (", ..." if len(saved) > 5 else "")
        raise DataError(f"saved state says {count} ({count_key}) but holds {len(saved)} '{prefix}.*' arrays "
                        f"({shown or 'none'}); re-save the model")


def series_period(x: np.ndarray, rank: int) -> int:
    """TSB-AD's window for a series (median over channels of the per-channel rule)."""
    return int(np.median([find_length_rank(x[:, c], rank=rank) for c in range(x.shape[1])]))


def minmax(scores: np.ndarray) -> np.ndarray:
    lo, hi = float(np.min(scores)), float(np.max(scores))
    return (scores - lo) / (hi - lo) if hi > lo else np.zeros_like(scores, dtype=np.float64)


def moving_average(scores: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average; the ends average over the part of the window inside the series."""
    width = max(1, min(int(width), scores.size))
    csum = np.r_[0.0, np.cumsum(scores)]
    t = np.arange(scores.size)
    lo = np.maximum(0, t - width // 2)
    hi = np.minimum(scores.size, t - width // 2 + width)
    return (csum[hi] - csum[lo]) / (hi - lo)


def combine_channels(per_variable: np.ndarray, how: str) -> np.ndarray:
    """One score per timestep from ``(T, C)`` channel scores, each min-max scaled first."""
    scaled = np.stack([minmax(per_variable[:, c]) for c in range(per_variable.shape[1])], axis=1)
    return scaled.max(axis=1) if how == "max" else scaled.mean(axis=1)


class SeriesDetector(Detector):
    """Base of the classic detectors: subclasses implement ``_fit_series`` and ``_score_series``."""

    #: True for methods defined on one channel: multivariate input is scored channel by channel
    per_channel: ClassVar[bool] = False
    #: every series detector saves its channel count; a scored series of another width fails in ``as_series``
    state_spec = declare(n_channels_=Int(ge=1, bind="c"))

    # -- what subclasses provide ---------------------------------------------------------
    def min_length(self) -> int:
        """Shortest series accepted (the window, once known)."""
        return 2

    def _fit_series(self, series: list[np.ndarray]) -> None:
        """Learn from the (T, C) training series; the default learns nothing."""

    def _score_channel(self, x: np.ndarray, channel: int) -> np.ndarray:
        """Per-timestep scores (T,) of channel number ``channel``, values ``x``; used when ``per_channel``."""
        raise NotImplementedError

    def _score_series(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Scores (T,) of one (T, C) series and, where the method has them, per-channel scores (T, C)."""
        if not self.per_channel:
            raise NotImplementedError
        if x.shape[1] == 1:
            return self._score_channel(x[:, 0], 0), None
        per_variable = np.stack([self._score_channel(x[:, c], c) for c in range(x.shape[1])], axis=1)
        return combine_channels(per_variable, getattr(self.params, "channel_combine", "mean")), per_variable

    # -- helpers ---------------------------------------------------------------------------
    def resolve_window(self, x: np.ndarray) -> int:
        """``params.window`` if set, else TSB-AD's period rule with ``params.periodicity``."""
        window = getattr(self.params, "window", None)
        if window is None:
            window = series_period(x, int(getattr(self.params, "periodicity", 1)))
        if window > x.shape[0]:
            raise DataError(
                f"{self.where}: series has {x.shape[0]} timesteps but the window is {window}; "
                "set a smaller 'window' or pass a longer series"
            )
        return int(window)

    def _series(self, samples: Sequence[Any], where: str, n_channels: int | None) -> list[np.ndarray]:
        out = []
        for i, sample in enumerate(samples):
            x = as_series(sample, f"{where}, series {i}", min_length=self.min_length(), n_channels=n_channels)
            if out and x.shape[1] != out[0].shape[1]:
                raise DataError(
                    f"{where}, series {i}: has {x.shape[1]} channels but series 0 has {out[0].shape[1]}; "
                    "all series must have the same channels"
                )
            out.append(x)
        return out

    # -- the detector contract -------------------------------------------------------------
    def _coerce(self, samples: Any, where: str) -> Any:
        """One series given bare (array, list of numbers, DataFrame) is one sample; see ``series.coerce_samples``."""
        return coerce_samples(samples, where)

    def _fit(self, samples: Sequence[Any]) -> None:
        series = self._series(samples, f"{self.where}.fit", None)
        self.n_channels_ = int(series[0].shape[1])
        self._fit_series(series)

    def _score(self, samples: Sequence[Any]) -> Scores:
        series = self._series(samples, f"{self.where}.score", self.n_channels_)
        local, per_variable = [], []
        for x in series:
            scores, per_var = self._score_series(x)
            scores = np.asarray(scores, dtype=np.float64).reshape(-1)
            if scores.shape[0] != x.shape[0]:  # a bug guard: never hand out misaligned scores
                raise DataError(f"{self.where}: produced {scores.shape[0]} scores for {x.shape[0]} timesteps")
            local.append(scores)
            per_variable.append(per_var)
        extras = {}
        if self.n_channels_ > 1 and all(p is not None for p in per_variable):
            extras["per_variable"] = per_variable
        return Scores(sample=np.array([s.max() for s in local]), local=local, extras=extras)

    def provenance(self) -> dict[str, Any]:
        constant = getattr(self, "constant_", None)
        if constant is not None and constant.any():  # set by detectors that learn from the training series
            return {"constant_train_channels": int(constant.sum())}
        return {}

    def get_state(self) -> dict[str, Any]:
        state = {"n_channels_": int(self.n_channels_)}
        state.update(super().get_state())
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        state = dict(state)
        self.n_channels_ = int(state.pop("n_channels_"))
        super().set_state(state)

"""Matrix profile (stumpy): a subsequence's z-normalised distance to its nearest other subsequence.

``reference="self"`` is TSB-AD's MatrixProfile: the self-join of the scored series (discords
score high). ``reference="train"`` is the semi-supervised variant: the distance to the
nearest subsequence of any training series (an AB-join per training series, minimum taken).
Profile values are placed at the subsequence centre; the ends keep the smallest profile
value, as in TSB-AD. The joins run in numpy or stumpy (``backend``, see ``profile.py``);
both give the same distances to 1e-9.

With ``reference="train"``, a channel that is constant in every training series has only flat
subsequences, and a z-normalised distance puts every non-flat subsequence at the same
sqrt(m) from them: no ranking. Such a channel is scored by the mean absolute deviation of
each subsequence from the training value instead (with a warning); channels are min-max
scaled before they are combined, so the different unit does not matter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad.state import Int, declare
from omniad_timeseries.detectors.base import (
    NumberedArrays,
    SeriesDetector,
    constant_channels,
    numbered,
    warn_constant,
)
from omniad_timeseries.detectors.params import MatrixProfileParams
from omniad_timeseries.detectors.profile import ab_join, self_join
from omniad_timeseries.windows import max_cover, sliding_windows

#: with reference="train", training series i is saved as ``train.<i>``
TRAIN = "train"
FLAT_REFERENCE = "those channels are scored by each subsequence's mean absolute deviation from the training value"


def finite(profile: np.ndarray) -> np.ndarray:
    """stumpy marks undefined distances as inf/NaN; give them the largest defined distance."""
    profile = np.asarray(profile, dtype=np.float64)
    ok = np.isfinite(profile)
    if not ok.all():
        profile = np.where(ok, profile, profile[ok].max() if ok.any() else 0.0)
    return profile


def place_profile(profile: np.ndarray, window: int, length: int) -> np.ndarray:
    out = np.full(length, profile.min())
    start = window // 2
    out[start : start + profile.size] = profile
    return out


class MatrixProfile(SeriesDetector):
    Params = MatrixProfileParams
    per_channel = True
    state_spec = declare({"n_train_": Int(ge=1, optional=True), TRAIN: NumberedArrays(ndim=2, optional=True)})

    def _fit_series(self, series: list[np.ndarray]) -> None:
        if self.params.reference == "train":
            self.train_series_ = [x.copy() for x in series]
            self._find_constant()
            warn_constant(self.where, self.constant_, self.constant_values_, FLAT_REFERENCE)

    def _find_constant(self) -> None:
        self.constant_, self.constant_values_ = constant_channels(self.train_series_)

    def _score_channel(self, x: np.ndarray, channel: int) -> np.ndarray:
        window = self.resolve_window(x[:, None])
        if window < 3:
            window = 3
        if self.params.reference == "self":
            if x.size < 2 * window:
                raise DataError(f"{self.where}: a self-join needs at least 2 windows ({2 * window} timesteps), got {x.size}")
            profile = finite(self_join(x, window, self.params.backend))
        elif self.constant_[channel]:
            deviation = np.abs(sliding_windows(x[:, None], window) - self.constant_values_[channel])
            profile = deviation.mean(axis=1)
        else:
            joins = [
                finite(ab_join(x, ref[:, channel], window, self.params.backend))
                for ref in self.train_series_ if ref.shape[0] >= window
            ]
            if not joins:
                raise DataError(f"{self.where}: no training series is as long as the window ({window})")
            profile = np.min(joins, axis=0)
        if self.params.point_score == "max_cover":
            return max_cover(profile, window, x.size)
        return place_profile(profile, window, x.size)

    def get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"n_channels_": int(self.n_channels_)}
        if self.params.reference == "train":
            state["n_train_"] = len(self.train_series_)
            state.update({f"{TRAIN}.{i}": x for i, x in enumerate(self.train_series_)})
        return state

    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        if self.params.reference != "train":
            return
        if state.get("n_train_") is None:
            raise DataError("reference='train' but the saved state has no training series (n_train_); "
                            "re-save the model")
        numbered(state, TRAIN, state["n_train_"], "n_train_")
        for i in range(state["n_train_"]):
            width = state[f"{TRAIN}.{i}"].shape[1]
            if width != state["n_channels_"]:
                raise DataError(f"saved training series {TRAIN}.{i} has {width} channels but n_channels_ = "
                                f"{state['n_channels_']}; re-save the model")

    def set_state(self, state: dict[str, Any]) -> None:
        self.n_channels_ = int(state["n_channels_"])
        if self.params.reference == "train":
            self.train_series_ = [np.asarray(state[f"{TRAIN}.{i}"]) for i in range(int(state["n_train_"]))]
            self._find_constant()

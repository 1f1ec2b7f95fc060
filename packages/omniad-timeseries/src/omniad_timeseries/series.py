"""Validation of time-series samples.

A time-series sample is a float array of shape ``(T,)`` or ``(T, C)`` (``C`` channels);
its localization target and local scores have shape ``(T,)``. Everything a detector gets
passes through ``as_series`` so bad input fails here, with the sample named, instead of
deep inside numpy or torch.

``coerce_samples`` is what ``fit`` / ``score`` accept from a user (``SeriesDetector._coerce``):
one series given bare (a ``(T,)`` / ``(T, C)`` array, a list of numbers, a pandas Series or
DataFrame) is ONE sample, not T; a list of those, or a ``(B, T, C)`` array, is several. A
DataFrame's numeric columns are its channels; its time column (``find_timestamp_column``'s
rule, or a datetime index) and a ``label`` column are not, and a warning names what was left out.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from numbers import Number
from typing import Any

import numpy as np

from omniad.errors import DataError


def as_series(sample: Any, where: str, *, min_length: int = 2, n_channels: int | None = None) -> np.ndarray:
    """One sample as a finite float64 array ``(T, C)``."""
    try:
        x = np.asarray(sample, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(
            f"{where}: series must be numeric (got {type(sample).__name__}); "
            "drop or encode non-numeric columns"
        ) from None
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise DataError(f"{where}: a series must have shape (T,) or (T, C), got {x.shape}")
    if x.shape[0] < min_length:
        raise DataError(
            f"{where}: series has {x.shape[0]} timesteps but this detector needs at least "
            f"{min_length} (window size); use a smaller window or a longer series"
        )
    if not np.all(np.isfinite(x)):
        bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
        raise DataError(
            f"{where}: series has {bad.size} timesteps with NaN/inf (first at t={int(bad[0])}); "
            "fill them (e.g. interpolate) before detection"
        )
    if n_channels is not None and x.shape[1] != n_channels:
        raise DataError(f"{where}: series has {x.shape[1]} channels but the detector was fitted on {n_channels}")
    return x


def as_series_list(samples: Sequence[Any], where: str, **kwargs: Any) -> list[np.ndarray]:
    return [as_series(s, f"{where}, series {i}", **kwargs) for i, s in enumerate(samples)]


def zscore(x: np.ndarray, mean: np.ndarray | None = None, std: np.ndarray | None = None) -> np.ndarray:
    """Standardise channels; constant channels are centred, not divided by zero."""
    mean = x.mean(0) if mean is None else mean
    std = x.std(0) if std is None else std
    return (x - mean) / np.where(std > 1e-12, std, 1.0)


WHAT_TO_PASS = ("pass one series as a (T,) or (T, C) array, a list of numbers, a pandas Series or DataFrame; "
                "several as a list of those or a (B, T, C) array; or the path of a CSV/parquet file or folder")
#: DataFrame columns that are ground truth, never a channel (the table loader's default label column)
LABEL_NAMES = ("label",)


def _pandas_kind(obj: Any) -> str | None:
    """"frame" / "series" for pandas objects, None otherwise (pandas is only looked at if already imported)."""
    pd = sys.modules.get("pandas")
    if pd is None:
        return None
    if isinstance(obj, pd.DataFrame):
        return "frame"
    if isinstance(obj, pd.Series):
        return "series"
    return None


def frame_values(frame: Any, where: str) -> np.ndarray:
    """A DataFrame as one series ``(T, C)``: its numeric columns, in order; what was left out is warned about."""
    import pandas as pd

    from omniad_timeseries.datasets.reading import find_timestamp_column

    labels = [c for c in frame.columns if str(c).strip().lower() in LABEL_NAMES]
    stamp = find_timestamp_column(frame, skip=set(labels))
    left_out: list[str] = []
    if stamp is not None:
        left_out.append(f"{stamp!r} (the time column)")
    left_out += [f"{c!r} (labels are not input)" for c in labels]
    used = []
    for column in frame.columns:
        if column == stamp or column in labels:
            continue
        values = frame[column]
        if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
            left_out.append(f"{column!r} (not numeric)")
        else:
            used.append(column)
    if not used:
        raise DataError(f"{where}: the DataFrame has no numeric columns (columns: {[str(c) for c in frame.columns]}); "
                        f"{WHAT_TO_PASS}")
    if left_out:
        time = " (the datetime index is the time axis)" if isinstance(frame.index, pd.DatetimeIndex) else ""
        warnings.warn(f"{where}: a DataFrame is one series; channels {[str(c) for c in used]}{time}; not used: "
                      f"{', '.join(left_out)}", UserWarning, stacklevel=4)
    return frame[used].to_numpy(dtype=np.float64)


def _one(sample: Any, where: str) -> Any:
    """A sample as given, with pandas objects turned into arrays."""
    kind = _pandas_kind(sample)
    if kind == "frame":
        return frame_values(sample, where)
    if kind == "series":
        try:
            return sample.to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(f"{where}: the pandas Series {sample.name!r} is not numeric; {WHAT_TO_PASS}") from None
    return sample


def _is_number(value: Any) -> bool:
    return isinstance(value, (Number, np.number)) and not isinstance(value, (bool, np.bool_))


def coerce_samples(samples: Any, where: str) -> Any:
    """What a user passed to ``fit`` / ``score`` as a sequence of series (see the module doc)."""
    if _pandas_kind(samples) is not None:
        return [_one(samples, where)]
    if isinstance(samples, np.ndarray):
        if samples.dtype == object and samples.ndim == 1:  # series of different lengths held in an array
            return [_one(s, f"{where}, series {i}") for i, s in enumerate(samples)]
        if samples.ndim in (1, 2):
            return [samples]
        if samples.ndim == 3:
            return list(samples)
        raise DataError(f"{where}: got an array of shape {samples.shape}; {WHAT_TO_PASS}")
    if isinstance(samples, (list, tuple)):
        if samples and all(_is_number(v) for v in samples):
            return [np.asarray(samples, dtype=np.float64)]
        return [_one(s, f"{where}, series {i}") for i, s in enumerate(samples)]
    if isinstance(samples, (str, bytes)) or not hasattr(samples, "__len__") or not hasattr(samples, "__getitem__"):
        raise DataError(f"{where}: got {type(samples).__name__}; {WHAT_TO_PASS}")
    return samples

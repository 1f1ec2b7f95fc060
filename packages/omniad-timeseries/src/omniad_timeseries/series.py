"""Validation of time-series samples.

A time-series sample is a float array of shape ``(T,)`` or ``(T, C)`` (``C`` channels);
its localization target and local scores have shape ``(T,)``. Everything a detector gets
passes through ``as_series`` so bad input fails here, with the sample named, instead of
deep inside numpy or torch.
"""

from __future__ import annotations

from collections.abc import Sequence
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

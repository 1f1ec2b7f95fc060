"""Per-channel scaling fitted once on the training series.

TSB-AD's dataset classes compute a z-score but then window the unscaled data, so its CNN,
LSTMAD and USAD see raw values; ``none`` reproduces that, the other modes are what those
classes meant to do. Statistics come from the training data only: scaling each scored
series by its own statistics would let an anomaly change how the normal part is scaled.
"""

from __future__ import annotations

import numpy as np

from omniad.errors import ConfigError

MODES = ("zscore", "minmax", "none")


def fit_scaler(series: list[np.ndarray], mode: str) -> tuple[np.ndarray, np.ndarray]:
    """(offset, scale) per channel such that ``(x - offset) / scale`` is the scaled series."""
    x = np.concatenate(series, axis=0)
    n_channels = x.shape[1]
    if mode == "zscore":
        offset, scale = x.mean(0), x.std(0)
    elif mode == "minmax":
        offset, scale = x.min(0), x.max(0) - x.min(0)
    elif mode == "none":
        offset, scale = np.zeros(n_channels), np.ones(n_channels)
    else:
        raise ConfigError(f"unknown normalize mode {mode!r}; use one of {', '.join(MODES)}")
    scale = np.where(scale > 1e-12, scale, 1.0)
    return offset.astype(np.float64), scale.astype(np.float64)


def apply_scaler(x: np.ndarray, offset: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return ((x - offset) / scale).astype(np.float32)

"""Sliding windows and the mapping of window scores back to timesteps.

``window_to_point`` follows TSB-AD's convention for sub-sequence detectors (a window's
score is assigned to its centre; the ends are padded with the first/last window score),
so omniad's scores line up with TSB-AD's point for point; ``max_cover`` is the stricter
alternative (a timestep gets the maximum score of all windows that cover it).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from omniad.errors import DataError


def sliding_windows(x: np.ndarray, window: int, stride: int = 1) -> np.ndarray:
    """Windows of a ``(T, C)`` series as ``(n_windows, window * C)`` (a view when possible)."""
    if x.ndim == 1:
        x = x[:, None]
    if window < 1:
        raise DataError(f"window must be >= 1, got {window}")
    if x.shape[0] < window:
        raise DataError(
            f"series of length {x.shape[0]} is shorter than the window ({window}); "
            "use a smaller window"
        )
    view = sliding_window_view(x, window, axis=0)[::stride]  # (n, C, window)
    return view.transpose(0, 2, 1).reshape(view.shape[0], window * x.shape[1])


def window_to_point(window_scores: np.ndarray, window: int, length: int) -> np.ndarray:
    """TSB-AD padding: ceil((w-1)/2) copies of the first score, then the scores, then floor((w-1)/2) of the last."""
    s = np.asarray(window_scores, dtype=np.float64).reshape(-1)
    head, tail = math.ceil((window - 1) / 2), (window - 1) // 2
    out = np.concatenate([np.full(head, s[0]), s, np.full(tail, s[-1])])
    if out.size != length:
        raise DataError(f"window_to_point: {s.size} window scores and window {window} give {out.size} points, not {length}")
    return out


def max_cover(window_scores: np.ndarray, window: int, length: int, stride: int = 1) -> np.ndarray:
    """Each timestep gets the maximum score among the windows that contain it."""
    s = np.asarray(window_scores, dtype=np.float64).reshape(-1)
    out = np.full(length, -np.inf)
    for offset in range(window):
        idx = np.arange(s.size) * stride + offset
        keep = idx < length
        np.maximum.at(out, idx[keep], s[keep])
    missing = ~np.isfinite(out)
    if missing.any():  # tail not covered when stride does not divide evenly
        out[missing] = s[-1]
    return out

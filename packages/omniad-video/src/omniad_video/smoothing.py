"""Temporal smoothing of per-frame anomaly scores.

A frame detector scores each frame alone, so one noisy frame gives a spike and a real
event a ragged plateau; anomalous events last many frames, so averaging over a short
window raises the AUROC of frame-level evaluation (UCSD/Avenue protocols smooth the same
way). ``causal`` smoothing uses only past frames, for online use where the future is not
yet seen. Edges repeat the first/last score, so a window never mixes in zeros.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from omniad.errors import ConfigError
from omniad.params import Params

SmoothingKind = Literal["none", "mean", "gaussian"]


class SmoothingParams(Params):
    """The smoothing parameters every frame detector takes (a detector may change their defaults)."""

    smoothing: SmoothingKind = Field(default="mean", description="temporal smoothing of frame scores")
    smoothing_window: int = Field(default=5, ge=1, le=10_000, description="smoothing window, in decoded frames")
    causal: bool = Field(default=False, description="smooth with past frames only (online use)")


def _kernel(kind: str, window: int, causal: bool) -> np.ndarray:
    if kind == "mean":
        weights = np.ones(window if causal else 2 * (window // 2) + 1)
    elif kind == "gaussian":
        # window covers +-3 sigma (centered) or 0..6 sigma back in time (causal)
        sigma = max(window / 6.0, 1e-6)
        if causal:
            weights = np.exp(-0.5 * (np.arange(window) / (window / 3.0 + 1e-6)) ** 2)[::-1]
        else:
            half = window // 2
            weights = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    else:
        raise ConfigError(f"smoothing: unknown kind {kind!r}; use 'none', 'mean' or 'gaussian'")
    return weights / weights.sum()


def smooth_scores(
    scores: np.ndarray, kind: SmoothingKind = "mean", window: int = 5, *, causal: bool = False
) -> np.ndarray:
    """``(F,)`` frame scores smoothed over ``window`` frames (``kind="none"`` or ``window<=1``: unchanged).

    Centered windows use ``window // 2`` frames on each side; causal windows the current
    frame and the ``window - 1`` before it.
    """
    x = np.asarray(scores, dtype=np.float64).reshape(-1)
    if window < 1:
        raise ConfigError(f"smoothing: window must be at least 1 frame, got {window}")
    if kind == "none" or window == 1 or x.size < 2:
        if kind not in ("none", "mean", "gaussian"):
            raise ConfigError(f"smoothing: unknown kind {kind!r}; use 'none', 'mean' or 'gaussian'")
        return x.copy()
    weights = _kernel(kind, window, causal)
    n = len(weights)
    if causal:
        padded = np.concatenate([np.full(n - 1, x[0]), x])
    else:
        half = n // 2
        padded = np.concatenate([np.full(half, x[0]), x, np.full(half, x[-1])])
    # np.convolve flips the kernel; flip first so weights[j] multiplies padded[i + j]
    return np.convolve(padded, weights[::-1], mode="valid")

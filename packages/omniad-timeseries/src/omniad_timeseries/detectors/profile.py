"""Matrix-profile joins (z-normalised Euclidean nearest-neighbour distances), numpy or stumpy.

stumpy is the reference implementation, but its numba kernels compile on first use: tens
of CPU seconds in every fresh process, far more than a join of a few thousand points
costs. The numpy path (STOMP's sliding dot-product recurrence, one vectorised row per
subsequence) needs no compilation and is what ``backend="auto"`` uses up to
``NUMPY_MAX_LENGTH`` points; longer series go to stumpy, whose compiled O(n^2) loop wins
there, when it is installed (the optional ``[numba]`` extra; without it numpy joins them too) (numbers in docs/detectors.md, ``tools/bench_ts_profile.py``). Constant subsequences
follow stumpy's convention: two constant ones are at distance 0, a constant and a
non-constant one at sqrt(m).
"""

from __future__ import annotations

import importlib.util
from typing import Any, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from omniad.errors import MissingDependencyError
from omniad_timeseries.detectors.params import NUMBA_EXTRA

Backend = Literal["auto", "numpy", "stumpy"]
NUMPY_MAX_LENGTH = 20_000
REANCHOR = 512  # recompute dot products exactly every so many rows (bounds rounding drift)


def _stats(x: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, standard deviation and constancy of every subsequence.

    Computed on the windows themselves, not from running sums: running sums cancel
    catastrophically on a long flat stretch at a large level (a constant subsequence then
    shows a small non-zero standard deviation instead of 0). Constancy is stumpy's exact test
    (max == min), so flat stretches get stumpy's distances.
    """
    windows = sliding_window_view(x, m)
    return windows.mean(axis=1), windows.std(axis=1), np.ptp(windows, axis=1) == 0


def _dots(query: np.ndarray, series: np.ndarray) -> np.ndarray:
    """Dot products of ``query`` with every subsequence of ``series`` of the same length."""
    return np.correlate(series, query, mode="valid")


def _distances(
    qt: np.ndarray, m: int, q: tuple[float, float, bool], mu: np.ndarray, sd: np.ndarray, const: np.ndarray
) -> np.ndarray:
    mu_q, sd_q, const_q = q
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = (qt - m * mu_q * mu) / (m * sd_q * sd)
    d2 = 2 * m * (1 - np.clip(corr, -1.0, 1.0))
    if const_q:
        d2 = np.where(const, 0.0, float(m))
    else:
        d2 = np.where(const, float(m), d2)
    return np.sqrt(np.maximum(d2, 0.0))


def _join(a: np.ndarray, b: np.ndarray, m: int, exclusion: int | None) -> np.ndarray:
    """For each subsequence of ``a``: distance to its nearest subsequence of ``b`` (numpy STOMP)."""
    mu_a, sd_a, const_a = _stats(a, m)
    mu_b, sd_b, const_b = _stats(b, m)
    n_b = b.size - m + 1
    best = np.full(a.size - m + 1, np.inf)
    qt = _dots(b[:m], a)
    for j in range(n_b):
        if j and j % REANCHOR:
            qt[1:] = qt[:-1] - b[j - 1] * a[: a.size - m] + b[j + m - 1] * a[m:]
            qt[0] = float(np.dot(b[j : j + m], a[:m]))
        elif j:
            qt = _dots(b[j : j + m], a)
        d = _distances(qt, m, (mu_b[j], sd_b[j], bool(const_b[j])), mu_a, sd_a, const_a)
        if exclusion is not None:
            d[max(0, j - exclusion) : j + exclusion + 1] = np.inf
        np.minimum(best, d, out=best)
    return best


def use_numpy(length: int, backend: Backend) -> bool:
    return backend == "numpy" or (backend == "auto" and (
        length <= NUMPY_MAX_LENGTH or importlib.util.find_spec("stumpy") is None))


def _stumpy() -> Any:
    try:
        import stumpy
    except ImportError:
        raise MissingDependencyError(
            f"matrix-profile backend 'stumpy' needs stumpy, which is not installed; pip install '{NUMBA_EXTRA}' "
            "or use backend='numpy' (or 'auto')"
        ) from None
    return stumpy


def self_join(x: np.ndarray, m: int, backend: Backend = "auto") -> np.ndarray:
    """Matrix profile of ``x`` (exclusion zone ceil(m / 4) around each subsequence, as stumpy)."""
    x = np.asarray(x, dtype=np.float64)
    if use_numpy(x.size, backend):
        return _join(x, x, m, exclusion=int(np.ceil(m / 4)))
    return np.asarray(_stumpy().stump(x, m=m)[:, 0], dtype=np.float64)


def ab_join(a: np.ndarray, b: np.ndarray, m: int, backend: Backend = "auto") -> np.ndarray:
    """For every subsequence of ``a``, the distance to its nearest subsequence of ``b``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if use_numpy(a.size + b.size, backend):
        return _join(a, b, m, exclusion=None)
    return np.asarray(_stumpy().stump(a, m=m, T_B=b, ignore_trivial=False)[:, 0], dtype=np.float64)

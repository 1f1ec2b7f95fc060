"""Period estimation: TSB-AD's ``find_length_rank`` rule, reimplemented without statsmodels.

The rule: autocorrelation up to lag 400 of the first 20,000 points, local maxima of the
ACF from lag 3 on, the ``rank``-th highest maximum; fall back to 125 when there is none or
it lies outside [3, 300]. TSB-AD uses it to size detector windows and the VUS buffer, so
matching it exactly is what makes our numbers comparable with theirs.
"""

from __future__ import annotations

import numpy as np

FALLBACK = 125
BASE = 3
MAX_LAG = 400


def acf(x: np.ndarray, nlags: int) -> np.ndarray:
    """Biased autocorrelation (statsmodels ``acf(adjusted=False, fft=True)``)."""
    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    n = x.size
    size = 1 << int(np.ceil(np.log2(2 * n - 1)))
    spec = np.fft.rfft(x, size)
    full = np.fft.irfft(spec * np.conj(spec), size)[: nlags + 1]
    denom = full[0] if full[0] != 0 else 1.0
    return full / denom


def find_length_rank(data: np.ndarray, rank: int = 1) -> int:
    """Window length from the series' dominant period (TSB-AD rule; 0 for multivariate input)."""
    data = np.asarray(data, dtype=np.float64).squeeze()
    if data.ndim > 1:
        return 0
    if rank == 0:
        return 1
    data = data[: min(20000, data.size)]
    if data.size < BASE + 3:
        return FALLBACK
    corr = acf(data, nlags=min(MAX_LAG, data.size - 1))[BASE:]
    interior = np.flatnonzero((corr[1:-1] > corr[:-2]) & (corr[1:-1] > corr[2:])) + 1
    if interior.size == 0:
        return FALLBACK
    order = np.argsort(corr[interior], kind="stable")[::-1]
    pick = order[0]
    if rank == 2:
        later = [i for i in order[1:] if i > order[0]]
        pick = later[0] if later else pick
    elif rank >= 3:  # TSB-AD's rank-3 walk; where it raises, TSB-AD falls back
        later = [i for i in order[1:] if i > order[0]]
        if not later or later[0] >= order.size:
            return FALLBACK
        second = [i for i in order[later[0]:] if i > order[later[0]]]
        pick = second[0] if second else pick
    lag = int(interior[pick])
    if lag < 3 or lag > 300:
        return FALLBACK
    return lag + BASE

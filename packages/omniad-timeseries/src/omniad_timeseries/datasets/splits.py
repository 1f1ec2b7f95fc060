"""Train-prefix rules: how much of a series' start a semi-supervised detector may learn from.

TSB-AD stores the prefix length in its file names (``..._tr_<N>_1st_<first anomaly>.csv``)
but does not publish the rule. Every published name we could check fits

    N = max(500, min(first_anomaly - 100, T // 4 - 1))

(e.g. NAB exchange-3_cpc: T=1538, first anomaly 271 -> tr_500; NAB nyc_taxi: T=10320,
first 5839 -> tr_2579; a 4032-point NAB series with its first anomaly at 2014 -> tr_1007;
WSD 11: first 1846 -> tr_1746), so that is the ``tsbad`` rule. Like TSB-AD's, the prefix may
contain anomalies when the first one comes early; the test split is always the whole series.
"""

from __future__ import annotations

import numpy as np

from omniad.errors import ConfigError

TSBAD_MIN_TRAIN = 500
TSBAD_GAP = 100
NAB_PROBATION = 0.15


def tsbad_train_length(labels: np.ndarray) -> int:
    """TSB-AD's prefix length for a series with these per-timestep labels (see module doc)."""
    labels = np.asarray(labels).reshape(-1)
    n = labels.size
    first = int(np.argmax(labels > 0)) if np.any(labels > 0) else n
    length = max(TSBAD_MIN_TRAIN, min(first - TSBAD_GAP, n // 4 - 1))
    return int(min(length, n))


def train_length(rule: str, labels: np.ndarray, fraction: float = 0.3) -> int:
    """Prefix length under ``rule`` (``tsbad``, ``fraction``, ``probation`` or ``none``)."""
    n = int(np.asarray(labels).size)
    if rule == "tsbad":
        return tsbad_train_length(labels)
    if rule == "fraction":
        return max(2, min(n, int(n * fraction)))
    if rule == "probation":
        return max(2, min(n, int(n * NAB_PROBATION)))
    if rule == "none":
        return n
    raise ConfigError(f"unknown train rule {rule!r}; use tsbad, fraction, probation or none")

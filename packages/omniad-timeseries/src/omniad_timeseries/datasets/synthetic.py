"""Synthetic seasonal series with injected anomalies of known kind, place and severity.

The normal signal is a noisy two-harmonic seasonal pattern; multivariate series mix a few
latent patterns so channels are correlated. Anomalies go into the part after the clean
train prefix, one per equal slot (so they never overlap), and only into a third of the
channels of a multivariate series. Kinds (Lai et al., NeurIPS 2021 taxonomy):

- ``point``: a one-step spike;
- ``contextual``: a stretch whose values are normal globally but wrong for their phase;
- ``collective``: the pattern breaks down into noise for about a period;
- ``level_shift``: the level jumps for two periods;
- ``trend``: a ramp builds up over two periods;
- ``seasonal``: the pattern speeds up (shorter period) for two periods.

Severity 1-3 scales the magnitude; the test split's ``severity`` is the strongest level in
the series and ``meta["anomalies"]`` lists every injected anomaly.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from omniad.data import Subset
from omniad_timeseries.datasets.base import SeriesDataset, series_subset
from omniad_timeseries.datasets.params import SyntheticParams

LATENT = 3


def seasonal(t: np.ndarray, period: float, phase: float) -> np.ndarray:
    return np.sin(2 * np.pi * t / period + phase) + 0.4 * np.sin(4 * np.pi * t / period + 2 * phase)


def anomaly_length(kind: str, period: int, severity: int) -> int:
    if kind == "point":
        return 1
    if kind == "contextual":
        return max(2, period * (severity + 1) // 8)
    if kind == "collective":
        return period
    return 2 * period


def inject(x: np.ndarray, kind: str, start: int, length: int, severity: int, period: int,
           rng: np.random.Generator) -> None:
    """Modify the 1-D channel ``x`` in place over ``[start, start + length)``."""
    seg = slice(start, start + length)
    t = np.arange(start, start + length)
    sign = rng.choice([-1.0, 1.0])
    if kind == "point":
        x[start] += sign * (0.8 + 1.2 * severity)
    elif kind == "contextual":
        half = period // 2
        src = np.clip(t + half, 0, len(x) - 1)
        weight = min(1.0, 0.4 * severity)
        x[seg] = (1 - weight) * x[seg] + weight * x[src]
    elif kind == "collective":
        x[seg] = x.mean() + rng.normal(0, 0.25 * severity, size=length)
    elif kind == "level_shift":
        x[seg] += sign * 0.5 * severity
    elif kind == "trend":
        x[seg] += sign * np.linspace(0, 0.6 * severity, length)
    elif kind == "seasonal":
        faster = period * (1 - 0.15 * severity)
        x[seg] += seasonal(t, faster, 0.0) - seasonal(t, period, 0.0)
    else:  # guarded by the Params model
        raise ValueError(kind)


class Synthetic(SeriesDataset):
    Params = SyntheticParams

    def _normal(self, rng: np.random.Generator) -> np.ndarray:
        p = self.params
        t = np.arange(p.length, dtype=np.float64)
        if p.n_channels == 1:
            base = seasonal(t, p.period, rng.uniform(0, 2 * np.pi))[:, None]
        else:
            latent = np.stack([seasonal(t, p.period * f, rng.uniform(0, 2 * np.pi)) for f in (1.0, 0.5, 2.0)[:LATENT]], 1)
            mix = rng.normal(size=(LATENT, p.n_channels))
            mix /= np.linalg.norm(mix, axis=0, keepdims=True)
            base = latent @ mix
        return base + rng.normal(0, p.noise, size=base.shape)

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        for i in range(p.n_series):
            rng = np.random.default_rng([p.seed, i])
            x = self._normal(rng)
            labels = np.zeros(p.length, dtype=np.int8)
            first = p.train_length + p.period // 2
            slot = (p.length - first) // p.n_anomalies
            anomalies = []
            for j in range(p.n_anomalies):
                kind = p.anomaly_types[(i + j) % len(p.anomaly_types)]
                level = int(rng.integers(1, p.severity + 1)) if p.mixed_severity else p.severity
                length = min(anomaly_length(kind, p.period, level), max(1, slot - 2))
                start = first + j * slot + int(rng.integers(0, max(1, slot - length)))
                n_affected = max(1, p.n_channels // 3)
                channels = sorted(rng.choice(p.n_channels, size=n_affected, replace=False).tolist())
                for c in channels:
                    column = x[:, c].copy()
                    inject(column, kind, start, length, level, p.period, rng)
                    x[:, c] = column
                labels[start : start + length] = 1
                anomalies.append({"kind": kind, "start": start, "end": start + length, "severity": level, "channels": channels})
            yield series_subset(
                f"synthetic-{i}",
                x,
                labels,
                p.train_length if p.train_length > 0 else p.length,
                meta={"anomalies": anomalies, "period": p.period, "seed": p.seed},
                severity=float(max(a["severity"] for a in anomalies)),
            )

"""Synthetic normal series and labelled anomaly injection (numpy only).

TimeRCD learns "does this stretch disagree with its surroundings?" from labelled examples.
The same injector corrupts windows of a user's normal training data (in-situ training) and
windows of generated base signals (offline pretraining, ``tools/pretrain_timercd.py``), so
both paths teach the same notion of anomaly. Magnitudes are relative to the window's own
spread, which makes the labels context-dependent: a value is anomalous because of what
surrounds it, not because of its absolute level.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.signal import lfilter

Injector = Callable[[np.random.Generator, np.ndarray, int, int, float], None]


def _spike(rng: np.random.Generator, x: np.ndarray, a: int, b: int, sd: float) -> None:
    b = min(b, a + int(rng.integers(1, 4)))
    x[a:b] += rng.choice([-1, 1]) * rng.uniform(3, 8) * sd


def _level_shift(rng: np.random.Generator, x: np.ndarray, a: int, b: int, sd: float) -> None:
    x[a:b] += rng.choice([-1, 1]) * rng.uniform(1.5, 4) * sd


def _amplitude(rng: np.random.Generator, x: np.ndarray, a: int, b: int, sd: float) -> None:
    centre = x[a:b].mean()
    factor = rng.uniform(2.0, 4.0) if rng.random() < 0.5 else rng.uniform(0.0, 0.3)
    x[a:b] = centre + factor * (x[a:b] - centre)


def _flat(rng: np.random.Generator, x: np.ndarray, a: int, b: int, sd: float) -> None:
    x[a:b] = x[a] + rng.normal(0, 0.02 * sd)


def _noise(rng: np.random.Generator, x: np.ndarray, a: int, b: int, sd: float) -> None:
    x[a:b] += rng.normal(0, rng.uniform(1.0, 2.5) * sd, b - a)


def _trend(rng: np.random.Generator, x: np.ndarray, a: int, b: int, sd: float) -> None:
    x[a:b] += rng.choice([-1, 1]) * np.linspace(0, rng.uniform(2, 5) * sd, b - a)


def _warp(rng: np.random.Generator, x: np.ndarray, a: int, b: int, sd: float) -> None:
    """Frequency change: the segment replays a stretch of the window at another speed."""
    n = b - a
    speed = rng.uniform(1.8, 3.0) if rng.random() < 0.5 else rng.uniform(0.3, 0.55)
    src = np.clip(a + np.arange(n) * speed, 0, len(x) - 1)
    x[a:b] = np.interp(src, np.arange(len(x)), x.copy())


INJECTORS: dict[str, Injector] = {
    "spike": _spike,
    "level_shift": _level_shift,
    "amplitude": _amplitude,
    "flat": _flat,
    "noise": _noise,
    "trend": _trend,
    "warp": _warp,
}


def inject(rng: np.random.Generator, x: np.ndarray, max_length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A copy of the 1-D window ``x`` with one random anomaly, and its 0/1 labels."""
    x = np.array(x, dtype=np.float64)
    n = len(x)
    labels = np.zeros(n, dtype=np.float32)
    sd = float(np.std(x))
    sd = sd if sd > 1e-6 else 1.0
    longest = max(2, min(max_length or n // 4, n // 2))
    length = int(rng.integers(2, longest + 1))
    a = int(rng.integers(0, n - length + 1))
    b = a + length
    name = list(INJECTORS)[int(rng.integers(len(INJECTORS)))]
    before = x.copy()
    INJECTORS[name](rng, x, a, b, sd)
    changed = np.abs(x - before) > 0.2 * sd
    if not changed.any():  # e.g. a flat segment injected where the signal was flat already
        x[a] += 5 * sd
        changed[a] = True
    labels[changed] = 1.0
    return x, labels


def base_signal(rng: np.random.Generator, length: int) -> np.ndarray:
    """A random normal series: seasonal components, trend, AR(1) noise and occasional square waves."""
    t = np.arange(length, dtype=np.float64)
    x = np.zeros(length)
    for _ in range(int(rng.integers(1, 4))):
        period = rng.uniform(6, max(8.0, length / 2))
        x += rng.uniform(0.2, 1.5) * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    if rng.random() < 0.3:
        period = rng.uniform(10, max(12.0, length / 3))
        x += rng.uniform(0.3, 1.0) * np.sign(np.sin(2 * np.pi * t / period))
    if rng.random() < 0.4:
        x += rng.normal(0, 1.0) * t / length
    phi, sigma = rng.uniform(0, 0.9), rng.uniform(0.02, 0.4)
    return x + lfilter([1.0], [1.0, -phi], rng.normal(0, sigma, length))

"""Seeded synthetic surveillance-style videos: discs walking along lanes; anomalies start mid-video.

A normal scene has a few discs moving right at one speed, each in its lane, wrapping around.
Anomalies begin at a random frame in the middle third and last to the end: ``speed`` (one
disc moves three times as fast), ``direction`` (one disc walks the wrong way) or ``object``
(an unexpected bright square crosses the scene). Frames are labelled anomalous while the
anomaly is visible. Written to files in the real datasets' layouts by ``write_benchmark``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from omniad.data import Split, Subset
from omniad.errors import ConfigError
from omniad_video.datasets.params import SyntheticParams
from omniad_video.datasets.render import RendersFrames
from omniad_video.samples import FrameVideo

ANOMALIES = ("speed", "direction", "object")


def generate_video(
    rng: np.random.Generator, *, n_frames: int = 48, size: int = 32, anomaly: str = "none", n_objects: int = 2,
    speed: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``(frames (F, size, size, 3) uint8, labels (F,) int8)`` of one video."""
    if anomaly not in ("none", *ANOMALIES):
        raise ConfigError(f"unknown synthetic anomaly {anomaly!r}; choose from {('none', *ANOMALIES)}")
    lanes = np.linspace(size * 0.25, size * 0.75, n_objects)
    x0 = rng.uniform(0, size, n_objects)
    radius = max(2.0, size / 12)
    onset = int(rng.integers(n_frames // 3, 2 * n_frames // 3)) if anomaly != "none" else n_frames
    odd = int(rng.integers(n_objects))
    yy, xx = np.mgrid[0:size, 0:size]
    frames = np.empty((n_frames, size, size, 3), np.uint8)
    labels = np.zeros(n_frames, np.int8)
    x = x0.copy()
    square_x = -radius * 2
    for f in range(n_frames):
        img = np.full((size, size, 3), 60, np.uint8)
        img[:, :, 1] = 70
        v = np.full(n_objects, speed)
        if f >= onset and anomaly == "speed":
            v[odd] = 3 * speed
        if f >= onset and anomaly == "direction":
            v[odd] = -speed
        x = (x + v) % size
        for i in range(n_objects):
            img[(yy - lanes[i]) ** 2 + (xx - x[i]) ** 2 <= radius**2] = (200, 180, 160)
        if anomaly == "object" and f >= onset:
            square_x += 1.5 * speed
            inside = (np.abs(yy - size / 2) <= radius) & (np.abs(xx - square_x) <= radius)
            img[inside] = (250, 250, 40)
            labels[f] = int(inside.any())
        elif f >= onset:
            labels[f] = 1
        frames[f] = img
    return frames, labels


class Synthetic(RendersFrames):
    Params = SyntheticParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        rng = np.random.default_rng(p.seed)

        def video(anomaly: str, name: str) -> tuple[FrameVideo, np.ndarray]:
            frames, labels = generate_video(rng, n_frames=p.n_frames, size=p.size, anomaly=anomaly, n_objects=p.n_objects)
            return FrameVideo(frames=frames, name=name, fps=25.0, meta={"kind": anomaly}), labels

        train = [video("none", f"train/{i:03d}")[0] for i in range(p.n_train)]
        test, targets, kinds = [], [], []
        for kind in ("none",) * p.n_test_normal + tuple(k for k in p.anomalies for _ in range(p.n_test_per_anomaly)):
            v, labels = video(kind, f"{kind}/{len(test):03d}")
            test.append(v)
            targets.append(labels)
            kinds.append("good" if kind == "none" else kind)
        yield Subset(
            name="synthetic",
            train=Split(samples=train, ids=[v.name for v in train]),
            test=Split(samples=test, targets=targets, ids=[v.name for v in test], meta={"kinds": kinds}),
        )

"""Synthetic industrial-style images with pixel-exact defects, for tests and ``omniad demo``.

Each subset is one procedural texture (stripes, grid, Perlin noise, dots) whose normal
images vary in phase, small rotation, colour and sensor noise, so a detector must learn the
texture rather than memorise pixels. Defects follow the recipes the field uses to simulate
anomalies: a Perlin-noise-shaped region filled with a foreign texture (DRAEM, Zavrtanik et
al. 2021), a colour-jittered patch cut from the image and pasted elsewhere, rotated (CutPaste,
Li et al. 2021), and a thin contrasting scratch. Everything is seeded and small, so
generating a subset takes milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from omniad.data import Split, Subset
from omniad_vision.datasets.base import VisionDataset
from omniad_vision.datasets.params import SyntheticParams

PALETTES = {
    "stripes": ((0.20, 0.22, 0.28), (0.75, 0.72, 0.60)),
    "grid": ((0.10, 0.30, 0.25), (0.70, 0.85, 0.80)),
    "noise": ((0.35, 0.25, 0.15), (0.80, 0.65, 0.45)),
    "dots": ((0.85, 0.85, 0.85), (0.30, 0.30, 0.35)),
}


def perlin(shape: tuple[int, int], res: int, rng: np.random.Generator) -> np.ndarray:
    """2-D gradient (Perlin) noise in about [-0.7, 0.7] with ``res`` cells across the image."""
    h, w = shape
    angles = rng.uniform(0, 2 * np.pi, size=(res + 1, res + 1))
    grad = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    y = np.linspace(0, res, h, endpoint=False)
    x = np.linspace(0, res, w, endpoint=False)
    yi, xi = np.floor(y).astype(int), np.floor(x).astype(int)
    fy, fx = (y - yi)[:, None], (x - xi)[None, :]

    def corner(dy: int, dx: int) -> np.ndarray:
        g = grad[yi[:, None] + dy, xi[None, :] + dx]
        return g[..., 0] * (fy - dy) + g[..., 1] * (fx - dx)

    def fade(t: np.ndarray) -> np.ndarray:
        return t * t * t * (t * (t * 6 - 15) + 10)

    u, v = fade(fx), fade(fy)
    top = corner(0, 0) * (1 - u) + corner(0, 1) * u
    bottom = corner(1, 0) * (1 - u) + corner(1, 1) * u
    return top * (1 - v) + bottom * v


def pattern(kind: str, size: int, rng: np.random.Generator, *, angle: float = 0.0) -> np.ndarray:
    """Texture intensity in [0, 1], shape (size, size)."""
    scale = size / 64.0
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    theta = np.deg2rad(angle + rng.normal(0, 2.0))
    u = xx * np.cos(theta) + yy * np.sin(theta)
    v = -xx * np.sin(theta) + yy * np.cos(theta)
    if kind == "stripes":
        period = rng.uniform(7.0, 8.0) * scale
        return 0.5 + 0.5 * np.sin(2 * np.pi * u / period + rng.uniform(0, 2 * np.pi))
    if kind == "grid":
        period = rng.uniform(9.0, 10.0) * scale
        a = np.abs(np.sin(np.pi * u / period + rng.uniform(0, np.pi)))
        b = np.abs(np.sin(np.pi * v / period + rng.uniform(0, np.pi)))
        return np.clip(1.0 - np.minimum(a, b) * 3.0, 0.0, 1.0)
    if kind == "dots":
        period = rng.uniform(10.0, 11.0) * scale
        cu = (u + rng.uniform(0, period)) % period - period / 2
        cv = (v + rng.uniform(0, period)) % period - period / 2
        return (np.hypot(cu, cv) < period * 0.28).astype(np.float64)
    noise = perlin((size, size), 4, rng) + 0.5 * perlin((size, size), 8, rng) + 0.25 * perlin((size, size), 16, rng)
    return np.clip(noise + 0.5, 0.0, 1.0)


def paint(intensity: np.ndarray, palette: tuple[tuple[float, ...], tuple[float, ...]], rng: np.random.Generator) -> np.ndarray:
    c0 = np.clip(np.asarray(palette[0]) + rng.normal(0, 0.02, 3), 0, 1)
    c1 = np.clip(np.asarray(palette[1]) + rng.normal(0, 0.02, 3), 0, 1)
    return c0 * (1 - intensity[..., None]) + c1 * intensity[..., None]


def to_uint8(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return (np.clip(rgb + rng.normal(0, 0.015, rgb.shape), 0, 1) * 255).round().astype(np.uint8)


def perlin_defect(img: np.ndarray, kind: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    size = img.shape[0]
    for _ in range(50):
        noise = perlin((size, size), int(rng.integers(2, 5)), rng)
        mask = noise > rng.uniform(0.25, 0.4)
        if 0.02 <= mask.mean() <= 0.2:
            break
    else:  # fall back to a disc so the defect is never empty
        yy, xx = np.mgrid[0:size, 0:size]
        mask = np.hypot(yy - size / 2, xx - size / 2) < size / 8
    foreign_kind = {"stripes": "grid", "grid": "noise", "noise": "stripes", "dots": "stripes"}[kind]
    foreign = paint(pattern(foreign_kind, size, rng, angle=45.0), PALETTES[foreign_kind], rng)
    beta = rng.uniform(0.7, 1.0)
    out = img.copy()
    out[mask] = beta * foreign[mask] + (1 - beta) * img[mask]
    return out, mask


def cutpaste_defect(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    size = img.shape[0]
    ph, pw = (int(size * rng.uniform(0.15, 0.3)) for _ in range(2))
    sy, sx = rng.integers(0, size - ph), rng.integers(0, size - pw)
    patch = np.rot90(img[sy : sy + ph, sx : sx + pw], k=int(rng.integers(1, 4)))
    patch = np.clip(patch * rng.uniform(0.6, 0.8) + rng.uniform(0.15, 0.3) * rng.permutation([1.0, 0.3, 0.0]), 0, 1)
    h, w = patch.shape[:2]
    dy, dx = rng.integers(0, size - h), rng.integers(0, size - w)
    out = img.copy()
    out[dy : dy + h, dx : dx + w] = patch
    mask = np.zeros((size, size), dtype=bool)
    mask[dy : dy + h, dx : dx + w] = True
    return out, mask


def scratch_defect(img: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    size = img.shape[0]
    length = size * rng.uniform(0.35, 0.6)
    angle = rng.uniform(0, np.pi)
    cy, cx = rng.uniform(size * 0.25, size * 0.75, 2)
    t = np.linspace(-0.5, 0.5, int(length * 3))
    ys, xs = cy + t * length * np.sin(angle), cx + t * length * np.cos(angle)
    mask = np.zeros((size, size), dtype=bool)
    width = max(1, round(size / 40))
    for oy in range(-width, width + 1):
        for ox in range(-width, width + 1):
            mask[np.clip((ys + oy).astype(int), 0, size - 1), np.clip((xs + ox).astype(int), 0, size - 1)] = True
    out = img.copy()
    out[mask] = 1.0 - img.mean(axis=(0, 1))
    return out, mask


class Synthetic(VisionDataset):
    """One subset per texture; train = normal images, test = normals then defects (with masks)."""

    Params = SyntheticParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        for t_index, kind in enumerate(p.textures):
            rng = np.random.default_rng([p.seed, t_index])

            def normal(kind: str = kind, rng: np.random.Generator = rng) -> np.ndarray:
                return paint(pattern(kind, p.image_size, rng), PALETTES[kind], rng)

            train = [to_uint8(normal(), rng) for _ in range(p.n_train)]
            samples, masks, ids = [], [], []
            for i in range(p.n_test_normal):
                samples.append(to_uint8(normal(), rng))
                masks.append(np.zeros((p.image_size, p.image_size), dtype=np.uint8))
                ids.append(f"good/{i:03d}")
            for i in range(p.n_test_anomalous):
                defect = p.defects[int(rng.integers(len(p.defects)))]
                base = normal()
                if defect == "perlin":
                    img, mask = perlin_defect(base, kind, rng)
                elif defect == "cutpaste":
                    img, mask = cutpaste_defect(base, rng)
                else:
                    img, mask = scratch_defect(base, rng)
                samples.append(to_uint8(img, rng))
                masks.append(mask.astype(np.uint8))
                ids.append(f"{defect}/{i:03d}")
            labels = np.r_[np.zeros(p.n_test_normal), np.ones(p.n_test_anomalous)].astype(np.int8)
            test = Split(samples=samples, labels=labels, targets=masks, ids=ids, meta={"defect": [i.split("/")[0] for i in ids]})
            yield Subset(name=kind, train=Split(samples=train, ids=[f"train/{i:03d}" for i in range(p.n_train)]), test=test)

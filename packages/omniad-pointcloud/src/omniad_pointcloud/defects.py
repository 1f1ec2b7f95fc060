"""Synthetic surface defects with per-point labels: bulge, dent, crack, hole, missing part.

Used twice: the benchmark generator puts them on normal shapes (with exact labels), and the
corrective-offset detector trains on displacements of the same family (bulge / dent), where
``displacement`` is the ground truth the network learns to undo.

Labels follow the benchmarks' convention: a displaced point is anomalous; where points are
*removed* (hole, missing part, crack), nothing remains to label, so the points left within
a rim band of the removed region are labelled anomalous, as Real3D-AD and Anomaly-ShapeNet
mark the border of a missing region.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omniad.errors import ConfigError, DataError

DEFECT_KINDS = ("bulge", "dent", "crack", "hole", "missing")


@dataclass(frozen=True)
class Defected:
    points: np.ndarray
    normals: np.ndarray
    labels: np.ndarray
    displacement: np.ndarray
    kind: str


def _scale(points: np.ndarray) -> float:
    return float(np.linalg.norm(points - points.mean(0), axis=1).max())


def displace(
    points: np.ndarray, normals: np.ndarray, rng: np.random.Generator, *, size: float = 0.25,
    depth: float = 0.08, sign: float = 1.0, centre: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A smooth bump along the normals around a random point: ``(displacement (N,3), labels (N,))``.

    The profile is a raised cosine of radius ``size`` (relative to the bounding radius), so
    the surface stays continuous; points moved by more than 10% of the peak are anomalous.
    """
    scale = _scale(points)
    c = int(rng.integers(len(points))) if centre is None else centre
    d = np.linalg.norm(points - points[c], axis=1) / (size * scale)
    profile = np.where(d < 1, 0.5 * (1 + np.cos(np.pi * np.minimum(d, 1))), 0.0)
    disp = (sign * depth * scale * profile)[:, None] * normals
    return disp.astype(np.float32), (profile > 0.1).astype(np.int8)


def _remove(points: np.ndarray, normals: np.ndarray, drop: np.ndarray, rim: float, kind: str) -> Defected:
    from scipy.spatial import cKDTree

    keep = ~drop
    if keep.sum() < 8 or drop.sum() == 0:
        raise DataError(f"defect {kind!r}: removes {int(drop.sum())} of {len(points)} points; change size")
    dist, _ = cKDTree(points[drop]).query(points[keep], k=1)
    labels = (dist < rim).astype(np.int8)
    return Defected(points[keep], normals[keep], labels, np.zeros_like(points[keep]), kind)


def apply_defect(
    points: np.ndarray, normals: np.ndarray, kind: str, rng: np.random.Generator, *,
    size: float = 0.25, depth: float = 0.08,
) -> Defected:
    """One defect of ``kind`` on a normal cloud; ``size`` and ``depth`` relative to its bounding radius."""
    points = np.asarray(points, dtype=np.float32)
    normals = np.asarray(normals, dtype=np.float32)
    if kind not in DEFECT_KINDS:
        raise ConfigError(f"unknown defect kind {kind!r}; choose from {DEFECT_KINDS}")
    scale = _scale(points)
    spacing = scale * np.sqrt(4.0 / len(points))  # about the mean point spacing on a unit-ish surface
    if kind in ("bulge", "dent"):
        disp, labels = displace(points, normals, rng, size=size, depth=depth, sign=1.0 if kind == "bulge" else -1.0)
        return Defected(points + disp, normals, labels, disp, kind)
    c = points[int(rng.integers(len(points)))]
    if kind == "hole":
        drop = np.linalg.norm(points - c, axis=1) < size * scale
    elif kind == "missing":  # a whole part cut off by a plane through a point near the surface
        direction = (c - points.mean(0)) / max(np.linalg.norm(c - points.mean(0)), 1e-9)
        drop = (points - points.mean(0)) @ direction > (1.0 - 1.5 * size) * float((c - points.mean(0)) @ direction)
    else:  # crack: a narrow groove along a random great line through the centre point
        axis = rng.normal(size=3)
        axis /= np.linalg.norm(axis)
        across = np.abs((points - c) @ axis)
        drop = (across < max(depth * scale * 0.25, 1.5 * spacing)) & (np.linalg.norm(points - c, axis=1) < 2 * size * scale)
    return _remove(points, normals, drop, rim=3.0 * spacing, kind=kind)

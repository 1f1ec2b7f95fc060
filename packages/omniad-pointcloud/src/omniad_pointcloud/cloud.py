"""The point cloud sample: points, optional colours and normals, optional scan grid.

A dataset yields :class:`PointCloud` samples; detectors also accept a plain ``(N, 3)``
array (or ``(N, 3 + C)``, the first three columns being xyz) and turn it into one with
:func:`as_cloud`, which is where every bad input fails: empty clouds, NaN coordinates, too
few points, a wrong shape. The localization target of a sample is one 0/1 label per point,
in the order of ``points``.

``grid`` keeps the scan structure of organised clouds (MVTec 3D-AD's ``H x W x 3`` xyz
images): ``grid[r, c]`` is the index into ``points`` of the point at pixel ``(r, c)``, or -1
where the scanner saw nothing. Grid-aware metrics (AU-PRO with 8-connected pixel regions,
as MVTec 3D-AD's evaluation) and pictures use it; free clouds have ``grid=None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from omniad.errors import DataError

#: fewer points than this cannot have a neighbourhood, normals or descriptors
MIN_POINTS = 8


@dataclass(frozen=True, eq=False)
class PointCloud:
    """One sample. ``points`` is float32 ``(N, 3)``; the other arrays align with it."""

    points: np.ndarray
    colors: np.ndarray | None = None
    normals: np.ndarray | None = None
    grid: np.ndarray | None = None
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        where = f"point cloud {self.name!r}" if self.name else "point cloud"
        points = _check_points(self.points, where)
        object.__setattr__(self, "points", points)
        n = len(points)
        for attr in ("colors", "normals"):
            value = getattr(self, attr)
            if value is None:
                continue
            arr = np.asarray(value)
            if arr.shape != (n, 3):
                raise DataError(f"{where}: {attr} have shape {arr.shape} but the cloud has {n} points; give ({n}, 3)")
            if attr == "normals":
                arr = arr.astype(np.float32, copy=False)
                if not np.all(np.isfinite(arr)):
                    raise DataError(f"{where}: normals contain NaN/inf; recompute them or pass normals=None")
            object.__setattr__(self, attr, arr)
        if self.grid is not None:
            grid = np.asarray(self.grid)
            if grid.ndim != 2 or not np.issubdtype(grid.dtype, np.integer):
                raise DataError(f"{where}: grid must be a 2-D integer index map, got {grid.dtype} {grid.shape}")
            valid = grid[grid >= 0]
            if valid.size != n or (valid.size and (valid.max() >= n or np.unique(valid).size != n)):
                raise DataError(
                    f"{where}: grid must name every point exactly once ({n} points, "
                    f"{valid.size} grid cells >= 0); build it with PointCloud.from_grid"
                )
            object.__setattr__(self, "grid", grid.astype(np.int64, copy=False))

    def __len__(self) -> int:
        return len(self.points)

    @classmethod
    def from_grid(
        cls, xyz: np.ndarray, colors: np.ndarray | None = None, name: str = "", meta: dict[str, Any] | None = None
    ) -> PointCloud:
        """An organised ``H x W x 3`` scan (zeros where nothing was seen) as a cloud with its grid."""
        where = f"xyz grid {name!r}" if name else "xyz grid"
        arr = np.asarray(xyz)
        if arr.ndim != 3 or arr.shape[2] != 3:
            raise DataError(f"{where}: expected an H x W x 3 array of coordinates, got shape {arr.shape}")
        if numeric_problem(arr.dtype):
            raise DataError(f"{where}: coordinates must be numeric, got dtype {arr.dtype}")
        arr = arr.astype(np.float32, copy=False)
        valid = np.all(np.isfinite(arr), axis=2) & np.any(arr != 0, axis=2)
        grid = np.full(valid.shape, -1, dtype=np.int64)
        grid[valid] = np.arange(int(valid.sum()))
        rgb = None
        if colors is not None:
            c = np.asarray(colors)
            if c.shape[:2] != valid.shape:
                raise DataError(f"{where}: colour image {c.shape[:2]} does not match the xyz grid {valid.shape}")
            rgb = c.reshape(*valid.shape, -1)[..., :3][valid]
        return cls(points=arr[valid], colors=rgb, grid=grid, name=name, meta=dict(meta or {}))

    def grid_values(self, per_point: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """Per-point values laid back on the scan grid (``fill`` where no point was seen)."""
        if self.grid is None:
            raise DataError(f"point cloud {self.name!r} has no scan grid")
        out = np.full(self.grid.shape, fill, dtype=np.asarray(per_point).dtype)
        valid = self.grid >= 0
        out[valid] = np.asarray(per_point)[self.grid[valid]]
        return out


_KINDS = {"b": "booleans", "c": "complex numbers", "m": "time spans", "M": "dates", "U": "text", "S": "bytes",
          "O": "Python objects"}


def numeric_problem(dtype: np.dtype) -> str | None:
    """Why an array of ``dtype`` cannot hold coordinates or labels (None: plain float / integer numbers).

    ``np.issubdtype(dtype, np.number)`` is not enough: complex numbers (silently cut to their
    real part by a cast) and time spans count as numbers there.
    """
    if dtype.kind in "fiu":
        return None
    if dtype.names:
        return (f"is a structured array with fields {list(dtype.names)}; stack the coordinates into one array, "
                "e.g. np.stack([a['x'], a['y'], a['z']], axis=1)")
    return f"has dtype {dtype} ({_KINDS.get(dtype.kind, 'not numbers')})"


def _check_points(value: Any, where: str) -> np.ndarray:
    arr = np.asarray(value)
    if numeric_problem(arr.dtype):
        raise DataError(f"{where}: coordinates must be numeric, got dtype {arr.dtype}; pass an (N, 3) float array")
    if arr.ndim != 2 or arr.shape[1] < 3:
        raise DataError(f"{where}: expected points of shape (N, 3), got {arr.shape}")
    # C order always: the same cloud must give the same scores whatever its memory layout (a Fortran-ordered
    # DataFrame export, a column slice of an (N, 6) array), and numpy's sums and torch's kernels follow the layout
    arr = np.ascontiguousarray(arr[:, :3], dtype=np.float32)
    if len(arr) == 0:
        raise DataError(f"{where}: the cloud is empty; check the file or the filter that produced it")
    bad = ~np.all(np.isfinite(arr), axis=1)
    if bad.any():
        raise DataError(
            f"{where}: {int(bad.sum())} of {len(arr)} points have NaN/inf coordinates (first at row "
            f"{int(np.flatnonzero(bad)[0])}); drop them (points[np.isfinite(points).all(1)]) before scoring"
        )
    if len(arr) < MIN_POINTS:
        raise DataError(f"{where}: only {len(arr)} points; at least {MIN_POINTS} are needed for neighbourhoods")
    return arr


def as_cloud(sample: Any, where: str = "point cloud") -> PointCloud:
    """A :class:`PointCloud` from a sample: itself, or an ``(N, 3+)`` array's first three columns."""
    if isinstance(sample, PointCloud):
        return sample
    if sample is None or isinstance(sample, (str, bytes, dict)):
        raise DataError(
            f"{where}: expected a PointCloud or an (N, 3) array of coordinates, got {type(sample).__name__}; "
            "read files with omniad_pointcloud.io.read_cloud"
        )
    arr = np.asarray(sample) if not isinstance(sample, np.ndarray) else sample
    return PointCloud(points=_check_points(arr, where), name="")

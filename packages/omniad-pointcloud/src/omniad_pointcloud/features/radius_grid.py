"""Sorted hybrid rows of a cloud querying itself by a compiled grid scan (numba, optional).

Why a compiled step: the NumPy path (``radius_search.sorted_rows``) lists the pairs, groups them
by point and sorts rows in blocks; each step is vectorised but walks whole-cloud arrays, and on
20,000 points it stayed at 1.27x Open3D's sorted search on one thread and 2x on two (the pair
listing runs on one thread). Here one pass per point does search, sort and padding together:
the cloud is bucketed into cubic cells of the radius's size (a point's neighbours are in its
own and the 26 touching cells; smaller cells measured slower), each cell's candidate ranges
are found once for all its points, and each row's hits are sorted by ``(squared distance,
index)`` while still in the cache. Blocks of cells run on threads (the kernel releases the
GIL; each row is written by one thread, so the count changes nothing). The rows are the same as
every other path's: same distance formula, order and padding.

Only where numba is installed (``pip install omniad-pointcloud[fast]``). Its cost is paid once
per process: importing numba and loading the kernel from numba's on-disk cache (next to this
module, or under ``NUMBA_CACHE_DIR``) take 1-1.5 s; the very first run compiles it (about 6
seconds more).
"""

from __future__ import annotations

import importlib.util
import itertools
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from omniad_pointcloud.features.radius_search import SLACK

#: cells per axis beyond which the cell ids would not fit an int64 (the caller falls back)
MAX_CELLS_PER_AXIS = 1 << 20


_kernel = None
#: why numba could not be used, once it failed to import (then the NumPy path runs)
_broken: str | None = None


def available() -> bool:
    """Whether numba is installed (checked without importing it: the import costs ~0.6 s)."""
    return _broken is None and importlib.util.find_spec("numba") is not None


def _compiled():
    """The numba kernel, compiled (or loaded from numba's cache) on first use; None, with one
    warning, where numba is installed but does not import (e.g. built for another NumPy)."""
    global _kernel, _broken
    if _kernel is None and _broken is None:
        try:
            from omniad_pointcloud.features import _radius_grid_kernel
        except Exception as exc:  # any import failure means: use the NumPy path
            _broken = f"{type(exc).__name__}: {exc}"
            warnings.warn(
                f"omniad-pointcloud: numba is installed but does not import ({_broken}); radius_neighbours "
                "uses the slower NumPy path (same rows). Reinstall numba, or uninstall it to silence this.",
                RuntimeWarning,
                stacklevel=3,
            )
            return None
        _kernel = _radius_grid_kernel.rows
    return _kernel


#: cells per radius along an axis: 2 or 3 scan less empty volume around the ball but visit more
#: cells per row, which measured slower (20,000 points: 1 -> 63 ms, 2 -> 72 ms, 3 -> 118 ms)
REACH = 1


def cell_layout(points: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``(order, cell ids of the sorted points, cells per axis)``, or None when the grid is too fine.

    ``order`` sorts the points by cell (stably: by index inside a cell). The cells are a hair
    wider than the radius (the tree searches' ``SLACK``); the exact test is ``sq <= radius**2``.
    """
    size = float(radius) * (1.0 + SLACK) / REACH
    low = points.min(axis=0)
    cell = np.floor((points - low) / size).astype(np.int64)
    dims = cell.max(axis=0) + 1
    if int(dims.max()) >= MAX_CELLS_PER_AXIS:
        return None
    ids = (cell[:, 0] * dims[1] + cell[:, 1]) * dims[2] + cell[:, 2]
    order = np.argsort(ids, kind="stable")
    return order, ids[order], dims


#: a ball of radius r holds about this many cells of side r: the neighbour estimate per point
BALL_CELLS = 4.19


def sorted_rows_grid(
    points: np.ndarray, radius: float, max_nn: int, workers: int = 1, limit: float = np.inf
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``radius_search.sorted_rows`` by the grid scan: ``(squared distances, indices, valid)``.

    None when numba is missing, the cloud spans more cells than an int64 id holds, or its
    points have more than ``limit`` neighbours on average (estimated from the cells: every
    row's hits are sorted, so neighbourhoods many times ``max_nn`` are cheaper by a bounded
    nearest query); the caller then takes a NumPy path. The result does not depend on
    ``workers``: each row is written by one thread.
    """
    if not available() or len(points) == 0 or points.shape[1] != 3:
        return None
    layout = cell_layout(points, radius)
    if layout is None:
        return None
    order, ids, dims = layout
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    bounds = np.append(starts, len(ids)).astype(np.int64)
    occupancy = np.diff(bounds).astype(np.float64)
    if float(occupancy @ occupancy) / len(ids) * BALL_CELLS > limit:
        return None
    kernel = _compiled()
    if kernel is None:
        return None
    cells = ids[starts]
    k = min(int(max_nn), len(points))
    sorted_points = np.ascontiguousarray(points[order], dtype=np.float64)
    out_sq = np.empty((len(points), k))
    out_i = np.empty((len(points), k), dtype=np.int64)
    args = (
        sorted_points,
        order.astype(np.int64),
        cells,
        bounds,
        dims.astype(np.int64),
        float(radius) * float(radius),
        REACH,
        out_sq,
        out_i,
    )
    workers = max(1, int(workers))
    if workers == 1 or len(cells) < 2:
        kernel(*args, 0, len(cells))
    else:  # blocks of cells, about equal in points, on threads (the kernel releases the GIL)
        cuts = np.searchsorted(bounds, np.linspace(0, len(points), 4 * workers + 1)[1:-1])
        edges = [0, *sorted({int(c) for c in cuts} - {0, len(cells)}), len(cells)]
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda e: kernel(*args, *e), itertools.pairwise(edges)))
    return out_sq, out_i, np.isfinite(out_sq)

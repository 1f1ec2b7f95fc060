"""Dense motion by block matching: where each pixel's neighbourhood came from ``lag`` frames back.

``video.cell_knn``'s frame-difference cues say how much a cell changed, not how fast what is in
it moves: a slow crowd and a fast cyclist can change a cell alike. Matching a small window of
frame ``t`` against shifted windows of frame ``t - lag`` gives a displacement per pixel, whose
size is the speed (UCSD Ped2, ``video.cell_knn``: frame AUROC 0.873 without it, 0.953 with).
No optical-flow network or OpenCV is needed: ``(2 radius + 1)^2`` shifted absolute
differences, each box-filtered (scipy), keep the cheapest shift per pixel.

A pixel whose best shift is not clearly cheaper than no shift at all (``margin``, mean absolute
grey-level difference in ``[0, 1]``) reads as still: flat regions match every shift equally
well, and sensor noise should not read as motion. Ties go to the shorter shift.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from omniad.errors import DataError

#: per-pixel cost added per pixel of shift length, so that equally good shifts resolve to the shortest
_TIE = 1e-4


def block_flow(gray: np.ndarray, lag: int = 1, radius: int = 3, window: int = 3, margin: float = 0.01,
               step: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``(u, v)``, each ``(F, ceil(H / step), ceil(W / step))`` float32: the displacement (columns, rows) that
    brought pixel ``(step i, step j)`` of frame ``t`` from frame ``t - lag``, in pixels per frame; the
    first ``lag`` frames repeat the first computed field. ``gray`` is ``(F, H, W)`` float in ``[0, 1]``.

    ``step > 1`` matches only every ``step``-th pixel (and its ``window`` x ``window`` neighbours on that
    sparser grid) but still tries every 1-pixel shift: ``step**2`` times cheaper, and unlike matching
    downscaled frames it keeps 1-pixel precision, which slow walkers need (2 x 2-averaged frames
    measured 0.844 against 0.95 on UCSD Ped2)."""
    gray = np.asarray(gray, dtype=np.float32)
    if gray.ndim != 3:
        raise DataError(f"block_flow: expected (F, H, W) grey frames, got shape {gray.shape}; pass one video as a 3-d array")
    n, height, width = gray.shape
    cur = gray[lag:, ::step, ::step]
    if n <= lag:
        zeros = np.zeros((n, *gray[:, ::step, ::step].shape[1:]), np.float32)
        return zeros, zeros.copy()
    prev = np.pad(gray[:-lag], ((0, 0), (radius, radius), (radius, radius)), mode="edge")
    best = np.full(cur.shape, np.inf, np.float32)
    still = np.empty_like(best)
    diff, cost = np.empty_like(best), np.empty_like(best)
    better = np.empty(cur.shape, bool)
    u = np.zeros(cur.shape, np.int8)
    v = np.zeros(cur.shape, np.int8)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            # prev[y - dy, x - dx] at the sampled pixels: where the content at (y, x) was under shift (dx, dy)
            np.subtract(cur, prev[:, radius - dy : radius - dy + height : step, radius - dx : radius - dx + width : step],
                        out=diff)
            np.abs(diff, out=diff)
            ndimage.uniform_filter1d(diff, window, axis=1, output=cost, mode="nearest")
            ndimage.uniform_filter1d(cost, window, axis=2, output=diff, mode="nearest")
            if dy == 0 and dx == 0:
                still[:] = diff
            diff += _TIE * (abs(dy) + abs(dx))
            np.less(diff, best, out=better)
            np.minimum(best, diff, out=best)
            np.copyto(u, dx, where=better)
            np.copyto(v, dy, where=better)
    moving = (still - best) > margin
    u_f = np.where(moving, u, 0).astype(np.float32) / lag
    v_f = np.where(moving, v, 0).astype(np.float32) / lag
    return (np.concatenate([np.repeat(u_f[:1], lag, axis=0), u_f]),
            np.concatenate([np.repeat(v_f[:1], lag, axis=0), v_f]))

"""Hybrid neighbourhoods as one list of pairs (CSR), for normals and FPFH on the CPU.

Normals and FPFH only sum over a point's neighbours, so they need the neighbour *set* (Open3D's
hybrid rule: the ``max_nn`` nearest within ``radius``, the point itself included), not the
neighbours sorted by distance. scipy's dual-tree ``query_pairs`` lists every pair within the
radius once in about a fifth of the time a sorted ``k``-nearest query takes; both directions are
grouped by point with one radix sort, and only points with more than ``max_nn - 1``
neighbours are cut to their nearest. Where most points have several times ``max_nn``
neighbours within the radius, the bounded sorted query (``neighbours.hybrid_numpy``) is used. Single-threaded and order-fixed: the
result does not depend on thread timing.
"""

from __future__ import annotations

import numpy as np

from omniad_pointcloud.features.neighbours import hybrid_numpy

#: list every pair within the radius while points have at most this many times max_nn of them
LIST_LIMIT = 3


class Pairs:
    """Every neighbour of every point once, grouped by point, the point itself left out.

    The neighbours of point ``i`` are ``dst[indptr[i]:indptr[i + 1]]`` at squared distances
    ``sq_dist[...]`` (in no particular order); ``count[i]`` is the neighbourhood size with the
    point itself, as Open3D counts it.
    """

    def __init__(self, indptr: np.ndarray, dst: np.ndarray, sq_dist: np.ndarray) -> None:
        self.indptr, self.dst, self.sq_dist = indptr, dst, sq_dist
        self.count = np.diff(indptr) + 1
        self.src = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))


def hybrid_pairs(points: np.ndarray, radius: float, max_nn: int) -> Pairs:
    """The hybrid neighbourhoods of a float64 ``(N, 3)`` cloud (checked by the caller)."""
    from scipy.spatial import cKDTree

    n = len(points)
    tree = cKDTree(points)
    # every pair within the radius is listed, however many: where a point has far more than
    # max_nn of them (a large radius), the bounded k-nearest query is cheaper and keeps memory
    # at N x max_nn. Estimated from every stride-th point: deterministic, about 1 ms.
    stride = max(1, n // 1024)
    per_point = cKDTree(points[::stride]).count_neighbors(tree, float(radius)) / len(points[::stride])
    if per_point > LIST_LIMIT * max_nn:
        return _from_sorted(*hybrid_numpy(points, radius, max_nn))
    ij = tree.query_pairs(float(radius), output_type="ndarray")  # distance <= radius
    i, j = ij[:, 0], ij[:, 1]
    pt = np.ascontiguousarray(points.T)  # one coordinate at a time: contiguous 1-D gathers
    sq = np.zeros(len(ij))
    for c in range(3):
        d = pt[c][i] - pt[c][j]
        sq += d * d
    rows = np.concatenate([i, j])
    key = rows.astype(np.uint16) if n <= 1 << 16 else rows  # uint16 sorts by radix, in O(pairs)
    order = np.argsort(key, kind="stable")
    rows, dst, sq = rows[order], np.concatenate([j, i])[order], np.concatenate([sq, sq])[order]
    per_row = np.bincount(rows, minlength=n)
    keep_nn = max(int(max_nn) - 1, 0)  # the point itself is one of the max_nn
    if (per_row > keep_nn).any():
        keep = _nearest_in_long_rows(rows, sq, per_row, keep_nn)
        dst, sq = dst[keep], sq[keep]
        per_row = np.minimum(per_row, keep_nn)
    indptr = np.concatenate(([0], np.cumsum(per_row)))
    return Pairs(indptr, dst.astype(np.int64, copy=False), sq)


def _nearest_in_long_rows(rows: np.ndarray, sq: np.ndarray, per_row: np.ndarray, keep_nn: int) -> np.ndarray:
    """Mask keeping all pairs of short rows and the ``keep_nn`` nearest of each longer row."""
    keep = np.ones(len(rows), dtype=bool)
    long_rows = np.flatnonzero(per_row > keep_nn)
    starts = np.concatenate(([0], np.cumsum(per_row)))[long_rows]
    width = int(per_row[long_rows].max())
    slot = np.arange(width)
    pos = starts[:, None] + slot[None, :]
    inside = slot[None, :] < per_row[long_rows][:, None]
    dense = np.where(inside, sq[np.where(inside, pos, 0)], np.inf)
    # beyond the keep_nn nearest of each long row (ties at the cut: the earlier pair stays)
    far = np.argsort(dense, axis=1, kind="stable")[:, keep_nn:]
    drop = np.take_along_axis(pos, far, axis=1)[np.take_along_axis(inside, far, axis=1)]
    keep[drop] = False
    return keep


def _from_sorted(sq_dist: np.ndarray, idx: np.ndarray, valid: np.ndarray) -> Pairs:
    """``Pairs`` from the padded ``(N, max_nn)`` arrays of ``hybrid_numpy``, column 0 (the point) left out."""
    mask = valid[:, 1:]
    indptr = np.concatenate(([0], np.cumsum(mask.sum(1))))
    return Pairs(indptr, idx[:, 1:][mask], sq_dist[:, 1:][mask])  # boolean indexing keeps row order

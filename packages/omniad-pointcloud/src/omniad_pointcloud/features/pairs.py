"""Hybrid neighbourhoods as one list of pairs (CSR), for normals and FPFH on the CPU.

Normals and FPFH only sum over a point's neighbours, so they need the neighbour *set* (Open3D's
hybrid rule: the ``max_nn`` nearest within ``radius``, the point itself included), not the
neighbours sorted by distance. scipy's dual-tree ``query_pairs`` lists every pair within the
radius once, in about a fifth of the time a sorted ``k``-nearest query takes, and the pair
stays one entry for both of its ends (FPFH's pair features are the same from either end, so
they are computed once); only points with more than ``max_nn - 1`` neighbours are cut to their
nearest. Where most points have several times ``max_nn``
neighbours within the radius, the bounded sorted query (``radius_search.knn_rows``) is used. Single-threaded and order-fixed: the
result does not depend on thread timing.
"""

from __future__ import annotations

import numpy as np

from omniad_pointcloud.features import radius_search


class Pairs:
    """Each neighbour pair once, ``i[m] - j[m]`` at squared distance ``sq_dist[m]``, with the
    direction(s) in which it counts.

    ``keep_ij[m]``: ``j`` is in ``i``'s neighbourhood; ``keep_ji[m]``: ``i`` is in ``j``'s (both,
    unless a ``max_nn`` cut dropped one). Descriptors that treat both ends alike (FPFH's pair
    features) are computed once per pair. ``count[p]``: the neighbourhood size of point ``p``
    with the point itself, as Open3D counts it.
    """

    def __init__(
        self,
        n: int,
        i: np.ndarray,
        j: np.ndarray,
        sq_dist: np.ndarray,
        keep_ij: np.ndarray,
        keep_ji: np.ndarray,
    ) -> None:
        self.n, self.i, self.j, self.sq_dist, self.keep_ij, self.keep_ji = n, i, j, sq_dist, keep_ij, keep_ji
        self.count = (
            1 + np.bincount(i, weights=keep_ij, minlength=n) + np.bincount(j, weights=keep_ji, minlength=n)
        )
        self.count = self.count.astype(np.int64)

    def directed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(src, dst, squared distance)`` of every kept direction (``dst`` is in ``src``'s neighbourhood)."""
        return (
            np.concatenate([self.i[self.keep_ij], self.j[self.keep_ji]]),
            np.concatenate([self.j[self.keep_ij], self.i[self.keep_ji]]),
            np.concatenate([self.sq_dist[self.keep_ij], self.sq_dist[self.keep_ji]]),
        )


def hybrid_pairs(points: np.ndarray, radius: float, max_nn: int) -> Pairs:
    """The hybrid neighbourhoods of a float64 ``(N, 3)`` cloud (checked by the caller)."""
    n = len(points)
    tree = radius_search.tree_of(points)
    # every pair within the radius is listed, however many: where a point has far more than
    # max_nn of them (a large radius), the bounded k-nearest query is cheaper and keeps memory
    # at N x max_nn
    if radius_search.neighbours_per_point(points, radius, tree) > radius_search.LIST_LIMIT * max_nn:
        return _from_sorted(*radius_search.knn_rows(points, radius, max_nn, tree))
    ij, sq = radius_search.pair_list(points, radius, tree)
    i, j = ij[:, 0].copy(), ij[:, 1].copy()
    keep_ij, keep_ji = np.ones(len(i), dtype=bool), np.ones(len(i), dtype=bool)
    per_row = np.bincount(i, minlength=n) + np.bincount(j, minlength=n)
    keep_nn = max(int(max_nn) - 1, 0)  # the point itself is one of the max_nn
    if (per_row > keep_nn).any():
        _cut_long_rows(i, j, sq, per_row > keep_nn, keep_nn, keep_ij, keep_ji)
    return Pairs(n, i, j, sq, keep_ij, keep_ji)


def _cut_long_rows(
    i: np.ndarray,
    j: np.ndarray,
    sq: np.ndarray,
    long: np.ndarray,
    keep_nn: int,
    keep_ij: np.ndarray,
    keep_ji: np.ndarray,
) -> None:
    """In each point with more than ``keep_nn`` neighbours, drop the direction to all but the nearest."""
    from_i, from_j = np.flatnonzero(long[i]), np.flatnonzero(long[j])
    rows = np.concatenate([i[from_i], j[from_j]])
    pair = np.concatenate([from_i, from_j])
    toward_j = np.concatenate([np.ones(len(from_i), bool), np.zeros(len(from_j), bool)])
    order = np.lexsort((pair, rows))  # by point, then by pair: a fixed order for ties
    rows, pair, toward_j = rows[order], pair[order], toward_j[order]
    counts = np.bincount(rows)[np.unique(rows)]
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    slot = np.arange(int(counts.max()))
    pos = starts[:, None] + slot[None, :]
    inside = slot[None, :] < counts[:, None]
    dense = np.where(inside, sq[pair[np.where(inside, pos, 0)]], np.inf)
    far = np.argsort(dense, axis=1, kind="stable")[:, keep_nn:]  # ties at the cut: the earlier pair stays
    drop = np.take_along_axis(pos, far, axis=1)[np.take_along_axis(inside, far, axis=1)]
    keep_ij[pair[drop[toward_j[drop]]]] = False
    keep_ji[pair[drop[~toward_j[drop]]]] = False


def _from_sorted(sq_dist: np.ndarray, idx: np.ndarray, valid: np.ndarray) -> Pairs:
    """``Pairs`` from the padded ``(N, max_nn)`` arrays of ``hybrid_numpy``: one pair per direction."""
    mask = valid[:, 1:]  # column 0 is the point itself
    src = np.repeat(np.arange(len(idx)), mask.sum(1))  # boolean indexing below keeps row order
    dst, sq = idx[:, 1:][mask], sq_dist[:, 1:][mask]
    return Pairs(len(idx), src, dst, sq, np.ones(len(src), bool), np.zeros(len(src), bool))

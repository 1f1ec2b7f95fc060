"""Radius search on a CPU, in NumPy over scipy's k-d tree: the pair list and the sorted hybrid rows.

The pair list (scipy's dual-tree ``query_pairs``: every pair within the radius once) is the
cheap search: about a sixth of the work of a ``max_nn``-nearest query per point, which keeps a
heap for every point. Normals and FPFH only need neighbour sets and use it as it is
(``pairs``); ``radius_neighbours`` needs each row sorted by distance, and builds the rows from
the same list: group the pairs by point (a radix sort), lay each row out densely, sort the rows
in blocks that stay in the CPU cache (NumPy's row sort of packed int64 keys, ``RowSorter``),
keep ``max_nn``. That
replaced a ``cKDTree.query(k=max_nn)`` per point, 2.6-3.9x slower than Open3D's search.

One distance formula everywhere: ``(dx*dx + dy*dy) + dz*dz`` in float64, compared with
``radius * radius``, so a point exactly on the radius is in or out the same way in every path
and in the tests' brute force. Row order: the point itself first (when the cloud queries
itself), then by that squared distance, equal distances by index; fixed whatever the thread
count.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

#: the tree searches a hair beyond the radius; the exact test is then ``sq <= radius**2``
SLACK = 1e-9
#: list every pair within the radius while points have at most this many times max_nn of them;
#: beyond that the bounded k-nearest query is cheaper and keeps memory at N x max_nn
LIST_LIMIT = 3


def tree_of(points: np.ndarray) -> cKDTree:
    from scipy.spatial import cKDTree

    return cKDTree(points)


def squared_distances(a: np.ndarray, b: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """``|a[ia] - b[ib]|^2`` as ``(dx*dx + dy*dy) + dz*dz``, one coordinate at a time (1-D gathers).

    Two buffers serve every coordinate: each fresh array of this size costs page faults.
    """
    at, bt = np.ascontiguousarray(a.T), np.ascontiguousarray(b.T)
    sq = np.zeros(ia.shape)
    d, e = np.empty(ia.shape), np.empty(ia.shape)
    for c in range(a.shape[1]):
        np.take(at[c], ia, out=d)
        np.take(bt[c], ib, out=e)
        d -= e
        d *= d
        sq += d
    return sq


def neighbours_per_point(points: np.ndarray, radius: float, tree: cKDTree) -> float:
    """Mean neighbours within ``radius``, from every stride-th point: deterministic, about 1 ms."""
    from scipy.spatial import cKDTree

    sample = points[:: max(1, len(points) // 256)]
    return float(cKDTree(sample).count_neighbors(tree, float(radius))) / len(sample)


def pair_list(points: np.ndarray, radius: float, tree: cKDTree) -> tuple[np.ndarray, np.ndarray]:
    """``(ij, squared distance)``: every pair ``ij[m] = (i, j)``, ``i < j``, within ``radius`` once."""
    ij = tree.query_pairs(float(radius) * (1.0 + SLACK), output_type="ndarray")
    sq = squared_distances(points, points, ij[:, 0], ij[:, 1])
    inside = sq <= float(radius) * float(radius)
    if not inside.all():
        ij, sq = ij[inside], sq[inside]
    return ij, sq


def group_by(keys: np.ndarray, n: int) -> np.ndarray:
    """The stable permutation sorting ``keys`` (ints in ``[0, n)``): 16-bit radix sorts.

    NumPy radix-sorts 16-bit keys (about 6x faster than its timsort of int64 here); wider keys
    take one more pass per 16 bits (least significant first, each stable).
    """
    perm = np.argsort(keys.astype(np.uint16), kind="stable")  # integer casts keep the low bits
    shift = 16
    while n > (1 << shift):
        digit = ((keys[perm] >> shift) & 0xFFFF).astype(np.uint16)
        perm = perm[np.argsort(digit, kind="stable")]
        shift += 16
    return perm


def sorted_rows(
    points: np.ndarray, radius: float, max_nn: int, tree: cKDTree, workers: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cloud's hybrid rows ``(squared distances, indices, valid)``, ``(N, k)``, from its pair list.

    Column 0 is the point itself; entries past a row's neighbours are masked (index: the point
    itself, distance inf). The pairs are grouped by point (radix sort), then blocks of rows are
    sorted and written out on their own (``RowSorter``), on ``workers`` threads; the result is
    the same whatever the count.
    """
    n = len(points)
    k = min(int(max_nn), n)
    ij, sq = pair_list(points, radius, tree)
    ends = ij.ravel()  # entry e: point ends[e], its partner ends[e ^ 1], their pair e >> 1
    perm = group_by(ends, n)  # the entries of each point together, in point order
    count = np.bincount(ends, minlength=n)  # neighbours, the point itself not counted
    perm ^= 1  # in place: each fresh whole-cloud array costs page faults
    partner = ends.take(perm)
    perm >>= 1
    key = sq.take(perm)
    del perm
    out_sq = np.full((n, k), np.inf)
    out_sq[:, 0] = 0.0
    out_i = np.empty((n, k), dtype=np.int64)
    out_i[:] = np.arange(n)[:, None]
    if k > 1 and len(key):
        sorter = RowSorter(key, partner, count, float(radius) * float(radius), out_sq, out_i)
        rows = max(1, SORT_BLOCK // int(count.max()))
        bounds = [*range(0, n, rows), n]
        if workers > 1 and len(bounds) > 2:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(sorter.block, bounds[:-1], bounds[1:]))
        else:
            for a, z in itertools.pairwise(bounds):
                sorter.block(a, z)
    return out_sq, out_i, np.isfinite(out_sq)


#: entries of one block of rows laid out densely (2 MiB of int64, in the CPU cache)
SORT_BLOCK = 1 << 18
#: bits of a sort key (distance, then place in the row); below 63 so the padding sorts last
KEY_BITS = 62


class RowSorter:
    """Sorts blocks of rows of the grouped pair list by distance into the padded outputs.

    Each entry of a row becomes one int64: its squared distance scaled to an integer of
    ``KEY_BITS - b`` bits (monotone: a nearer neighbour never gets a larger one), then its ``b``-bit
    place in the row. A block's rows are laid out densely and sorted by NumPy's row sort (a
    sort of plain integers, several times faster than scipy's per-row sort of (key, value)
    pairs, ``csr_array.sort_indices``, which this replaced). Only entries whose scaled distances
    are equal can come out of order (equal distances: rare on scanned clouds, every row on a
    grid; or distances nearer than the scaling resolves): those rows are sorted again by
    (distance, index). Block by block, every temporary is small and reused by the allocator:
    whole-cloud temporaries (10 MiB each at 20,000 points) cost a page fault per page on every
    call, which measured as much as the sort. Blocks write disjoint rows, so any number of
    threads gives the same result.
    """

    def __init__(
        self,
        key: np.ndarray,
        partner: np.ndarray,
        count: np.ndarray,
        top: float,
        out_sq: np.ndarray,
        out_i: np.ndarray,
    ) -> None:
        self.key, self.partner, self.count = key, partner, count
        self.indptr = np.zeros(len(count) + 1, dtype=np.int64)
        np.cumsum(count, out=self.indptr[1:])
        self.bits = max(1, (int(count.max()) - 1).bit_length())
        self.levels = float((1 << max(1, KEY_BITS - self.bits)) - 1)
        self.scale = self.levels / top
        self.out_sq, self.out_i = out_sq, out_i

    def block(self, a: int, z: int) -> None:
        """Rows ``a:z``: sort, put ties right, write columns ``1:`` of the outputs."""
        lo, hi = int(self.indptr[a]), int(self.indptr[z])
        if hi == lo:
            return
        c = self.count[a:z]
        first = self.indptr[a:z] - lo
        starts = np.repeat(first, c)
        local = np.arange(hi - lo) - starts  # place in the row
        key = self.key[lo:hi]
        packed = np.minimum(key * self.scale, self.levels).astype(np.int64)
        packed <<= self.bits
        packed |= local
        w = int(c.max())
        at = local + np.repeat(np.arange(z - a) * w, c)
        dense = np.full((z - a, w), np.iinfo(np.int64).max)
        dense.ravel()[at] = packed
        dense.sort(axis=1)
        src = dense.ravel()[at]
        src &= (1 << self.bits) - 1
        src += starts
        key, partner = key[src], self.partner[lo:hi][src]
        self._fix_ties(first, key, partner)
        k = self.out_sq.shape[1]
        pos = at  # reused: row * k + 1 + place
        pos -= np.repeat(np.arange(z - a) * (w - k), c)
        pos += 1 + a * k
        if w > k - 1:  # rows cut at max_nn: keep their nearest
            keep = local < k - 1
            pos, key, partner = pos[keep], key[keep], partner[keep]
        self.out_sq.ravel()[pos] = key
        self.out_i.ravel()[pos] = partner

    @staticmethod
    def _fix_ties(first: np.ndarray, key: np.ndarray, value: np.ndarray) -> None:
        """Sort again, by (key, value), the rows (starting at ``first``) not in that order, in place."""
        d = np.diff(key)
        wrong = np.flatnonzero((d < 0) | ((d == 0) & (value[1:] < value[:-1])))
        if not len(wrong):
            return
        ends = np.append(first[1:], len(key))
        row = np.searchsorted(first, wrong, side="right") - 1
        bad = np.unique(row[wrong + 1 < ends[row]])  # pairs inside one row only
        if len(bad):
            lens = ends[bad] - first[bad]
            at = np.repeat(first[bad] - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
            seg = np.repeat(np.arange(len(bad)), lens)
            o = at[np.lexsort((value[at], key[at], seg))]
            key[at], value[at] = key[o], value[o]


def row_order(
    dense: np.ndarray,
    k: int,
    index_of: Callable[[np.ndarray, np.ndarray], np.ndarray],
    first_is_self: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Column order of each row's ``k`` smallest ``dense`` values, equal values by point index,
    and those values.

    ``index_of(rows, columns)`` gives the point index at ``columns`` (one row of columns per
    row) of ``rows`` (1-D). A vectorised sort
    (NumPy's SIMD argsort, not stable), then the rows with an equal pair among their finite
    values, or an equal value on each side of the ``k`` cut, are sorted again by (value,
    index): rare on scanned clouds, every row on a grid.
    """
    width = dense.shape[1]
    order = np.argsort(dense, axis=1)
    keep = min(k, width)
    look = min(k + 1, width)  # one past the cut, to see a tie across it
    order = order[:, :look]
    v = np.take_along_axis(dense, order, 1)
    start = 1 if first_is_self else 0
    same = (v[:, start + 1 :] == v[:, start:-1]) & np.isfinite(v[:, start + 1 :])
    redo = np.flatnonzero(same.any(1))
    if len(redo):
        cols = np.broadcast_to(np.arange(width)[None, :], (len(redo), width))
        order[redo] = np.lexsort((index_of(redo, cols), dense[redo]), axis=-1)[:, :look]
        v[redo] = np.take_along_axis(dense[redo], order[redo], 1)
    return order[:, :keep], v[:, :keep]


def knn_rows(
    points: np.ndarray,
    radius: float,
    max_nn: int,
    tree: cKDTree,
    queries: np.ndarray | None = None,
    workers: int = 1,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``sorted_rows`` by a bounded ``max_nn + 1``-nearest query per point (queries of their own,
    or neighbourhoods many times ``max_nn``, where the pair list would be long).

    The extra neighbour shows a tie at the ``max_nn`` cut (and scipy's own rounding of the
    distances near it); those rows, rare, are answered exactly from all points within the radius.
    """
    n = len(points)
    k = min(int(max_nn), n)
    look = min(k + 1, n)
    self_query = queries is None
    # the cloud queries itself in the tree's leaf order (near queries after each other: 10-20%
    # faster on a random-order cloud); the rows are put back in the points' order below
    leaf = tree.indices if self_query else None
    q = points[leaf] if self_query else queries
    _, i = tree.query(q, k=look, distance_upper_bound=float(radius) * (1.0 + SLACK), workers=workers)
    i = i.reshape(len(q), look).astype(np.int64, copy=False)
    if leaf is not None:
        i[leaf] = i.copy()
        q = points
    found = i < n
    i = np.where(found, i, 0)
    rows = np.arange(len(q))
    sq = squared_distances(q, points, np.broadcast_to(rows[:, None], i.shape), i)
    sq[~found | (sq > float(radius) * float(radius))] = np.inf
    if self_query:
        sq[(i == rows[:, None]) & np.isfinite(sq)] = -1.0  # the point itself first
    order, out_sq = row_order(sq, k, lambda sub, cols: np.take_along_axis(i[sub], cols, 1), self_query)
    out_i = np.take_along_axis(i, order, 1)
    redo = np.zeros(len(q), dtype=bool)
    if look > k:  # the neighbour past the cut is as near as the last kept one (by scipy's rounding)
        past = np.sort(sq, axis=1)[:, k]
        redo |= np.isfinite(past) & (past <= out_sq[:, k - 1] * (1.0 + 1e-12))
    if self_query:
        redo |= out_sq[:, 0] != -1.0  # more duplicates of a point than max_nn + 1
        out_sq[:, 0] = np.where(out_sq[:, 0] == -1.0, 0.0, out_sq[:, 0])
    if redo.any():
        r = np.flatnonzero(redo)
        out_sq[r], out_i[r] = exact_rows(points, radius, k, tree, q[r], r if self_query else None, workers)
    lonely = np.flatnonzero(~np.isfinite(out_sq[:, 0]))
    if len(lonely):  # nothing within the radius: the slots point at the query's nearest
        out_i[lonely, 0] = tree.query(q[lonely], k=1, workers=workers)[1]
    out_i = np.where(np.isfinite(out_sq), out_i, out_i[:, :1])
    return out_sq, out_i, np.isfinite(out_sq)


def exact_rows(
    points: np.ndarray,
    radius: float,
    k: int,
    tree: cKDTree,
    q: np.ndarray,
    selves: np.ndarray | None,
    workers: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows for a few queries from every point within the radius (Python lists: few rows only).

    ``selves``: each query's own index in ``points`` (put first), or None for outside queries.
    """
    lists = tree.query_ball_point(q, float(radius) * (1.0 + SLACK), workers=workers)
    lens = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    flat = np.fromiter((j for x in lists for j in x), dtype=np.int64, count=int(lens.sum()))
    row = np.repeat(np.arange(len(q)), lens)
    sq = squared_distances(q, points, row, flat)
    inside = sq <= float(radius) * float(radius)
    row, flat, sq = row[inside], flat[inside], sq[inside]
    other = flat != selves[row] if selves is not None else np.zeros(len(row), dtype=bool)
    o = np.lexsort((flat, sq, other, row))
    row, flat, sq = row[o], flat[o], sq[o]
    count = np.bincount(row, minlength=len(q))
    rank = np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count)
    kept = rank < k
    out_sq = np.full((len(q), k), np.inf)
    out_i = np.zeros((len(q), k), dtype=np.int64)
    out_sq[row[kept], rank[kept]] = sq[kept]
    out_i[row[kept], rank[kept]] = flat[kept]
    return out_sq, out_i

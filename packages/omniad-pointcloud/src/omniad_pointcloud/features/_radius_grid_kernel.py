"""The numba kernel of ``radius_grid`` (imported only when numba is installed and the grid is used)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _cell_index(cells: np.ndarray, cid: int) -> int:
    """Position of ``cid`` among the occupied (sorted) cell ids, or -1."""
    j = np.searchsorted(cells, cid)
    if j < len(cells) and cells[j] == cid:
        return j
    return -1


@njit(cache=True, nogil=True, inline="always")
def _before(ka: float, ia: int, kb: float, ib: int) -> bool:
    return ka < kb or (ka == kb and ia < ib)


@njit(cache=True, nogil=True)
def _sort_pairs(key: np.ndarray, idx: np.ndarray, n: int) -> None:
    """Sort ``key[:n]`` and ``idx[:n]`` together by (key, index), in place.

    A quicksort (median of three) down to short runs, then one insertion pass: no allocation
    per row, which is what NumPy's argsort cost here (twice the search itself).
    """
    stack = np.empty(128, dtype=np.int64)
    top = 0
    stack[0], stack[1] = 0, n - 1
    top = 2
    while top > 0:
        top -= 2
        lo, hi = stack[top], stack[top + 1]
        while hi - lo > 16:
            mid = (lo + hi) >> 1
            if _before(key[mid], idx[mid], key[lo], idx[lo]):
                key[mid], key[lo] = key[lo], key[mid]
                idx[mid], idx[lo] = idx[lo], idx[mid]
            if _before(key[hi], idx[hi], key[lo], idx[lo]):
                key[hi], key[lo] = key[lo], key[hi]
                idx[hi], idx[lo] = idx[lo], idx[hi]
            if _before(key[hi], idx[hi], key[mid], idx[mid]):
                key[hi], key[mid] = key[mid], key[hi]
                idx[hi], idx[mid] = idx[mid], idx[hi]
            pk, pi = key[mid], idx[mid]
            i, j = lo, hi
            while i <= j:
                while _before(key[i], idx[i], pk, pi):
                    i += 1
                while _before(pk, pi, key[j], idx[j]):
                    j -= 1
                if i <= j:
                    key[i], key[j] = key[j], key[i]
                    idx[i], idx[j] = idx[j], idx[i]
                    i += 1
                    j -= 1
            if j - lo < hi - i:  # recurse into the smaller side later, loop on the larger
                stack[top], stack[top + 1] = i, hi
                hi = j
            else:
                stack[top], stack[top + 1] = lo, j
                lo = i
            top += 2
    for i in range(1, n):
        kv, iv = key[i], idx[i]
        j = i - 1
        while j >= 0 and _before(kv, iv, key[j], idx[j]):
            key[j + 1] = key[j]
            idx[j + 1] = idx[j]
            j -= 1
        key[j + 1] = kv
        idx[j + 1] = iv


#: bits of a hit's place in its row inside a packed sort key; rows with more hits sort as pairs
PLACE_BITS = 16
#: distance levels of a packed key: 62 - PLACE_BITS bits, so the key stays a positive int64
LEVELS = float((1 << (62 - PLACE_BITS)) - 1)


@njit(cache=True, nogil=True)
def _write_row(
    key: np.ndarray,
    idx: np.ndarray,
    packed: np.ndarray,
    c: int,
    me: int,
    scale: float,
    out_sq: np.ndarray,
    out_i: np.ndarray,
    row: int,
) -> None:
    """Sort a row's ``c`` hits by (key, index) into ``out_*[row]``; pad with the point itself.

    Each hit becomes one int64 (its distance scaled to ``LEVELS``, then its place in the row),
    sorted as plain integers, about twice as fast as comparing (key, index) pairs; runs of
    equal scaled distances (equal distances, or nearer than the scaling resolves) are then put
    in (key, index) order by insertion.
    """
    k = out_sq.shape[1]
    take = min(c, k)
    if c >= (1 << PLACE_BITS):
        _sort_pairs(key, idx, c)
        for t in range(take):
            out_sq[row, t] = key[t]
            out_i[row, t] = idx[t]
    else:
        for t in range(c):
            packed[t] = (np.int64(min(max(key[t], 0.0) * scale, LEVELS)) << PLACE_BITS) | t
            if key[t] < 0.0:  # the point itself first
                packed[t] = t - (1 << PLACE_BITS)
        srt = packed[:c]
        srt.sort()
        mask = (1 << PLACE_BITS) - 1
        t = 0
        while t < take:
            z = t + 1
            level = srt[t] >> PLACE_BITS
            while z < c and (srt[z] >> PLACE_BITS) == level:
                z += 1
            if z - t == 1:
                j = srt[t] & mask
                out_sq[row, t] = key[j]
                out_i[row, t] = idx[j]
            else:  # equal levels: insertion by (key, index) over the whole run, keep what fits
                run_k = np.empty(z - t)
                run_i = np.empty(z - t, dtype=np.int64)
                for u in range(z - t):
                    j = srt[t + u] & mask
                    run_k[u] = key[j]
                    run_i[u] = idx[j]
                _sort_pairs(run_k, run_i, z - t)
                for u in range(min(z, take) - t):
                    out_sq[row, t + u] = run_k[u]
                    out_i[row, t + u] = run_i[u]
            t = z
    if out_sq[row, 0] == -1.0:  # the point itself, put first by its key
        out_sq[row, 0] = 0.0
    for t in range(take, k):
        out_sq[row, t] = np.inf
        out_i[row, t] = me


@njit(cache=True, nogil=True)
def rows(
    p: np.ndarray,
    order: np.ndarray,
    cells: np.ndarray,
    bounds: np.ndarray,
    dims: np.ndarray,
    r2: float,
    reach: int,
    out_sq: np.ndarray,
    out_i: np.ndarray,
    u0: int,
    u1: int,
) -> None:
    """Fill the rows of the points in cells ``u0:u1`` of ``out_*`` (rows in the original point
    order) for points ``p`` sorted by cell.

    ``cells``: the occupied cell ids, sorted; ``bounds[u]:bounds[u + 1]`` their points in ``p``;
    ``order[s]``: the original index of sorted point ``s``; ``reach``: cells of a radius
    (a point's neighbours lie within ``reach`` cells along each axis).
    """
    span = 2 * reach + 1
    nx, ny, nz = dims[0], dims[1], dims[2]
    for u in range(u0, u1):
        cid = cells[u]
        cx = cid // (ny * nz)
        rest = cid - cx * ny * nz
        cy = rest // nz
        cz = rest - cy * nz
        lo = np.empty(span**3, dtype=np.int64)
        hi = np.empty(span**3, dtype=np.int64)
        m = 0
        total = 0
        for x in range(cx - reach, cx + reach + 1):
            if x < 0 or x >= nx:
                continue
            for y in range(cy - reach, cy + reach + 1):
                if y < 0 or y >= ny:
                    continue
                for z in range(cz - reach, cz + reach + 1):
                    if z < 0 or z >= nz:
                        continue
                    j = _cell_index(cells, (x * ny + y) * nz + z)
                    if j >= 0:
                        lo[m] = bounds[j]
                        hi[m] = bounds[j + 1]
                        total += hi[m] - lo[m]
                        m += 1
        key = np.empty(total)
        idx = np.empty(total, dtype=np.int64)
        packed = np.empty(total, dtype=np.int64)
        for s in range(bounds[u], bounds[u + 1]):
            px, py, pz = p[s, 0], p[s, 1], p[s, 2]
            c = 0
            for t in range(m):
                for q in range(lo[t], hi[t]):
                    dx = px - p[q, 0]
                    dy = py - p[q, 1]
                    dz = pz - p[q, 2]
                    d = (dx * dx + dy * dy) + dz * dz
                    if d <= r2:
                        key[c] = -1.0 if q == s else d
                        idx[c] = order[q]
                        c += 1
            _write_row(key, idx, packed, c, order[s], LEVELS / r2, out_sq, out_i, order[s])

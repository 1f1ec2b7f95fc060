"""FPFH on the CPU in NumPy: each pair of the neighbourhood once, then one sparse gather.

The torch path (``fpfh.py``) builds ``(block x max_nn x 3)`` tensors and scatters with
``index_put_``; on a CPU that and its dense neighbour search cost seconds on 20,000 points.
Here each neighbour pair is one entry of a list (``pairs.Pairs``) and its features are
computed once for both ends, on coordinate rows in float64 (as Open3D does), in cache-sized
blocks; the SPFH is a ``bincount``, and the FPFH is ``SPFH + normalise(W @ SPFH)`` with ``W`` the sparse ``1 / squared distance`` matrix
of the neighbourhoods. Everything is single-threaded and order-fixed, so the result does not
depend on thread timing. Formulas and bin edges follow Open3D's ``ComputePairFeatures`` and
``ComputeSPFHFeature`` literally, so that ties fall in the same bins.
"""

from __future__ import annotations

import math

import numpy as np

from omniad_pointcloud.features.pairs import Pairs

BINS = 11
#: pairs per block: the temporaries of one block stay in the CPU cache
BLOCK = 32768


def _dot(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> np.ndarray:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _cross(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def pair_features(p1: np.ndarray, n1: np.ndarray, p2: np.ndarray, n2: np.ndarray) -> tuple[np.ndarray, ...]:
    """``(alpha, phi, theta, tie)`` of each pair; inputs ``(3, M)`` (one contiguous row per coordinate).

    Zeros where Open3D returns zeros (coincident points, normal parallel to the pair's line),
    which are still binned, as there. The features of ``(p2, p1)`` are bit for bit those of
    ``(p1, p2)`` (the swap picks the same source normal, the difference vector negates exactly)
    except where the two angles tie exactly (``tie``): there the reverse is computed on its own.
    """
    dp = tuple(p2[c] - p1[c] for c in range(3))
    f4 = np.sqrt(_dot(dp, dp))
    safe = np.where(f4 == 0, 1.0, f4)
    a1 = _dot(tuple(n1), dp) / safe
    a2 = _dot(tuple(n2), dp) / safe
    angle1, angle2 = np.arccos(np.minimum(np.abs(a1), 1.0)), np.arccos(np.minimum(np.abs(a2), 1.0))
    swap = angle1 > angle2
    tie = angle1 == angle2
    m1 = tuple(np.where(swap, n2[c], n1[c]) for c in range(3))
    m2 = tuple(np.where(swap, n1[c], n2[c]) for c in range(3))
    sign = np.where(swap, -1.0, 1.0)
    f3 = np.where(swap, -a2, a1)
    v = _cross(tuple(x * sign for x in dp), m1)
    vn = np.sqrt(_dot(v, v))
    degenerate = (f4 == 0) | (vn == 0)
    vn[vn == 0] = 1.0
    v = tuple(x / vn for x in v)
    w = _cross(m1, v)
    f2 = _dot(v, m2)
    f1 = np.arctan2(_dot(w, m2), _dot(m1, m2))
    for f in (f1, f2, f3):
        f[degenerate] = 0.0
    return f1, f2, f3, tie


def _bins(f1: np.ndarray, f2: np.ndarray, f3: np.ndarray) -> tuple[np.ndarray, ...]:
    """Open3D's bin index of each feature, clipped to ``[0, 10]``."""
    b1 = np.floor(BINS * (f1 + math.pi) / (2.0 * math.pi))
    b2 = np.floor(BINS * (f2 + 1.0) * 0.5)
    b3 = np.floor(BINS * (f3 + 1.0) * 0.5)
    return tuple(np.clip(b, 0, BINS - 1).astype(np.int64) for b in (b1, b2, b3))


def spfh(points: np.ndarray, normals: np.ndarray, pairs: Pairs) -> np.ndarray:
    """Simplified point feature histograms ``(N, 33)`` in float64, each pair's features computed once.

    In blocks of ``BLOCK`` pairs: the pair temporaries then stay in the CPU cache (one pass
    over all pairs at once was 2x slower).
    """
    n, m = points.shape[0], len(pairs.i)
    incr = np.where(pairs.count > 1, 100.0 / np.maximum(pairs.count - 1, 1), 0.0)
    # coordinate rows, so every step below runs on contiguous 1-D arrays
    pt, nt = np.ascontiguousarray(points.T), np.ascontiguousarray(normals.T)
    bins = np.empty((3, m), dtype=np.int64)
    ties: list[tuple[np.ndarray, tuple[np.ndarray, ...]]] = []
    for start in range(0, m, BLOCK):
        i, j = pairs.i[start : start + BLOCK], pairs.j[start : start + BLOCK]
        *feats, tie = pair_features(pt[:, i], nt[:, i], pt[:, j], nt[:, j])
        bins[:, start : start + BLOCK] = _bins(*feats)
        if tie.any():  # exact ties: from j's end the features differ, compute them
            t = np.flatnonzero(tie)
            *rev, _ = pair_features(pt[:, j[t]], nt[:, j[t]], pt[:, i[t]], nt[:, i[t]])
            ties.append((start + t, _bins(*rev)))
    w_i = incr[pairs.i] * pairs.keep_ij
    w_j = incr[pairs.j] * pairs.keep_ji
    tied = np.concatenate([t for t, _ in ties]) if ties else np.zeros(0, dtype=np.int64)
    w_j_shared = w_j.copy()
    w_j_shared[tied] = 0.0
    size = n * 3 * BINS
    out = np.zeros(size)
    for block in range(3):
        out += np.bincount(pairs.i * 3 * BINS + block * BINS + bins[block], weights=w_i, minlength=size)
        out += np.bincount(
            pairs.j * 3 * BINS + block * BINS + bins[block], weights=w_j_shared, minlength=size
        )
        for t, rev in ties:
            out += np.bincount(
                pairs.j[t] * 3 * BINS + block * BINS + rev[block], weights=w_j[t], minlength=size
            )
    return out.reshape(n, 3 * BINS)


def fpfh(points: np.ndarray, normals: np.ndarray, pairs: Pairs) -> np.ndarray:
    """FPFH ``(N, 33)`` float64 from one hybrid neighbourhood per point."""
    from scipy.sparse import coo_matrix

    n = points.shape[0]
    s = spfh(points, normals, pairs)
    # Open3D skips neighbours at distance 0: weight 0
    w = np.divide(1.0, pairs.sq_dist, out=np.zeros_like(pairs.sq_dist), where=pairs.sq_dist > 0)
    acc = coo_matrix((w * pairs.keep_ij, (pairs.i, pairs.j)), shape=(n, n)) @ s
    acc += coo_matrix((w * pairs.keep_ji, (pairs.j, pairs.i)), shape=(n, n)) @ s
    acc = np.asarray(acc).reshape(n, 3, BINS)
    sums = acc.sum(-1, keepdims=True)
    norm = np.divide(100.0, sums, out=np.zeros_like(sums), where=sums != 0)
    has = (pairs.count > 1)[:, None, None]
    return (acc * norm * has).reshape(n, 3 * BINS) + s

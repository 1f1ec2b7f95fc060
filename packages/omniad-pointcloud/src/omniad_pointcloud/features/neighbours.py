"""Exact k-nearest and hybrid (radius + max_nn) neighbours, on CPU by k-d tree, on CUDA by blocks.

On a CPU a k-d tree (scipy's ``cKDTree``, a dependency already) answers 20,000 x 100
neighbours in a fraction of a second, where exact brute force spends seconds on the dense
distance matrix; the tree queries run on torch's CPU thread count, and each query's answer is
the same whatever that count, so results do not depend on thread timing. On CUDA exact brute force in blocks of queries is the fast path and
stays (the tensors never leave the device).
"""

from __future__ import annotations

import numpy as np
import torch

from omniad_pointcloud.features import radius_grid, radius_search

#: distances computed at once: queries x points (x 4 bytes) per block, about 256 MiB
BLOCK_ELEMENTS = 64 * 1024 * 1024
#: widest points the CPU k-d tree takes; feature banks (33 to hundreds of columns) go to the
#: BLAS brute force, which beats a tree that high
TREE_DIMS = 8


def check_cloud(points: torch.Tensor, where: str, dims: int | None = 3) -> None:
    """Fail in one line on a cloud that is not a non-empty ``(N, dims)`` tensor of finite floats.

    ``dims=None`` takes any width (``knn`` also searches feature banks).
    """
    shape = f"(N, {dims if dims else 'D'})"
    if not isinstance(points, torch.Tensor):
        raise TypeError(
            f"{where}: points must be a torch tensor of shape {shape}, got {type(points).__name__}"
        )
    if points.ndim != 2 or points.shape[0] == 0 or points.shape[1] == 0 or (dims and points.shape[1] != dims):
        raise ValueError(f"{where}: points must have shape {shape} with N >= 1, got {tuple(points.shape)}")
    if not points.is_floating_point():
        raise ValueError(
            f"{where}: points must be floating point, got {points.dtype}; convert with .double()"
        )
    if not _all_finite(points):
        bad = int((~torch.isfinite(points)).any(1).sum())
        raise ValueError(f"{where}: {bad} point(s) have NaN or infinite coordinates; drop them first")


def _all_finite(points: torch.Tensor) -> bool:
    """Whether every coordinate is finite; NumPy on a CPU: torch's parallel check wakes its
    OpenMP pool, whose spinning threads then took a core from the search's threads (30 ms on
    20,000 points with 2 threads, half the search)."""
    if points.device.type == "cpu" and points.dtype in (torch.float32, torch.float64):
        return bool(np.isfinite(points.detach().numpy()).all())
    return bool(torch.isfinite(points).all())


def _check_count(value: int, name: str, where: str) -> int:
    if isinstance(value, bool) or int(value) != value or int(value) < 1:
        raise ValueError(f"{where}: {name} must be a whole number >= 1, got {value!r}")
    return int(value)


def check_search(radius: float, max_nn: int, where: str) -> int:
    """Fail in one line on a radius that is not a finite number > 0 or a max_nn below 1."""
    if (
        isinstance(radius, bool)
        or not isinstance(radius, (int, float))
        or not np.isfinite(radius)
        or radius <= 0
    ):
        raise ValueError(f"{where}: radius must be a finite number > 0, got {radius!r}")
    return _check_count(max_nn, "max_nn", where)


def _workers() -> int:
    """Tree query threads: torch's CPU thread count, so ``cpu_threads`` and OMP_NUM_THREADS rule both."""
    return max(1, torch.get_num_threads())


def _knn_dense(points: torch.Tensor, k: int, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact brute force in blocks of queries (the CUDA path)."""
    sq = (points * points).sum(1)
    block = max(1, BLOCK_ELEMENTS // max(points.shape[0], 1))
    dists, idxs = [], []
    for start in range(0, q.shape[0], block):
        qb = q[start : start + block]
        d = (qb * qb).sum(1, keepdim=True) - 2.0 * qb @ points.T + sq[None, :]
        d.clamp_(min=0.0)
        dv, iv = torch.topk(d, k, dim=1, largest=False, sorted=True)
        dists.append(dv)
        idxs.append(iv)
    return torch.cat(dists), torch.cat(idxs)


def _knn_tree(points: torch.Tensor, k: int, q: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """``(distances, indices)`` as float64 / int64 numpy ``(Q, k)``."""
    from scipy.spatial import cKDTree

    d, i = cKDTree(points.detach().double().numpy()).query(
        q.detach().double().numpy(), k=k, workers=_workers()
    )
    return d.reshape(q.shape[0], k), i.reshape(q.shape[0], k).astype(np.int64)


def knn(
    points: torch.Tensor, k: int, queries: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(squared distances, indices)`` of the ``k`` nearest ``points`` to each query, nearest first.

    ``points`` may be any width: point clouds (3) and feature banks. Without ``queries`` the points query themselves, so column 0 is each point itself
    (distance 0), as in Open3D's searches.
    """
    check_cloud(points, "knn", dims=None)
    q = points if queries is None else queries
    if queries is not None:
        check_cloud(queries, "knn queries", dims=points.shape[1])
    k = min(_check_count(k, "k", "knn"), points.shape[0])
    if points.device.type != "cpu" or points.shape[1] > TREE_DIMS:
        return _knn_dense(points, k, q.to(points.dtype))
    d, i = _knn_tree(points, k, q)
    return torch.from_numpy(d * d).to(points.dtype), torch.from_numpy(i)


def radius_neighbours(
    points: torch.Tensor, radius: float, max_nn: int, queries: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Open3D's hybrid search: the ``max_nn`` nearest within ``radius``.

    Returns ``(squared distances, indices, valid mask)``, each ``(Q, min(max_nn, N))``, nearest
    first, equal distances by index; when the cloud queries itself, column 0 is the point itself
    (even beside a duplicate). Entries beyond the radius are masked out (their index points at
    the query's nearest; their distance is beyond ``radius`` squared, infinite on the CPU path).
    On a CPU the rows come from a compiled grid scan where numba is installed
    (``omniad-pointcloud[fast]``, ``radius_grid``), else from the cloud's pair list sorted per
    row (``radius_search``); the same rows as Open3D's hybrid search either way (speeds in
    docs/features.md, ``tools/bench_pointcloud_fpfh.py``). On CUDA from brute force in blocks.
    """
    check_cloud(points, "radius_neighbours")
    max_nn = check_search(radius, max_nn, "radius_neighbours")
    if points.device.type != "cpu":
        return radius_dense(points, radius, max_nn, queries)
    if queries is not None:
        check_cloud(queries, "radius_neighbours queries")
    q = None if queries is None else queries.detach().double().numpy()
    sq, i, valid = hybrid_numpy(points.detach().double().numpy(), radius, max_nn, q)
    return torch.from_numpy(sq).to(points.dtype), torch.from_numpy(i), torch.from_numpy(valid)


def radius_dense(
    points: torch.Tensor, radius: float, max_nn: int, queries: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``radius_neighbours`` by brute force in torch on any device (the CUDA path; checked by the caller)."""
    q = points if queries is None else queries.to(points.dtype)
    d, i = _knn_dense(points, min(max_nn, points.shape[0]), q)
    valid = d <= radius * radius
    return d, torch.where(valid, i, i[:, :1]), valid


def hybrid_numpy(
    points: np.ndarray, radius: float, max_nn: int, queries: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``radius_neighbours`` on float64 numpy arrays (checked by the caller).

    A cloud querying itself gets its rows from the compiled grid scan where numba is installed
    (``radius_grid``), else from the pair list (``radius_search.sorted_rows``);
    queries of their own, or neighbourhoods many times ``max_nn`` (a long pair list), from a
    bounded nearest query (``radius_search.knn_rows``); both give the same rows. Squared
    distances stay float64 here, so a float32 cloud's FPFH weights are not rounded.
    """
    limit = radius_search.LIST_LIMIT * max_nn
    if queries is None:
        rows = radius_grid.sorted_rows_grid(points, radius, max_nn, _workers(), limit)
        if rows is not None:
            return rows
    tree = radius_search.tree_of(points)
    if queries is None and radius_search.neighbours_per_point(points, radius, tree) <= limit:
        return radius_search.sorted_rows(points, radius, max_nn, tree, _workers())
    return radius_search.knn_rows(points, radius, max_nn, tree, queries, _workers())


def spatial_order(points: np.ndarray) -> np.ndarray:
    """A permutation putting near points next to each other (the k-d tree's leaf order).

    Normals and FPFH run on the permuted cloud and un-permute their output: every neighbour
    gather then reads memory that is already in the CPU cache (about 1.5x faster on 20,000
    random-order points); the result is the same as without it.
    """
    from scipy.spatial import cKDTree

    return cKDTree(points).indices

"""The CPU path of neighbours, normals and FPFH (k-d tree + NumPy) against the torch path.

The torch blocks are what CUDA runs; on a CPU the NumPy path replaced them (issue 31: 10x slower
than Open3D there). Both must give the same descriptors, whatever the thread count.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from omniad_pointcloud import reference
from omniad_pointcloud.features.fpfh import fpfh, fpfh_torch
from omniad_pointcloud.features.neighbours import knn, radius_dense, radius_neighbours
from omniad_pointcloud.features.normals import _pca_torch, estimate_normals
from omniad_pointcloud.features.pairs import hybrid_pairs
from omniad_pointcloud.shapes import sample_shape


def _torus(n: int = 1500) -> torch.Tensor:
    return torch.from_numpy(sample_shape("torus", n, np.random.default_rng(0))[0]).double()


def _sets(p: object) -> np.ndarray:
    """Each point's neighbour set from a pair list (ties at a max_nn cut may pick another neighbour)."""
    sets = [set() for _ in range(p.n)]
    for s, d in zip(*p.directed()[:2], strict=True):
        sets[s].add(int(d))
    out = np.empty(p.n, dtype=object)
    out[:] = sets
    return out


def test_tree_search_matches_brute_force() -> None:
    pts = _torus()
    d, i, v = radius_neighbours(pts, 0.12, 40)
    d0, i0, v0 = radius_dense(pts, 0.12, 40)
    np.testing.assert_array_equal(v.numpy(), v0.numpy())
    np.testing.assert_allclose(d[v].numpy(), d0[v0].numpy(), atol=1e-12)
    assert (i[v] == i0[v0]).float().mean() > 0.999  # ties may order differently
    far = torch.tensor([[10.0, 10.0, 10.0]], dtype=torch.float64)  # nothing within the radius
    _, i_far, v_far = radius_neighbours(pts, 0.12, 40, far)
    assert not v_far.any() and (i_far == knn(pts, 1, far)[1][0, 0]).all()


def _brute_rows(pts: np.ndarray, radius: float, max_nn: int, queries: np.ndarray | None = None):
    """Hybrid rows by brute force: every pair's ``(dx*dx + dy*dy) + dz*dz``, the point itself first,
    then by that distance, equal distances by index; padded with the query's nearest point."""
    q = pts if queries is None else queries
    d = q[:, None, :] - pts[None, :, :]
    sq = (d[..., 0] * d[..., 0] + d[..., 1] * d[..., 1]) + d[..., 2] * d[..., 2]
    k = min(max_nn, len(pts))
    out_sq, out_i = np.full((len(q), k), np.inf), np.zeros((len(q), k), dtype=np.int64)
    for r in range(len(q)):
        inside = np.flatnonzero(sq[r] <= radius * radius)
        not_self = inside != r if queries is None else np.ones(len(inside), bool)
        row = inside[np.lexsort((inside, sq[r, inside], not_self))][:k]
        out_sq[r, : len(row)], out_i[r, : len(row)] = sq[r, row], row
        out_i[r, len(row) :] = row[0] if len(row) else np.lexsort((np.arange(len(pts)), sq[r]))[0]
    return out_sq, out_i, np.isfinite(out_sq)


def _grid_with_duplicates(rng: np.random.Generator) -> np.ndarray:
    """Lattice points (many exactly equal distances), a few points twice, a few far alone."""
    g = np.stack(np.meshgrid(*[np.arange(6.0)] * 3, indexing="ij"), -1).reshape(-1, 3) * 0.5
    g = np.concatenate([g, g[rng.choice(len(g), 20, replace=False)], [[40.0, 0, 0], [0, 40.0, 0]]])
    return g[rng.permutation(len(g))]


CLOUDS = {
    "random": lambda rng: rng.uniform(0, 1, (400, 3)),
    "clustered": lambda rng: np.concatenate([rng.normal(0, 0.05, (300, 3)), rng.uniform(-3, 3, (60, 3))]),
    "grid+duplicates": _grid_with_duplicates,
}


@pytest.mark.parametrize("cloud", sorted(CLOUDS))
@pytest.mark.parametrize(("radius", "max_nn"), [(0.2, 1), (0.2, 5), (0.5, 7), (0.5, 400), (1.0, 30)])
@pytest.mark.parametrize("path", ["grid", "pairs", "knn"])
def test_radius_neighbours_equal_brute_force(
    cloud: str, radius: float, max_nn: int, path: str, monkeypatch
) -> None:
    """Same sets, same order (itself, distance, index), same padding as brute force, on every CPU
    path: the compiled grid scan (numba), the pair list (a cloud querying itself; forced here by
    hiding numba) and the bounded nearest query (forced here)."""
    from omniad_pointcloud.features import radius_grid, radius_search

    pts = CLOUDS[cloud](np.random.default_rng(7))
    if path == "grid":
        pytest.importorskip("numba", reason="the grid path needs numba (omniad-pointcloud[fast])")
        calls = []
        real = radius_grid.sorted_rows_grid
        monkeypatch.setattr(radius_grid, "sorted_rows_grid", lambda *a: calls.append(1) or real(*a))
        monkeypatch.setattr(radius_search, "LIST_LIMIT", 10**9)  # rows of many times max_nn hits too
    else:
        monkeypatch.setattr(radius_grid, "available", lambda: False)
    if path == "knn":
        monkeypatch.setattr(radius_search, "LIST_LIMIT", 0)
    d, i, v = radius_neighbours(torch.from_numpy(pts), radius, max_nn)
    ref_d, ref_i, ref_v = _brute_rows(pts, radius, max_nn)
    np.testing.assert_array_equal(v.numpy(), ref_v)
    np.testing.assert_array_equal(i.numpy(), ref_i)
    np.testing.assert_array_equal(d.numpy()[ref_v], ref_d[ref_v])  # the same formula: equal bits
    assert np.isinf(d.numpy()[~ref_v]).all()
    if path == "grid":
        assert calls, "radius_neighbours did not take the grid path"


def test_grid_declines_too_fine_grids_and_dense_neighbourhoods() -> None:
    """A cloud spanning more than 2**20 radii along an axis, or with many times ``max_nn``
    neighbours per point: the grid path declines; the rows still equal brute force (through a
    NumPy path)."""
    pytest.importorskip("numba", reason="the grid path needs numba (omniad-pointcloud[fast])")
    from omniad_pointcloud.features import radius_grid

    rng = np.random.default_rng(5)
    pts = np.concatenate([rng.uniform(0, 1, (200, 3)), [[5e6, 0.0, 0.0]]])
    assert radius_grid.sorted_rows_grid(pts, 0.3, 10) is None
    dense = rng.uniform(0, 1, (500, 3))  # ~57 neighbours within 0.3: many times max_nn = 2
    assert radius_grid.sorted_rows_grid(dense, 0.3, 2, limit=3 * 2) is None
    assert radius_grid.sorted_rows_grid(dense, 0.3, 2) is not None
    d, i, v = radius_neighbours(torch.from_numpy(pts), 0.3, 10)
    ref_d, ref_i, ref_v = _brute_rows(pts, 0.3, 10)
    np.testing.assert_array_equal(i.numpy(), ref_i)
    np.testing.assert_array_equal(v.numpy(), ref_v)
    np.testing.assert_array_equal(d.numpy()[ref_v], ref_d[ref_v])


@pytest.mark.parametrize("cloud", sorted(CLOUDS))
def test_radius_neighbours_of_outside_queries_equal_brute_force(cloud: str) -> None:
    """Queries of their own, some with nothing within the radius (their slots: their nearest)."""
    rng = np.random.default_rng(3)
    pts = CLOUDS[cloud](rng)
    q = np.concatenate([pts[rng.choice(len(pts), 50)] + rng.normal(0, 0.01, (50, 3)), [[100.0, 100, 100]]])
    for radius, max_nn in ((0.3, 4), (0.6, 50)):
        d, i, v = radius_neighbours(torch.from_numpy(pts), radius, max_nn, torch.from_numpy(q))
        ref_d, ref_i, ref_v = _brute_rows(pts, radius, max_nn, q)
        np.testing.assert_array_equal(v.numpy(), ref_v)
        np.testing.assert_array_equal(i.numpy(), ref_i)
        np.testing.assert_array_equal(d.numpy()[ref_v], ref_d[ref_v])
    assert not v[-1].any()


@pytest.mark.parametrize("path", ["grid", "pairs"])
def test_radius_neighbours_same_rows_on_one_or_two_threads(path: str, monkeypatch) -> None:
    from omniad_pointcloud.features import radius_grid

    if path == "grid":
        pytest.importorskip("numba", reason="the grid path needs numba (omniad-pointcloud[fast])")
    else:
        monkeypatch.setattr(radius_grid, "available", lambda: False)
    pts = torch.from_numpy(_grid_with_duplicates(np.random.default_rng(1)))
    previous = torch.get_num_threads()
    try:
        runs = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            runs.append(radius_neighbours(pts, 0.75, 12))
    finally:
        torch.set_num_threads(previous)
    assert all(torch.equal(a, b) for a, b in zip(*runs, strict=True))


@pytest.mark.parametrize("cloud", sorted(CLOUDS))
@pytest.mark.parametrize("threads", [1, 2])
def test_sorted_rows_in_small_blocks_with_coarse_keys_equal_brute_force(
    cloud: str, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many blocks of rows (on 1 or 2 threads), and distance keys so coarse that most
    neighbours share one: the rows sorted again by (distance, index) must still be exact."""
    from omniad_pointcloud.features import radius_grid, radius_search

    monkeypatch.setattr(radius_grid, "available", lambda: False)  # the NumPy path's blocks
    monkeypatch.setattr(radius_search, "SORT_BLOCK", 64)
    monkeypatch.setattr(radius_search, "KEY_BITS", 12)
    pts = CLOUDS[cloud](np.random.default_rng(5))
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(threads)
        for radius, max_nn in ((0.2, 3), (0.5, 400)):
            d, i, v = radius_neighbours(torch.from_numpy(pts), radius, max_nn)
            ref_d, ref_i, ref_v = _brute_rows(pts, radius, max_nn)
            np.testing.assert_array_equal(v.numpy(), ref_v)
            np.testing.assert_array_equal(i.numpy(), ref_i)
            np.testing.assert_array_equal(d.numpy()[ref_v], ref_d[ref_v])
    finally:
        torch.set_num_threads(previous)


def test_group_by_sorts_wide_keys_stably() -> None:
    """More than 65,536 points: the radix sort takes a second 16-bit pass."""
    from omniad_pointcloud.features.radius_search import group_by

    keys = np.random.default_rng(0).integers(0, 200_000, 300_000)
    np.testing.assert_array_equal(group_by(keys, 200_000), np.argsort(keys, kind="stable"))


@pytest.mark.parametrize("max_nn", [1, 2, 16, 100])
def test_pair_lists_hold_the_hybrid_neighbourhoods(max_nn: int) -> None:
    """The pair list normals and FPFH use holds the same neighbours as the sorted brute force.

    ``max_nn`` 16 cuts most rows at the ``max_nn`` nearest; 100 leaves them whole (radius bound).
    """
    pts = _torus()
    p = hybrid_pairs(pts.numpy(), 0.12, max_nn)
    _, i0, v0 = radius_dense(pts, 0.12, max_nn)
    np.testing.assert_array_equal(p.count, v0.sum(1).numpy())
    same = _sets(p) == [set(i0[r, 1:][v0[r, 1:]].tolist()) for r in range(len(pts))]
    assert same.mean() > 0.999  # ties at the max_nn cut may pick another neighbour
    assert (p.sq_dist <= 0.12**2).all() and (p.i != p.j).all()


def test_pair_lists_are_the_same_by_either_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dense neighbourhoods (many times max_nn within the radius) take the bounded sorted search."""
    from omniad_pointcloud.features import pairs, radius_search

    pts = _torus().numpy()
    listed = pairs.hybrid_pairs(pts, 0.3, 20)
    monkeypatch.setattr(radius_search, "LIST_LIMIT", 1e9)  # force the full pair list
    full = pairs.hybrid_pairs(pts, 0.3, 20)
    np.testing.assert_array_equal(listed.count, full.count)
    assert np.mean(_sets(listed) == _sets(full)) > 0.999  # ties at the max_nn cut may pick another neighbour


def test_cpu_fpfh_and_normals_match_the_torch_path() -> None:
    pts = _torus()
    n = estimate_normals(pts, 0.12, 30, orient="none")
    n0 = _pca_torch(pts, *radius_dense(pts, 0.12, 30)[1:])
    assert ((n * n0).sum(1).abs() > 1 - 1e-9).all()
    a, b = fpfh(pts, n, 0.25, 64), fpfh_torch(pts, n, 0.25, 64)
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-9)  # measured 1.3e-11


def test_pairs_whose_angles_tie_are_computed_from_both_ends() -> None:
    """Equal normals make every pair's two angles tie exactly: the one case where the features
    from the two ends of a pair differ, so the CPU path computes the reverse on its own."""
    pts = _torus()
    n = torch.nn.functional.normalize(torch.ones_like(pts), dim=1)
    a, b = fpfh(pts, n, 0.25, 64), fpfh_torch(pts, n, 0.25, 64)
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-9)


def test_fpfh_is_open3ds_bin_for_bin_when_the_arithmetic_is_exact() -> None:
    """With normals rounded to float32 (products of float32 coordinates are then exact in
    float64) every point matches Open3D in all 33 bins: the mismatches of full-precision normals
    (``test_fpfh_agrees_with_open3d``) are last-bit rounding at theta near-ties, not the method."""
    if reference.open3d() is None:
        pytest.skip("Open3D is not importable here (pip install omniad-pointcloud[open3d])")
    pts = torch.from_numpy(
        sample_shape("torus", 3000, np.random.default_rng(0))[0].astype(np.float32)
    ).double()
    n = estimate_normals(pts, 0.1, 30).float().double()
    ours = fpfh(pts, n, 0.25, 100).numpy()
    theirs = reference.fpfh(pts.numpy(), n.numpy(), 0.25, 100)
    exact = (np.abs(ours - theirs).max(1) < 1e-6).mean()
    assert exact > 0.99, exact  # measured 1.0 (Open3D 0.20.0)


def test_results_do_not_depend_on_the_thread_count() -> None:
    pts = _torus(3000)
    previous = torch.get_num_threads()
    try:
        runs = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            n = estimate_normals(pts, 0.1, 30)
            runs.append((n, fpfh(pts, n, 0.2, 100)))
    finally:
        torch.set_num_threads(previous)
    assert torch.equal(runs[0][0], runs[1][0]) and torch.equal(runs[0][1], runs[1][1])


def test_float32_cloud_keeps_its_dtype_and_matches_float64() -> None:
    pts = _torus()
    n = estimate_normals(pts, 0.12, 30)
    a = fpfh(pts.float(), n.float(), 0.25, 64)
    b = fpfh(pts, n, 0.25, 64)
    assert a.dtype == torch.float32
    # float32 rounding moves near-tie pairs to the next bin on some points (73% identical)
    corr = min(np.corrcoef(x, y)[0, 1] for x, y in zip(a.double().numpy(), b.numpy(), strict=True))
    assert corr > 0.995, corr  # measured 0.99935


def test_fewer_than_three_neighbours_get_open3ds_normal() -> None:
    pts = torch.tensor([[0, 0, 0], [0.01, 0.02, 0.005], [5, 5, 5], [9, 9, 9], [9.01, 9, 9], [9, 9.01, 9.002]])
    n = estimate_normals(pts.double(), 0.1, 30, orient="none")
    np.testing.assert_array_equal(n[:3].numpy(), [[0, 0, 1]] * 3)
    n_torch = _pca_torch(pts.double(), *radius_dense(pts.double(), 0.1, 30)[1:])
    np.testing.assert_array_equal(n_torch[:3].numpy(), [[0, 0, 1]] * 3)
    if reference.open3d() is not None:
        theirs = reference.normals(pts.double().numpy(), 0.1, 30)
        np.testing.assert_allclose(np.abs((n.numpy() * theirs).sum(1)), 1.0, atol=1e-9)


GOOD = torch.zeros(5, 3, dtype=torch.float64) + torch.arange(5.0, dtype=torch.float64)[:, None]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: fpfh(GOOD[:, :2], GOOD[:, :2], 0.1, 10), r"fpfh: points must have shape \(N, 3\)"),
        (lambda: fpfh(GOOD, GOOD[:3], 0.1, 10), "fpfh: normals must be a tensor shaped like points"),
        (lambda: fpfh(GOOD, GOOD, 0.0, 10), "fpfh: radius must be a finite number > 0"),
        (lambda: fpfh(GOOD, GOOD, 0.1, 0), "fpfh: max_nn must be a whole number >= 1"),
        (lambda: fpfh(GOOD.numpy(), GOOD, 0.1, 10), "fpfh: points must be a torch tensor"),
        (lambda: estimate_normals(GOOD.clone().fill_(float("nan")), 0.1), "estimate_normals: 5 point"),
        (lambda: estimate_normals(GOOD, 0.1, orient="inward"), "estimate_normals: orient must be"),
        (lambda: estimate_normals(GOOD.long(), 0.1), "estimate_normals: points must be floating point"),
        (lambda: knn(GOOD, 0), "knn: k must be a whole number >= 1"),
        (lambda: radius_neighbours(GOOD, float("inf"), 5), "radius_neighbours: radius must be"),
        (lambda: radius_neighbours(GOOD, 0.0, 5), "radius_neighbours: radius must be a finite number > 0"),
        (lambda: radius_neighbours(GOOD, 0.5, 0), "radius_neighbours: max_nn must be a whole number >= 1"),
        (lambda: radius_neighbours(GOOD, 0.5, 5, GOOD[:, :2]), r"radius_neighbours queries: points must"),
    ],
)
def test_bad_inputs_fail_in_one_line(call, message) -> None:
    with pytest.raises((ValueError, TypeError), match=message) as info:
        call()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("hits", [70, 70_000])
def test_grid_row_sort_orders_by_distance_then_index(hits: int) -> None:
    """One row straight through the kernel's sort: packed integer keys (rows under 2**16 hits)
    and the (distance, index) pair sort (longer rows), with many exact ties and distances
    closer than the packed keys resolve; the point itself (key -1) first, padding after."""
    pytest.importorskip("numba", reason="the grid path needs numba (omniad-pointcloud[fast])")
    from omniad_pointcloud.features import _radius_grid_kernel as kernel

    rng = np.random.default_rng(hits)
    r2 = 0.25
    key = np.concatenate([rng.choice([0.01, 0.02, 0.25], hits // 2), rng.uniform(0, r2, hits - hits // 2)])
    key[hits // 3] = key[hits // 3 + 1] * (1 + 1e-15)  # nearer than 46-bit levels resolve
    key[7] = -1.0  # the point itself
    idx = rng.permutation(10 * hits)[:hits].astype(np.int64)
    k = min(hits + 5, 200)
    out_sq, out_i = np.zeros((1, k)), np.zeros((1, k), dtype=np.int64)
    o = np.lexsort((idx, key))[:k]
    kernel._write_row(
        key.copy(), idx.copy(), np.empty(hits, np.int64), hits, 3, kernel.LEVELS / r2, out_sq, out_i, 0
    )
    want_sq = np.where(key[o] < 0, 0.0, key[o])
    n = min(hits, k)
    np.testing.assert_array_equal(out_i[0, :n], idx[o][:n])
    np.testing.assert_array_equal(out_sq[0, :n], want_sq[:n])
    assert (out_i[0, n:] == 3).all() and np.isinf(out_sq[0, n:]).all()


def test_a_numba_that_does_not_import_warns_once_and_falls_back(monkeypatch) -> None:
    """numba present but broken (built for another NumPy, say): one warning, the NumPy path's rows."""
    import builtins

    from omniad_pointcloud.features import radius_grid

    monkeypatch.setattr(radius_grid, "_kernel", None)
    monkeypatch.setattr(radius_grid, "_broken", None)
    monkeypatch.setattr(radius_grid, "available", lambda: radius_grid._broken is None)
    real_import = builtins.__import__

    def fail(name, *args, **kwargs):
        fromlist = kwargs.get("fromlist") or (args[2] if len(args) > 2 else None) or ()
        if name.endswith("_radius_grid_kernel") or "_radius_grid_kernel" in fromlist:
            raise ImportError("numpy.core.multiarray failed to import")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fail)
    monkeypatch.delitem(sys.modules, "omniad_pointcloud.features._radius_grid_kernel", raising=False)
    pts = np.random.default_rng(2).uniform(0, 1, (300, 3))
    with pytest.warns(RuntimeWarning, match="numba is installed but does not import"):
        d, i, v = radius_neighbours(torch.from_numpy(pts), 0.2, 8)
    ref_d, ref_i, ref_v = _brute_rows(pts, 0.2, 8)
    np.testing.assert_array_equal(i.numpy(), ref_i)
    np.testing.assert_array_equal(v.numpy(), ref_v)
    np.testing.assert_array_equal(d.numpy()[ref_v], ref_d[ref_v])
    assert radius_grid._broken and not radius_grid.available()

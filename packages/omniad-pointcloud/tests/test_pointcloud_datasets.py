"""Datasets: the synthetic benchmark, and every loader reading back the generator's files exactly."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

import omniad
from omniad.errors import ConfigError
from omniad.testing import DatasetConformance
from omniad_pointcloud.datasets.generator import render_grid, write_benchmark
from omniad_pointcloud.datasets.params import SyntheticParams
from omniad_pointcloud.datasets.synthetic import make_shape_set
from omniad_pointcloud.defects import DEFECT_KINDS, apply_defect
from omniad_pointcloud.shapes import SHAPES, sample_shape

SMALL = {"shapes": ["sphere", "box"], "n_points": 300, "n_train": 2, "n_test_normal": 2, "n_test_per_defect": 1}
_ROOT = Path(tempfile.mkdtemp(prefix="omniad-pointcloud-datasets-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)
ROOTS = {layout: write_benchmark(_ROOT / layout, layout, SMALL, grid_size=32) for layout in ("mvtec3d", "real3d", "shapenet", "folder")}


class TestSynthetic(DatasetConformance):
    dataset_id = "pointcloud.synthetic"
    params = SMALL


class TestMVTec3D(DatasetConformance):
    dataset_id = "pointcloud.mvtec3d"
    params = {"root": str(ROOTS["mvtec3d"]), "use_rgb": True}


class TestReal3D(DatasetConformance):
    dataset_id = "pointcloud.real3d"
    params = {"root": str(ROOTS["real3d"])}


class TestAnomalyShapeNet(DatasetConformance):
    dataset_id = "pointcloud.anomaly_shapenet"
    params = {"root": str(ROOTS["shapenet"])}


class TestFolder(DatasetConformance):
    dataset_id = "pointcloud.folder"
    params = {"root": str(ROOTS["folder"])}


def _truth(shape_index: int) -> tuple:
    s = make_shape_set(SMALL["shapes"][shape_index], SyntheticParams(**SMALL), shape_index)
    return s


@pytest.mark.parametrize(("dataset_id", "layout"), [("pointcloud.real3d", "real3d"),
                                                     ("pointcloud.anomaly_shapenet", "shapenet"),
                                                     ("pointcloud.folder", "folder")])
def test_loaders_read_back_exactly_what_was_written(dataset_id: str, layout: str) -> None:
    subsets = {s.name: s for s in omniad.create_dataset(dataset_id, {"root": str(ROOTS[layout])}).subsets()}
    for i, shape in enumerate(SMALL["shapes"]):
        truth, got = _truth(i), subsets[shape]
        assert len(got.train) == len(truth.train)
        expected = {(c.name.split("/")[1], round(float(c.points.sum()), 2)): t for c, t in zip(truth.test, truth.targets, strict=True)}
        assert len(got.test) == len(expected)
        for cloud, target in zip(got.test.samples, got.test.targets, strict=True):
            matches = [t for (kind, total), t in expected.items() if abs(total - float(cloud.points.sum())) < 0.05]
            assert len(matches) == 1
            np.testing.assert_array_equal(target, matches[0])


def test_mvtec3d_grid_and_masks() -> None:
    sub = next(omniad.create_dataset("pointcloud.mvtec3d", {"root": str(ROOTS["mvtec3d"]), "categories": ["box"]}).subsets())
    truth = _truth(1)
    for cloud, kind, target in zip(truth.test, truth.kinds, truth.targets, strict=True):
        i = [j for j, k in enumerate(truth.kinds) if k == kind].index(truth.test.index(cloud))
        idx = sub.test.ids.index(f"{kind}/{i:03d}")
        xyz, mask = render_grid(cloud.points, target, 32, normals=truth.test_normals[truth.test.index(cloud)])
        got = sub.test.samples[idx]
        assert got.grid.shape == (32, 32) and len(got) == int((xyz != 0).any(2).sum())
        np.testing.assert_array_equal(sub.test.targets[idx], mask[(xyz != 0).any(2)])
    assert sub.test.samples[0].colors is None  # use_rgb defaults to off


def test_synthetic_is_seeded_and_labels_every_defect() -> None:
    a = omniad.create_dataset("pointcloud.synthetic", SMALL).load()
    b = omniad.create_dataset("pointcloud.synthetic", SMALL).load()
    np.testing.assert_array_equal(a[0].test.samples[-1].points, b[0].test.samples[-1].points)
    kinds = a[0].test.meta["kinds"]
    assert set(kinds) == {"good", *DEFECT_KINDS}
    for kind, target in zip(kinds, a[0].test.targets, strict=True):
        assert (target.sum() > 0) == (kind != "good"), kind
    c = omniad.create_dataset("pointcloud.synthetic", {**SMALL, "seed": 1}).load()
    assert not np.array_equal(a[0].test.samples[-1].points, c[0].test.samples[-1].points)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_shapes_are_on_their_surface(shape: str) -> None:
    pts, nrm = sample_shape(shape, 2000, np.random.default_rng(0), noise=0.0)
    assert pts.shape == nrm.shape == (2000, 3)
    np.testing.assert_allclose(np.linalg.norm(nrm, axis=1), 1.0, atol=1e-5)
    if shape == "sphere":
        np.testing.assert_allclose(np.linalg.norm(pts, axis=1), 1.0, atol=1e-5)
    # uniform by area: the two halves of the shape along x hold about the same number of points
    assert abs(int((pts[:, 0] > 0).sum()) - 1000) < 120


@pytest.mark.parametrize("kind", DEFECT_KINDS)
def test_defects_are_seeded_and_labelled(kind: str) -> None:
    pts, nrm = sample_shape("sphere", 2000, np.random.default_rng(0))
    a = apply_defect(pts, nrm, kind, np.random.default_rng(5))
    b = apply_defect(pts, nrm, kind, np.random.default_rng(5))
    np.testing.assert_array_equal(a.points, b.points)
    assert 0 < a.labels.sum() < len(a.labels) and len(a.labels) == len(a.points)
    if kind in ("bulge", "dent"):
        radial = np.linalg.norm(a.points, axis=1) - np.linalg.norm(pts, axis=1)
        moved = a.labels == 1
        assert (np.sign(radial[moved]) == (1 if kind == "bulge" else -1)).mean() > 0.95
    else:
        assert len(a.points) < len(pts)
    with pytest.raises(ConfigError, match="unknown defect kind"):
        apply_defect(pts, nrm, "scratch", np.random.default_rng(0))


def test_mvtec3d_background_plane_is_removed(tmp_path: Path) -> None:
    params = {**SMALL, "shapes": ["torus"], "defects": ["bulge"]}
    root = write_benchmark(tmp_path / "m", "mvtec3d", params, grid_size=32, background=True)
    plain = write_benchmark(tmp_path / "p", "mvtec3d", params, grid_size=32)
    floor = next(omniad.create_dataset("pointcloud.mvtec3d", {"root": str(root)}).subsets())
    assert all(len(c) == 32 * 32 for c in floor.test.samples)  # the floor fills every empty pixel
    opts = {"remove_plane": True, "plane_border": 2, "plane_distance": 0.01}
    cut = next(omniad.create_dataset("pointcloud.mvtec3d", {"root": str(root), **opts}).subsets())
    ref = next(omniad.create_dataset("pointcloud.mvtec3d", {"root": str(plain)}).subsets())
    for a, b, ta, tb in zip(cut.test.samples, ref.test.samples, cut.test.targets, ref.test.targets, strict=True):
        np.testing.assert_array_equal(a.grid >= 0, b.grid >= 0)  # exactly the object's pixels are left
        np.testing.assert_allclose(a.points, b.points)
        np.testing.assert_array_equal(ta, tb)


def test_real3d_cloud_from_gt(tmp_path: Path) -> None:
    root = write_benchmark(tmp_path / "r", "real3d", {**SMALL, "shapes": ["sphere"]})
    scan = next((root / "sphere" / "test").glob("*_dent.pcd"))
    gt = root / "sphere" / "gt" / f"{scan.stem}.txt"
    rows = gt.read_text().splitlines()
    gt.write_text("\n".join(rows[:-10]) + "\n")  # the ground truth holds fewer points than the scan
    sub = next(omniad.create_dataset("pointcloud.real3d", {"root": str(root), "cloud_from_gt": True}).subsets())
    i = sub.test.ids.index(scan.stem)
    assert len(sub.test.samples[i]) == len(sub.test.targets[i]) == len(rows) - 10


def test_mesh_sampling_is_uniform_by_area() -> None:
    from omniad_pointcloud.shapes import mesh_sampler

    # a unit cube as 12 triangles, outward winding: every face gets 1/6 of the points
    v = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], float)
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    faces = np.array([t for a, b, c, d in quads for t in ((a, b, c), (a, c, d))])
    pts, nrm = mesh_sampler(v, faces)(np.random.default_rng(0), 6000)
    np.testing.assert_allclose(np.abs(pts).max(0), 1 / np.sqrt(3), atol=1e-9)  # centred, unit bounding radius
    counts = np.unique(np.argmax(np.abs(nrm), axis=1) * 2 + (nrm.sum(1) > 0), return_counts=True)[1]
    assert len(counts) == 6 and np.all(np.abs(counts - 1000) < 120)
    assert np.all((pts * nrm).sum(1) > 0)  # normals point outward


def test_pyvista_meshes_or_a_clear_error() -> None:
    from omniad_pointcloud.shapes import pyvista_available

    if not pyvista_available():
        with pytest.raises(ConfigError, match="needs pyvista installed"):
            sample_shape("pyvista:ant", 100, np.random.default_rng(0))
    else:
        pts, nrm = sample_shape("pyvista:ant", 500, np.random.default_rng(0))
        assert pts.shape == nrm.shape == (500, 3)
    with pytest.raises(ConfigError, match="unknown pyvista mesh"):
        sample_shape("pyvista:teapot", 100, np.random.default_rng(0))


def _scored(subset):
    from omniad.scores import Scores

    local = [np.asarray(t, float) + 0.1 * np.arange(len(t)) / len(t) for t in subset.test.targets]
    return Scores(sample=np.array([v.max() for v in local]), local=local)


def test_report_pictures_free_and_organised(tmp_path: Path) -> None:
    for dataset_id, params in (("pointcloud.synthetic", SMALL), ("pointcloud.mvtec3d", {"root": str(ROOTS["mvtec3d"])})):
        ds = omniad.create_dataset(dataset_id, params)
        sub = ds.load()[0]
        paths = ds.render_examples(sub, _scored(sub), tmp_path / dataset_id, max_examples=3)
        assert len(paths) == 3 and all(p.stat().st_size > 1000 and p.read_bytes()[:4] == b"\x89PNG" for p in paths)
        assert len({p.name for p in paths}) == 3


def test_pick_examples_order() -> None:
    from omniad.data import Split
    from omniad.scores import Scores
    from omniad_pointcloud.datasets.render import pick_examples

    split = Split(samples=[None] * 5, labels=np.array([1, 1, 0, 0, 1]))
    scores = Scores(sample=np.array([0.9, 0.2, 0.8, 0.1, 0.5]))
    # two pictures (the runner's default) show a hit and the top false alarm; the worst miss comes third
    assert pick_examples(split, scores, 2) == [0, 2]
    assert pick_examples(split, scores, 4) == [0, 2, 1, 4]  # the same four as before (was [0, 1, 2, 4])


def test_no_matplotlib_one_warning_no_pictures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    from omniad_pointcloud.datasets import render

    real = builtins.__import__

    def no_mpl(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mpl)
    monkeypatch.setattr(render, "_warned", False)
    ds = omniad.create_dataset("pointcloud.synthetic", SMALL)
    sub = ds.load()[0]
    with pytest.warns(UserWarning, match="matplotlib is not installed"):
        assert ds.render_examples(sub, _scored(sub), tmp_path) == []
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ds.render_examples(sub, _scored(sub), tmp_path) == []  # the second time, silent


def test_params_know_the_defect_kinds() -> None:
    assert SyntheticParams().defects == DEFECT_KINDS  # params keeps its own copy so discovery stays light
    with pytest.raises(ConfigError, match="name it once"):
        omniad.create_dataset("pointcloud.synthetic", {"shapes": ["box", "box"]})

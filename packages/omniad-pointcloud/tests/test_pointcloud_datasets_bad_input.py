"""Bad input to the dataset loaders: every case a DataError / ConfigError naming the file or folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import omniad
from omniad.errors import ConfigError, DataError
from omniad_pointcloud.datasets.generator import write_benchmark
from omniad_pointcloud.io import read_cloud

SMALL = {"shapes": ["sphere"], "defects": ["bulge", "hole"], "n_points": 200, "n_train": 2,
         "n_test_normal": 1, "n_test_per_defect": 1}


def _load(dataset_id: str, root: Path, **extra: object) -> None:
    omniad.create_dataset(dataset_id, {"root": str(root), **extra}).load()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_benchmark(tmp_path / "f", "folder", SMALL)


def _broken(folder: Path, content: bytes, name: str) -> Path:
    path = folder / "sphere" / "test" / "good" / name
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("empty.txt", b"", "holds no points"),
        ("empty.ply", b"ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nproperty float y\n"
                      b"property float z\nend_header\n", "the cloud is empty"),
        ("nan.xyz", b"".join(b"%d 1 2\n" % i for i in range(10)) + b"nan 1 2\n", "1 of 11 points have NaN"),
        ("three.txt", b"0 0 0\n1 0 0\n0 1 0\n", "only 3 points"),
        ("magic.ply", b"PLY!\nformat ascii 1.0\n", "not a PLY file"),
        ("magic.pcd", b"\x89PNG\r\n\x1a\n", "no DATA line"),
        ("short.pcd", b"FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nPOINTS 50\nDATA binary\n" + b"\0" * 100,
         "truncated PCD body"),
        ("short.ply", b"ply\nformat binary_big_endian 1.0\nelement vertex 50\nproperty float x\nproperty float y\n"
                      b"property float z\nend_header\n" + b"\0" * 100, "truncated PLY body"),
        ("packed.pcd", b"FIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nPOINTS 10\nDATA binary_compressed\n", "convert it"),
    ],
)
def test_bad_cloud_files_fail_the_loader_naming_the_file(folder: Path, name: str, content: bytes, needle: str) -> None:
    path = _broken(folder, content, name)
    with pytest.raises(DataError, match=needle) as info:
        _load("pointcloud.folder", folder)
    assert str(path) in str(info.value)
    with pytest.raises(DataError, match=needle):
        read_cloud(path)


def test_wrong_format_in_a_tiff_folder(tmp_path: Path) -> None:
    root = write_benchmark(tmp_path / "m", "mvtec3d", SMALL, grid_size=16)
    tiff = next((root / "sphere" / "test" / "hole" / "xyz").glob("*.tiff"))
    tiff.write_bytes(b"ply\nformat ascii 1.0\n")
    with pytest.raises(DataError, match="not a readable TIFF") as info:
        _load("pointcloud.mvtec3d", root)
    assert tiff.name in str(info.value)
    import tifffile

    tifffile.imwrite(tiff, np.zeros((16, 16), np.float32))
    with pytest.raises(DataError, match="expected an H x W x 3 coordinate image"):
        _load("pointcloud.mvtec3d", root)
    tifffile.imwrite(tiff, np.zeros((16, 16, 3), np.float32), photometric="rgb")  # the scanner saw nothing
    with pytest.raises(DataError, match="the cloud is empty") as info:
        _load("pointcloud.mvtec3d", root)
    assert tiff.name in str(info.value)


def test_gt_that_does_not_match_the_scan(tmp_path: Path) -> None:
    root = write_benchmark(tmp_path / "r", "real3d", SMALL)
    gt = sorted((root / "sphere" / "gt").glob("*_bulge.txt"))[0]
    rows = gt.read_text().splitlines()
    gt.write_text("\n".join(rows[:-5]) + "\n")
    with pytest.raises(DataError, match="labelled points but the scan .* has") as info:
        _load("pointcloud.real3d", root)
    assert gt.name in str(info.value)
    gt.write_text("\n".join(rows[::-1]) + "\n")  # same count, another order
    with pytest.raises(DataError, match="labelled points differ from the scan"):
        _load("pointcloud.real3d", root)
    gt.write_text("\n".join(r.rsplit(" ", 1)[0] for r in rows) + "\n")
    with pytest.raises(DataError, match="expected 'x y z label' columns"):
        _load("pointcloud.real3d", root)
    gt.unlink()
    with pytest.raises(DataError, match="ground truth .* of defective scan .* is missing") as info:
        _load("pointcloud.real3d", root)
    assert gt.name in str(info.value)


def test_folder_labels_that_do_not_match(folder: Path) -> None:
    gt = next((folder / "sphere" / "ground_truth" / "bulge").glob("*.txt"))
    gt.write_text("0\n1\n")
    with pytest.raises(DataError, match="2 labels but .* has") as info:
        _load("pointcloud.folder", folder)
    assert gt.name in str(info.value)
    gt.write_text("\n".join(["3"] * 200) + "\n")
    with pytest.raises(DataError, match="labels must be 0 or 1"):
        _load("pointcloud.folder", folder)


def test_mvtec_mask_of_another_size(tmp_path: Path) -> None:
    from PIL import Image

    root = write_benchmark(tmp_path / "m", "mvtec3d", SMALL, grid_size=16)
    mask = next((root / "sphere" / "test" / "bulge" / "gt").glob("*.png"))
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(mask)
    with pytest.raises(DataError, match="does not match the xyz grid") as info:
        _load("pointcloud.mvtec3d", root)
    assert mask.name in str(info.value)
    mask.unlink()
    with pytest.raises(DataError, match="ground-truth mask of defective scan .* is missing"):
        _load("pointcloud.mvtec3d", root)


@pytest.mark.parametrize(("dataset_id", "layout", "remove", "needle"), [
    ("pointcloud.mvtec3d", "mvtec3d", "sphere/train/good/xyz", "expected folder .*xyz is missing"),
    ("pointcloud.mvtec3d", "mvtec3d", "sphere/test", "expected folder .*test is missing"),
    ("pointcloud.real3d", "real3d", "sphere/train", "expected folder .*train is missing"),
    ("pointcloud.anomaly_shapenet", "shapenet", "sphere/test", "expected folder .*test is missing"),
    ("pointcloud.folder", "folder", "sphere/train/good", "expected folder .*good is missing"),
])
def test_missing_folders(tmp_path: Path, dataset_id: str, layout: str, remove: str, needle: str) -> None:
    import shutil

    root = write_benchmark(tmp_path / layout, layout, SMALL, grid_size=16)
    shutil.rmtree(root / remove)
    with pytest.raises(DataError, match=needle):
        _load(dataset_id, root)


def test_missing_roots_categories_and_empty_folders(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist; set root"):
        _load("pointcloud.real3d", tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no category folders"):
        _load("pointcloud.anomaly_shapenet", tmp_path / "empty")
    root = write_benchmark(tmp_path / "r", "real3d", SMALL)
    with pytest.raises(DataError, match=r"categories \['cube'\] not found .* found \['sphere'\]"):
        _load("pointcloud.real3d", root, categories=["cube"])
    for f in (root / "sphere" / "train").iterdir():
        f.unlink()
    with pytest.raises(DataError, match="holds no .pcd/.ply files"):
        _load("pointcloud.real3d", root)


def test_bad_generator_and_synthetic_settings(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown layout"):
        write_benchmark(tmp_path / "x", "kitti")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown shape 'blob'"):
        omniad.create_dataset("pointcloud.synthetic", {**SMALL, "shapes": ["blob"]}).load()
    with pytest.raises(ConfigError, match="unknown defect kind 'scratch'"):
        omniad.create_dataset("pointcloud.synthetic", {**SMALL, "defects": ["scratch"]}).load()


def test_normal_pattern(tmp_path: Path) -> None:
    root = write_benchmark(tmp_path / "s", "shapenet", SMALL)
    scan = next((root / "sphere" / "test").glob("*positive*.pcd"))
    scan.rename(scan.with_name(scan.name.replace("positive", "ok")))
    with pytest.raises(DataError, match="sphere_ok0.pcd is missing .* matches 'positive'; set normal_pattern"):
        _load("pointcloud.anomaly_shapenet", root)
    sub = omniad.create_dataset("pointcloud.anomaly_shapenet", {"root": str(root), "normal_pattern": "_ok"}).load()[0]
    assert sub.test.labels.tolist().count(0) == 1
    with pytest.raises(ConfigError, match="not a regular expression"):
        omniad.create_dataset("pointcloud.anomaly_shapenet", {"root": str(root), "normal_pattern": "(("})

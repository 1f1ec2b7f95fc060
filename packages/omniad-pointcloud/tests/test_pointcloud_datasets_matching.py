"""Every ground-truth file must belong to a scan, and every fallback a loader takes is counted.

A ground truth named after no scan used to be ignored: its defective scan then counted as
anomalous in every point and point AUROC fell from 0.996 to 0.533 (BTF-FPFH, a 1,024-point
sphere with bulges and dents) without a word. In ``pointcloud.folder`` that is an error
naming the file and the scans it could have belonged to. In the released layouts
(MVTec 3D-AD, Real3D-AD, Anomaly-ShapeNet) every defective scan must have its ground truth
anyway, so a stray file there cannot change a label: it is counted in
``Subset.meta["counts"]`` and warned about, not refused (a release may carry extra files).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import omniad
from omniad.errors import DataError
from omniad.runner.config import parse_config
from omniad.runner.run import run
from omniad_pointcloud.datasets.generator import write_benchmark

SMALL = {"shapes": ["sphere"], "defects": ["bulge", "hole"], "n_points": 200, "n_train": 2,
         "n_test_normal": 1, "n_test_per_defect": 2}


def _subset(dataset_id: str, root: Path, **extra: object) -> omniad.data.Subset:
    return omniad.create_dataset(dataset_id, {"root": str(root), **extra}).load()[0]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_benchmark(tmp_path / "f", "folder", SMALL)


def test_a_clean_folder_counts_nothing(folder: Path) -> None:
    sub = _subset("pointcloud.folder", folder)
    assert sub.meta["counts"] == {}


def test_ground_truth_named_after_no_scan(folder: Path) -> None:
    gt = folder / "sphere" / "ground_truth" / "bulge" / "000.txt"
    gt.rename(gt.with_name("000_gt.txt"))
    with pytest.raises(DataError, match=r"000_gt\.txt: this ground truth matches no scan of test/bulge/ .*"
                                        r"scans of bulge without one: \['000'\]"):
        _subset("pointcloud.folder", folder)


def test_ground_truth_of_a_kind_with_no_test_folder(folder: Path) -> None:
    gts = folder / "sphere" / "ground_truth"
    (gts / "bulge").rename(gts / "bulges")
    with pytest.raises(DataError, match=r"bulges: ground truth for kind 'bulges' but test/ has no such folder "
                                        r"\(test kinds: \['bulge', 'good', 'hole'\]\)"):
        _subset("pointcloud.folder", folder)


def test_two_ground_truths_for_one_scan(folder: Path) -> None:
    gt = folder / "sphere" / "ground_truth" / "bulge" / "000.txt"
    np.save(gt.with_suffix(".npy"), np.loadtxt(gt).astype(np.int8))
    with pytest.raises(DataError, match=r"two ground truths for scan bulge/000: 000\.npy and 000\.txt"):
        _subset("pointcloud.folder", folder)


def test_object_array_ground_truth_names_the_file(folder: Path) -> None:
    gt = folder / "sphere" / "ground_truth" / "bulge" / "000.txt"
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = [0, 1], [1]
    np.save(gt.with_suffix(".npy"), ragged, allow_pickle=True)
    gt.unlink()
    with pytest.raises(DataError, match=r"000\.npy: holds an object array .*numeric") as info:
        _subset("pointcloud.folder", folder)
    assert "allow_pickle" not in str(info.value)


def test_defective_scans_without_ground_truth_are_counted(folder: Path) -> None:
    shutil.rmtree(folder / "sphere" / "ground_truth" / "hole")
    with pytest.warns(UserWarning, match=r"2 defective test scans without ground truth, labelled anomalous in every point.*"
                                         r"hole/000, hole/001"):
        sub = _subset("pointcloud.folder", folder)
    assert sub.meta["counts"] == {"defective_scans_without_ground_truth": 2}
    holes = [t for t, i in zip(sub.test.targets, sub.test.ids, strict=True) if i.startswith("hole/")]
    assert len(holes) == 2 and all(t.all() for t in holes)


def test_normal_scan_ground_truth_must_be_all_normal(folder: Path) -> None:
    (folder / "sphere" / "ground_truth" / "good").mkdir()
    np.savetxt(folder / "sphere" / "ground_truth" / "good" / "000.txt", np.r_[np.ones(3), np.zeros(197)], fmt="%d")
    with pytest.raises(DataError, match=r"good/000\.txt: the normal scan good/000 has 3 points labelled anomalous"):
        _subset("pointcloud.folder", folder)
    np.savetxt(folder / "sphere" / "ground_truth" / "good" / "000.txt", np.zeros(200), fmt="%d")
    assert _subset("pointcloud.folder", folder).meta["counts"] == {}


def test_unknown_files_and_padding_are_counted(folder: Path) -> None:
    (folder / "sphere" / "test" / "good" / "notes.md").write_text("scanned on a Tuesday")
    (folder / "sphere" / "test" / "good" / ".DS_Store").write_bytes(b"\0")  # hidden: never data, never counted
    ply = folder / "sphere" / "train" / "good" / "000.ply"
    ply.write_bytes(ply.read_bytes() + b"\n")
    with pytest.warns(UserWarning) as caught:
        sub = _subset("pointcloud.folder", folder)
    said = [str(w.message) for w in caught]
    assert any(m.endswith("1 file in a format no reader knows, skipped: good/notes.md") for m in said), said
    assert any(m.startswith(f"{ply}: 1 byte after the declared PLY elements") for m in said), said
    assert sub.meta["counts"] == {"files_skipped_unknown_format": 1, "files_with_trailing_bytes": 1}


def test_two_scans_with_one_name(folder: Path) -> None:
    scan = next((folder / "sphere" / "test" / "bulge").glob("000.*"))
    shutil.copy(scan, scan.with_suffix(".xyz" if scan.suffix != ".xyz" else ".ply"))
    with pytest.raises(DataError, match=r"two scans named 000 in .*bulge"):
        _subset("pointcloud.folder", folder)


def test_a_grid_job_record_names_the_bad_file(folder: Path, tmp_path: Path) -> None:
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = np.zeros(3), np.zeros(4)
    bad = folder / "sphere" / "test" / "good" / "bad.npz"
    np.savez(bad, points=ragged)
    cfg = parse_config({
        "output_dir": str(tmp_path / "out"), "examples": 0, "metrics": ["core.auroc"],
        "detectors": [{"id": "pointcloud.btf_raw"}],
        "datasets": [{"id": "pointcloud.folder", "params": {"root": str(folder)}}],
    })
    record = run(cfg, progress=False).records[0]
    assert record["status"] == "failed"
    text = str(record)
    assert f"{bad}: array 'points' is an object array" in text
    assert "allow_pickle" not in text


@pytest.mark.parametrize(("dataset_id", "layout", "gt_dir", "pattern"), [
    ("pointcloud.real3d", "real3d", "gt", "*_bulge.txt"),
    ("pointcloud.anomaly_shapenet", "shapenet", "GT", "*bulge*.txt"),
])
def test_released_layouts_count_stray_ground_truth(tmp_path: Path, dataset_id: str, layout: str, gt_dir: str,
                                                   pattern: str) -> None:
    root = write_benchmark(tmp_path / layout, layout, SMALL)
    gt = sorted((root / "sphere" / gt_dir).glob(pattern))[0]
    shutil.copy(gt, gt.with_name("999_scratch.txt"))
    scan = next((root / "sphere" / "test").glob("*.pcd"))
    shutil.copy(scan, scan.with_name("000_temp.pcd"))
    with pytest.warns(UserWarning, match=rf"1 ground-truth file not used: named after no test scan .*sphere/{gt_dir}/999_scratch\.txt"):
        sub = _subset(dataset_id, root)
    assert sub.meta["counts"] == {"unmatched_ground_truth": 1, "test_templates_skipped": 1}
    assert len(sub.test) == 5


def test_mvtec3d_counts_stray_masks_and_names_broken_ones(tmp_path: Path) -> None:
    root = write_benchmark(tmp_path / "m", "mvtec3d", SMALL, grid_size=16)
    gt_dir = root / "sphere" / "test" / "bulge" / "gt"
    shutil.copy(gt_dir / "000.png", gt_dir / "099.png")
    with pytest.warns(UserWarning, match=r"1 ground-truth file not used: named after no test scan .*bulge/gt/099\.png"):
        sub = _subset("pointcloud.mvtec3d", root)
    assert sub.meta["counts"] == {"unmatched_ground_truth": 1}
    (gt_dir / "000.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"bulge/gt/000\.png: not a readable image"):
        _subset("pointcloud.mvtec3d", root)
    (root / "sphere" / "test" / "bulge" / "rgb" / "001.png").write_bytes(b"\0\0")
    (gt_dir / "099.png").unlink()
    shutil.copy(gt_dir / "001.png", gt_dir / "000.png")
    with pytest.raises(DataError, match=r"rgb/001\.png: not a readable image"):
        _subset("pointcloud.mvtec3d", root, use_rgb=True)

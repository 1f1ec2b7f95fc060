"""Point clouds on your own data: the README's commands in fresh processes, equal to the Python API.

No real 3D anomaly data exists on these machines (nothing in ../shared), so the files are the
ones ``python -m omniad_pointcloud.generate`` writes, as the README says; small clouds keep the
whole module to well under a minute on 2 cores.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import omniad
from omniad.decision import Decisions
from omniad.detector import Detector
from omniad.errors import DataError
from omniad.plugins import get_registry
from omniad.scores import Scores
from omniad.sources import SourceSpec, resolve
from omniad.testing.scores import assert_same_scores
from omniad_pointcloud.datasets.generator import write_benchmark
from omniad_pointcloud.datasets.render import pick_results

SMALL = ["--shapes", "sphere", "--n-points", "1000", "--n-train", "5", "--n-test-normal", "2",
         "--n-test-per-defect", "1", "--defects", "bulge", "dent"]
DETECTOR = "pointcloud.btf_fpfh"
PARAMS = {"n_centres": 64}
ENV = {**os.environ, "PYTHONHASHSEED": "0"}


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=ENV, timeout=600)


def _quiet(_: str) -> None:
    pass


@pytest.fixture(scope="module")
def clouds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's one-liner, in a fresh process."""
    root = tmp_path_factory.mktemp("own") / "clouds"
    proc = _run("-m", "omniad_pointcloud.generate", str(root), *SMALL)
    assert proc.returncode == 0, proc.stderr
    assert f"under {root} (folder layout" in proc.stdout
    return root


@pytest.fixture(scope="module")
def cli_run(clouds: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``omniad fit`` on the normal clouds, ``omniad score`` on one file and on the labelled shape folder."""
    work = tmp_path_factory.mktemp("cli")
    model, one, folder = work / "model", work / "one", work / "folder"
    commands = (
        ["fit", DETECTOR, str(clouds / "sphere" / "train" / "good"), "-o", str(model), "-p", "n_centres=64"],
        ["score", str(model), str(clouds / "sphere" / "test" / "bulge" / "000.ply"), "-o", str(one)],
        ["score", str(model), str(clouds / "sphere"), "-o", str(folder)],
    )
    for argv in commands:
        proc = _run("-m", "omniad", *argv)
        assert proc.returncode == 0, f"omniad {' '.join(argv)}:\n{proc.stderr[-3000:]}"
    return {"model": model, "one": one, "folder": folder}


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def test_fit_and_score_a_file_in_fresh_processes_equal_the_python_api(clouds: Path, cli_run: dict[str, Path]) -> None:
    out = cli_run["one"]
    samples, elements = _csv(out / "samples.csv"), _csv(out / "elements.csv")
    assert [(r["subset"], r["sample"]) for r in samples] == [("bulge", "000.ply")]
    assert list(elements[0]) == ["subset", "sample", "point", "x", "y", "z", "score", "decision"]
    assert [int(r["point"]) for r in elements] == list(range(1000))
    pictures = sorted((out / "pictures").rglob("*.png"))
    assert len(pictures) == 1 and pictures[0].read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((out / "summary.json").read_text())
    assert "the source has no labels: metrics skipped (scores and decisions only)" in summary["notes"]
    assert summary["metrics"] == {} and summary["source"]["loader"] == "pointcloud.folder"

    model = omniad.fit(DETECTOR, clouds / "sphere" / "train" / "good", params=PARAMS, device="cpu", say=_quiet)
    api = omniad.score(model, clouds / "sphere" / "test" / "bulge" / "000.ply", say=_quiet)
    assert [(r["sample"], r["score"], r["decision"]) for r in api.samples.rows()] == [
        (r["sample"], float(r["score"]), int(r["decision"])) for r in samples]  # exactly, not approximately
    assert api.elements.columns["score"] == [float(r["score"]) for r in elements]
    assert api.elements.columns["x"] == [float(r["x"]) for r in elements]


def test_a_labelled_folder_gets_metrics_and_names_clouds_by_their_path(cli_run: dict[str, Path]) -> None:
    out = cli_run["folder"]
    samples = _csv(out / "samples.csv")
    names = [r["sample"] for r in samples]
    assert names[:5] == [f"train/good/{i:03d}.ply" for i in range(5)]
    assert {"test/bulge/000.ply", "test/dent/000.ply", "test/good/001.pcd"} <= set(names)
    assert sum(int(r["label"]) for r in samples) == 2
    summary = json.loads((out / "summary.json").read_text())
    # measured: sample AUROC 1.0, point AUROC 0.999 (generator seeds 1-3: 1.0 / 1.0 / 0.857 and 0.996 / 0.998 /
    # 0.995, the same with 1 and 2 torch threads); both defective clouds flagged at every seed
    assert summary["metrics"]["sample_auroc"] >= 0.75 and summary["metrics"]["element_auroc"] >= 0.9
    flagged = {r["sample"] for r in samples if r["decision"] == "1"}
    assert {"test/bulge/000.ply", "test/dent/000.ply"} <= flagged
    pictures = sorted(p.name for p in (out / "pictures" / "sphere").glob("*.png"))
    assert len(pictures) == 8 and pictures[0][3:-4] in {n.replace("/", "_") for n in flagged}


def test_detect_on_an_unlabelled_folder_of_scans(clouds: Path, tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    shutil.copytree(clouds / "sphere" / "test", scans / "2024")
    (scans / "notes.md").write_text("scanned on a Tuesday")
    said: list[str] = []
    with pytest.warns(UserWarning, match="subset 'scans': 1 file in a format no reader knows, skipped: notes.md"):
        _, results = omniad.detect(DETECTOR, scans, params=PARAMS, contamination=0.25, device="cpu",
                                   say=said.append)
    assert said[0] == f"reading {scans} with pointcloud.folder (it reads a folder)"
    assert "the source has no labels: metrics skipped (scores and decisions only)" in results.notes
    names = [r["sample"] for r in results.samples.rows()]
    assert names == sorted(names) and "2024/bulge/000.ply" in names and len(names) == 4


def _fitted(clouds: Path) -> Detector:
    train = [omniad_pointcloud_read(f) for f in sorted((clouds / "sphere" / "train" / "good").glob("*.ply"))]
    return omniad.create_detector(DETECTOR, PARAMS, device="cpu", seed=0).fit(train)


def test_bare_arrays_and_paths(clouds: Path) -> None:
    det = _fitted(clouds)
    path = clouds / "sphere" / "test" / "bulge" / "000.ply"
    cloud = omniad_pointcloud_read(path)
    one = det.score(cloud).sample
    assert one.shape == (1,)  # one (N, 3) array is one cloud, not N samples
    assert_same_scores(det.score([cloud]).sample, one)
    assert_same_scores(det.score(str(path)).sample, one)
    # the same points in another memory layout give the same score (they gave 0.19924 instead of 0.19933)
    assert_same_scores(det.score(np.asfortranarray(cloud)).sample, one)
    assert_same_scores(det.score(np.stack([cloud, cloud])).sample, np.r_[one, one])  # (B, N, 3)
    assert det.score(str(clouds / "sphere" / "test")).sample.shape == (4,)
    what = r"pass one cloud as an \(N, 3\) array of x, y, z"
    with pytest.raises(DataError, match=rf"got an array of shape \(1000,\); {what}"):
        det.score(cloud[:, 0])
    with pytest.raises(DataError, match=r"first item has shape \(3,\), one point rather than a cloud"):
        det.score([list(p) for p in cloud])
    with pytest.raises(DataError, match=f"got float; {what}"):
        det.score(3.0)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="does not exist"):
        det.score(str(clouds / "no-such.ply"))
    (clouds.parent / "notes.md").write_text("x")
    with pytest.raises(DataError, match=r"no installed loader reads a \.md file of pointcloud data"):
        det.score(str(clouds.parent / "notes.md"))


def test_a_dataframe_with_x_y_z_is_one_cloud(clouds: Path) -> None:
    pd = pytest.importorskip("pandas", reason="pandas is not installed (not a dependency of omniad-pointcloud)")
    det = _fitted(clouds)
    cloud = omniad_pointcloud_read(clouds / "sphere" / "test" / "bulge" / "000.ply")
    frame = pd.DataFrame(cloud.astype(np.float64), columns=["X", "Y", "Z"])  # exported Fortran-ordered
    assert_same_scores(det.score(frame).sample, det.score(cloud).sample)
    with pytest.raises(DataError, match=r"a DataFrame is one cloud with columns x, y, z; it has columns \['a', 'b', 'c'\]"):
        det.score(pd.DataFrame(cloud, columns=["a", "b", "c"]))


def omniad_pointcloud_read(path: Path) -> np.ndarray:
    from omniad_pointcloud.io import read_cloud

    return read_cloud(path).points


@pytest.mark.parametrize(("layout", "loader"), [("folder", "pointcloud.folder"), ("real3d", "pointcloud.real3d"),
                                                ("shapenet", "pointcloud.anomaly_shapenet"),
                                                ("mvtec3d", "pointcloud.mvtec3d")])
def test_each_layout_picks_its_loader_and_reads_everything(tmp_path: Path, layout: str, loader: str) -> None:
    small = {"shapes": ["sphere"], "n_points": 200, "n_train": 2, "n_test_normal": 1, "n_test_per_defect": 1,
             "defects": ["bulge"]}
    root = write_benchmark(tmp_path / layout, layout, small, grid_size=16)  # type: ignore[arg-type]
    for path in (root, root / "sphere"):  # a root of categories, or one category folder
        resolved = resolve(SourceSpec(path=str(path)), get_registry(), modality="pointcloud")
        assert resolved.id == loader and resolved.params["split"] == "all"
        sub = next(iter(get_registry().get("dataset", loader).create(resolved.params).subsets()))
        extra = 1 if layout == "mvtec3d" else 0  # MVTec 3D-AD's validation/good scan
        assert len(sub.test) == 2 + 2 + extra and sub.test.n_anomalous == 1
        assert len(sub.train) == len(sub.test) - 1
        prefix = "sphere/" if path == root else ""
        assert all(i.startswith(prefix) and "." in i.rsplit("/", 1)[-1] for i in sub.test.ids), sub.test.ids
    single = next(f for f in sorted(root.rglob("*")) if f.suffix in (".pcd", ".ply", ".tiff"))
    assert resolve(SourceSpec(path=str(single)), get_registry(), modality="pointcloud").id == "pointcloud.folder"


def test_released_layouts_without_ground_truth_are_unlabelled(tmp_path: Path) -> None:
    small = {"shapes": ["sphere"], "n_points": 200, "n_train": 2, "n_test_normal": 1, "n_test_per_defect": 1,
             "defects": ["bulge"]}
    root = write_benchmark(tmp_path / "r", "real3d", small)
    gt = root / "sphere" / "gt"
    next(gt.glob("*_bulge.txt")).write_text("0 0 0 1\n")
    for split in ("benchmark", "all"):  # a wrong label file is still an error
        with pytest.raises(DataError, match="labelled points but the scan"):
            omniad.create_dataset("pointcloud.real3d", {"root": str(root), "split": split}).load()
    shutil.rmtree(gt)
    for split in ("benchmark", "all"):
        sub = omniad.create_dataset("pointcloud.real3d", {"root": str(root), "split": split}).load()[0]
        assert sub.test.labels is None and sub.test.targets is None
    model = omniad.fit(DETECTOR, root / "sphere" / "train", params={"n_centres": 32}, device="cpu", say=_quiet)
    results = omniad.score(model, root, say=_quiet)
    assert "the source has no labels: metrics skipped (scores and decisions only)" in results.notes
    assert results.samples.n_rows == 4


def test_mvtec3d_defect_kind_without_masks_is_object_level_and_counted(tmp_path: Path) -> None:
    small = {"shapes": ["sphere"], "n_points": 200, "n_train": 1, "n_test_normal": 1, "n_test_per_defect": 1,
             "defects": ["bulge"]}
    root = write_benchmark(tmp_path / "m", "mvtec3d", small, grid_size=16)
    shutil.rmtree(root / "sphere" / "test" / "bulge" / "gt")
    with pytest.warns(UserWarning, match="1 defective test scan without ground truth"):
        sub = omniad.create_dataset("pointcloud.mvtec3d", {"root": str(root)}).load()[0]
    assert sub.meta["counts"] == {"defective_scans_without_ground_truth": 1}
    assert sub.test.targets[sub.test.ids.index("bulge/000")].all()


def test_a_folder_without_clouds_and_an_unknown_file(tmp_path: Path) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "sub" / "readme.md").write_text("x")
    with pytest.raises(DataError, match=r"no installed loader reads|none of the loaders"):
        omniad.fit(DETECTOR, tmp_path / "empty", say=_quiet)
    with pytest.raises(DataError, match=r"holds no \.ply/.* files \(its subfolders searched too\)"):
        omniad.create_dataset("pointcloud.folder", {"root": str(tmp_path / "empty"), "split": "all"}).load()
    with pytest.raises(DataError, match=r"readme\.md is not a point cloud file"):
        omniad.create_dataset("pointcloud.folder", {"root": str(tmp_path / "empty" / "sub" / "readme.md"),
                                                    "split": "all"}).load()


def test_pictures_show_the_flagged_clouds_then_the_near_misses() -> None:
    scores = Scores(sample=np.array([0.1, 0.9, 0.5, 0.7, 0.3, 0.2]))
    decided = Decisions(scores, np.array([0, 1, 0, 1, 0, 0], np.int8), None, 0.6, None)
    assert pick_results(decided, 4) == [1, 3, 2, 4]  # both flagged, then the highest-scored normal ones
    assert pick_results(decided, 3) == [1, 3, 2]
    undecided = Decisions(scores, None, None, None, None)
    assert pick_results(undecided, 2) == [1, 3]


def test_the_generator_says_what_is_wrong_in_one_line(tmp_path: Path) -> None:
    proc = _run("-m", "omniad_pointcloud.generate", str(tmp_path / "x"), "--shapes", "blob")
    assert proc.returncode == 2 and proc.stderr.startswith("error: dataset 'pointcloud.synthetic': invalid parameters")
    assert "unknown shape 'blob'" in proc.stderr and "Traceback" not in proc.stderr

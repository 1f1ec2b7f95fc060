"""SimpleNet: conformance, truncated L1 loss, and detection of easy defects with local ImageNet features."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from omniad import ConfigError, DataError, Detector
from omniad.metrics.ranking import roc_auc
from omniad.plugins import get_registry
from omniad.testing import DetectorConformance
from omniad_vision.backbones import find_local_imagenet
from omniad_vision.detectors.simplenet.model import truncated_l1

TINY = {"image_size": 64, "weights": None, "hidden": 16, "epochs": 2, "batch_size": 4}
DATA = {"textures": ["stripes"], "n_train": 6, "n_test_normal": 3, "n_test_anomalous": 3, "image_size": 64}


@pytest.fixture(autouse=True, scope="module")
def _one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def synthetic(**overrides: object):
    return next(iter(get_registry().get("dataset", "vision.synthetic").create({**DATA, **overrides}).subsets()))


class TestSimpleNetConformance(DetectorConformance):
    detector_id = "vision.simplenet"
    params = TINY

    def make_subset(self):
        return synthetic()

    def fitted(self, seed: int = 0) -> Detector:
        if seed != 0:  # determinism still fits twice with seed 123
            return super().fitted(seed)
        if not hasattr(type(self), "_fitted0"):
            type(self)._fitted0 = super().fitted(seed)
        return type(self)._fitted0


def test_truncated_l1_is_zero_beyond_the_margins() -> None:
    real = torch.tensor([0.7, 0.2])
    fake = torch.tensor([-0.9, 0.0])
    # real: max(0, .5-.7)=0, max(0, .5-.2)=.3 -> mean .15; fake: max(0, .5-.9)=0, max(0, .5+0)=.5 -> mean .25
    assert truncated_l1(real, fake, 0.5).item() == pytest.approx(0.4)
    assert truncated_l1(torch.tensor([1.0]), torch.tensor([-1.0]), 0.5).item() == 0.0


def test_even_patch_size_and_unknown_layer_rejected() -> None:
    entry = get_registry().get("detector", "vision.simplenet")
    with pytest.raises(ConfigError, match="odd"):
        entry.create({"patch_size": 2})
    det = entry.create({**TINY, "layers": ["blocks.99"]}, device="cpu")
    with pytest.raises(ConfigError, match="no feature layer"):
        det.fit(synthetic().train.samples)


def test_missing_weight_file_is_a_clear_error(tmp_path) -> None:
    det = get_registry().get("detector", "vision.simplenet").create(
        {**TINY, "weights": str(tmp_path / "none.safetensors")}, device="cpu"
    )
    with pytest.raises(DataError, match="does not exist"):
        det.fit(synthetic().train.samples)


@pytest.mark.skipif(find_local_imagenet("mobilenetv2_100") is None, reason="no local MobileNetV2 ImageNet weights "
                    "(put them in $OMNIAD_WEIGHTS_DIR or $OMNIAD_SHARED_DATA/weights)")
def test_detects_easy_synthetic_defects_with_imagenet_features() -> None:
    subset = synthetic(image_size=96, n_train=10, n_test_normal=6, n_test_anomalous=6, defects=["perlin", "cutpaste"])
    params = {"image_size": 96, "epochs": 30, "hidden": 64, "noise_std": 0.1, "adaptor_lr": 1e-3,
              "discriminator_lr": 1e-3}
    for seed in (0, 1):
        det = get_registry().get("detector", "vision.simplenet").create(params, device="cpu", seed=seed)
        scores = det.fit(subset.train.samples).score(subset.test.samples)
        assert roc_auc(subset.test.labels, scores.sample) >= 0.9, seed
        pixels = roc_auc(
            np.concatenate([t.ravel() for t in subset.test.targets]), np.concatenate([m.ravel() for m in scores.local])
        )
        assert pixels >= 0.85, seed
        assert np.mean(det.train_losses_[-5:]) < 0.5 * np.mean(det.train_losses_[:5])

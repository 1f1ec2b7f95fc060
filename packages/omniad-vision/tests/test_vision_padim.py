"""PaDiM: conformance, Ledoit-Wolf against scikit-learn, Mahalanobis by hand, behaviour."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.covariance import ledoit_wolf

import omniad
from omniad import ConfigError
from omniad.metrics import roc_auc
from omniad_vision.detectors.padim.covariance import ledoit_wolf_covariance, ridge_covariance
from omniad_vision.testing import TINY_BACKBONE, VisionDetectorConformance, tiny_subset

PARAMS = {**TINY_BACKBONE, "n_features": 48}


class TestPaDiMConformance(VisionDetectorConformance):
    detector_id = "vision.padim"
    params = PARAMS
    atol = 1e-4



class TestPaDiMLedoitWolfConformance(TestPaDiMConformance):
    params = {**PARAMS, "covariance": "ledoit_wolf"}


def test_ledoit_wolf_matches_scikit_learn_per_position() -> None:
    x = torch.randn(12, 5, 20, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x[:, 2] *= torch.linspace(0.1, 3, 20, dtype=torch.float64)  # anisotropic position
    mean, cov, shrink = ledoit_wolf_covariance(x)
    for p in range(5):
        ref_cov, ref_shrink = ledoit_wolf(x[:, p].numpy())
        assert float(shrink[p]) == pytest.approx(ref_shrink, rel=1e-9)
        np.testing.assert_allclose(cov[p].numpy(), ref_cov, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(mean.numpy(), x.mean(0).numpy())


def test_ridge_covariance_is_the_papers() -> None:
    x = torch.randn(9, 3, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    _, cov = ridge_covariance(x, 0.01)
    for p in range(3):
        np.testing.assert_allclose(cov[p].numpy(), np.cov(x[:, p].numpy(), rowvar=False) + 0.01 * np.eye(4), rtol=1e-12)


def test_map_is_the_mahalanobis_distance_per_position() -> None:
    subset = tiny_subset("noise", n_train=6, n_normal=2, n_anomalous=2, size=48)
    det = omniad.create_detector("vision.padim", {**PARAMS, "blur_sigma": 0}, device="cpu", seed=0).fit(subset.train.samples)
    x = next(det.batches([subset.test.samples[3]], "t"))[2]
    with torch.no_grad():
        emb = det.graph_.embed(x)[0].flatten(1).T.double()  # (P, d)
        delta = emb - det.mean_.double()
        expected = torch.stack([torch.sqrt(d @ det.precision_[i].double() @ d) for i, d in enumerate(delta)])
        _, maps = det.graph_.score(x)
    grid = int(expected.numel() ** 0.5)
    upsampled = torch.nn.functional.interpolate(expected.reshape(1, 1, grid, grid), size=(64, 64), mode="bilinear")
    np.testing.assert_allclose(maps[0].numpy(), upsampled[0, 0].numpy(), rtol=1e-4, atol=1e-4)
    assert det.channels_.numel() == 48 and torch.all(det.channels_[1:] > det.channels_[:-1])


@pytest.mark.parametrize("covariance", ["ridge", "ledoit_wolf"])
def test_finds_synthetic_defects(covariance: str) -> None:
    subset = tiny_subset("stripes", n_train=16, n_normal=10, n_anomalous=10, size=64)
    det = omniad.create_detector("vision.padim", {**PARAMS, "covariance": covariance}, device="cpu", seed=0)
    scores = det.fit(subset.train.samples).score(subset.test.samples)
    # measured image / pixel AUROC: ridge 1.0 / 0.986, Ledoit-Wolf 0.98 / 0.986 (seeds 1-3: 1.0 / >= 0.990)
    assert roc_auc(subset.test.labels, scores.sample) > 0.9
    y = np.concatenate([np.asarray(t).ravel() for t in subset.test.targets])
    assert roc_auc(y, np.concatenate([m.ravel() for m in scores.local])) > 0.9


def test_errors() -> None:
    samples = tiny_subset(n_train=3).train.samples
    with pytest.raises(ConfigError, match="n_features=500 but layers.*give only 192 channels"):
        omniad.create_detector("vision.padim", {**PARAMS, "n_features": 500}, device="cpu").fit(samples)
    with pytest.raises(omniad.DataError, match="singular; use ridge > 0"):
        omniad.create_detector("vision.padim", {**PARAMS, "ridge": 0.0}, device="cpu").fit(samples)

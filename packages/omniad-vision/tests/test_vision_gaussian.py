"""Gaussian MVG: conformance (image-level only), the per-level Mahalanobis sum by hand, NPCA."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.covariance import LedoitWolf

import omniad
from omniad import DataError
from omniad.metrics import roc_auc
from omniad_vision.testing import TINY_BACKBONE, VisionDetectorConformance, tiny_subset

PARAMS = dict(TINY_BACKBONE)  # two levels: 64 + 128 channels


class TestGaussianMVGConformance(VisionDetectorConformance):
    detector_id = "vision.gaussian_mvg"
    texture = "noise"
    params = PARAMS



class TestGaussianMVGNPCAConformance(TestGaussianMVGConformance):
    params = {**PARAMS, "npca_variance": 0.9}


def _pooled(det: omniad.Detector, samples: object) -> list[np.ndarray]:
    return det._pooled(samples, "t")


def test_score_is_the_sum_of_level_distances() -> None:
    subset = tiny_subset("noise", n_train=8, n_normal=2, n_anomalous=2, size=48)
    det = omniad.create_detector("vision.gaussian_mvg", PARAMS, device="cpu", seed=0).fit(subset.train.samples)
    train, test = _pooled(det, subset.train.samples), _pooled(det, subset.test.samples)
    expected = np.zeros(len(subset.test))
    for tr, te in zip(train, test, strict=True):
        lw = LedoitWolf().fit(tr)
        expected += np.sqrt(lw.mahalanobis(te))
    scores = det.score(subset.test.samples)
    assert scores.local is None
    np.testing.assert_allclose(scores.sample, expected, rtol=1e-6)


def test_npca_keeps_the_low_variance_components() -> None:
    det = omniad.create_detector("vision.gaussian_mvg", {**PARAMS, "npca_variance": 0.9}, device="cpu")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)) * np.array([10.0, 3.0, 1.0, 0.3])
    basis = det._npca_basis(x - x.mean(0))
    # variances 100, 9, 1, 0.09: the first explains 90.9% > 0.9, so components 2..4 remain
    assert basis.shape == (4, 3)
    assert np.abs(basis[0]).max() < 0.1


def test_finds_synthetic_defects() -> None:
    subset = tiny_subset("noise", n_train=16, n_normal=10, n_anomalous=10, size=64)
    three_levels = {**PARAMS, "layers": ["layer1", "layer2", "layer3"]}
    det = omniad.create_detector("vision.gaussian_mvg", three_levels, device="cpu", seed=0).fit(subset.train.samples)
    # measured 0.93 (seed 0; seeds 1-3, i.e. other random backbones: 0.87, 0.89, 0.92). The floor was
    # 0.9, three misordered pairs of 100 below the measurement; 0.85 keeps a margin
    assert roc_auc(subset.test.labels, det.score(subset.test.samples).sample) > 0.85


def test_errors(tmp_path: object) -> None:
    det = omniad.create_detector("vision.gaussian_mvg", PARAMS, device="cpu")
    with pytest.raises(DataError, match="at least 2 training images"):
        det.fit(tiny_subset(n_train=1).train.samples)
    with pytest.raises(omniad.ConfigError, match="ONNX export is offered for PatchCore and PaDiM"):
        det.export_onnx("x.onnx")
    assert torch.get_num_threads() >= 1

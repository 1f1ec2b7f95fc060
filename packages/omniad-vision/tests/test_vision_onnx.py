"""ONNX export of PatchCore and PaDiM: onnxruntime gives the scores and maps torch gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import omniad
from omniad_vision.preprocess import to_tensor
from omniad_vision.testing import TINY_BACKBONE, tiny_subset

pytest.importorskip("onnx", reason="onnx is an optional extra: pip install 'omniad-vision[onnx]'")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime is an optional extra")


@pytest.mark.parametrize(
    ("detector_id", "params"),
    [("vision.patchcore", {"coreset_ratio": 0.2}), ("vision.padim", {"n_features": 40})],
)
def test_onnx_matches_torch(detector_id: str, params: dict, tmp_path: Path) -> None:
    subset = tiny_subset("noise", n_train=6, n_normal=2, n_anomalous=3, size=64)
    det = omniad.create_detector(detector_id, {**TINY_BACKBONE, **params}, device="cpu", seed=0)
    det.fit(subset.train.samples)
    path = det.export_onnx(tmp_path / "model.onnx")
    images = [subset.test.samples[i] for i in range(len(subset.test))]
    x = to_tensor(images, (64, 64), det.params.mean, det.params.std)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    score, amap = session.run(["score", "anomaly_map"], {"image": x.numpy()})
    with torch.inference_mode():
        ref_score, ref_map = det.score_batch(x)
    np.testing.assert_allclose(score, ref_score.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(amap, ref_map.numpy(), rtol=1e-4, atol=1e-4)
    # and the same as the detector's public score (which also resizes maps to input size)
    np.testing.assert_allclose(score, det.score(images).sample, rtol=1e-4, atol=1e-4)

"""OracleAD specifics: stable latent structure, dual score, root-cause variables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

import omniad
from omniad.detector import Detector
from omniad.device import torch_cpu_threads

PARAMS = {"window": 16, "hidden_dim": 16, "embed_dim": 8, "n_heads": 2, "epochs": 6, "batch_size": 32, "lr": 5e-3}
BROKEN = 2  # the variable whose relation to the others breaks in the test series


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread() -> Iterator[None]:
    with torch_cpu_threads(1):
        yield


def coupled(length: int, seed: int) -> np.ndarray:
    """Four phase-locked sines: each variable is predictable from its past and from the others."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)[:, None]
    return np.sin(2 * np.pi * t / 25 + 0.6 * np.arange(4)) + 0.05 * rng.standard_normal((length, 4))


@pytest.fixture(scope="module")
def case() -> tuple[Detector, np.ndarray, np.ndarray]:
    det = omniad.create_detector("timeseries.oraclead", PARAMS, seed=0, device="cpu").fit([coupled(700, 0)])
    test = coupled(300, 1)
    labels = np.zeros(300, dtype=np.int8)
    test[150:175, BROKEN] *= -1  # phase inversion: locally plausible values, broken relation
    labels[150:175] = 1
    return det, test, labels


def test_dual_score_detects_broken_relation(case: tuple) -> None:
    det, test, labels = case
    assert roc_auc_score(labels, det.score([test]).local[0]) > 0.8  # measured 0.966 (seeds 1, 2: 0.966, 0.968)


def test_root_cause_is_the_broken_variable(case: tuple) -> None:
    det, test, labels = case
    per_var = det.score([test]).extras["per_variable"][0]
    assert per_var.shape == (300, 4)
    contribution = per_var[labels == 1].mean(0)
    assert int(np.argmax(contribution)) == BROKEN
    assert contribution[BROKEN] > 2 * np.delete(contribution, BROKEN).max()  # measured 37x (seeds 1, 2: 31x, 40x)


def test_local_score_is_mean_of_variable_contributions(case: tuple) -> None:
    det, test, _ = case
    scores = det.score([test])
    np.testing.assert_allclose(scores.local[0], scores.extras["per_variable"][0].mean(1), rtol=1e-9)


def test_stable_latent_structure_is_a_distance_matrix(case: tuple) -> None:
    det = case[0]
    sls = det.module_.sls.cpu().numpy()
    assert sls.shape == (4, 4)
    np.testing.assert_allclose(sls, sls.T, atol=1e-5)
    assert np.all(np.diag(sls) == 0) and np.all(sls[~np.eye(4, dtype=bool)] > 0)


def test_structure_term_counts(case: tuple) -> None:
    """Switching the SLS deviation off changes the score of a multivariate series."""
    det, test, _ = case
    full = det.score([test]).local[0]
    det_pred_only = omniad.create_detector("timeseries.oraclead", {**PARAMS, "structure_weight": 0.0}, device="cpu")
    det_pred_only.set_state(det.get_state())
    det_pred_only._fitted = True
    assert not np.allclose(det_pred_only.score([test]).local[0], full)


def test_saved_structure_survives_reload(case: tuple, tmp_path: Path) -> None:
    det, test, _ = case
    det.save(tmp_path / "oracle")
    loaded = Detector.load(tmp_path / "oracle", device="cpu")
    torch.testing.assert_close(loaded.module_.sls, det.module_.sls)
    np.testing.assert_allclose(loaded.score([test]).local[0], det.score([test]).local[0], rtol=1e-5)


def test_univariate_scores_prediction_error_only() -> None:
    x = coupled(300, 3)[:, 0]
    det = omniad.create_detector("timeseries.oraclead", {**PARAMS, "epochs": 1}, seed=0, device="cpu").fit([x])
    assert float(det.module_.sls.abs().max()) == 0.0
    assert np.all(np.isfinite(det.score([x]).local[0]))

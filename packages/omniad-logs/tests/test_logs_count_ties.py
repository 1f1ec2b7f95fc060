"""Count-vector scores must not depend on the machine's BLAS kernels.

PCA's residual shares (and log clustering's distance terms) come out of an SVD and matrix
products whose summation order depends on the CPU kernels: mathematically equal shares
differed by ~1e-16 and the within-session line AUROC of ``logs.pca`` on ``logs.synthetic``
read 0.685 on one machine and 0.604 on another. The scores are snapped (``count_base.snap``);
here the kernels' noise is imitated deterministically (a 1e-15 perturbation of the fitted
model, or the event columns in another order) and every score and metric must stay the same.
"""

from __future__ import annotations

import dataclasses
import tempfile
from typing import Any

import numpy as np
import pytest

from omniad import metrics as M
from omniad.data import Split, Subset
from omniad.plugins import get_registry
from omniad_logs.detectors.count_base import SNAP_BITS, snap
from omniad_logs.session import LogSession

_CACHE: list[Subset] = []


def synthetic() -> Subset:
    if not _CACHE:
        ds = get_registry().get("dataset", "logs.synthetic").create(
            {"n_sessions": 300, "root": tempfile.mkdtemp(prefix="omniad-logs-ties-")}
        )
        _CACHE.append(next(iter(ds.subsets())))
    return _CACHE[0]


def metric_values(split: Split, scores: Any) -> tuple[float, float, float]:
    registry = get_registry()
    return (
        M.roc_auc(split.labels, scores.sample),
        registry.get("metric", "core.local_auroc").create()(split, scores),
        registry.get("metric", "logs.session_line_auroc").create()(split, scores)["session_line_auroc"],
    )


def fit(detector_id: str, samples: list[Any]) -> Any:
    return get_registry().get("detector", detector_id).create({}, device="cpu", seed=0).fit(samples)


def within_session_ranks(local: list[np.ndarray]) -> list[list[int]]:
    """Dense ranks of the lines of each session (ties share a rank)."""
    return [list(np.unique(a, return_inverse=True)[1].reshape(-1)) for a in local]


def test_pca_scores_ignore_float_noise_in_the_projection() -> None:
    sub = synthetic()
    det = fit("logs.pca", sub.train.samples)
    before = det.score(sub.test.samples)
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(det.projection_.shape) * 1e-15
    det.projection_ = det.projection_ + (noise + noise.T) / 2
    after = det.score(sub.test.samples)
    assert within_session_ranks(after.local) == within_session_ranks(before.local)
    assert metric_values(sub.test, after) == metric_values(sub.test, before)
    np.testing.assert_array_equal(after.decision, before.decision)


def _renamed(sessions: list[LogSession], rename: dict[str, str]) -> list[LogSession]:
    return [dataclasses.replace(s, events=tuple(rename[e] for e in s.events)) for s in sessions]


@pytest.mark.parametrize("detector_id", ["logs.pca", "logs.log_clustering"])
def test_scores_do_not_depend_on_the_column_order(detector_id: str) -> None:
    """The same sessions with the event ids renamed so the sorted columns come in reverse order."""
    sub = synthetic()
    events = sorted({e for s in [*sub.train.samples, *sub.test.samples] for e in s.events})
    rename = {e: f"e{len(events) - i:03d}" for i, e in enumerate(events)}
    before = fit(detector_id, sub.train.samples).score(sub.test.samples)
    test = dataclasses.replace(sub.test, samples=_renamed(sub.test.samples, rename))
    after = fit(detector_id, _renamed(sub.train.samples, rename)).score(test.samples)
    assert within_session_ranks(after.local) == within_session_ranks(before.local)
    assert metric_values(test, after) == metric_values(sub.test, before)


def test_snap_merges_float_noise_and_keeps_exact_values() -> None:
    scale = np.array([1.0, 1.0 - 2**-53, 1.0 + 2**-52, 3.0, 1e6])  # ulps around 1 must not change the quantum
    base = np.array([0.3, 0.3, 0.3, 1.7, 123456.789])
    noisy = base * (1 + 4e-16)
    np.testing.assert_array_equal(snap(base, scale), snap(noisy, scale))
    assert len(set(snap(np.full(3, 0.3), scale[:3]))) == 1
    np.testing.assert_array_equal(snap(np.array([0.0, 1e-17, -1e-17]), 1.0), 0.0)  # noise around zero is zero
    ints = np.arange(-5.0, 6.0)
    np.testing.assert_array_equal(snap(ints, 5.0), ints)  # exact values stay exact
    assert np.abs(snap(base, scale) - base).max() <= 2.0 ** -(SNAP_BITS - 1) * scale.max()
    np.testing.assert_array_equal(snap(snap(base, scale), scale), snap(base, scale))

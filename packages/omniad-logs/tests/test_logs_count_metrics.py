"""``logs.session_line_auroc``: hand-worked cases, the conformance kit, and scikit-learn as reference."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from omniad.data import Split
from omniad.errors import DataError
from omniad.plugins import get_registry
from omniad.scores import Scores
from omniad.testing import MetricCase, MetricConformance


def split(labels: list[int], targets: list[list[int]]) -> Split:
    return Split(samples=list(range(len(labels))), labels=np.array(labels), targets=[np.array(t, dtype=np.int8) for t in targets])


def scores(local: list[list[float]]) -> Scores:
    return Scores(sample=np.array([max(m) for m in local]), local=[np.array(m, dtype=float) for m in local])


class TestSessionLineAUROC(MetricConformance):
    metric_id = "logs.session_line_auroc"

    def cases(self) -> list[MetricCase]:
        truth = split([0, 1, 1, 1], [[0, 0], [0, 1, 0], [1, 0, 0], [1, 1]])
        # session 1: the anomalous line ranks first (1.0); session 2: below one of two normal lines (0.5);
        # session 3 has only anomalous lines (skipped); the normal session 0 is not used
        return [
            MetricCase(
                truth=truth,
                scores=scores([[9.0, 9.0], [0.1, 0.8, 0.2], [0.5, 0.9, 0.1], [0.3, 0.3]]),
                expected={"session_line_auroc": 0.75, "n_sessions": 2, "n_skipped": 1},
            )
        ]


def test_matches_scikit_learn_per_session_mean() -> None:
    rng = np.random.default_rng(0)
    labels, targets, local = [], [], []
    for i in range(30):
        n = int(rng.integers(3, 12))
        t = (rng.random(n) < 0.3).astype(int) if i % 3 else np.zeros(n, dtype=int)
        if i % 3:
            t[0], t[-1] = 1, 0
        labels.append(int(t.any()))
        targets.append(t.tolist())
        local.append(rng.random(n).round(1).tolist())  # rounded: ties count half, as in scikit-learn
    metric = get_registry().get("metric", "logs.session_line_auroc").create()
    got = metric(split(labels, targets), scores(local))
    expected = [roc_auc_score(t, s) for lab, t, s in zip(labels, targets, local, strict=True) if lab]
    assert got["session_line_auroc"] == pytest.approx(np.mean(expected), abs=1e-12)
    assert got["n_sessions"] == len(expected)


def test_undefined_when_no_anomalous_session_has_normal_lines() -> None:
    metric = get_registry().get("metric", "logs.session_line_auroc").create()
    with pytest.raises(DataError, match="undefined; use core.local_auroc"):
        metric(split([0, 1], [[0, 0], [1, 1]]), scores([[0.1, 0.2], [0.3, 0.4]]))

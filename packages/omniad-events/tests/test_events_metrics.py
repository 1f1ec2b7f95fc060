"""The operating-point metrics against scikit-learn on random data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_curve

from omniad.data import Split
from omniad.errors import DataError
from omniad.plugins import get_registry
from omniad.scores import Scores
from omniad_events.metrics.ranking import precision_at_k, threshold_at_fpr


@pytest.mark.parametrize("seed", range(5))
def test_recall_at_fpr_matches_sklearn_roc_curve(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.normal(size=300) + y, 1)  # rounded: ties
    for fpr in (0.01, 0.05, 0.2):
        f, t, _ = roc_curve(y, s, drop_intermediate=False)
        _, recall, achieved = threshold_at_fpr(y, s, fpr)
        assert recall == pytest.approx(t[f <= fpr].max())
        assert achieved <= fpr


def test_precision_at_k_without_ties_is_the_share_of_anomalies_in_the_top_k() -> None:
    rng = np.random.default_rng(0)
    y, s = rng.integers(0, 2, 200), rng.random(200)
    for k in (1, 10, 57):
        assert precision_at_k(y, s, k) == pytest.approx(y[np.argsort(-s)[:k]].mean())


def test_category_recall_without_categories_says_so() -> None:
    metric = get_registry().get("metric", "events.category_recall").create({})
    split = Split(samples=[0, 1, 2], labels=np.array([0, 1, 1]))
    with pytest.raises(DataError, match="names no category"):
        metric(split, Scores(sample=np.array([0.1, 0.5, 0.9])))

"""The detector's own decision: carried by Scores, measured by core.prf_at_decision."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

import omniad
from omniad.data import Split
from omniad.errors import DataError
from omniad.scores import Scores


def test_prf_at_decision_equals_sklearn_on_the_decisions_not_the_scores() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 50)
    decision = rng.integers(0, 2, 50)
    scores = Scores(sample=rng.random(50), decision=decision)  # scores unrelated to decisions
    value = omniad.create_metric("core.prf_at_decision")(Split(samples=list(range(50)), labels=labels), scores)
    assert value["f1"] == pytest.approx(f1_score(labels, decision))
    assert value["precision"] == pytest.approx(precision_score(labels, decision))
    assert value["recall"] == pytest.approx(recall_score(labels, decision))


def test_prf_at_decision_without_decisions_says_which_metric_to_use() -> None:
    split = Split(samples=[0, 1], labels=[0, 1])
    with pytest.raises(DataError, match=r"no decision of its own.*core\.f1_max"):
        omniad.create_metric("core.prf_at_decision")(split, Scores(sample=[0.1, 0.9]))


def test_scores_validate_rejects_misaligned_or_non_binary_decisions() -> None:
    with pytest.raises(DataError, match="2 decisions for 3 samples"):
        Scores(sample=[0, 1, 2], decision=[0, 1]).validate(3, "det")
    with pytest.raises(DataError, match="0 \\(normal\\) or 1"):
        Scores(sample=[0, 1], decision=[0, 2]).validate(2, "det")

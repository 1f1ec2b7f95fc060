"""Recall at a fixed false-positive rate, checked on cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

import omniad
from omniad import Scores, Split
from omniad.errors import ConfigError, DataError
from omniad.testing import MetricCase, MetricConformance
from omniad_plugin_template.plugin import PREFIX

METRIC = f"{PREFIX}.recall_at_fpr"

# Ten normals scored 0.0 .. 0.9 and four anomalies. Ranked from the top:
# 0.95 A, 0.90 N, 0.85 A, 0.80 N, ... so flagging down to 0.85 costs one false positive.
NORMAL = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
ANOMALOUS = [0.95, 0.85, 0.5, 0.05]
TRUTH = Split(samples=np.zeros(14), labels=[0] * 10 + [1] * 4)
SCORES = Scores(sample=NORMAL + ANOMALOUS)
# Ties: the top normal shares 0.9 with two anomalies; a threshold cannot split them.
TIED_TRUTH = Split(samples=np.zeros(13), labels=[0] * 10 + [1] * 3)
TIED = Scores(sample=[0.1] * 9 + [0.9] + [0.9, 0.9, 0.05])


class TestRecallAtFPRConformance(MetricConformance):
    metric_id = METRIC

    def cases(self) -> list[MetricCase]:
        return [
            # one false positive allowed (10%): catch 0.95 and 0.85 -> 2 of 4
            MetricCase(TRUTH, SCORES, {"recall": 0.5, "fpr": 0.1}, params={"max_fpr": 0.1}),
            # 15% still allows only one of ten normals
            MetricCase(TRUTH, SCORES, {"recall": 0.5, "fpr": 0.1}, params={"max_fpr": 0.15}),
            # no false positive: only 0.95 -> 1 of 4
            MetricCase(TRUTH, SCORES, {"recall": 0.25, "fpr": 0.0}, params={"max_fpr": 0.0}),
            # three false positives (down to 0.7): still 2 of 4; four (down to 0.5) gets the third
            MetricCase(TRUTH, SCORES, {"recall": 0.5, "fpr": 0.3}, params={"max_fpr": 0.3}),
            MetricCase(TRUTH, SCORES, {"recall": 0.75, "fpr": 0.5}, params={"max_fpr": 0.5}),
            # the default budget (5%) allows no false positive among ten normals
            MetricCase(TRUTH, SCORES, 0.25),
            # ties: flagging 0.9 costs a false positive, so 5% flags nothing and 10% flags 2 of 3
            MetricCase(TIED_TRUTH, TIED, {"recall": 0.0, "fpr": 0.0}, params={"max_fpr": 0.05}),
            MetricCase(TIED_TRUTH, TIED, {"recall": 2 / 3, "fpr": 0.1}, params={"max_fpr": 0.1}),
        ]


def metric(**params: float) -> omniad.Metric:
    return omniad.create_metric(METRIC, params)


def test_threshold_is_the_one_that_reaches_the_recall() -> None:
    assert metric(max_fpr=0.1)(TRUTH, SCORES)["threshold"] == 0.85
    flags_nothing = metric(max_fpr=0.05)(TIED_TRUTH, TIED)["threshold"]
    assert 0.9 < flags_nothing < 0.9 + 1e-12


def test_perfect_and_useless_rankings() -> None:
    truth = Split(samples=np.zeros(6), labels=[0, 0, 0, 1, 1, 1])
    assert metric()(truth, Scores(sample=[1, 2, 3, 4, 5, 6]))["recall"] == 1.0
    assert metric(max_fpr=0.5)(truth, Scores(sample=[6, 5, 4, 3, 2, 1]))["recall"] == 0.0


def test_invalid_inputs_fail_clearly() -> None:
    with pytest.raises(ConfigError, match="max_fpr"):
        metric(max_fpr=1.0)
    with pytest.raises(DataError, match="no anomalous"):
        metric()(Split(samples=np.zeros(3), labels=[0, 0, 0]), Scores(sample=[1, 2, 3]))
    with pytest.raises(DataError, match="3 labels but 2 scores"):
        metric()(Split(samples=np.zeros(3), labels=[0, 1, 0]), Scores(sample=[1, 2]))

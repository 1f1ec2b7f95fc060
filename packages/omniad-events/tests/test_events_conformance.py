"""The conformance kit on every event component (small synthetic data, tiny models)."""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.data import Split
from omniad.scores import Scores
from omniad.testing import DatasetConformance, DetectorConformance, MetricCase, MetricConformance

SMALL = {"n_train": 80, "n_test_normal": 24, "n_test_anomalous": 12}


class _Events(DetectorConformance):
    dataset_id = "events.synthetic"
    dataset_params = SMALL

    def make_bad_samples(self) -> list[Any]:
        return [42, "not an event"]


class TestAVF(_Events):
    detector_id = "events.avf"


class TestAPE(_Events):
    detector_id = "events.ape"
    params = {"epochs": 1, "min_steps": 8, "dim": 4, "batch_size": 64, "negatives": 2}
    max_tamperings = 12


class TestAPETails(_Events):
    detector_id = "events.ape"
    params = {"epochs": 1, "min_steps": 8, "dim": 4, "batch_size": 64, "numeric_tails": True}
    max_tamperings = 12


class TestAPEEnsemble(_Events):
    detector_id = "events.ape"
    params = {"epochs": 1, "min_steps": 8, "dim": 4, "batch_size": 64, "n_models": 2}
    max_tamperings = 12


class TestCLANTails(_Events):
    detector_id = "events.clan"
    params = {"epochs": 1, "hidden": [16], "rep_dim": 8, "batch_size": 32, "numeric_tails": True}
    max_tamperings = 12


class TestCLAN(_Events):
    detector_id = "events.clan"
    params = {"epochs": 2, "hidden": [16], "rep_dim": 8, "batch_size": 32}
    max_tamperings = 12


class TestCAR(_Events):
    detector_id = "events.car"
    params = {"epochs": 1, "min_steps": 8, "dim": 4, "batch_size": 64, "sequence_fields": ["service"]}
    max_tamperings = 12


class TestEmbeddedKNN(_Events):
    detector_id = "events.embedded"
    params = {"detector": "core.knn", "detector_params": {"n_neighbors": 3}}


class TestEmbeddedFrequency(_Events):
    detector_id = "events.embedded"
    params = {"encoding": "frequency", "detector": "core.mahalanobis"}


class TestSynthetic(DatasetConformance):
    dataset_id = "events.synthetic"
    params = SMALL


def _split(labels: list[int], categories: list[str] | None = None) -> Split:
    meta = {} if categories is None else {"categories": categories}
    return Split(samples=list(range(len(labels))), labels=np.array(labels), meta=meta)


class TestPrecisionAtK(MetricConformance):
    metric_id = "events.precision_at_k"

    def cases(self) -> list[MetricCase]:
        y = [1, 0, 1, 0, 0, 1]
        s = np.array([0.9, 0.8, 0.7, 0.2, 0.1, 0.05])
        return [
            MetricCase(_split(y), Scores(sample=s), 2 / 3),  # k = 3 anomalies: top 3 hold 2
            MetricCase(_split(y), Scores(sample=s), 0.5, params={"k": 2}),
            # a tie across the cut: top-2 = 0.9 plus one of the two 0.5s (one anomalous): 1 + 0.5 hits
            MetricCase(
                _split([1, 1, 0, 0]), Scores(sample=np.array([0.9, 0.5, 0.5, 0.1])), 0.75, params={"k": 2}
            ),
        ]


class TestRecallAtFPR(MetricConformance):
    metric_id = "events.recall_at_fpr"

    def cases(self) -> list[MetricCase]:
        # normals score 0.1..1.0 (10 of them), anomalies 0.95, 0.55, 0.05; fpr 0.1 allows one false alarm:
        # threshold 0.95 (alarms 1.0 normal and 0.95 anomaly) -> recall 1/3
        normals = np.linspace(0.1, 1.0, 10)
        s = np.r_[normals, 0.95, 0.55, 0.05]
        y = [0] * 10 + [1, 1, 1]
        return [MetricCase(_split(y), Scores(sample=s), {"recall": 1 / 3, "fpr": 0.1}, params={"fpr": 0.1})]


class TestCategoryRecall(MetricConformance):
    metric_id = "events.category_recall"

    def cases(self) -> list[MetricCase]:
        normals = np.linspace(0.1, 1.0, 10)
        s = np.r_[normals, 0.99, 0.98, 0.5, 0.97]
        y = [0] * 10 + [1, 1, 1, 1]
        cats = ["normal"] * 10 + ["DoS", "DoS", "R2L", "R2L"]
        # fpr 0.1: threshold 0.97 -> DoS 2/2, R2L 1/2; mean 0.75
        return [
            MetricCase(
                _split(y, cats), Scores(sample=s), {"mean": 0.75, "DoS": 1.0, "R2L": 0.5}, params={"fpr": 0.1}
            )
        ]

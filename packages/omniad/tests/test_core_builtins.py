"""The built-in components pass the conformance kit that plugin authors use."""

from __future__ import annotations

import numpy as np
import pytest

import omniad
from omniad import Scores, Split
from omniad.errors import DataError
from omniad.testing import DatasetConformance, DetectorConformance, MetricCase, MetricConformance

SMALL = {"n_train": 60, "n_test_normal": 30, "n_test_anomalous": 8, "n_features": 4}


class TestKNN(DetectorConformance):
    detector_id = "core.knn"
    params = {"n_neighbors": 3}
    dataset_id = "core.blobs"
    dataset_params = SMALL


class TestMahalanobis(DetectorConformance):
    detector_id = "core.mahalanobis"
    dataset_id = "core.blobs"
    dataset_params = SMALL


class TestRandom(DetectorConformance):
    detector_id = "core.random"
    dataset_id = "core.blobs"
    dataset_params = SMALL


class TestBlobs(DatasetConformance):
    dataset_id = "core.blobs"
    params = SMALL


class TestCSVTable(DatasetConformance):
    dataset_id = "core.csv_table"

    @pytest.fixture(autouse=True)
    def _csv(self, tmp_path):
        rng = np.random.default_rng(0)
        rows = ["a,b,label"] + [f"{rng.normal()},{rng.normal()},0" for _ in range(40)] + ["9,9,1", "8,-9,1"]
        path = tmp_path / "t.csv"
        path.write_text("\n".join(rows))
        self.params = {"path": str(path)}


def _case(labels, scores, expected, **kw) -> MetricCase:
    return MetricCase(Split(samples=list(range(len(labels))), labels=labels), Scores(sample=scores), expected, **kw)


class TestAUROC(MetricConformance):
    metric_id = "core.auroc"

    def cases(self):
        return [_case([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.75), _case([0, 1], [0.2, 0.9], 1.0)]


class TestAUPR(MetricConformance):
    metric_id = "core.aupr"

    def cases(self):
        return [_case([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 5 / 6)]


class TestF1Max(MetricConformance):
    metric_id = "core.f1_max"

    def cases(self):
        # best: threshold 0.35 -> tp 2, fp 1 -> P 2/3, R 1 -> F1 0.8
        return [_case([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], {"f1_max": 0.8, "threshold": 0.35})]


class TestPRFAtThreshold(MetricConformance):
    metric_id = "core.prf_at_threshold"
    params = {"threshold": 0.5}

    def cases(self):
        return [_case([0, 0, 1, 1], [0.1, 0.6, 0.35, 0.8], {"f1": 0.5, "precision": 0.5, "recall": 0.5})]

    def test_monotone_transform_invariance(self):
        pytest.skip("threshold-dependent by definition")


class TestSeverity(MetricConformance):
    metric_id = "core.severity_spearman"

    def cases(self):
        split = Split(samples=[0] * 4, labels=[0, 1, 1, 1], severity=[0, 1, 2, 3])
        return [MetricCase(split, Scores(sample=[0.0, 1.0, 2.0, 3.0]), 1.0),
                MetricCase(split, Scores(sample=[3.0, 2.0, 1.0, 0.0]), -1.0)]


class TestLocalAUROC(MetricConformance):
    metric_id = "core.local_auroc"

    def cases(self):
        split = Split(samples=[0, 0], labels=[0, 1], targets=[np.zeros((2, 2)), np.array([[0, 1], [1, 0]])])
        scores = Scores(sample=[0.1, 0.9], local=[np.array([[0.1, 0.2], [0.3, 0.4]]), np.array([[0.2, 0.9], [0.35, 0.1]])])
        # positives 0.9, 0.35 vs negatives 0.1,0.2,0.3,0.4,0.2,0.1: 0.9 wins 6, 0.35 wins 5 -> 11 of 12
        return [MetricCase(split, scores, 11 / 12)]


def test_local_metric_without_maps_is_a_clear_error() -> None:
    metric = omniad.create_metric("core.local_auroc")
    split = Split(samples=[0, 0], labels=[0, 1], targets=[np.zeros(2), np.ones(2)])
    with pytest.raises(DataError, match="returns only sample scores"):
        metric(split, Scores(sample=[0.1, 0.2]))


def test_knn_beats_random_on_blobs() -> None:
    subset = omniad.create_dataset("core.blobs").load()[0]
    auroc = omniad.create_metric("core.auroc")
    knn = omniad.create_detector("core.knn").fit(subset.train.samples)
    rnd = omniad.create_detector("core.random", seed=0).fit(subset.train.samples)
    assert auroc(subset.test, knn.score(subset.test.samples)) > 0.9
    assert auroc(subset.test, rnd.score(subset.test.samples)) < 0.7


def test_calibrated_threshold_and_predict() -> None:
    subset = omniad.create_dataset("core.blobs").load()[0]
    det = omniad.create_detector("core.knn").fit(subset.train.samples[:300])
    threshold = det.calibrate(subset.train.samples[300:], quantile=0.95)
    labels = det.predict(subset.test.samples)
    assert labels.dtype == np.int8 and set(np.unique(labels)) <= {0, 1}
    assert np.mean(det.score(subset.train.samples[300:]).sample > threshold) <= 0.06


def test_load_refuses_unregistered_class(tmp_path) -> None:
    import json

    det = omniad.create_detector("core.knn").fit(np.random.default_rng(0).normal(size=(20, 3)))
    det.save(tmp_path / "m")
    header = json.loads((tmp_path / "m" / "omniad.json").read_text())
    header.update(component_id=None, **{"class": "os:system"})
    (tmp_path / "m" / "omniad.json").write_text(json.dumps(header))
    with pytest.raises(DataError, match="not a registered detector"):
        omniad.load_detector(str(tmp_path / "m"))


def test_knn_blocks_are_sized_by_memory_not_only_by_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """A block of query rows against every training row is bounded by block_mb (2,048 rows against 128,000
    training rows took 6.6 GB); a one-row block gives the same scores as one block of every row."""
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(3000, 4)), rng.normal(size=(50, 4))
    tiny = omniad.create_detector("core.knn", {"block_mb": 1}).fit(train)  # 1 MB / (24 B x 3,000) = 14 rows
    whole = omniad.create_detector("core.knn", {"chunk_size": 50}).fit(train)
    ref = NearestNeighbors(n_neighbors=5).fit(train).kneighbors(test)[0][:, -1]
    np.testing.assert_allclose(tiny.score(test).sample, ref, rtol=1e-9)
    np.testing.assert_allclose(whole.score(test).sample, ref, rtol=1e-9)
    blocks: list[tuple[int, ...]] = []
    partition = np.partition
    monkeypatch.setattr(np, "partition", lambda a, *args, **kw: blocks.append(a.shape) or partition(a, *args, **kw))
    tiny.score(test)
    assert blocks == [(14, 3000)] * 3 + [(8, 3000)]

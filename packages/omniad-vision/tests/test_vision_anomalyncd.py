"""AnomalyNCD: conformance of its detector part, MEBin, clustering metrics against scikit-learn and a
brute-force matching, and discovery of two synthetic defect types."""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

import omniad
from omniad import DataError
from omniad_vision.detectors.anomalyncd.model import cluster, main_element
from omniad_vision.metrics.clustering import cluster_accuracy, clustering_scores
from omniad_vision.testing import TINY_BACKBONE, TINY_VIT, VisionDetectorConformance, tiny_subset


class TestAnomalyNCDConformance(VisionDetectorConformance):
    detector_id = "vision.anomalyncd"
    params = {**TINY_VIT, "shots": 3}


def brute_accuracy(truth: list[int], pred: list[int]) -> float:
    classes, clusters = sorted(set(truth)), sorted(set(pred))
    best = 0
    for perm in permutations(classes + [None] * max(0, len(clusters) - len(classes)), len(clusters)):
        mapping = dict(zip(clusters, perm, strict=True))
        best = max(best, sum(mapping[p] == t for t, p in zip(truth, pred, strict=True)))
    return best / len(truth)


def test_clustering_metrics_match_references() -> None:
    assert cluster_accuracy([0, 0, 1, 1, 2, 2], [5, 5, 7, 7, 9, 9]) == 1.0  # renamed clusters
    assert cluster_accuracy(["a", "a", "b", "b"], [0, 1, 1, 1]) == 0.75  # hand-worked: cluster 1 -> b, 0 -> a
    rng = np.random.default_rng(0)
    for _ in range(20):
        t, p = rng.integers(0, 3, 15).tolist(), rng.integers(0, 4, 15).tolist()
        got = clustering_scores(t, p)
        assert got["accuracy"] == pytest.approx(brute_accuracy(t, p))
        assert got["nmi"] == pytest.approx(normalized_mutual_info_score(t, p))
        assert got["ari"] == pytest.approx(adjusted_rand_score(t, p))
    with pytest.raises(DataError, match="same length"):
        clustering_scores([0, 1], [0])


def test_main_element_keeps_the_stable_blob() -> None:
    m = np.zeros((12, 12))
    m[3:6, 3:6] = 1.0  # one strong element
    m[9, 9] = 0.3  # a faint speck
    mask = main_element(m, 32)
    assert mask[3:6, 3:6].all() and not mask[9, 9] and mask.sum() == 9
    assert main_element(np.ones((4, 4)), 8).all()  # a flat map: everything


def test_cluster_picks_the_count_by_silhouette() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(c, 0.05, (10, 2)) for c in ((0, 0), (3, 0), (0, 3))])
    labels, sil = cluster(x, None, 6, 0)
    assert max(sil, key=sil.__getitem__) == 3 and cluster_accuracy(np.repeat([0, 1, 2], 10), labels) == 1.0


def test_discovers_two_synthetic_defect_types() -> None:
    a = tiny_subset("stripes", n_train=8, n_normal=1, n_anomalous=1, size=64, seed=1)
    det = omniad.create_detector("vision.anomalyncd", {**TINY_BACKBONE, "weights": "random", "shots": 4},
                                 device="cpu", seed=0).fit(a.train.samples)
    # two defect types: a dark square and a bright square on normal training images
    images, truth = [], []
    for i, img in enumerate(a.train.samples):
        out = np.asarray(img).copy()
        y, x = 12 + 4 * (i % 4), 16 + 3 * (i % 5)
        out[y : y + 14, x : x + 14] = 0 if i % 2 else 255
        images.append(out)
        truth.append(i % 2)
    found = det.discover(images, n_classes=2)
    assert found.embeddings.shape[0] == 8 and len(found.masks) == 8
    assert cluster_accuracy(truth, found.labels) >= NCD_MIN
    with pytest.raises(DataError, match="at least 3 anomalous images"):
        det.discover(images[:2])


NCD_MIN = 0.75

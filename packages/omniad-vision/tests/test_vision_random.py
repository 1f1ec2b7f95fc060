"""vision.random: the floor. Conformance, repeatable per image, chance-level metrics."""

from __future__ import annotations

import numpy as np

import omniad
from omniad import Subset
from omniad.metrics import roc_auc
from omniad.testing import DetectorConformance
from omniad_vision.testing import tiny_subset


class TestRandomVisionConformance(DetectorConformance):
    detector_id = "vision.random"

    def make_subset(self) -> Subset:
        return tiny_subset("dots", n_train=4, n_normal=4, n_anomalous=4, size=40)


def test_same_image_same_score_and_chance_level() -> None:
    subset = tiny_subset("dots", n_train=2, n_normal=40, n_anomalous=40, size=40)
    det = omniad.create_detector("vision.random", seed=1).fit(subset.train.samples)
    a = det.score(subset.test.samples)
    b = det.score([subset.test.samples[i] for i in range(len(subset.test))][::-1])
    np.testing.assert_array_equal(a.sample, b.sample[::-1])
    assert abs(roc_auc(subset.test.labels, a.sample) - 0.5) < 0.2  # measured 0.428; pixels 0.503
    y = np.concatenate([np.asarray(t).ravel() for t in subset.test.targets])
    assert abs(roc_auc(y, np.concatenate([m.ravel() for m in a.local])) - 0.5) < 0.02

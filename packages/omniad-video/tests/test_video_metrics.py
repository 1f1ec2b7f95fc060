"""Video metrics: per-video AUROC against scikit-learn, detection delay worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

import omniad
from omniad.data import Split
from omniad.errors import DataError
from omniad.scores import Scores
from omniad.testing import MetricConformance
from omniad.testing.metric import MetricCase
from omniad_video.metrics.delay import detection_delay, events


def _truth(targets: list[np.ndarray]) -> Split:
    return Split(samples=[None] * len(targets), targets=targets).with_labels_from_targets()


class TestFrameAUROCMacro(MetricConformance):
    metric_id = "video.frame_auroc_macro"

    def cases(self) -> list[MetricCase]:
        # video 1: AUROC 1 (anomalies on top); video 2: anomalous frames [0.5, 0.2] vs normal [0.4, 0.1]
        # -> pairs (0.5>0.4, 0.5>0.1, 0.2<0.4, 0.2>0.1) = 3/4; video 3 is all normal: left out
        t = [np.array([0, 0, 1, 1]), np.array([1, 1, 0, 0]), np.zeros(3, int)]
        s = [np.array([0.1, 0.2, 0.8, 0.9]), np.array([0.5, 0.2, 0.4, 0.1]), np.array([0.3, 0.2, 0.1])]
        return [MetricCase(truth=_truth(t), scores=Scores(sample=np.ones(3), local=s),
                           expected={"auroc_macro": (1 + 0.75) / 2, "videos_used": 2})]


class TestDetectionDelay(MetricConformance):
    metric_id = "video.detection_delay"
    params = {"threshold": 0.5}

    def cases(self) -> list[MetricCase]:
        # events [2, 5) and [7, 9); threshold 0.5: the first flagged at frame 3 (delay 1), the second never
        t = [np.array([0, 0, 1, 1, 1, 0, 0, 1, 1, 0])]
        s = [np.array([0.1, 0.2, 0.3, 0.9, 0.9, 0.1, 0.2, 0.1, 0.2, 0.0])]
        return [MetricCase(truth=_truth(t), scores=Scores(sample=np.ones(1), local=s),
                           expected={"delay_frames": 1.0, "detected": 0.5})]


def test_macro_matches_sklearn_per_video() -> None:
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    targets = [(rng.random(50) < 0.3).astype(int) for _ in range(5)]
    scores = [rng.random(50) + t * rng.random() for t in targets]
    got = omniad.create_metric("video.frame_auroc_macro")(_truth(targets), Scores(sample=np.ones(5), local=scores))
    assert got["auroc_macro"] == pytest.approx(np.mean([roc_auc_score(t, s) for t, s in zip(targets, scores, strict=True)]), abs=1e-12)


def test_detection_delay_by_hand() -> None:
    assert events(np.array([0, 1, 1, 0, 1])) == [(1, 3), (4, 5)]
    t = [np.array([0, 0, 1, 1, 1, 0, 0, 1, 1, 0])]
    s = [np.array([0.1, 0.2, 0.3, 0.9, 0.9, 0.1, 0.2, 0.1, 0.2, 0.0])]
    # threshold 0.5: the first event is flagged one frame after it starts, the second never
    assert detection_delay(t, s, threshold=0.5) == {"delay_frames": 1.0, "detected": 0.5, "threshold": 0.5}
    # quantile threshold from normal frames only: max of [0.1, 0.2, 0.1, 0.2, 0.0] = 0.2 at q=1 -> delay 0
    got = omniad.create_metric("video.detection_delay", {"normal_quantile": 0.999})(_truth(t), Scores(sample=np.ones(1), local=s))
    assert got["detected"] == 1.0 and got["delay_frames"] == pytest.approx(0.5)
    with pytest.raises(DataError, match="no anomalous event"):
        detection_delay([np.zeros(4)], [np.ones(4)], threshold=0.5)

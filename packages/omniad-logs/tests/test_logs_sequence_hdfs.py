"""logs.hdfs_sessions (logdeep's pre-parsed HDFS) and one small real-data check of DeepLog and LogRobust."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from omniad.errors import ConfigError
from omniad.metrics.ranking import roc_auc
from omniad.plugins import get_registry
from omniad.testing import DatasetConformance
from omniad_logs.datasets.reading import shared_data_root

ROOT = shared_data_root() / "data" / "hdfs_sessions"
pytestmark = pytest.mark.skipif(
    not (ROOT / "hdfs_train").is_file(), reason=f"logdeep HDFS sessions not found at {ROOT} (set OMNIAD_SHARED_DATA)"
)


class TestHDFSSessionsConformance(DatasetConformance):
    dataset_id = "logs.hdfs_sessions"
    params: ClassVar[dict[str, Any]] = {"max_sessions": 200}


class TestHDFSSessionsLogRobustConformance(DatasetConformance):
    dataset_id = "logs.hdfs_sessions"
    params: ClassVar[dict[str, Any]] = {"max_sessions": 200, "protocol": "logrobust"}
    train_may_contain_anomalies = True


def subset(**params: Any) -> Any:
    return next(iter(get_registry().get("dataset", "logs.hdfs_sessions").create(params).subsets()))


def test_deeplog_split_and_vectors() -> None:
    s = subset(max_sessions=200, seed=1)
    assert s.meta["n_train"] == 100 and s.meta["n_test_normal"] == 100 and s.meta["n_test_anomalous"] == 200
    assert {x.id for x in s.train.samples}.isdisjoint(x.id for x in s.test.samples)
    vocab = s.test.samples[0].vocabulary
    assert vocab is s.train.samples[0].vocabulary and vocab.vectors["5"].shape == (300,)
    assert subset(max_sessions=200, seed=2).train.ids != s.train.ids


def test_logrobust_protocol_carries_train_labels() -> None:
    s = subset(max_sessions=200, protocol="logrobust")
    labels = np.array([x.meta["label"] for x in s.train.samples])
    np.testing.assert_array_equal(labels, s.train.labels)
    assert 0 < labels.sum() < len(labels)
    assert all("label" not in x.meta for x in s.test.samples)


def test_missing_root_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="root"):
        subset(root=str(tmp_path / "nowhere"))


def test_deeplog_and_logrobust_rank_real_sessions() -> None:
    """A few hundred sessions, a few epochs: both must already rank anomalies far above chance."""
    s = subset(max_sessions=300)
    det = get_registry().get("detector", "logs.deeplog").create({"epochs": 2}, device="cpu", seed=0)
    scores = det.fit(s.train.samples).score(s.test.samples)
    assert roc_auc(s.test.labels, scores.sample) > 0.85
    flagged = scores.decision == 1
    assert flagged.sum() >= 50 and s.test.labels[flagged].mean() > 0.95  # the top-g calls are anomalies
    r = subset(max_sessions=400, protocol="logrobust")
    small = {"epochs": 6, "batch_size": 16, "hidden_size": 32, "num_layers": 1}
    det = get_registry().get("detector", "logs.logrobust").create(small, device="cpu", seed=0)
    assert roc_auc(r.test.labels, det.fit(r.train.samples).score(r.test.samples).sample) > 0.85

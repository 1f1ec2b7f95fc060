"""The sparse-shift dataset: conformance plus the structure its docstring promises."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

import omniad
from omniad.errors import ConfigError
from omniad.metrics import roc_auc
from omniad.testing import DatasetConformance
from omniad_plugin_template.plugin import PREFIX

DATASET = f"{PREFIX}.sparse_shift"
SMALL = {"n_train": 100, "n_test_normal": 50, "n_test_anomalous": 20, "n_features": 8}


class TestSparseShiftConformance(DatasetConformance):
    dataset_id = DATASET
    params: ClassVar[dict[str, Any]] = SMALL


def subsets(**params: object) -> list[omniad.Subset]:
    return omniad.create_dataset(DATASET, {**SMALL, **params}).load()


def test_one_subset_per_shift_with_requested_sizes() -> None:
    found = subsets(shifts=[2.0, 4.5, 9.0])
    assert [s.name for s in found] == ["shift-2", "shift-4.5", "shift-9"]
    for subset in found:
        assert subset.train.samples.shape == (100, 8)
        assert len(subset.test) == 70 and subset.test.n_anomalous == 20


def test_anomalies_move_only_n_shifted_features() -> None:
    """With a huge shift the moved features stand out; the others look like normal data."""
    subset = subsets(shifts=[40.0], n_shifted=3, correlation=0.0)[0]
    anomalies = subset.test.samples[subset.test.labels == 1]
    moved = np.abs(anomalies) > 20
    assert np.all(moved.sum(axis=1) == 3)


def test_severity_grows_with_shift_size() -> None:
    test = subsets(shifts=[5.0], n_shifted=1, correlation=0.0)[0].test
    anomalous = test.labels == 1
    assert np.all(test.severity[~anomalous] == 0)
    assert set(np.unique(test.severity[anomalous])) <= {1, 2, 3}
    size = np.abs(test.samples[anomalous]).max(axis=1)
    assert np.corrcoef(size, test.severity[anomalous])[0, 1] > 0.5


def test_larger_shifts_are_easier_to_detect() -> None:
    aurocs = []
    for subset in subsets(shifts=[1.0, 8.0], n_test_anomalous=40):
        det = omniad.create_detector(f"{PREFIX}.robust_zscore", device="cpu").fit(subset.train.samples)
        aurocs.append(roc_auc(subset.test.labels, det.score(subset.test.samples).sample))
    assert aurocs[1] > 0.99
    assert aurocs[0] < aurocs[1] - 0.1


def test_features_are_correlated_as_asked() -> None:
    train = subsets(n_train=4000, correlation=0.8)[0].train.samples
    assert np.corrcoef(train[:, 0], train[:, 1])[0, 1] == pytest.approx(0.8, abs=0.05)
    assert train.std(axis=0) == pytest.approx(np.ones(8), abs=0.06)


def test_bad_parameters_fail_clearly() -> None:
    with pytest.raises(ConfigError, match="n_shifted=9 exceeds n_features=8"):
        subsets(n_shifted=9)
    with pytest.raises(ConfigError, match="shift must be > 0"):
        omniad.create_dataset(DATASET, {"shifts": [3.0, -1.0]})
    with pytest.raises(ConfigError, match="distinct"):
        omniad.create_dataset(DATASET, {"shifts": [3.0, 3.0]})

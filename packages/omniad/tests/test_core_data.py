"""Shared types: Split / Subset / Scores validation."""

from __future__ import annotations

import numpy as np
import pytest

from omniad import Scores, Split, Subset
from omniad.errors import DataError


def test_split_validates_lengths_and_labels() -> None:
    with pytest.raises(DataError, match="3 samples but 2 labels"):
        Split(samples=[1, 2, 3], labels=[0, 1]).validate("here")
    with pytest.raises(DataError, match="labels must be 0"):
        Split(samples=[1, 2], labels=[0, 3])
    with pytest.raises(DataError, match="no samples"):
        Split(samples=[]).validate("here")
    with pytest.raises(DataError, match="labelled normal but its localization target"):
        Split(samples=[0, 0], labels=[0, 1], targets=[np.ones(3), np.ones(3)]).validate("here")


def test_labels_derived_from_targets() -> None:
    split = Split(samples=[0, 0], targets=[np.zeros(4), np.array([0, 1, 0, 0])]).with_labels_from_targets()
    assert split.labels.tolist() == [0, 1]


def test_subset_requires_anomalies_in_test() -> None:
    subset = Subset("s", train=Split(samples=[1]), test=Split(samples=[1, 2], labels=[0, 0]))
    with pytest.raises(DataError, match="no anomalous samples"):
        subset.validate("ds")


def test_without_labels_hides_ground_truth() -> None:
    split = Split(samples=[1, 2], labels=[0, 1], targets=[np.zeros(1), np.ones(1)], severity=[0, 2])
    seen = split.without_labels()
    assert seen.labels is None and seen.targets is None and seen.severity is None


def test_scores_validation_names_the_sample() -> None:
    with pytest.raises(DataError, match="returned 2 sample scores for 3 samples"):
        Scores(sample=[0.1, 0.2]).validate(3, "det")
    with pytest.raises(DataError, match=r"sample score of b is nan"):
        Scores(sample=[0.1, np.nan]).validate(2, "det", ids=["a", "b"])
    with pytest.raises(DataError, match=r"shape \(2, 2\) but its ground truth has shape \(4, 4\)"):
        Scores(sample=[0.1], local=[np.zeros((2, 2))]).validate(1, "det", target_shapes=[(4, 4)])

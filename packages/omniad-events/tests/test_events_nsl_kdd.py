"""NSL-KDD on small seeded samples (skipped without the shared data): loader, categories, quality bars.

Bars sit well below the full-data values in the README (AVF 0.916, ECOD via events.embedded
0.957, APE 0.947, CLAN 0.956 AUROC on KDDTest+): these samples are small, so they only catch a broken
pipeline, not a regression of a point.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from omniad.metrics.ranking import roc_auc
from omniad.plugins import get_registry
from omniad.runner.notes import subset_counts
from omniad.testing import DatasetConformance
from omniad_events.datasets.nsl_kdd import ATTACKS, default_root

pytestmark = pytest.mark.skipif(
    not (default_root() / "KDDTest+.txt").is_file(),
    reason=f"NSL-KDD not found under {default_root()} (set OMNIAD_SHARED_DATA)",
)
SMALL = {"max_train": 1500, "max_test": 1500}


class TestNSLKDD(DatasetConformance):
    dataset_id = "events.nsl_kdd"
    params = SMALL


def _subset():
    return next(iter(get_registry().get("dataset", "events.nsl_kdd").create(SMALL).subsets()))


def test_full_files_have_the_documented_rows_and_every_attack_has_a_category() -> None:
    import pandas as pd

    for name, rows in (
        ("KDDTrain+_20Percent.txt", 25192),
        ("KDDTest+.txt", 22544),
        ("KDDTest-21.txt", 11850),
    ):
        labels = pd.read_csv(default_root() / name, header=None, usecols=[41])[41]
        assert len(labels) == rows
        assert set(labels) - {"normal"} <= set(ATTACKS), sorted(set(labels) - {"normal"} - set(ATTACKS))
    train = pd.read_csv(default_root() / "KDDTrain+_20Percent.txt", header=None, usecols=[41])[41]
    assert int((train == "normal").sum()) == 13449


def test_subset_keeps_categories_and_counts_the_constant_feature() -> None:
    sub = _subset()
    assert sub.name == "KDDTest+" and len(sub.test) == 1500 and sub.train.labels.sum() == 0
    cats = sub.test.meta["categories"]
    assert set(cats) <= {"normal", "DoS", "Probe", "R2L", "U2R"}
    assert (np.array(cats) != "normal").astype(int).tolist() == sub.test.labels.tolist()
    assert "num_outbound_cmds" in sub.meta["constant_fields"]["train"]
    counts = sub.meta["counts"]
    assert counts["train_rows"] == len(sub.train) and counts["test_rows"] == len(sub.test)
    assert counts["train_constant_fields"] == len(sub.meta["constant_fields"]["train"])
    # one level of whole numbers: the runner's data notes take every one (a nested dict was dropped, with a warning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert subset_counts(sub.meta) == {k: v for k, v in counts.items() if v}


@pytest.mark.parametrize(
    ("did", "params", "bar"),
    [
        ("events.avf", {}, 0.85),
        ("events.embedded", {"detector": "core.knn"}, 0.85),
        ("events.clan", {"epochs": 3, "hidden": [64], "rep_dim": 16}, 0.80),
        ("events.ape", {"epochs": 5, "min_steps": 20}, 0.80),
    ],
)
def test_quality_bars(did: str, params: dict, bar: float) -> None:
    sub = _subset()
    det = get_registry().get("detector", did).create(params, device="cpu", seed=0).fit(sub.train.samples)
    assert roc_auc(sub.test.labels, det.score(sub.test.samples).sample) > bar

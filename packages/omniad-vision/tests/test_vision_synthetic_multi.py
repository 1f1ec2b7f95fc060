"""vision.synthetic_multi: one-class and cross-class protocols, reference shots, seeded streams, masks."""

from __future__ import annotations

import numpy as np
import pytest

from omniad import ConfigError, create_dataset
from omniad.testing.dataset import DatasetConformance
from omniad_vision.datasets.multiclass import CATEGORIES

SMALL = {"n_train": 2, "n_test_normal": 2, "n_test_anomalous": 3, "image_size": 48}


class TestOneClassConformance(DatasetConformance):
    dataset_id = "vision.synthetic_multi"
    params = {**SMALL, "categories": ["grid", "washer", "capsule"]}


class TestCrossClassConformance(DatasetConformance):
    dataset_id = "vision.synthetic_multi"
    params = {**SMALL, "train_categories": ["stripes", "plate"], "test_categories": ["dots", "washer"],
              "reference_shots": 2}


def load(**params: object) -> list:
    return create_dataset("vision.synthetic_multi", {**SMALL, **params}).load()


def test_one_class_gives_every_category_with_exact_masks() -> None:
    subsets = load()
    assert [s.name for s in subsets] == list(CATEGORIES)
    for s in subsets:
        assert s.test.labels.tolist() == [0, 0, 1, 1, 1]
        for label, img, mask in zip(s.test.labels, s.test.samples, s.test.targets, strict=True):
            assert img.shape == (48, 48, 3) and img.dtype == np.uint8 and mask.shape == (48, 48)
            assert bool(mask.any()) == bool(label)


def test_cross_class_trains_on_other_categories_plus_reference_shots() -> None:
    subsets = load(train_categories=["stripes", "grid", "washer"], reference_shots=2)
    assert [s.name for s in subsets] == ["noise", "dots", "plate", "capsule"]  # default: every other category
    for s in subsets:
        assert len(s.train) == 3 * 2 + 2
        assert list(s.train.ids[-2:]) == [f"reference/{s.name}/000", f"reference/{s.name}/001"]
        assert s.meta["train_categories"] == ["stripes", "grid", "washer"]
        refs = s.train.samples[-2:]
        assert not any(np.array_equal(r, t) for r in refs for t in s.test.samples)  # drawn apart from the test


def test_a_category_is_the_same_in_both_protocols_and_with_other_categories() -> None:
    one = {s.name: s for s in load(categories=["capsule", "noise"])}
    cross = {s.name: s for s in load(train_categories=["grid"], test_categories=["capsule"], reference_shots=1)}
    for a, b in zip(one["capsule"].test.samples, cross["capsule"].test.samples, strict=True):
        np.testing.assert_array_equal(a, b)
    other_seed = {s.name: s for s in load(categories=["capsule"], seed=1)}
    assert not np.array_equal(one["capsule"].test.samples[0], other_seed["capsule"].test.samples[0])


@pytest.mark.parametrize("params, message", [
    ({"train_categories": ["stripes"], "test_categories": ["stripes"]}, "also training categories"),
    ({"train_categories": list(CATEGORIES)}, "none is left to score"),
    ({"test_categories": ["grid"]}, "goes with train_categories"),
    ({"categories": ["bricks"]}, "distinct names"),
    ({"defects": ["scratch", "scratch"]}, "distinct names"),
])
def test_bad_protocols_are_one_clear_error(params: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_dataset("vision.synthetic_multi", params)

"""A tabular detector nested inside another: created by id, state nested under ``inner.``."""

from __future__ import annotations

import numpy as np
import pytest

from omniad.builtins.tabular_detectors import KNN
from omniad.errors import ConfigError, DataError
from omniad.nested import InnerDetector, tabular_entry


def test_nested_state_round_trip_scores_the_same_and_keeps_adjusted_defaults() -> None:
    rng = np.random.default_rng(0)
    train, test = rng.normal(size=(3, 2)), rng.normal(size=(5, 2))
    owner = KNN(seed=0)
    inner = InnerDetector(owner, "core.knn", {})
    inner.fit(train)
    assert inner.model.adjusted_params["n_neighbors"]["used"] == 3  # default 5 lowered to the data
    state = inner.state()
    assert {"inner_keys", "inner_threshold", "inner_adjusted"} <= set(state)
    again = InnerDetector(owner, "core.knn", {})
    again.restore(state, "owner")
    np.testing.assert_array_equal(again.score(test).sample, inner.score(test).sample)
    assert again.model.adjusted_params == inner.model.adjusted_params


def test_incomplete_nested_state_and_non_tabular_ids_fail_clearly() -> None:
    inner = InnerDetector(KNN(), "core.knn", {})
    with pytest.raises(DataError, match="lacks the inner detector's keys; re-save"):
        inner.restore({}, "owner")
    with pytest.raises(DataError, match=r"lacks inner entries \['train_'\]"):
        inner.restore({"inner_keys": ["train_"]}, "owner")
    with pytest.raises(ConfigError, match="unknown detector id"):
        tabular_entry("core.nope", "owner")

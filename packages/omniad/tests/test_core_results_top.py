"""The per-element top list reads the k highest values without sorting them all; it must give
exactly what a stable full sort gives (ties by position, NaN last)."""

from __future__ import annotations

import numpy as np
import pytest

from omniad.results import top_order


@pytest.mark.parametrize("seed", range(20))
def test_top_order_equals_a_stable_full_sort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    values = rng.integers(0, 6, size=n).astype(float)  # many ties
    values[rng.random(n) < 0.1] = np.nan
    values[rng.random(n) < 0.05] = np.inf
    for k in (1, 3, 20, n, n + 5):
        expected = np.argsort(-values, kind="stable")[:k]
        np.testing.assert_array_equal(top_order(values, k), expected)


def test_top_order_edge_cases() -> None:
    assert top_order(np.array([]), 5).size == 0
    assert top_order(np.array([1.0, 2.0]), 0).size == 0
    np.testing.assert_array_equal(top_order(np.full(4, np.nan), 2), [0, 1])
    np.testing.assert_array_equal(top_order(np.array([1.0, 3.0, 3.0, 2.0]), 2), [1, 2])

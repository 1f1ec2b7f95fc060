"""Conformance checks for datasets."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pytest

from omniad.data import Subset
from omniad.dataset import Dataset
from omniad.errors import ConfigError
from omniad.plugins import get_registry
from omniad.registry import DatasetCard, Entry


class DatasetConformance:
    """Subclass and set ``dataset_id`` (and ``params`` pointing at small data)."""

    dataset_id: ClassVar[str]
    params: ClassVar[dict[str, Any]] = {}
    #: set True where the train split may contain anomalies (TSB-AD style train prefixes)
    train_may_contain_anomalies: ClassVar[bool] = False
    #: how many subsets to check (large benchmarks: the first few)
    max_subsets: ClassVar[int] = 3

    def entry(self) -> Entry:
        return get_registry().get("dataset", self.dataset_id)

    def create(self) -> Dataset:
        return self.entry().create(dict(self.params))

    def subsets(self) -> list[Subset]:
        if not hasattr(self, "_cached"):
            out = []
            for subset in self.create().subsets():
                out.append(subset)
                if len(out) >= self.max_subsets:
                    break
            self._cached = out
        return self._cached

    def test_registered_with_valid_card(self) -> None:
        entry = self.entry()
        assert isinstance(entry.card, DatasetCard)
        assert issubclass(entry.load(), Dataset)
        assert entry.params_model() is entry.load().Params

    def test_unknown_parameter_rejected(self) -> None:
        with pytest.raises(ConfigError, match="unknown parameter"):
            self.entry().create({**self.params, "no_such_parameter_xyz": 1})

    def test_yields_valid_subsets(self) -> None:
        subsets = self.subsets()
        assert subsets, "dataset yielded no subsets"
        names = [s.name for s in subsets]
        assert len(set(names)) == len(names), f"subset names must be unique: {names}"
        for subset in subsets:
            assert len(subset.train) > 0 and len(subset.test) > 0
            assert subset.test.labels is not None
            assert subset.test.n_anomalous > 0, f"{subset.name}: test split has no anomalies"

    def test_train_is_normal(self) -> None:
        if self.train_may_contain_anomalies:
            pytest.skip("this dataset's train split may contain anomalies by design")
        for subset in self.subsets():
            if subset.train.labels is not None:
                assert subset.train.labels.sum() == 0, f"{subset.name}: anomalies in train split"

    def test_counts_are_whole_numbers(self) -> None:
        """``Subset.meta["counts"]`` (what the loader repaired or dropped) is one level of whole numbers:
        the runner's data notes show exactly those and leave anything else out with a warning."""
        for subset in self.subsets():
            counts = subset.meta.get("counts", {})
            assert isinstance(counts, Mapping), f"{subset.name}: meta['counts'] is {type(counts).__name__}, not a mapping"
            bad = {k: v for k, v in counts.items() if isinstance(v, bool) or not isinstance(v, numbers.Real)
                   or not float(v).is_integer()}
            assert not bad, (f"{subset.name}: meta['counts'] entries {bad} are no whole numbers; record a count "
                             "there and names or details elsewhere in meta")

    def test_localization_targets_match_samples(self) -> None:
        card = self.entry().card
        assert isinstance(card, DatasetCard)
        for subset in self.subsets():
            targets = subset.test.targets
            if card.localization is None:
                continue
            assert targets is not None, f"card says localization={card.localization!r} but no targets"
            for i, target in enumerate(targets):
                assert np.asarray(target).size > 0, f"{subset.name}: empty target for {subset.test.sample_id(i)}"

    def test_deterministic(self) -> None:
        a = next(iter(self.create().subsets()))
        b = next(iter(self.create().subsets()))
        assert a.name == b.name and len(a.test) == len(b.test)
        np.testing.assert_array_equal(a.test.labels, b.test.labels)

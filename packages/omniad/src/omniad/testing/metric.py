"""Conformance checks for metrics: hand-worked cases plus invariants every metric must keep."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pytest

from omniad.data import Split
from omniad.errors import ConfigError, OmniadError
from omniad.metric import Metric
from omniad.plugins import get_registry
from omniad.registry import Entry, MetricCard
from omniad.scores import Scores


@dataclass
class MetricCase:
    """A hand-worked example: ground truth, scores, and the value the paper/reference gives."""

    truth: Split
    scores: Scores
    expected: float | dict[str, float]
    params: dict[str, Any] | None = None
    atol: float = 1e-9


def headline(value: float | dict[str, float]) -> float:
    return float(next(iter(value.values()))) if isinstance(value, dict) else float(value)


class MetricConformance:
    """Subclass, set ``metric_id`` and list ``cases()`` worked out by hand or from a reference."""

    metric_id: ClassVar[str]
    params: ClassVar[dict[str, Any]] = {}

    def cases(self) -> list[MetricCase]:
        raise NotImplementedError("give at least one hand-worked MetricCase")

    def entry(self) -> Entry:
        return get_registry().get("metric", self.metric_id)

    def create(self, params: dict[str, Any] | None = None) -> Metric:
        return self.entry().create({**self.params, **(params or {})})

    def test_registered_with_valid_card(self) -> None:
        entry = self.entry()
        assert isinstance(entry.card, MetricCard)
        assert issubclass(entry.load(), Metric)
        assert entry.params_model() is entry.load().Params

    def test_unknown_parameter_rejected(self) -> None:
        with pytest.raises(ConfigError, match="unknown parameter"):
            self.entry().create({**self.params, "no_such_parameter_xyz": 1})

    def test_hand_worked_cases(self) -> None:
        cases = self.cases()
        assert cases, "no cases given"
        for i, case in enumerate(cases):
            got = self.create(case.params)(case.truth, case.scores)
            if isinstance(case.expected, dict):
                assert isinstance(got, dict)
                for key, value in case.expected.items():
                    assert got[key] == pytest.approx(value, abs=case.atol), f"case {i}, {key}"
            else:
                assert headline(got) == pytest.approx(case.expected, abs=case.atol), f"case {i}"

    def test_monotone_transform_invariance(self) -> None:
        """Ranking metrics must not change under a strictly increasing transform of scores."""
        if "threshold-dependent" in self.entry().card.tags:
            pytest.skip("threshold-dependent metric")
        case = self.cases()[0]
        base = headline(self.create(case.params)(case.truth, case.scores))
        arrays = [case.scores.sample, *(case.scores.local or [])]
        scale = max(float(np.abs(a).max()) for a in arrays) + 1.0

        def transform(a: np.ndarray) -> np.ndarray:  # one strictly increasing map for all scores
            return np.exp(np.asarray(a, dtype=float) / scale) * 3 + 1

        moved = Scores(
            sample=transform(case.scores.sample),
            local=None if case.scores.local is None else [transform(m) for m in case.scores.local],
            extras=case.scores.extras,
        )
        assert headline(self.create(case.params)(case.truth, moved)) == pytest.approx(base, abs=1e-9)

    def test_nan_scores_rejected(self) -> None:
        case = self.cases()[0]
        sample = case.scores.sample.copy()
        sample[0] = np.nan
        local = None
        if case.scores.local is not None:
            local = [m.astype(float).copy() for m in case.scores.local]
            local[0].flat[0] = np.nan
        with pytest.raises(OmniadError):
            self.create(case.params)(case.truth, Scores(sample=sample, local=local, extras=case.scores.extras))

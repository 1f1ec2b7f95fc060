"""Score ensembles of registered time-series detectors: rank-average (default) or min-max average.

Each member scores the series on its own scale; ranks (or min-max scaling) put the members
on one scale per series and their mean is the ensemble's score. Nothing here looks at
labels: members and the rule are fixed before the data is seen. Members are fitted on
whatever the ensemble is fitted on (the card says ``fit_on="test"``, TSB-AD's unsupervised
protocol), so use unsupervised members.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad.detector import Detector
from omniad.errors import ConfigError
from omniad.scores import Scores
from omniad_timeseries.detectors.base import minmax
from omniad_timeseries.detectors.params import EnsembleParams

SEP = "/"


def to_common_scale(scores: np.ndarray, how: str) -> np.ndarray:
    if how.startswith("rank"):
        from scipy.stats import rankdata

        return (rankdata(scores, method="average") - 1) / max(scores.size - 1, 1)
    return minmax(scores)


def combine(member_scores: list[np.ndarray], how: str) -> np.ndarray:
    scaled = np.stack([to_common_scale(s, how) for s in member_scores])
    return scaled.max(axis=0) if how == "rank_max" else scaled.mean(axis=0)


class Ensemble(Detector):
    Params = EnsembleParams

    def _members(self) -> list[Detector]:
        from omniad.plugins import get_registry

        registry = get_registry()
        members = []
        for member in self.params.members:
            entry = registry.get("detector", member.id)
            if entry.card.modality != "timeseries":
                raise ConfigError(f"{self.where}: member {member.id!r} is not a time-series detector")
            if member.id == self.component_id:
                raise ConfigError(f"{self.where}: an ensemble cannot contain itself")
            members.append(entry.create(member.params, device=self.device, seed=self.seed))
        return members

    def _fit(self, samples: Sequence[Any]) -> None:
        self.members_ = [m.fit(samples) for m in self._members()]

    def _score(self, samples: Sequence[Any]) -> Scores:
        per_member = [m.score(samples).local for m in self.members_]
        local = [combine([scores[i] for scores in per_member], self.params.combine) for i in range(len(samples))]
        return Scores(sample=np.array([s.max() for s in local]), local=local)

    def get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {}
        for i, member in enumerate(self.members_):
            state.update({f"{i}{SEP}{key}": value for key, value in member.get_state().items()})
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        self.members_ = self._members()
        for i, member in enumerate(self.members_):
            prefix = f"{i}{SEP}"
            member.set_state({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)})
            member._fitted = True

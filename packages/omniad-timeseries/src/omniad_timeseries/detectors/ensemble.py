"""Score ensembles of registered time-series detectors: rank-average (default) or min-max average.

Each member scores the series on its own scale; ranks (or min-max scaling) put the members
on one scale per series and their mean is the ensemble's score. Nothing here looks at
labels: members and the rule are fixed before the data is seen. Members are fitted on
whatever the ensemble is fitted on (the card says ``fit_on="test"``, TSB-AD's unsupervised
protocol), so use unsupervised members.

Saved state: member ``i``'s own state under ``members.<i>.``; at load each member's entries
are checked against that member class's ``state_spec`` (with its parameters) before any is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad.detector import Detector
from omniad.errors import ConfigError, DataError
from omniad.scores import Scores
from omniad.state import Context, Module, declare, validate
from omniad_timeseries.detectors.base import minmax
from omniad_timeseries.detectors.params import EnsembleParams
from omniad_timeseries.series import coerce_samples

MEMBERS = "members"


class MemberStates(Module):
    """Every entry under ``members.``: the members' saved states, arrays and JSON values alike.

    A ``Module`` for the prefix rule only; ``Ensemble.check_state`` checks each member's
    entries against that member's own declaration.
    """

    def describe(self) -> str:
        return "the saved states of the ensemble's members"

    def check(self, value: Any, ctx: Context, key: str) -> None:
        """Checked by ``Ensemble.check_state`` against each member's ``state_spec``."""


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
    state_spec = declare({MEMBERS: MemberStates(optional=True)})

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

    def _coerce(self, samples: Any, where: str) -> Any:
        return coerce_samples(samples, where)

    def _fit(self, samples: Sequence[Any]) -> None:
        self.members_ = [m.fit(samples) for m in self._members()]

    def _score(self, samples: Sequence[Any]) -> Scores:
        per_member = [m.score(samples).local for m in self.members_]
        local = [combine([scores[i] for scores in per_member], self.params.combine) for i in range(len(samples))]
        return Scores(sample=np.array([s.max() for s in local]), local=local)

    def get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {}
        for i, member in enumerate(self.members_):
            state.update({f"{MEMBERS}.{i}.{key}": value for key, value in member.get_state().items()})
        return state

    @staticmethod
    def _member_states(state: dict[str, Any], n_members: int) -> list[dict[str, Any]]:
        """The saved entries of each member, by the number in ``members.<i>.<key>``."""
        out: list[dict[str, Any]] = [{} for _ in range(n_members)]
        for key, value in state.items():
            number, _, rest = key[len(MEMBERS) + 1:].partition(".")
            if not number.isdigit() or int(number) >= n_members or not rest:
                raise DataError(f"saved state entry {key!r} names no member of this ensemble's {n_members}; "
                                "re-save the model")
            out[int(number)][rest] = value
        return out

    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        members = self._members()
        for i, (member, sub) in enumerate(zip(members, self._member_states(state, len(members)), strict=True)):
            where = f"member {i} ({self.params.members[i].id})"
            if not sub:
                raise DataError(f"saved state holds nothing for {where}; it was saved with other members "
                                "or by an older version, re-save the model")
            spec = type(member).declared_state()
            if spec is not None:
                sub, ignored = validate(spec, sub, member.params, where=where)
                if ignored:
                    raise DataError(f"{where}: saved state holds entries it does not declare: {sorted(ignored)}")
            try:
                member.check_state(sub)
            except DataError as exc:
                raise DataError(f"{where}: {exc}") from None

    def set_state(self, state: dict[str, Any]) -> None:
        self.members_ = self._members()
        for member, sub in zip(self.members_, self._member_states(state, len(self.members_)), strict=True):
            member.set_state(sub)
            member._fitted = True

"""A registered tabular detector run inside another detector, on the vectors it computes.

Modality packages turn their samples into feature vectors (log sessions into event counts,
texts into embeddings) and then want every tabular method there is, from the core or
omniad-pyod, without re-implementing any. ``InnerDetector`` creates the named detector,
fits and scores it on the matrix, and nests its state under ``inner.`` in the owner's
state, so save/load stays pickle-free whatever the inner detector is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.detector import Detector
from omniad.errors import ConfigError, DataError
from omniad.registry import Entry
from omniad.scores import Scores
from omniad.state import Context, Float, Json, Module, Str, validate

INNER = "inner"
TABULAR = ("tabular", "any")


def tabular_entry(detector_id: str, where: str) -> Entry:
    """The registry entry of a tabular detector, refusing ids of other modalities clearly."""
    from omniad.plugins import get_registry

    entry = get_registry().get("detector", detector_id)
    if entry.card.modality not in TABULAR:
        raise ConfigError(
            f"{where}: detector {detector_id!r} works on {entry.card.modality} samples, not feature vectors; "
            "name a tabular detector (e.g. core.knn, pyod.iforest; `omniad list detectors` shows them)"
        )
    return entry


class InnerDetector:
    """A tabular detector fitted on the owner's vectors, with its state nested under ``inner.``."""

    def __init__(self, owner: Detector, detector_id: str, params: dict[str, Any]) -> None:
        self.entry = tabular_entry(detector_id, owner.where)
        self.detector_id = detector_id
        self.model = self.entry.create(dict(params), device=owner.device_request, seed=owner.seed)

    def fit(self, x: np.ndarray) -> None:
        self.model.fit(x)

    def score(self, x: np.ndarray) -> Scores:
        return self.model.score(x)

    def state(self) -> dict[str, Any]:
        inner = self.model.get_state()
        return {
            **{f"{INNER}.{k}": v for k, v in inner.items()},
            f"{INNER}_keys": sorted(inner),
            f"{INNER}_threshold": self.model.threshold_,
            f"{INNER}_adjusted": self.model.adjusted_params,
        }

    def restore(self, state: dict[str, Any], where: str) -> None:
        keys = state.get(f"{INNER}_keys")
        if not isinstance(keys, list):
            raise DataError(f"{where}.load: saved state lacks the inner detector's keys; re-save the model")
        missing = [k for k in keys if f"{INNER}.{k}" not in state]
        if missing:
            raise DataError(f"{where}.load: saved state lacks inner entries {missing}; re-save the model")
        self.model.set_state({k: state[f"{INNER}.{k}"] for k in keys})
        self.model.threshold_ = state.get(f"{INNER}_threshold")
        self.model.adjusted_params = dict(state.get(f"{INNER}_adjusted") or {})
        self.model._fitted = True


class InnerState(Module):
    """Every entry under ``inner.``: a nested detector's state, arrays and JSON values alike.

    A ``Module`` for the prefix rule only; ``check_inner_state`` checks the entries against
    the nested class's own declaration, which knows their types and shapes.
    """

    def describe(self) -> str:
        return "the saved state of the inner detector"

    def check(self, value: Any, ctx: Context, key: str) -> None:
        """Checked by ``check_inner_state`` against the inner class's ``state_spec``."""


#: what an owner using ``InnerDetector`` adds to its ``state_spec`` (``declare({**INNER_SPEC, ...})``)
INNER_SPEC = {
    INNER: InnerState(optional=True),  # a detector may save nothing
    f"{INNER}_keys": Json(types=(list,), items=Str()),
    f"{INNER}_threshold": Float(optional=True),
    f"{INNER}_adjusted": Json(types=(dict,)),
}


def check_inner_state(owner: Detector, state: dict[str, Any], detector_id: str, params: dict[str, Any]) -> None:
    """Check the nested entries of ``state`` against the inner detector's declaration; raise ``DataError``.

    Call from the owner's ``check_state``: an edited inner entry fails at load, like the owner's own.
    """
    keys = state[f"{INNER}_keys"]
    saved = {k[len(INNER) + 1:] for k in state if k.startswith(f"{INNER}.")}
    if sorted(keys) != sorted(saved):
        raise DataError(f"saved state lists inner entries {sorted(keys)} but holds {sorted(saved)}")
    inner = InnerDetector(owner, detector_id, params).model
    spec = type(inner).declared_state()
    sub = {k: state[f"{INNER}.{k}"] for k in keys}
    if spec is not None:
        where = f"inner detector {detector_id}"
        sub, ignored = validate(spec, sub, inner.params, where=where)
        if ignored:
            raise DataError(f"{where}: saved state holds entries it does not declare: {sorted(ignored)}")
    inner.check_state(sub)

"""Any registered tabular detector on session event-count vectors (``logs.counts``).

Rather than re-implementing IForest, OCSVM, KNN, ... for logs, the sessions are featurized
(``EventFeaturizer``) and the matrix goes to the detector named by ``detector`` (a
``pyod.*`` id when omniad-pyod is installed, or a core one such as ``core.knn``). Its state
is saved inside this detector's state under ``inner.``, so save/load stays pickle-free
whatever the inner detector is (omniad-pyod refits on its saved matrix and checks the
result; core detectors save arrays).

Tabular detectors score a session as a whole: there are no per-line scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.detector import Detector
from omniad.errors import ConfigError, DataError
from omniad.registry import DetectorCard, Entry
from omniad.scores import Scores
from omniad_logs.detectors.count_base import CountVectorDetector
from omniad_logs.detectors.count_params import CountsParams
from omniad_logs.session import LogSession

INNER = "inner"
TABULAR = ("tabular", "any")


def tabular_entry(detector_id: str, where: str) -> Entry:
    """The registry entry of a tabular detector, refusing ids of other modalities clearly."""
    from omniad.plugins import get_registry

    entry = get_registry().get("detector", detector_id)
    card = entry.card
    if card.modality not in TABULAR:
        raise ConfigError(
            f"{where}: detector {detector_id!r} works on {card.modality} samples, not feature vectors; "
            "name a tabular detector (e.g. core.knn, pyod.iforest; `omniad list detectors` shows them)"
        )
    assert isinstance(card, DetectorCard)
    return entry


class InnerDetector:
    """A tabular detector fitted on session vectors, with its state nested under ``inner.``."""

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
        self.model._fitted = True


class SessionCounts(CountVectorDetector):
    Params = CountsParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tabular_entry(self.params.detector, self.where)  # a wrong id fails here, not at fit

    def _fit_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> None:
        self.inner_ = InnerDetector(self, self.params.detector, self.params.detector_params)
        self.inner_.fit(x)

    def _score_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> Scores:
        inner = self.inner_.score(x)
        return Scores(sample=inner.sample, decision=inner.decision, extras=inner.extras)

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), **self.inner_.state()}

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.inner_ = InnerDetector(self, self.params.detector, self.params.detector_params)
        self.inner_.restore(state, self.where)

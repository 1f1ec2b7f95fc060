"""Any registered tabular detector on the cached text embeddings (``text.embedded``).

Text-ADBench's finding is that the embedding matters more than the detector, so rather
than re-implementing every outlier method for text, the embeddings go to the detector
named by ``detector`` (``pyod.ecod``, ``pyod.ocsvm``, ... when omniad-pyod is installed, or a
core one such as ``core.knn``): the grid is embeddings x detectors, and the corpus is
embedded once per embedding whatever the number of detectors (the cache).

The same pattern as omniad-logs' ``logs.counts`` (session count vectors): the inner
detector's state is saved inside this detector's state under ``inner.``, so save/load stays
pickle-free whatever the inner detector is. The small ``InnerDetector`` is repeated here
rather than imported because omniad-text does not depend on omniad-logs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.detector import Detector
from omniad.errors import ConfigError, DataError
from omniad.registry import Entry
from omniad.scores import Scores
from omniad_text.detectors.base import EmbeddingDetector
from omniad_text.detectors.params import EmbeddedDetectorParams

INNER = "inner"
TABULAR = ("tabular", "any")


def tabular_entry(detector_id: str, where: str) -> Entry:
    """The registry entry of a tabular detector, refusing ids of other modalities clearly."""
    from omniad.plugins import get_registry

    entry = get_registry().get("detector", detector_id)
    if entry.card.modality not in TABULAR:
        raise ConfigError(
            f"{where}: detector {detector_id!r} works on {entry.card.modality} samples, not embedding vectors; "
            "name a tabular detector (e.g. core.knn, pyod.ecod; `omniad list detectors` shows them)"
        )
    return entry


class InnerDetector:
    """A tabular detector fitted on embeddings, with its state nested under ``inner.``."""

    def __init__(self, owner: Detector, detector_id: str, params: dict[str, Any]) -> None:
        self.entry = tabular_entry(detector_id, owner.where)
        self.detector_id = detector_id
        self.model = self.entry.create(dict(params), device=owner.device_request, seed=owner.seed)

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


class TextEmbedded(EmbeddingDetector):
    Params = EmbeddedDetectorParams

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tabular_entry(self.params.detector, self.where)  # a wrong id fails here, not at fit

    def _fit_vectors(self, x: np.ndarray) -> None:
        self.inner_ = InnerDetector(self, self.params.detector, self.params.detector_params)
        self.inner_.model.fit(x)
        # the inner detector's lowered defaults (k above the training size, ...) belong to this record
        self.adjusted_params.update({f"detector_params.{k}": v for k, v in self.inner_.model.adjusted_params.items()})

    def _score_vectors(self, x: np.ndarray) -> Scores:
        inner = self.inner_.model.score(x)
        return Scores(sample=inner.sample, decision=inner.decision, extras=inner.extras)

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), **self.inner_.state()}

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.inner_ = InnerDetector(self, self.params.detector, self.params.detector_params)
        self.inner_.restore(state, self.where)

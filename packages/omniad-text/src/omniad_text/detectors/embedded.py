"""Any registered tabular detector on the cached text embeddings (``text.embedded``).

Text-ADBench's finding is that the embedding matters more than the detector, so rather
than re-implementing every outlier method for text, the embeddings go to the detector
named by ``detector`` (``pyod.ecod``, ``pyod.ocsvm``, ... when omniad-pyod is installed, or a
core one such as ``core.knn``): the grid is embeddings x detectors, and the corpus is
embedded once per embedding whatever the number of detectors (the cache).

The same pattern as omniad-logs' ``logs.counts`` (session count vectors): the inner
detector's state is saved inside this detector's state under ``inner.``, so save/load stays
pickle-free whatever the inner detector is (``omniad.nested.InnerDetector``, shared with it).
Those entries are whatever the inner class saves, so this class declares them as one
``omniad.nested.InnerState`` and ``check_inner_state`` checks them against the inner class's own ``state_spec``
(with its parameters), before anything is set: an edited folder fails at load either way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.nested import INNER_SPEC, InnerDetector, check_inner_state, tabular_entry
from omniad.scores import Scores
from omniad.state import declare
from omniad_text.detectors.base import EmbeddingDetector
from omniad_text.detectors.params import EmbeddedDetectorParams


class TextEmbedded(EmbeddingDetector):
    Params = EmbeddedDetectorParams
    state_spec = declare(INNER_SPEC)

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

    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        check_inner_state(self, state, self.params.detector, self.params.detector_params)

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.inner_ = InnerDetector(self, self.params.detector, self.params.detector_params)
        self.inner_.restore(state, self.where)

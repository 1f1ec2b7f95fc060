"""Any registered tabular detector on encoded events (``events.embedded``).

The events are encoded (``encoding``: one-hot + min-max, or frequency) with the fitted
``Encoder``, and the matrix goes to the detector named by ``detector`` (``pyod.iforest``,
``pyod.ecod``, ... with omniad-pyod, or ``core.knn``): the same mechanism as ``text.embedded``
and ``logs.counts`` (``omniad.nested.InnerDetector``), so the inner detector's state is saved
under ``inner.`` and checked at load against its own declaration.
"""

from __future__ import annotations

from typing import Any

from omniad.nested import INNER_SPEC, InnerDetector, check_inner_state, tabular_entry
from omniad.scores import Scores
from omniad.state import declare
from omniad_events.detectors.base import EventDetector
from omniad_events.detectors.params import EmbeddedParams
from omniad_events.encoding import EncodedCounts, Encoder
from omniad_events.events import EventTable


class EventEmbedded(EventDetector):
    Params = EmbeddedParams
    state_spec = declare(INNER_SPEC)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tabular_entry(self.params.detector, self.where)  # a wrong id fails here, not at fit

    def _fit_table(self, table: EventTable) -> None:
        x = self.encoder_.encode(self.params.encoding, table, log=self.params.numbers == "log")
        self.inner_ = InnerDetector(self, self.params.detector, self.params.detector_params)
        self.inner_.model.fit(x)
        self.adjusted_params.update(
            {f"detector_params.{k}": v for k, v in self.inner_.model.adjusted_params.items()}
        )

    def _score_table(self, table: EventTable, counts: EncodedCounts) -> Scores:
        inner = self.inner_.model.score(
            self.encoder_.encode(self.params.encoding, table, counts, self.params.numbers == "log")
        )
        return Scores(sample=inner.sample, decision=inner.decision)

    def model_state(self) -> dict[str, Any]:
        return self.inner_.state()

    def _check_model_state(self, state: dict[str, Any], encoder: Encoder) -> None:
        check_inner_state(self, state, self.params.detector, self.params.detector_params)

    def _restore(self, state: dict[str, Any]) -> None:
        self.inner_ = InnerDetector(self, self.params.detector, self.params.detector_params)
        self.inner_.restore(state, self.where)

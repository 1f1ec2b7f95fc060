"""What every event detector shares: events in, a fitted ``Encoder`` saved with the model.

A subclass implements ``_fit_table`` / ``_score_table`` on ``EventTable`` s whose fields are
the fitted ones (``Encoder.check``: a missing field fails naming it, extra ones are left out),
and declares its own state. This base saves the encoder as JSON (``encoder_``), checks it at
load (``Encoder.from_state``), counts what encoding repaired (unseen entities, missing or
out-of-range numbers) into ``fit_counts_`` / ``score_counts_`` for the run record, and gives
the number of unseen entities per event as ``Scores.extras["unseen_entities"]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from omniad.detector import Detector
from omniad.scores import Scores
from omniad.state import Json, declare
from omniad_events.encoding import EncodedCounts, Encoder
from omniad_events.events import EventTable, as_table


class EventDetector(Detector):
    """Base of the event detectors (not registered)."""

    #: quantile bins for numeric fields (subclasses with an ``n_bins`` parameter use theirs)
    default_bins: ClassVar[int] = 10
    state_spec = declare(encoder_=Json(types=(dict,)), fit_counts_=Json(types=(dict,)))

    def _coerce(self, samples: Any, where: str) -> Any:
        return as_table(samples, where)

    # -- subclass hooks ------------------------------------------------------------------
    def _fit_table(self, table: EventTable) -> None:
        raise NotImplementedError

    def _score_table(self, table: EventTable, counts: EncodedCounts) -> Scores:
        raise NotImplementedError

    def _prepare(self, table: EventTable, where: str) -> EventTable:
        """The events as the model sees them (CAR takes key and time out of named fields here)."""
        return table

    def _restore(self, state: dict[str, Any]) -> None:
        """Rebuild the model from ``state`` after the encoder is set."""

    def _check_model_state(self, state: dict[str, Any], encoder: Encoder) -> None:
        """Relations between the saved model and the encoder (sizes); raise ``DataError``."""

    # -- Detector ------------------------------------------------------------------------
    def _fit(self, samples: Sequence[Any]) -> None:
        table = self._prepare(as_table(samples, f"{self.where}.fit"), f"{self.where}.fit")
        self.encoder_ = Encoder.fit(table, getattr(self.params, "n_bins", self.default_bins))
        counts = EncodedCounts()
        self.encoder_.codes(table, counts)
        self.fit_counts_ = counts.as_dict()
        self._fit_table(table)

    def _score(self, samples: Sequence[Any]) -> Scores:
        where = f"{self.where}.score"
        table = self.encoder_.check(self._prepare(as_table(samples, where), where), where)
        counts = EncodedCounts()
        scores = self._score_table(table, counts)
        self.score_counts_ = counts.as_dict()
        per_event = (
            counts.per_event_unseen if len(counts.per_event_unseen) == len(table) else np.zeros(len(table))
        )
        extras = {
            **scores.extras,
            "unseen_entities": list(np.asarray(per_event, dtype=np.float64).reshape(-1, 1)),
        }
        return Scores(sample=scores.sample, extras=extras, decision=scores.decision)

    def provenance(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if getattr(self, "fit_counts_", None):
            out["fit_counts"] = dict(self.fit_counts_)
        if getattr(self, "score_counts_", None):
            out["score_counts"] = dict(self.score_counts_)
        return out

    # -- persistence ---------------------------------------------------------------------
    def model_state(self) -> dict[str, Any]:
        return {}

    def get_state(self) -> dict[str, Any]:
        return {
            "encoder_": self.encoder_.to_state(),
            "fit_counts_": dict(self.fit_counts_),
            **self.model_state(),
        }

    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        self._check_model_state(state, Encoder.from_state(state["encoder_"], "saved state 'encoder_'"))

    def set_state(self, state: dict[str, Any]) -> None:
        self.encoder_ = Encoder.from_state(state["encoder_"], f"{self.where}.load")
        self.fit_counts_ = dict(state["fit_counts_"])
        self._restore(state)

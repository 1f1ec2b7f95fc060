"""Attribute value frequency (``events.avf``): the frequency baseline for categorical events.

Koufakou et al. (ICTAI 2007): an event whose values are rare in training is anomalous; the
score is minus the mean, over fields, of the training frequency of the event's value (numbers
as quantile-bin codes; an unseen value or a number outside the training range has frequency 0).
It sees no co-occurrence: a rare *combination* of common values scores as normal, which is what
APE and CLAN add.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, declare
from omniad_events.detectors.base import EventDetector
from omniad_events.detectors.params import AVFParams
from omniad_events.encoding import EncodedCounts, Encoder
from omniad_events.events import EventTable


def offsets(encoder: Encoder) -> np.ndarray:
    """Where each field's codes start in one flat table of all fields' codes."""
    return np.r_[0, np.cumsum(encoder.cardinalities)[:-1]].astype(np.int64)


class AVF(EventDetector):
    Params = AVFParams
    state_spec = declare(freq_=Array("codes"))

    def _fit_table(self, table: EventTable) -> None:
        codes = self.encoder_.codes(table) + offsets(self.encoder_)
        total = int(sum(self.encoder_.cardinalities))
        self.freq_ = np.bincount(codes.reshape(-1), minlength=total).astype(np.float64) / len(table)

    def _score_table(self, table: EventTable, counts: EncodedCounts) -> Scores:
        codes = self.encoder_.codes(table, counts) + offsets(self.encoder_)
        return Scores(sample=-self.freq_[codes].mean(axis=1))

    def model_state(self) -> dict[str, Any]:
        return {"freq_": self.freq_}

    def _check_model_state(self, state: dict[str, Any], encoder: Encoder) -> None:
        freq, total = state["freq_"], int(sum(encoder.cardinalities))
        if freq.shape != (total,) or np.any(freq < 0) or np.any(freq > 1):
            raise DataError(
                f"saved state 'freq_' has shape {freq.shape} (or values outside [0, 1]) but the "
                f"encoder has {total} codes; re-save the model"
            )

    def _restore(self, state: dict[str, Any]) -> None:
        self.freq_ = np.asarray(state["freq_"], dtype=np.float64)

"""``numeric_tails``: a detector's own score joined with the likelihood of the raw numbers (APE, CLAN).

APE sees a number only as its quantile bin, so a value a thousand times the training maximum
is just "above the range", and CLAN's min-max / log scaling squeezes it into a few units. The
numbers' own likelihood under per-field independence keeps that information: for each numeric
field, the larger of the upper and lower empirical tail surprises of the raw value (``Tail``;
exponential beyond the training range), summed over fields. The detector's score and that sum
are each turned into a training tail surprise and added (Fisher's combination, as CAR joins its
components), so neither scale dominates. ``Scores.extras`` keeps both parts.

A detector using it mixes ``NumericTails`` in before its base, adds ``TAILS_SPEC`` to its
``state_spec``, calls ``_fit_tails`` at the end of its fit with its own scores of events it did
not fit on (or leave-one-out), and ``_with_tails`` on its scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array
from omniad_events.detectors.tails import Tail
from omniad_events.events import EventTable

#: quantiles kept per numeric field's tails
TAIL_GRID = 512
TAILS_SPEC = {
    "tails_": Array(None, 2, "grid", optional=True),
    "calib_main_": Array(None, optional=True),
    "calib_numeric_": Array(None, optional=True),
}


class NumericTails:
    """Mixin; see the module docstring (needs ``params.numeric_tails``, ``encoder_``, ``where``)."""

    tails_: np.ndarray | None
    calib_main_: np.ndarray | None
    calib_numeric_: np.ndarray | None

    def _uses_tails(self, encoder: Any) -> bool:
        return bool(getattr(self.params, "numeric_tails", False)) and bool(encoder.schema.numeric)  # type: ignore[attr-defined]

    def _numbers(self, table: EventTable) -> np.ndarray:
        x = table.numeric.copy()
        nan = ~np.isfinite(x)
        x[nan] = np.broadcast_to(self.encoder_.median, x.shape)[nan]  # type: ignore[attr-defined]
        return x

    def _numeric_surprise(self, x: np.ndarray) -> np.ndarray:
        """Sum over numeric fields of the larger of the upper and lower tail surprises of the value."""
        out = np.zeros(len(x))
        assert self.tails_ is not None
        for j, (up, low) in enumerate(self.tails_):
            upper = Tail.from_state(up, self.where).surprise(x[:, j])  # type: ignore[attr-defined]
            lower = Tail.from_state(low, self.where).surprise(-x[:, j])  # type: ignore[attr-defined]
            out += np.maximum(upper, lower)
        return out

    def _fit_tails(self, table: EventTable, main_held_out: np.ndarray) -> None:
        """``main_held_out``: the detector's scores of training events it did not fit (or left out)."""
        self.tails_ = self.calib_main_ = self.calib_numeric_ = None
        if not self._uses_tails(self.encoder_):  # type: ignore[attr-defined]
            return
        x = self._numbers(table)
        keep = min(len(x), TAIL_GRID)
        self.tails_ = np.stack(
            [[Tail.fit(x[:, j], keep).state(), Tail.fit(-x[:, j], keep).state()] for j in range(x.shape[1])]
        )
        self.calib_main_ = Tail.fit(main_held_out).state()
        self.calib_numeric_ = Tail.fit(self._numeric_surprise(x)).state()

    def _with_tails(self, table: EventTable, main: np.ndarray) -> Scores:
        if self.tails_ is None:
            return Scores(sample=main)
        assert self.calib_main_ is not None and self.calib_numeric_ is not None
        part = Tail.from_state(self.calib_main_, self.where).surprise(main)  # type: ignore[attr-defined]
        numeric = Tail.from_state(self.calib_numeric_, self.where).surprise(  # type: ignore[attr-defined]
            self._numeric_surprise(self._numbers(table))
        )
        return Scores(
            sample=part + numeric,
            extras={"model": list(part.reshape(-1, 1)), "numbers": list(numeric.reshape(-1, 1))},
        )

    def _tails_state(self) -> dict[str, Any]:
        if self.tails_ is None:
            return {}
        return {"tails_": self.tails_, "calib_main_": self.calib_main_, "calib_numeric_": self.calib_numeric_}

    def _check_tails_state(self, state: dict[str, Any], encoder: Any) -> None:
        if not self._uses_tails(encoder):
            return
        tails, p = state.get("tails_"), len(encoder.schema.numeric)
        if tails is None or state.get("calib_main_") is None or state.get("calib_numeric_") is None:
            raise DataError(
                "saved state lacks 'tails_' / 'calib_*_' that numeric_tails=True needs; re-save the model"
            )
        if tails.shape[0] != p:
            raise DataError(
                f"saved state 'tails_' has {tails.shape[0]} fields but the encoder {p}; re-save the model"
            )
        arrays = [("calib_main_", state["calib_main_"]), ("calib_numeric_", state["calib_numeric_"])]
        arrays += [(f"tails_[{j}]", t) for j, pair in enumerate(tails) for t in pair]
        for name, arr in arrays:
            Tail.from_state(np.asarray(arr, dtype=np.float64), f"saved state {name!r}")

    def _restore_tails(self, state: dict[str, Any]) -> None:
        self.tails_ = self.calib_main_ = self.calib_numeric_ = None
        if self._uses_tails(self.encoder_):  # type: ignore[attr-defined]
            self.tails_ = np.asarray(state["tails_"], dtype=np.float64)
            self.calib_main_ = np.asarray(state["calib_main_"], dtype=np.float64)
            self.calib_numeric_ = np.asarray(state["calib_numeric_"], dtype=np.float64)

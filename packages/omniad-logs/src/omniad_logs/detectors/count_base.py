"""What the count-vector detectors share: session checks, the featurizer, per-line scores, state.

A subclass fits on and scores the (n_sessions, n_features) matrix of ``EventFeaturizer``
and, for localisation, returns one value per feature column; each line then gets the value
of its event's column, so every score points back at lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from omniad.detector import Detector
from omniad.errors import DataError
from omniad.scores import Scores
from omniad_logs.detectors.features import EventFeaturizer, check_sessions
from omniad_logs.session import LogSession

FEATURES = "features"


class CountVectorDetector(Detector):
    """Base of the detectors that see a session as its event-count vector (not registered)."""

    #: fitted attributes saved besides the featurizer (arrays or JSON values)
    model_state: ClassVar[tuple[str, ...]] = ()
    #: fixed weighting / normalisation for methods whose definition needs one (None = from params)
    weighting: ClassVar[str | None] = None
    normalization: ClassVar[str | None] = None

    def _feature_setup(self) -> tuple[Any, Any]:
        w = self.weighting or getattr(self.params, "weighting", "count")
        n = self.normalization or getattr(self.params, "normalization", "none")
        return w, n

    # -- subclass hooks ------------------------------------------------------------------
    def _fit_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> None:
        raise NotImplementedError

    def _score_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> Scores:
        raise NotImplementedError

    def _restore(self) -> None:
        """Rebuild derived attributes after ``set_state`` (default: nothing)."""

    # -- Detector ------------------------------------------------------------------------
    def _fit(self, samples: Sequence[Any]) -> None:
        sessions = check_sessions(samples, f"{self.where}.fit")
        self.features_ = EventFeaturizer(*self._feature_setup()).fit(sessions)
        self._fit_vectors(self.features_.transform(sessions, f"{self.where}.fit"), sessions)

    def _score(self, samples: Sequence[Any]) -> Scores:
        where = f"{self.where}.score"
        sessions = check_sessions(samples, where)
        return self._score_vectors(self.features_.transform(sessions, where), sessions)

    def line_scores(self, sessions: Sequence[LogSession], per_column: np.ndarray) -> list[np.ndarray]:
        """Line i of session s gets ``per_column[s, column of its event]``."""
        return [
            np.asarray(per_column[i, self.features_.columns_of(s)], dtype=np.float64)
            for i, s in enumerate(sessions)
        ]

    # -- persistence ---------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return {**self.features_.state(FEATURES), **{a: getattr(self, a) for a in self.model_state}}

    def set_state(self, state: dict[str, Any]) -> None:
        missing = [a for a in self.model_state if a not in state]
        if missing:
            raise DataError(f"{self.where}.load: saved state lacks {missing}; re-save the model")
        self.features_ = EventFeaturizer.from_state(state, *self._feature_setup(), prefix=FEATURES)
        for a in self.model_state:
            setattr(self, a, state[a])
        self._restore()

"""What the count-vector detectors share: session checks, the featurizer, per-line scores, state.

A subclass fits on and scores the (n_sessions, n_features) matrix of ``EventFeaturizer``
and, for localisation, returns one value per feature column; each line then gets the value
of its event's column, so every score points back at lines.

Why scores are snapped. Scores such as PCA's residual shares are computed through BLAS / LAPACK
(SVD, matrix products) whose summation order depends on the CPU kernels, so quantities that
are mathematically equal (two event columns with the same residual share; the same vector in
two sessions) or mathematically zero come out differing by ~1e-16 of their scale, and which
side of a tie they land on changes from machine to machine. Rank metrics read that noise as
signal: within-session line AUROC of ``logs.pca`` on ``logs.synthetic`` moved from 0.685 to
0.604 between two machines because ties between lines broke differently. A detector that says
its scores' scale (``score_scale``, per session) has its sample and line scores rounded to
``SNAP_BITS`` significant bits of that scale (``snap``): far above the noise, far below any
difference that means something, so equal quantities become bit-equal and the ranking no
longer depends on the machine. (A value that falls within noise of a rounding midpoint can
still go either way; that happens with probability ~2**-20 per value.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from omniad.detector import Detector
from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import declare
from omniad_logs.detectors.features import EventFeaturizer, check_sessions
from omniad_logs.detectors.inputs import LogInput
from omniad_logs.session import LogSession

FEATURES = "features"

#: significant bits of its scale kept of a snapped score (~9.6 decimal digits; float64 noise is ~2**-52)
SNAP_BITS = 32


def snap(values: np.ndarray, scale: np.ndarray | float) -> np.ndarray:
    """``values`` rounded to multiples of ``2**(e - SNAP_BITS)``, where ``2**(e-1) <= sqrt(2) scale < 2**e``.

    ``scale`` broadcasts against ``values`` (one per session: shape ``(n,)`` for sample scores,
    ``(n, 1)`` for a per-column matrix). The quantum is a power of two, so the rounding itself
    is exact. The scale is noisy too, and an ulp of it must not change the quantum: common
    exact scales (1 for unit vectors, integer counts, powers of two) would sit on the edge of
    a binade, so the factor sqrt(2) moves them to its middle, far from either edge.
    """
    values = np.asarray(values, dtype=np.float64)
    scale = np.abs(np.asarray(scale, dtype=np.float64)) * np.sqrt(2.0)
    _, e = np.frexp(np.where(scale > 0, scale, 1.0))
    shift = e.astype(np.int64) - SNAP_BITS
    return np.ldexp(np.round(np.ldexp(values, -shift)), shift)


class CountVectorDetector(LogInput, Detector):
    """Base of the detectors that see a session as its event-count vector (not registered)."""

    #: fitted attributes saved besides the featurizer (arrays or JSON values); subclasses declare them
    #: in ``state_spec`` too, naming the feature width ``f`` (``e`` events + the unknown column)
    model_state: ClassVar[tuple[str, ...]] = ()
    state_spec = declare(EventFeaturizer.state_spec(FEATURES))
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

    def score_scale(self, x: np.ndarray) -> np.ndarray | None:
        """Per session, the magnitude of its sample and line scores whose ~1e-16 part is noise.

        None (the default): scores are left as computed — exact values (invariant counts),
        float32 networks (GLAD, noise far above float64's), or another library's scores
        (the tabular adapters). A subclass that returns a scale has its scores snapped, and
        its decision must be ``sample > threshold_`` (it is recomputed on the snapped score).
        """
        return None

    # -- Detector ------------------------------------------------------------------------
    def _fit(self, samples: Sequence[Any]) -> None:
        sessions = check_sessions(samples, f"{self.where}.fit")
        self.features_ = EventFeaturizer(*self._feature_setup()).fit(sessions)
        self._fit_vectors(self.features_.transform(sessions, f"{self.where}.fit"), sessions)

    def _score(self, samples: Sequence[Any]) -> Scores:
        where = f"{self.where}.score"
        sessions = check_sessions(samples, where)
        x = self.features_.transform(sessions, where)
        scores = self._score_vectors(x, sessions)
        scale = self.score_scale(x)
        if scale is None:
            return scores
        scores.sample = snap(scores.sample, scale)
        if scores.local is not None and len(scores.local):  # one snap of all lines (elementwise, so the same)
            lengths = [len(local) for local in scores.local]
            flat = snap(np.concatenate(scores.local), np.repeat(scale, lengths))
            scores.local = np.split(flat, np.cumsum(lengths)[:-1])
        if scores.decision is not None:
            scores.decision = (scores.sample > self.threshold_).astype(np.int8)
        return scores

    def line_scores(self, sessions: Sequence[LogSession], per_column: np.ndarray) -> list[np.ndarray]:
        """Line i of session s gets ``per_column[s, column of its event]``."""
        cols, lengths = self.features_.all_columns(sessions)
        rows = np.repeat(np.arange(len(sessions), dtype=np.int64), lengths)
        flat = np.asarray(per_column[rows, cols], dtype=np.float64)
        return np.split(flat, np.cumsum(lengths)[:-1]) if len(sessions) else []

    # -- persistence ---------------------------------------------------------------------
    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        EventFeaturizer.check_state(state, FEATURES)

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

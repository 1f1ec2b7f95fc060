"""Event-count and TF-IDF vectors per session: the input of every count-vector detector.

The columns are the event ids seen at fit (sorted, so the layout does not depend on the
order of the training sessions) plus one ``unknown`` column that counts the lines whose
event was never seen at fit. An unseen event is often the anomaly itself, so it is counted
rather than dropped; every detector here learns that the column is zero on normal data.

Weighting. ``tfidf`` multiplies each count by scikit-learn's smooth IDF
``log((1 + N) / (1 + df)) + 1`` over the N training sessions. loglizer (He et al., ISSRE
2016; the reference implementation of the published PCA / log-clustering numbers) uses
``log(N / df)`` instead, available as ``tfidf_loglizer`` (unseen events take ``df = 1``).
That weight is 0 for an event present in every normal session, which throws away exactly
the count relations HDFS anomalies break (and makes a session of such events the zero
vector): on hdfs_sessions PCA's F1 at its own decision goes from 0.65 (loglizer IDF) to
0.99 (smooth IDF), see docs/detectors-count.md. ``zero_mean`` subtracts the training mean
of each column, ``l2`` scales each session vector to unit length.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad.state import Array, Json, Spec, Str
from omniad_logs.detectors.count_params import Normalization, Weighting
from omniad_logs.session import LogSession, as_sessions

UNKNOWN = "<unknown>"


def check_sessions(samples: Sequence[Any], where: str) -> list[LogSession]:
    """``as_sessions`` plus the checks every log detector needs: no empty session."""
    sessions = as_sessions(samples, where)
    for i, session in enumerate(sessions):
        if len(session) == 0:
            raise DataError(
                f"{where}: session {session.id!r} (#{i}) has no lines; drop empty sessions before "
                "fitting or scoring (a session needs at least one event)"
            )
    return sessions


class EventFeaturizer:
    """Session -> vector over the fitted event vocabulary; state is plain arrays and a list.

    Not a ``Detector``: detectors own one and save its ``state()`` next to their own.
    """

    def __init__(self, weighting: Weighting = "count", normalization: Normalization = "none") -> None:
        self.weighting = weighting
        self.normalization = normalization
        self.events_: list[str] = []
        self.index_: dict[str, int] = {}
        self.idf_ = np.zeros(0)
        self.mean_ = np.zeros(0)

    @property
    def n_features(self) -> int:
        return len(self.events_) + 1

    @property
    def columns(self) -> list[str]:
        return [*self.events_, UNKNOWN]

    def fit(self, sessions: Sequence[LogSession]) -> EventFeaturizer:
        self.events_ = sorted({e for s in sessions for e in s.events})
        self.index_ = {e: i for i, e in enumerate(self.events_)}
        counts = self.counts(sessions)
        df = (counts > 0).sum(axis=0).astype(np.float64)
        n = float(len(sessions))
        if self.weighting == "tfidf_loglizer":
            self.idf_ = np.log(n / np.maximum(df, 1.0))
        else:
            self.idf_ = np.log((1.0 + n) / (1.0 + df)) + 1.0
        self.mean_ = np.zeros(self.n_features)
        self.mean_ = self._weight(counts).mean(axis=0)
        return self

    def columns_of(self, session: LogSession) -> np.ndarray:
        """Column of each line's event (the unknown column for unseen events)."""
        unknown = len(self.events_)
        return np.fromiter((self.index_.get(e, unknown) for e in session.events), dtype=np.int64, count=len(session))

    def all_columns(self, sessions: Sequence[LogSession]) -> tuple[np.ndarray, np.ndarray]:
        """The columns of every line of every session, one flat array, and each session's length."""
        unknown = len(self.events_)
        get = self.index_.get
        lengths = np.fromiter((len(s) for s in sessions), dtype=np.int64, count=len(sessions))
        cols = np.fromiter((get(e, unknown) for s in sessions for e in s.events), dtype=np.int64,
                           count=int(lengths.sum()))
        return cols, lengths

    def counts(self, sessions: Sequence[LogSession]) -> np.ndarray:
        """Raw event counts, shape (n_sessions, n_features); one bincount for the whole batch."""
        n, f = len(sessions), self.n_features
        cols, lengths = self.all_columns(sessions)
        rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
        return np.bincount(rows * f + cols, minlength=n * f).reshape(n, f).astype(np.float64)

    def _weight(self, counts: np.ndarray) -> np.ndarray:
        x = counts * self.idf_ if self.weighting in ("tfidf", "tfidf_loglizer") else counts.copy()
        if self.normalization == "zero_mean":
            x -= self.mean_
        elif self.normalization == "l2":
            norms = np.linalg.norm(x, axis=1, keepdims=True)
            x = x / np.where(norms > 0, norms, 1.0)
        return x

    def transform(self, sessions: Sequence[LogSession], where: str) -> np.ndarray:
        """Weighted, normalised vectors; fails when no line of the batch has a known event."""
        counts = self.counts(sessions)
        unknown = counts[:, -1].sum()
        if len(self.events_) and unknown > 0 and unknown == counts.sum():
            example = next(e for s in sessions for e in s.events)
            raise DataError(
                f"{where}: none of the {int(unknown)} lines has an event seen at fit (e.g. {example!r}); "
                "the sessions come from another log or parser than the training data — fit on "
                "sessions parsed with the same templates"
            )
        return self._weight(counts)

    # -- persistence (plain arrays and JSON, no pickle) ----------------------------------
    @staticmethod
    def state_spec(prefix: str = "features") -> dict[str, Spec]:
        """What ``state`` saves, for the owner's ``state_spec``: ``e`` events, ``f`` = e + 1 columns.

        ``e + 1`` is beyond the declaration table; ``check_state`` checks it (with the events
        being distinct), so an edited vocabulary fails at load, not as an index error at score.
        """
        return {
            f"{prefix}.events": Json(types=(list,), items=Str(), length="e"),
            f"{prefix}.idf": Array("f"),
            f"{prefix}.mean": Array("f"),
        }

    @staticmethod
    def check_state(state: dict[str, Any], prefix: str = "features") -> None:
        """The relations ``state_spec`` cannot say: one column per event plus the unknown column, no repeats."""
        events = state[f"{prefix}.events"]
        width = int(np.shape(state[f"{prefix}.idf"])[0])
        if width != len(events) + 1:
            raise DataError(
                f"saved state {prefix + '.events'!r} lists {len(events)} events but {prefix + '.idf'!r} has {width} "
                f"columns (one per event + the unknown column = {len(events) + 1})"
            )
        if len(set(events)) != len(events):
            repeated = sorted({e for e in events if events.count(e) > 1})[:3]
            raise DataError(f"saved state {prefix + '.events'!r} repeats events {repeated}; each column is one event")

    def state(self, prefix: str = "features") -> dict[str, Any]:
        return {
            f"{prefix}.events": list(self.events_),
            f"{prefix}.idf": self.idf_,
            f"{prefix}.mean": self.mean_,
        }

    @classmethod
    def from_state(
        cls, state: dict[str, Any], weighting: Weighting, normalization: Normalization, prefix: str = "features"
    ) -> EventFeaturizer:
        out = cls(weighting, normalization)
        out.events_ = [str(e) for e in state[f"{prefix}.events"]]
        out.index_ = {e: i for i, e in enumerate(out.events_)}
        out.idf_ = np.asarray(state[f"{prefix}.idf"], dtype=np.float64)
        out.mean_ = np.asarray(state[f"{prefix}.mean"], dtype=np.float64)
        if out.idf_.shape != (out.n_features,) or out.mean_.shape != (out.n_features,):
            raise DataError(
                f"saved feature state has {out.idf_.shape[0]} weights for {out.n_features} columns; re-save the model"
            )
        return out

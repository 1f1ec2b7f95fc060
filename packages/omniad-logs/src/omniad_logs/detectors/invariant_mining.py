"""Invariant mining (Lou et al., USENIX ATC 2010): linear relations between event counts.

Normal program flow ties event counts together: every "open" has a "close", so
``count(open) - count(close) = 0`` in every normal session. The method estimates how many
such invariants exist (the near-null space of ``X^T X``), then searches small integer
relations over 1, 2, ... ``max_length`` events (Apriori-style: a candidate that contains an
invariant already found is skipped) that hold on at least ``percentage`` of the normal
sessions. A session violating any invariant is anomalous (the decision); its score is the
number of invariants it violates. One-event invariants say "this event never occurs in
normal sessions", which covers events unseen at fit (the unknown column).

Per line: a line gets the number of violated invariants that involve its event.

The search runs on the distinct count vectors only (rows weighted by multiplicity, which
leaves ``X^T X`` and every support count unchanged), so HDFS's thousands of sessions cost
what their few hundred distinct vectors cost.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Float, Int, Json, declare
from omniad_logs.detectors.count_base import CountVectorDetector
from omniad_logs.detectors.count_params import InvariantMiningParams
from omniad_logs.session import LogSession

#: invariant coefficients are integers; a rounded relation must hold exactly (count data)
TOL = 1e-9


class InvariantMining(CountVectorDetector):
    Params = InvariantMiningParams
    weighting = "count"
    normalization = "none"
    model_state = ("columns_", "coefficients_")
    #: ``k`` invariants, each a list of event columns (< f) and as many integer coefficients
    state_spec = declare(
        columns_=Json(types=(list,), items=Json(types=(list,), items=Int(ge=0, lt="f")), length="k"),
        coefficients_=Json(types=(list,), items=Json(types=(list,), items=Float()), length="k"),
    )

    def _integer_relation(self, sub: np.ndarray, weights: np.ndarray) -> np.ndarray | None:
        """The smallest-singular-vector relation of ``sub``, scaled to small integers, or None."""
        _, _, vt = np.linalg.svd(sub * np.sqrt(weights)[:, None], full_matrices=False)
        v = vt[-1]
        nonzero = np.abs(v) > 1e-6
        if not nonzero.all():  # a relation over fewer events: found (or rejected) at a smaller size
            return None
        theta = v / np.abs(v).min()
        rounded = np.round(theta)
        if np.abs(theta - rounded).max() > 0.05 or np.abs(rounded).max() > self.params.max_coefficient:
            return None
        return rounded if rounded[0] > 0 else -rounded

    def _fit_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> None:
        """loglizer's search: stop once as many invariants exist as X^T X has near-zero singular values."""
        p = self.params
        rows, weights = np.unique(x, axis=0, return_counts=True)
        weights = weights.astype(np.float64)
        n = weights.sum()
        sigma = np.linalg.svd(rows.T @ (rows * weights[:, None]), compute_uv=False)
        budget = int((sigma < p.epsilon).sum())
        found: list[tuple[tuple[int, ...], np.ndarray]] = []
        found_sets: list[frozenset[int]] = []
        active = [j for j in range(rows.shape[1]) if not np.any(rows[:, j])]
        for j in active:  # events that never occur: any occurrence is a violation
            found.append(((j,), np.ones(1)))
            found_sets.append(frozenset((j,)))
        candidates = [j for j in range(rows.shape[1]) if j not in active]
        for length in range(2, p.max_length + 1):
            if len(found) >= budget:
                break
            for cols in combinations(candidates, length):
                chosen = frozenset(cols)
                if any(s <= chosen for s in found_sets):
                    continue
                sub = rows[:, cols]
                theta = self._integer_relation(sub, weights)
                if theta is None:
                    continue
                holds = np.abs(sub @ theta) < TOL
                if weights[holds].sum() / n >= p.percentage:
                    found.append((cols, theta))
                    found_sets.append(chosen)
                    if len(found) >= budget:
                        break
        self.columns_ = [list(map(int, c)) for c, _ in found]
        self.coefficients_ = [[float(t) for t in theta] for _, theta in found]
        self.n_invariants_ = len(found)
        self._build()
        self.threshold_ = 0.5  # the decision: at least one violated invariant

    def _build(self) -> None:
        d = self.features_.n_features
        self.matrix_ = np.zeros((len(self.columns_), d))
        for i, (cols, coef) in enumerate(zip(self.columns_, self.coefficients_, strict=True)):
            if any(not 0 <= c < d for c in cols) or len(cols) != len(coef):
                raise DataError(f"{self.where}: saved invariant {i} does not fit {d} event columns; re-save the model")
            self.matrix_[i, cols] = coef

    def _restore(self) -> None:
        self._build()

    def _score_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> Scores:
        violated = (np.abs(x @ self.matrix_.T) > TOL).astype(np.float64)
        score = violated.sum(axis=1)
        per_column = violated @ (self.matrix_ != 0).astype(np.float64)
        return Scores(
            sample=score, local=self.line_scores(sessions, per_column), decision=(score > 0).astype(np.int8)
        )

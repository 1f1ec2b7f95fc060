"""Log clustering (Lin et al., ICSE 2016), as loglizer implements it.

Normal sessions' IDF-weighted event vectors are clustered by cosine distance: the first
``num_bootstrap_samples`` sessions hierarchically (complete linkage, cut at ``max_dist``),
the rest online (join the nearest cluster within ``max_dist``, moving its mean, or open a
new one). A cluster's representative is the mean of its members. A session's score is its
cosine distance to the nearest representative; above ``anomaly_threshold`` it is anomalous
(the method's own decision).

Identical vectors are processed once with their multiplicity (a weighted mean update), so
HDFS's thousands of sessions cost what their distinct vectors cost; complete linkage does not
depend on multiplicity, and the online phase sees each distinct vector at its first position.

Per line: the cosine distance to the representative ``r`` splits exactly over event columns,
``d = sum_j (x_j/|x|) (x_j/|x| - r_j/|r|)``; each line gets its event's term. Both are
snapped to 32 bits of 1 (the scale of unit vectors; see ``count_base``), so terms that are
equal in exact arithmetic are equal on every machine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, declare
from omniad_logs.detectors.count_base import CountVectorDetector
from omniad_logs.detectors.count_params import LogClusteringParams
from omniad_logs.session import LogSession

EPS = 1e-8


def _unit(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0), norms[..., 0] > 0


def cosine_distances(x: np.ndarray, reps: np.ndarray) -> np.ndarray:
    """loglizer's ``1 - x.r / (|x||r|)``, with a zero vector at distance 1 from everything."""
    ux, okx = _unit(x)
    ur, okr = _unit(reps)
    d = 1.0 - ux @ ur.T
    d[~okx] = 1.0
    d[:, ~okr] = 1.0
    return np.where(d < EPS, 0.0, d)


class LogClustering(CountVectorDetector):
    Params = LogClusteringParams
    model_state = ("representatives_", "cluster_sizes_")
    state_spec = declare(representatives_=Array("c", "f"), cluster_sizes_=Array("c"))

    def _fit_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> None:
        from scipy.cluster.hierarchy import fcluster, linkage
        from scipy.spatial.distance import pdist

        p = self.params
        boot = x[: p.num_bootstrap_samples]
        rows, counts = np.unique(boot, axis=0, return_counts=True)
        if len(rows) > 1:
            condensed = np.clip(pdist(rows, metric="cosine"), 0.0, 2.0)
            condensed = np.nan_to_num(condensed, nan=1.0)  # zero vectors: distance 1, as loglizer
            labels = fcluster(linkage(condensed, "complete"), p.max_dist, criterion="distance")
        else:
            labels = np.ones(1, dtype=int)
        reps, sizes = [], []
        for label in np.unique(labels):
            member = labels == label
            reps.append(np.average(rows[member], axis=0, weights=counts[member]))
            sizes.append(float(counts[member].sum()))
        rest = x[p.num_bootstrap_samples :]
        if len(rest):
            uniq, first, inverse = np.unique(rest, axis=0, return_index=True, return_inverse=True)
            mult = np.bincount(inverse.reshape(-1), minlength=len(uniq)).astype(np.float64)
            for k in np.argsort(first):
                v, m = uniq[k], mult[k]
                d = cosine_distances(v[None], np.asarray(reps))[0]
                j = int(np.argmin(d))
                if d[j] <= p.max_dist:
                    sizes[j] += m
                    reps[j] = reps[j] + m * (v - reps[j]) / sizes[j]
                else:
                    reps.append(v.copy())
                    sizes.append(m)
        self.representatives_ = np.asarray(reps, dtype=np.float64)
        self.cluster_sizes_ = np.asarray(sizes, dtype=np.float64)
        self.threshold_ = float(p.anomaly_threshold)

    def score_scale(self, x: np.ndarray) -> np.ndarray:
        """Distances and their terms come from unit vectors: scale 1."""
        return np.ones(len(x))

    def _score_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> Scores:
        d = cosine_distances(x, self.representatives_)
        nearest = np.argmin(d, axis=1)
        score = d[np.arange(len(x)), nearest]
        ux, _ = _unit(x)
        ur, _ = _unit(self.representatives_[nearest])
        share = ux * (ux - ur)
        return Scores(
            sample=score, local=self.line_scores(sessions, share), decision=(score > self.threshold_).astype(np.int8)
        )

    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        if np.any(np.asarray(state["cluster_sizes_"]) < 1):
            raise DataError("saved state 'cluster_sizes_' holds a size below 1; a cluster has at least one session")

    def _restore(self) -> None:
        self.representatives_ = np.asarray(self.representatives_, dtype=np.float64)
        self.cluster_sizes_ = np.asarray(self.cluster_sizes_, dtype=np.float64)

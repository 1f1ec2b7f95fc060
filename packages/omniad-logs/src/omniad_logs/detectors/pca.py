"""PCA over session event vectors (Xu et al., SOSP 2009), as loglizer implements it.

The principal components of normal sessions span the "normal space"; a session's squared
prediction error (SPE) is the squared length of its projection on the residual space, and
the session is anomalous when the SPE exceeds the Q-statistic (Jackson & Mudholkar 1979)
at the chosen confidence. That threshold is part of the method, so it is the detector's own
decision (``Scores.decision``, ``threshold_``).

Per line: the residual vector has one entry per event column and its squares sum to the SPE,
so each line gets its event's share (residual entry squared). Events that are missing from a
session add to the SPE without a line to point at; they show in the sample score only.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from omniad.scores import Scores
from omniad_logs.detectors.count_base import CountVectorDetector
from omniad_logs.detectors.count_params import PCAParams
from omniad_logs.session import LogSession


def q_statistic(residual_eigenvalues: np.ndarray, confidence: float) -> float:
    """Jackson & Mudholkar's SPE threshold from the eigenvalues left out of the normal space.

    Returns NaN where the statistic is undefined (no residual variance, or h0 <= 0).
    """
    lam = np.asarray(residual_eigenvalues, dtype=np.float64)
    phi1, phi2, phi3 = (float(np.sum(lam**k)) for k in (1, 2, 3))
    if phi1 <= 0 or phi2 <= 0:
        return float("nan")
    h0 = 1.0 - 2.0 * phi1 * phi3 / (3.0 * phi2**2)
    if h0 <= 0:
        return float("nan")
    c_alpha = float(norm.ppf(confidence))
    base = c_alpha * np.sqrt(2.0 * phi2 * h0**2) / phi1 + 1.0 + phi2 * h0 * (h0 - 1.0) / phi1**2
    return float(phi1 * base ** (1.0 / h0)) if base > 0 else float("nan")


class LogPCA(CountVectorDetector):
    Params = PCAParams
    model_state = ("projection_", "threshold_rule_")

    def _fit_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> None:
        n, d = x.shape
        cov = x.T @ x / n
        u, sigma, _ = np.linalg.svd(cov)
        wanted = self.params.n_components
        if isinstance(wanted, float) and wanted < 1:
            total = float(sigma.sum())
            k = d if total <= 0 else int(np.searchsorted(np.cumsum(sigma) / total, wanted - 1e-12) + 1)
        else:
            k = self._limit("n_components", int(wanted), d - 1, f"the sessions have only {d} event columns")
        k = min(max(k, 1), d - 1) if d > 1 else 0
        self.n_components_ = k
        p = u[:, :k]
        self.projection_ = np.eye(d) - p @ p.T
        threshold = q_statistic(sigma[k:], self.params.confidence)
        self.threshold_rule_ = "q_statistic"
        if not np.isfinite(threshold):
            # No residual variance on the training data (every session lies in the normal
            # space): any SPE above the largest training SPE leaves it.
            threshold = float(self._spe(x)[0].max()) + 1e-9
            self.threshold_rule_ = "max_train_spe"
        self.threshold_ = float(threshold)

    def _spe(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        residual = x @ self.projection_.T
        share = residual**2
        return share.sum(axis=1), share

    def _score_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> Scores:
        spe, share = self._spe(x)
        decision = (spe > self.threshold_).astype(np.int8)
        return Scores(sample=spe, local=self.line_scores(sessions, share), decision=decision)

    def _restore(self) -> None:
        self.projection_ = np.asarray(self.projection_, dtype=np.float64)
        self.threshold_rule_ = str(self.threshold_rule_)

"""PCA over session event vectors (Xu et al., SOSP 2009), as loglizer implements it.

The principal components of normal sessions span the "normal space"; a session's squared
prediction error (SPE) is the squared length of its projection on the residual space, and
the session is anomalous when the SPE exceeds the Q-statistic (Jackson & Mudholkar 1979)
at the chosen confidence. That threshold is part of the method, so it is the detector's own
decision (``Scores.decision``, ``threshold_``).

Per line: the residual vector has one entry per event column and its squares sum to the SPE,
so each line gets its event's share (residual entry squared). Events that are missing from a
session add to the SPE without a line to point at; they show in the sample score only.

Events that always occur together in normal sessions get equal residual shares, and sessions
in the normal space a zero SPE, but the SVD and the products leave ~1e-16 of noise on both
that depends on the BLAS kernels; the scores are snapped to 32 bits of the session's squared
length (``score_scale``; it bounds the SPE and every share, see ``count_base``), so those
ties are exact ties on every machine.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from omniad.scores import Scores
from omniad.state import Array, Str, declare
from omniad_logs.detectors.count_base import CountVectorDetector, snap
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
    state_spec = declare(projection_=Array("f", "f"), threshold_rule_=Str(choices=("q_statistic", "max_train_spe")))

    def _fit_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> None:
        n, d = x.shape
        cov = x.T @ x / n
        u, sigma, _ = np.linalg.svd(cov)
        # Eigenvalues below float noise of the total variance are zero: normal HDFS sessions lie
        # exactly in a subspace, and a Q-statistic of the noise left there was a threshold of
        # ~1e-14 that changed with the BLAS kernels (max_train_spe is then the rule).
        sigma = snap(sigma, sigma.sum())
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
            # space): any SPE above the largest training SPE leaves it (compared as scored: snapped).
            threshold = float(snap(self._spe(x)[0], self.score_scale(x)).max())
            self.threshold_rule_ = "max_train_spe"
        self.threshold_ = float(threshold)

    def _spe(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        residual = x @ self.projection_.T
        share = residual**2
        return share.sum(axis=1), share

    def score_scale(self, x: np.ndarray) -> np.ndarray:
        """|x|^2 per session: the projection is orthogonal, so it bounds the SPE and each share."""
        return np.einsum("ij,ij->i", x, x)

    def _score_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> Scores:
        spe, share = self._spe(x)
        decision = (spe > self.threshold_).astype(np.int8)
        return Scores(sample=spe, local=self.line_scores(sessions, share), decision=decision)

    def _restore(self) -> None:
        self.projection_ = np.asarray(self.projection_, dtype=np.float64)
        self.threshold_rule_ = str(self.threshold_rule_)

"""ECOD on text embeddings, each text scored against the training ECDFs alone (``text.ecod``).

PyOD's ``ECOD.decision_function(X)`` re-estimates the empirical CDFs on training plus the
whole test batch; on BBC News, where most of a test batch is anomalous, the anomalies then
look normal to each other and AUROC drops to 0.489 (0.981 scored one text at a time).
Here each text is scored as PyOD scores a batch of one: its left and right tail
probabilities per dimension are counted among the n training values (plus itself),

    F_left(x_j) = (#{train_j <= x_j} + 1) / (n + 1),   F_right(x_j) = (#{train_j >= x_j} + 1) / (n + 1),

the skewness sign of the training column picks the tail that counts (PyOD's rule), and the
score sums, per dimension, the largest of -log left, -log right and -log skew-corrected tail
(Li et al., TKDE 2022). Own code rather than PyOD (batch semantics, above) or omniad-pyod's
``pyod.ecod`` (the same rule, but omniad-text does not depend on omniad-pyod): it is a
binary search per column, and the fitted state (sorted columns, skewness signs) is exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, declare
from omniad_text.detectors.base import EmbeddingDetector
from omniad_text.detectors.params import ECODParams


def skewness_sign(x: np.ndarray) -> np.ndarray:
    """Sign of each column's (biased) sample skewness, 0 for constant columns (as scipy.stats.skew)."""
    centred = x - x.mean(axis=0)
    m2 = np.mean(centred**2, axis=0)
    m3 = np.mean(centred**3, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = np.where(m2 > 0, m3 / m2**1.5, 0.0)
    return np.sign(np.nan_to_num(skew)).astype(np.int8)


def ecod_scores(sorted_train: np.ndarray, skew_sign: np.ndarray, x: np.ndarray) -> np.ndarray:
    n = sorted_train.shape[0]
    at_most = np.empty(x.shape)
    at_least = np.empty(x.shape)
    for j in range(x.shape[1]):
        column = sorted_train[:, j]
        at_most[:, j] = np.searchsorted(column, x[:, j], side="right")
        at_least[:, j] = n - np.searchsorted(column, x[:, j], side="left")
    left = -np.log((at_most + 1) / (n + 1))
    right = -np.log((at_least + 1) / (n + 1))
    skewed = np.where(skew_sign < 0, left, np.where(skew_sign > 0, right, left + right))
    return np.maximum(skewed, np.maximum(left, right)).sum(axis=1)


class TextECOD(EmbeddingDetector):
    Params = ECODParams
    model_state = ("sorted_train_", "skew_sign_")
    state_spec = declare(sorted_train_=Array("n", "d"), skew_sign_=Array("d", kinds="i"))

    def check_state(self, state: dict[str, Any]) -> None:
        """A column out of order or a sign outside {-1, 0, 1} would score silently wrong."""
        super().check_state(state)
        if np.any(np.diff(state["sorted_train_"], axis=0) < 0):
            raise DataError("saved state 'sorted_train_' has a column that is not sorted")
        if not np.isin(state["skew_sign_"], (-1, 0, 1)).all():
            raise DataError("saved state 'skew_sign_' holds values other than -1, 0 and 1")

    def _fit_vectors(self, x: np.ndarray) -> None:
        self.sorted_train_ = np.sort(x, axis=0)
        self.skew_sign_ = skewness_sign(x)

    def _restore(self, state: dict[str, Any]) -> None:
        self.sorted_train_ = np.asarray(self.sorted_train_, dtype=np.float64)
        self.skew_sign_ = np.asarray(self.skew_sign_, dtype=np.int8)

    def _score_vectors(self, x: np.ndarray) -> Scores:
        return Scores(sample=ecod_scores(self.sorted_train_, self.skew_sign_, x))

"""ECOD and COPOD scored against the training distribution, not against the test batch.

PyOD's ``ECOD.decision_function(X)`` (and COPOD's) appends ``X`` to the training data and
re-estimates the empirical CDFs and skewness on the union. Scores then depend on which
other samples share the batch: a batch full of similar anomalies makes them look normal
to each other, and on BBC News embeddings batch scoring gave AUROC 0.489 against 0.981
for the same model scoring one sample at a time.

Here a sample's tail probability in feature j is estimated from the training values
alone, counting the sample itself as PyOD does when it scores one sample:

    F_left(x_j)  = (#{train_j <= x_j} + 1) / (n + 1)
    F_right(x_j) = (#{train_j >= x_j} + 1) / (n + 1)

so each score equals what PyOD returns when that sample is scored on its own (tests check
this), except that the skewness deciding which tail counts is the training data's rather
than that of training data plus the one sample. Scores never depend on the rest of the
batch, and scoring is O(d log n) per sample via binary search in sorted training columns.
The fitted state is exact (sorted training columns + skewness signs), so ``load`` needs no
refit and PyOD is not needed at all; ``load`` checks that the columns are still sorted (the
binary search silently miscounts otherwise) and the signs are -1, 0 or 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from omniad import Detector, Scores
from omniad.errors import DataError
from omniad.state import Array, declare
from omniad.tabular import as_matrix
from omniad_pyod.catalog import CATALOG, ModelSpec
from omniad_pyod.params import MODELS


def skewness_sign(x: np.ndarray) -> np.ndarray:
    """Sign of each column's (biased) sample skewness; 0 for constant columns, like PyOD."""
    centred = x - x.mean(axis=0)
    m2 = np.mean(centred**2, axis=0)
    m3 = np.mean(centred**3, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = np.where(m2 > 0, m3 / m2**1.5, 0.0)
    return np.sign(np.nan_to_num(skew)).astype(np.int8)


def tail_surprisal(sorted_train: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """-log of the left and right empirical tail probabilities of each value of ``x``."""
    n = sorted_train.shape[0]
    at_most = np.empty(x.shape)
    at_least = np.empty(x.shape)
    for j in range(x.shape[1]):
        column = sorted_train[:, j]
        at_most[:, j] = np.searchsorted(column, x[:, j], side="right")
        at_least[:, j] = n - np.searchsorted(column, x[:, j], side="left")
    return -np.log((at_most + 1) / (n + 1)), -np.log((at_least + 1) / (n + 1))


class ECDFDetector(Detector):
    """Shared fit and tails of ECOD and COPOD; subclasses combine the tails per feature."""

    spec: ClassVar[ModelSpec]
    state_attributes = ("sorted_train_", "skew_sign_")
    state_spec = declare(sorted_train_=Array("n", "d"), skew_sign_=Array("d", kinds="i"))

    def check_state(self, state: dict[str, Any]) -> None:
        """What the declaration cannot say: sorted columns, signs in {-1, 0, 1}."""
        if np.any(np.diff(state["sorted_train_"], axis=0) < 0):
            raise DataError(f"{self.where}.load: saved state 'sorted_train_' has unsorted columns; "
                            "the folder was edited, re-save the model")
        if not np.all(np.isin(state["skew_sign_"], (-1, 0, 1))):
            raise DataError(f"{self.where}.load: saved state 'skew_sign_' holds values other than -1, 0 and 1; "
                            "the folder was edited, re-save the model")

    def _fit(self, samples: Sequence[Any]) -> None:
        x = as_matrix(samples, f"{self.where}.fit")
        self.sorted_train_ = np.sort(x, axis=0)
        self.skew_sign_ = skewness_sign(x)

    def _score(self, samples: Sequence[Any]) -> Scores:
        x = as_matrix(samples, f"{self.where}.score", n_features=self.sorted_train_.shape[1])
        left, right = tail_surprisal(self.sorted_train_, x)
        # PyOD's skew-corrected tail: left for negative skew, right for positive, both for 0.
        s = self.skew_sign_
        skewed = left * -np.sign(s - 1) + right * np.sign(s + 1)
        return Scores(sample=self._combine(left, right, skewed).sum(axis=1))

    def _combine(self, left: np.ndarray, right: np.ndarray, skewed: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class ECOD(ECDFDetector):
    """ECOD: per feature, the largest of left, right and skew-corrected tail surprisal."""

    spec = CATALOG["ecod"]
    Params = MODELS["ecod"]

    def _combine(self, left: np.ndarray, right: np.ndarray, skewed: np.ndarray) -> np.ndarray:
        return np.maximum(skewed, np.maximum(left, right))


class COPOD(ECDFDetector):
    """COPOD: per feature, the larger of skew-corrected and mean two-sided tail surprisal."""

    spec = CATALOG["copod"]
    Params = MODELS["copod"]

    def _combine(self, left: np.ndarray, right: np.ndarray, skewed: np.ndarray) -> np.ndarray:
        return np.maximum(skewed, (left + right) / 2)

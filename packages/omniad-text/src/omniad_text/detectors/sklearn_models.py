"""Isolation Forest and one-class SVM on text embeddings (scikit-learn).

scikit-learn models only pickle and omniad never unpickles, so, as omniad-pyod does, these
save the training embeddings and the seed, refit at load and check that the refit
reproduces the saved training scores (a different scikit-learn version fails loudly
instead of scoring differently). Scores are scikit-learn's ``-score_samples`` (higher =
more anomalous); the methods' own decision rule (IForest: score above 0.5, Liu et al.
2008; OCSVM: outside the learned boundary) is exposed as ``Scores.decision``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, Int, declare
from omniad_text.detectors.base import EmbeddingDetector, refit_check
from omniad_text.detectors.params import IForestParams, OCSVMParams


class SklearnDetector(EmbeddingDetector):
    """Shared by ``text.iforest`` and ``text.ocsvm`` (not registered)."""

    model_state: ClassVar[tuple[str, ...]] = ("train_", "train_scores_", "random_state_")
    state_spec = declare(train_=Array("n", "d"), train_scores_=Array("n"), random_state_=Int(ge=0, lt=2**32))

    def _model(self, random_state: int) -> Any:
        raise NotImplementedError

    def _fitted_model(self, x: np.ndarray) -> Any:
        try:
            return self._model(self.random_state_).fit(x)
        except ValueError as exc:
            raise DataError(
                f"{self.where}.fit: scikit-learn failed on {x.shape[0]} texts x {x.shape[1]} dimensions ({exc}); "
                "check the parameters against the data size"
            ) from None

    def _fit_vectors(self, x: np.ndarray) -> None:
        seed = self.seed if self.seed is not None else int(np.random.SeedSequence().generate_state(1)[0])
        self.random_state_ = int(seed) % 2**32
        self.train_ = x
        self.model_ = self._fitted_model(x)
        self.train_scores_ = -self.model_.score_samples(x)

    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        if self.seed is not None and state["random_state_"] != int(self.seed) % 2**32:
            raise DataError(f"saved state 'random_state_' is {state['random_state_']} but the saved seed "
                            f"{self.seed} gives {int(self.seed) % 2**32}")

    def _restore(self, state: dict[str, Any]) -> None:
        self.train_ = np.asarray(self.train_, dtype=np.float64)
        self.random_state_ = int(self.random_state_)
        self.model_ = self._fitted_model(self.train_)
        refit_check(self.where, self.train_scores_, -self.model_.score_samples(self.train_))

    def _score_vectors(self, x: np.ndarray) -> Scores:
        score = -self.model_.score_samples(x)
        offset = -float(np.ravel(self.model_.offset_)[0])
        return Scores(sample=score, decision=(score > offset).astype(np.int8))


class TextIForest(SklearnDetector):
    Params = IForestParams

    def _model(self, random_state: int) -> Any:
        from sklearn.ensemble import IsolationForest

        p = self.params
        return IsolationForest(n_estimators=p.n_estimators, max_samples=p.max_samples, max_features=p.max_features,
                               random_state=random_state)


class TextOCSVM(SklearnDetector):
    Params = OCSVMParams

    def _model(self, random_state: int) -> Any:
        from sklearn.svm import OneClassSVM

        p = self.params
        return OneClassSVM(kernel=p.kernel, nu=p.nu, gamma=p.gamma)

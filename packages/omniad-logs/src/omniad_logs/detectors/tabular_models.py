"""Isolation Forest and one-class SVM on session vectors: omniad-pyod's when installed, else scikit-learn's.

``backend="auto"`` delegates to ``pyod.iforest`` / ``pyod.ocsvm`` when omniad-pyod is
installed (the same code path as ``logs.counts``), so log users get exactly the detector the
tabular benchmarks measure; without it, scikit-learn (a dependency of this package) runs
directly. The backend used is saved as ``backend_`` and shown in the run record
(``adjusted_params.backend`` when ``auto`` resolved it).

Decision: on the scikit-learn path the method's own rule is used (Isolation Forest: anomaly
score above 0.5, Liu et al. 2008; OCSVM: outside the learned boundary), exposed as
``Scores.decision`` and ``threshold_``. PyOD replaces both with a contamination quantile of
the training scores, which is not the method's rule, so the pyod path gives no decision.

scikit-learn models only pickle; as omniad-pyod does, the scikit-learn path saves the training
matrix and seed, refits at load and checks that the refit reproduces the saved training scores.
"""

from __future__ import annotations

import importlib.util
from typing import Any, ClassVar

import numpy as np

from omniad.errors import DataError, MissingDependencyError
from omniad.nested import INNER, INNER_SPEC, InnerDetector, InnerState, check_inner_state
from omniad.scores import Scores
from omniad.state import Array, Float, Int, Json, Str, declare
from omniad_logs.detectors.count_base import CountVectorDetector
from omniad_logs.detectors.count_params import IForestParams, OCSVMParams
from omniad_logs.detectors.counts import check_inner_width
from omniad_logs.session import LogSession


def pyod_available(detector_id: str) -> bool:
    if importlib.util.find_spec("omniad_pyod") is None or importlib.util.find_spec("pyod") is None:
        return False
    from omniad.plugins import get_registry

    return ("detector", detector_id) in get_registry()


#: entries of the scikit-learn path: the ``n`` training vectors, their scores and the seed
_SKLEARN = ("train_", "train_scores_", "random_state_")


class BackedDetector(CountVectorDetector):
    """Shared by ``logs.iforest`` and ``logs.ocsvm`` (not registered)."""

    pyod_id: ClassVar[str]
    #: either backend's entries, all optional here; ``check_state`` requires the saved backend's own
    state_spec = declare({
        "backend_": Str(choices=("pyod", "sklearn")),
        "train_": Array("n", "f", optional=True),
        "train_scores_": Array("n", optional=True),
        "random_state_": Int(ge=0, lt=2**32, optional=True),
        INNER: InnerState(optional=True),
        f"{INNER}_keys": Json(types=(list,), items=Str(), optional=True),
        f"{INNER}_threshold": Float(optional=True),
        f"{INNER}_adjusted": Json(types=(dict,), optional=True),
    })

    def _resolve_backend(self) -> str:
        wanted = self.params.backend
        if wanted == "sklearn":
            return "sklearn"
        if pyod_available(self.pyod_id):
            return "pyod"
        if wanted == "pyod":
            raise MissingDependencyError(
                f"{self.where}: backend='pyod' needs omniad-pyod (and pyod) installed; pip install omniad-pyod, "
                "or use backend='sklearn'"
            )
        return "sklearn"

    # -- per-method ----------------------------------------------------------------------
    def _pyod_params(self) -> dict[str, Any]:
        raise NotImplementedError

    def _sklearn_model(self, random_state: int) -> Any:
        raise NotImplementedError

    # -- fit / score ---------------------------------------------------------------------
    def _fit_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> None:
        self.backend_ = self._resolve_backend()
        if self.params.backend == "auto":
            self.adjusted_params["backend"] = {
                "requested": "auto", "used": self.backend_,
                "why": "omniad-pyod is installed" if self.backend_ == "pyod" else "omniad-pyod is not installed",
            }
        if self.backend_ == "pyod":
            self.inner_ = InnerDetector(self, self.pyod_id, self._pyod_params())
            self.inner_.fit(x)
            return
        self.random_state_ = int(self.seed if self.seed is not None else np.random.SeedSequence().generate_state(1)[0]) % 2**32
        self.train_ = x
        self.model_ = self._fit_sklearn(x, self.random_state_)
        self.train_scores_ = -self.model_.score_samples(x)
        self.threshold_ = float(-np.ravel(self.model_.offset_)[0])

    def _fit_sklearn(self, x: np.ndarray, random_state: int) -> Any:
        try:
            return self._sklearn_model(random_state).fit(x)
        except ValueError as exc:
            raise DataError(
                f"{self.where}.fit: scikit-learn failed on {x.shape[0]} sessions x {x.shape[1]} event columns "
                f"({exc}); check the parameters against the data size"
            ) from None

    def _score_vectors(self, x: np.ndarray, sessions: list[LogSession]) -> Scores:
        if self.backend_ == "pyod":
            return Scores(sample=self.inner_.score(x).sample)
        score = -self.model_.score_samples(x)
        return Scores(sample=score, decision=(score > self.threshold_).astype(np.int8))

    # -- persistence ---------------------------------------------------------------------
    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        if state["backend_"] == "pyod":
            required = [k for k in INNER_SPEC if k != INNER and not INNER_SPEC[k].optional]
        else:
            required = list(_SKLEARN)
        missing = [k for k in required if state.get(k) is None]
        if missing:
            raise DataError(f"saved state of backend {state['backend_']!r} lacks {missing}")
        if state["backend_"] == "pyod" and pyod_available(self.pyod_id):
            check_inner_state(self, state, self.pyod_id, self._pyod_params())

    def get_state(self) -> dict[str, Any]:
        state = {**super().get_state(), "backend_": self.backend_}
        if self.backend_ == "pyod":
            return {**state, **self.inner_.state()}
        return {**state, "train_": self.train_, "train_scores_": self.train_scores_, "random_state_": self.random_state_}

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.backend_ = str(state.get("backend_", ""))
        if self.backend_ == "pyod":
            if not pyod_available(self.pyod_id):
                raise MissingDependencyError(
                    f"{self.where}.load: the model was fitted with omniad-pyod, which is not installed; "
                    "pip install omniad-pyod"
                )
            self.inner_ = InnerDetector(self, self.pyod_id, self._pyod_params())
            self.inner_.restore(state, self.where)
            check_inner_width(self, self.inner_)
            return
        if self.backend_ != "sklearn":
            raise DataError(f"{self.where}.load: unknown saved backend {self.backend_!r}; re-save the model")
        self.train_ = np.asarray(state["train_"], dtype=np.float64)
        self.random_state_ = int(state["random_state_"])
        self.model_ = self._fit_sklearn(self.train_, self.random_state_)
        saved = np.asarray(state["train_scores_"], dtype=np.float64)
        self.train_scores_ = -self.model_.score_samples(self.train_)
        if saved.shape != self.train_scores_.shape or not np.allclose(saved, self.train_scores_, rtol=1e-6, atol=1e-9):
            raise DataError(
                f"{self.where}.load: refitting scikit-learn on the saved sessions did not reproduce the saved "
                "model (another scikit-learn version?); install the version it was saved with, or fit it again"
            )


class LogIForest(BackedDetector):
    Params = IForestParams
    pyod_id = "pyod.iforest"

    def _pyod_params(self) -> dict[str, Any]:
        p = self.params
        return {"n_estimators": p.n_estimators, "max_samples": p.max_samples, "max_features": p.max_features}

    def _sklearn_model(self, random_state: int) -> Any:
        from sklearn.ensemble import IsolationForest

        p = self.params
        return IsolationForest(
            n_estimators=p.n_estimators, max_samples=p.max_samples, max_features=p.max_features,
            random_state=random_state,
        )


class LogOCSVM(BackedDetector):
    Params = OCSVMParams
    pyod_id = "pyod.ocsvm"

    def _pyod_params(self) -> dict[str, Any]:
        p = self.params
        return {"kernel": p.kernel, "nu": p.nu, "gamma": p.gamma}

    def _sklearn_model(self, random_state: int) -> Any:
        from sklearn.svm import OneClassSVM

        p = self.params
        return OneClassSVM(kernel=p.kernel, nu=p.nu, gamma=p.gamma)

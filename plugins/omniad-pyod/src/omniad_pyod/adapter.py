"""The omniad side of a PyOD detector: validation, seeding, errors and pickle-free persistence.

Persistence. PyOD models are scikit-learn estimators that only pickle, and omniad never
unpickles. A fitted adapter therefore saves what it takes to rebuild the model exactly:
the training matrix, the random seed it was fitted with, and PyOD's scores of the training
samples. ``load`` refits PyOD on the saved matrix with the saved seed and checks that the
refit reproduces the saved training scores; a mismatch (typically a different PyOD or
scikit-learn version) is an error rather than a silently different model. The cost: the
saved file holds the training data (n x d float64), and loading takes one fit.

Declared state (``state_spec``), per family: fitted detectors save ``train_`` (n, d) with
``train_scores_`` (n,), transductive ones ``n_features_``; both save ``random_state_``.
Classes of single-feature models (MAD) pin ``d`` to 1 (``detectors.build_detector_class``).
So an edited folder fails at ``load`` naming the entry, before PyOD refits on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any, ClassVar

import numpy as np

from omniad import Detector, Scores
from omniad.errors import DataError, OmniadError
from omniad.registry import import_target
from omniad.state import Array, Int, Str, declare
from omniad.tabular import as_matrix
from omniad_pyod.catalog import ModelSpec

#: exceptions PyOD / scikit-learn raise for data or parameters they cannot handle.
PYOD_FAILURES = (ValueError, TypeError, IndexError, KeyError, ArithmeticError, AttributeError)


def pyod_version() -> str:
    try:
        return version("pyod")
    except PackageNotFoundError:
        return "not installed"


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


@contextmanager
def seeded_global_numpy(seed: int) -> Iterator[None]:
    """Seed numpy's global generator for code that draws from it, then restore it."""
    saved = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(saved)


class PyODBase(Detector):
    """What every PyOD-backed detector shares: the spec, input checks, seeds, error translation."""

    spec: ClassVar[ModelSpec]
    state_spec = declare(random_state_=Int(ge=0, lt=2**32))

    def check_state(self, state: dict[str, Any]) -> None:
        """A seed the parameters fix must be the one saved (``_resolve_seed`` uses it as is)."""
        chosen = getattr(self.params, "random_state", None)
        if chosen is not None and state["random_state_"] != chosen:
            raise DataError(
                f"{self.where}.load: saved state 'random_state_' is {state['random_state_']} but the saved "
                f"parameters fix random_state = {chosen}; the folder was edited, re-save the model"
            )

    def _matrix(self, samples: Sequence[Any], step: str, n_features: int | None = None) -> np.ndarray:
        x = as_matrix(samples, f"{self.where}.{step}", n_features=n_features)
        fixed = self.spec.n_features
        if fixed is not None and x.shape[1] != fixed:
            raise DataError(
                f"{self.where}.{step}: {self.spec.class_name} scores exactly {fixed} feature(s), got "
                f"{x.shape[1]}; select one column, or use a multivariate detector such as pyod.ecod"
            )
        return x

    def _resolve_seed(self) -> int:
        """PyOD's random_state if given, else the detector's seed, else a fresh one (saved)."""
        chosen = getattr(self.params, "random_state", None)
        if chosen is None and self.seed is not None:
            chosen = self.seed
        if chosen is None:
            chosen = int(np.random.SeedSequence().generate_state(1)[0])
        return int(chosen) % 2**32

    def _guarded(self, step: str, x: np.ndarray, call: Callable[[], Any]) -> Any:
        """Run PyOD; turn its failures into one-line omniad errors naming detector and data."""
        try:
            return call()
        except OmniadError:
            raise
        except PYOD_FAILURES as exc:
            raise DataError(
                f"{self.where}.{step}: PyOD {self.spec.class_name} failed on {x.shape[0]} samples x "
                f"{x.shape[1]} features ({one_line(exc)}); check the parameters against the data size "
                f"(`omniad show {self.spec.id}`)"
            ) from exc

    def _pyod_model(self, x: np.ndarray, step: str, random_state: int) -> Any:
        """A PyOD model fitted on ``x``, seeded so the same inputs give the same model."""
        cls = import_target(self.spec.pyod_class, what=f"{self.where} (PyOD {pyod_version()})")
        kwargs = self.params.pyod_kwargs()
        if self.spec.has_seed:
            kwargs["random_state"] = random_state

        def fit() -> Any:
            # A copy: some scikit-learn estimators work in place, and x may be the caller's
            # array or the training matrix saved for reloading.
            with seeded_global_numpy(random_state):
                return cls(**kwargs).fit(x.copy())

        return self._guarded(step, x, fit)


class PyODDetector(PyODBase):
    """An inductive PyOD detector: fit on the training split, ``decision_function`` as scores."""

    state_spec = declare(train_=Array("n", "d"), train_scores_=Array("n"), pyod_version_=Str())

    def _fit(self, samples: Sequence[Any]) -> None:
        x = self._matrix(samples, "fit")
        self.random_state_ = self._resolve_seed()
        self.model_ = self._pyod_model(x, "fit", self.random_state_)
        self.train_ = x
        self.train_scores_ = np.asarray(self.model_.decision_scores_, dtype=np.float64)

    def _score(self, samples: Sequence[Any]) -> Scores:
        x = self._matrix(samples, "score", n_features=self.train_.shape[1])
        return Scores(sample=self._guarded("score", x, lambda: self.model_.decision_function(x)))

    def get_state(self) -> dict[str, Any]:
        return {
            "train_": self.train_,
            "train_scores_": self.train_scores_,
            "random_state_": self.random_state_,
            "pyod_version_": pyod_version(),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        try:
            train, saved_scores = state["train_"], state["train_scores_"]
            random_state, saved_version = int(state["random_state_"]), state["pyod_version_"]
        except KeyError as exc:
            raise DataError(f"{self.where}.load: saved state lacks {exc}; the file is not a saved PyOD adapter") from None
        self.random_state_ = random_state
        self.model_ = self._pyod_model(train, "load", random_state)
        self.train_ = train
        self.train_scores_ = np.asarray(self.model_.decision_scores_, dtype=np.float64)
        scale = float(np.abs(saved_scores).max()) + 1.0
        if self.train_scores_.shape != saved_scores.shape or not np.allclose(
            self.train_scores_, saved_scores, rtol=1e-6, atol=1e-9 * scale
        ):
            raise DataError(
                f"{self.where}.load: refitting on the saved training data did not reproduce the saved "
                f"model: the folder was edited, or written by other versions (saved with PyOD {saved_version}, "
                f"PyOD {pyod_version()} installed); install the PyOD and scikit-learn versions it was saved "
                "with, or fit it again"
            )


class TransductivePyODDetector(PyODBase):
    """A PyOD method without a model of normal data: each ``score`` call runs it on that batch.

    ``fit`` checks the input and fixes the feature count and the seed, nothing more; the
    scores of a batch are PyOD's scores of those samples among themselves, which is why these
    detectors are registered with ``fit_on="test"``.
    """

    state_spec = declare(n_features_=Int(ge=1))

    def _fit(self, samples: Sequence[Any]) -> None:
        self.n_features_ = int(self._matrix(samples, "fit").shape[1])
        self.random_state_ = self._resolve_seed()

    def _score(self, samples: Sequence[Any]) -> Scores:
        x = self._matrix(samples, "score", n_features=self.n_features_)
        model = self._pyod_model(x, "score", self.random_state_)
        return Scores(sample=np.asarray(model.decision_scores_, dtype=np.float64))

    def get_state(self) -> dict[str, Any]:
        return {"n_features_": self.n_features_, "random_state_": self.random_state_}

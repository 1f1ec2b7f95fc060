"""Any registered tabular detector on the cached text embeddings (``text.embedded``).

Text-ADBench's finding is that the embedding matters more than the detector, so rather
than re-implementing every outlier method for text, the embeddings go to the detector
named by ``detector`` (``pyod.ecod``, ``pyod.ocsvm``, ... when omniad-pyod is installed, or a
core one such as ``core.knn``): the grid is embeddings x detectors, and the corpus is
embedded once per embedding whatever the number of detectors (the cache).

The same pattern as omniad-logs' ``logs.counts`` (session count vectors): the inner
detector's state is saved inside this detector's state under ``inner.``, so save/load stays
pickle-free whatever the inner detector is (``omniad.nested.InnerDetector``, shared with it).
Those entries are whatever the inner class saves, so this class declares them as one
``InnerState`` and ``check_state`` checks them against the inner class's own ``state_spec``
(with its parameters), before anything is set: an edited folder fails at load either way.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad.nested import INNER, InnerDetector, tabular_entry
from omniad.scores import Scores
from omniad.state import Context, Float, Json, Module, Str, declare, validate
from omniad_text.detectors.base import EmbeddingDetector
from omniad_text.detectors.params import EmbeddedDetectorParams


class InnerState(Module):
    """Every entry under ``<key>.``: a nested detector's state, arrays and JSON values alike.

    A ``Module`` for the prefix rule only; the entries are checked by the owner's
    ``check_state`` against the nested class's own declaration, which knows their types.
    """

    def describe(self) -> str:
        return "the saved state of the inner detector"

    def check(self, value: Any, ctx: Context, key: str) -> None:
        """Checked in ``TextEmbedded.check_state`` against the inner class's ``state_spec``."""


class TextEmbedded(EmbeddingDetector):
    Params = EmbeddedDetectorParams
    state_spec = declare({
        INNER: InnerState(optional=True),  # a detector may save nothing
        f"{INNER}_keys": Json(types=(list,), items=Str()),
        f"{INNER}_threshold": Float(optional=True),
        f"{INNER}_adjusted": Json(types=(dict,)),
    })

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tabular_entry(self.params.detector, self.where)  # a wrong id fails here, not at fit

    def _fit_vectors(self, x: np.ndarray) -> None:
        self.inner_ = InnerDetector(self, self.params.detector, self.params.detector_params)
        self.inner_.model.fit(x)
        # the inner detector's lowered defaults (k above the training size, ...) belong to this record
        self.adjusted_params.update({f"detector_params.{k}": v for k, v in self.inner_.model.adjusted_params.items()})

    def _score_vectors(self, x: np.ndarray) -> Scores:
        inner = self.inner_.model.score(x)
        return Scores(sample=inner.sample, decision=inner.decision, extras=inner.extras)

    def get_state(self) -> dict[str, Any]:
        return {**super().get_state(), **self.inner_.state()}

    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        keys = state[f"{INNER}_keys"]
        saved = {k[len(INNER) + 1:] for k in state if k.startswith(f"{INNER}.")}
        if sorted(keys) != sorted(saved):
            raise DataError(f"saved state lists inner entries {sorted(keys)} but holds {sorted(saved)}")
        inner = InnerDetector(self, self.params.detector, self.params.detector_params).model
        spec = type(inner).declared_state()
        sub = {k: state[f"{INNER}.{k}"] for k in keys}
        if spec is not None:
            where = f"inner detector {self.params.detector}"
            sub, ignored = validate(spec, sub, inner.params, where=where)
            if ignored:
                raise DataError(f"{where}: saved state holds entries it does not declare: {sorted(ignored)}")
        inner.check_state(sub)

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.inner_ = InnerDetector(self, self.params.detector, self.params.detector_params)
        self.inner_.restore(state, self.where)

"""What every embedding-based text detector shares: texts in, cached embeddings, vectors to the method.

A subclass implements ``_fit_vectors`` / ``_score_vectors`` on the (n, d) float matrix of
the embedder named by ``params.embedding``; this base turns texts into that matrix (through
the on-disk cache, so a grid of detectors embeds a corpus once), checks the dimension at
score time, copies the embedder's statistics (truncated texts, empty texts, cache hits)
into ``embedding_stats_`` for the run record, and saves the dimension and those statistics
with the model. The embedder is created on first use, so building a detector (and
discovering the plugin) never imports torch or transformers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from omniad.detector import Detector
from omniad.errors import DataError
from omniad.scores import Scores

#: state keys every text detector saves besides its model
BASE_STATE = ("embedding_dim_", "embedding_stats_")


def refit_check(where: str, saved: Any, refit: np.ndarray) -> None:
    """Refitting scikit-learn on saved vectors must reproduce the saved training scores."""
    saved = np.asarray(saved, dtype=np.float64)
    if saved.shape != refit.shape or not np.allclose(saved, refit, rtol=1e-6, atol=1e-9):
        raise DataError(
            f"{where}.load: refitting scikit-learn on the saved embeddings did not reproduce the saved model "
            "(another scikit-learn version?); install the version it was saved with, or fit it again"
        )


class EmbeddingDetector(Detector):
    """Base of the text detectors that see a text as one embedding vector (not registered)."""

    #: fitted attributes saved besides the base state (numpy arrays or JSON values)
    model_state: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._embedder: Any = None
        self.embedding_stats_: dict[str, Any] = {}

    # -- subclass hooks ------------------------------------------------------------------
    def _fit_vectors(self, x: np.ndarray) -> None:
        raise NotImplementedError

    def _score_vectors(self, x: np.ndarray) -> Scores:
        raise NotImplementedError

    def _restore(self) -> None:
        """Rebuild derived attributes after ``set_state`` (default: nothing)."""

    # -- embeddings ----------------------------------------------------------------------
    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from omniad_text.embeddings import Embedder

            self._embedder = Embedder(self.params.embedding, device=self.device)
        return self._embedder

    def provenance(self) -> dict[str, Any]:
        return {"embedding": _jsonable(self.embedding_stats_)} if self.embedding_stats_ else {}

    def embed(self, samples: Sequence[Any], step: str) -> np.ndarray:
        """The embeddings of ``samples`` as float64 (n, d); bad texts fail in the embedder, naming the position."""
        try:
            x = np.asarray(self.embedder.embed(samples), dtype=np.float64)
        except DataError as exc:  # name the detector and the step, keep the embedder's message
            raise DataError(f"{self.where}.{step}: {exc}") from None
        self.embedding_stats_ = dict(self.embedder.stats)
        if self.embedding_stats_.get("fallback"):  # shown beside the label in every report
            self.adjusted_params["embedding.model"] = {
                "requested": self.params.embedding.model, "used": "tiny-random",
                "why": "that model is not installed here; the demo's allow_fallback chose the tiny random model",
            }
        if x.ndim != 2 or x.shape[0] != len(samples):
            raise DataError(f"{self.where}.{step}: the embedder returned shape {x.shape} for {len(samples)} texts")
        if step == "score" and x.shape[1] != self.embedding_dim_:
            raise DataError(
                f"{self.where}.score: embeddings have {x.shape[1]} dimensions but the detector was fitted on "
                f"{self.embedding_dim_}; score with the embedding it was fitted with"
            )
        if not np.all(np.isfinite(x)):
            raise DataError(f"{self.where}.{step}: the embedder produced NaN/inf; try dtype='fp32'")
        return x

    # -- Detector ------------------------------------------------------------------------
    def _fit(self, samples: Sequence[Any]) -> None:
        x = self.embed(samples, "fit")
        self.embedding_dim_ = int(x.shape[1])
        self._fit_vectors(x)

    def _score(self, samples: Sequence[Any]) -> Scores:
        return self._score_vectors(self.embed(samples, "score"))

    # -- persistence ---------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return {
            "embedding_dim_": self.embedding_dim_,
            "embedding_stats_": _jsonable(self.embedding_stats_),
            **{a: getattr(self, a) for a in self.model_state},
        }

    def set_state(self, state: dict[str, Any]) -> None:
        missing = [a for a in (*BASE_STATE, *self.model_state) if a not in state]
        if missing:
            raise DataError(f"{self.where}.load: saved state lacks {missing}; re-save the model")
        self.embedding_dim_ = int(state["embedding_dim_"])
        self.embedding_stats_ = dict(state["embedding_stats_"])
        for a in self.model_state:
            setattr(self, a, state[a])
        self._restore()


def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    """Embedder statistics as JSON values (numpy scalars become Python numbers)."""
    out: dict[str, Any] = {}
    for key, value in stats.items():
        if isinstance(value, np.generic):
            value = value.item()
        out[str(key)] = value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else str(value)
    return out

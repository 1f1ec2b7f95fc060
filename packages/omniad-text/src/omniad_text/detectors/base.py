"""What every embedding-based text detector shares: texts in, cached embeddings, vectors to the method.

A subclass implements ``_fit_vectors`` / ``_score_vectors`` on the (n, d) float matrix of
the embedder named by ``params.embedding``; this base turns texts into that matrix (through
the on-disk cache, so a grid of detectors embeds a corpus once), copies the embedder's
statistics (truncated texts, empty texts, cache hits) into ``embedding_stats_`` for the run
record, and saves with the model which embedding model it was fitted on
(``embedding_model_``: name, source, identity hash, backend, pooling, dimension). The
parameters name a model, but a name is not the vectors: ``minilm`` may fall back to the
tiny model, a local folder may be re-saved with other weights, so ``score`` compares the
model it would embed with against the fitted one (before any forward pass) and the width of
the embeddings against ``embedding_dim_``, and refuses either mismatch naming both. The
embedder is created on first use, so building a detector (and discovering the plugin) never
imports torch or transformers. What ``fit`` / ``score`` accept (one text, a list, a Series, a
path) is ``inputs.TextDetector``'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Int, Json, declare
from omniad_text.detectors.inputs import TextDetector

#: state keys every text detector saves besides its model
BASE_STATE = ("embedding_dim_", "embedding_stats_")
#: fields of ``embedding_model_`` and their JSON types
MODEL_FIELDS: dict[str, type | tuple[type, ...]] = {
    "model": str, "source": str, "model_identity": str, "backend": str, "dtype": str, "pooling": str,
    "max_length": int, "normalize": bool, "dimension": int,
}
#: the fields that decide the vectors (the rest follow from the parameters, which are saved anyway)
VECTOR_FIELDS = ("model_identity", "pooling", "max_length", "normalize")


def refit_check(where: str, saved: Any, refit: np.ndarray) -> None:
    """Refitting scikit-learn on saved vectors must reproduce the saved training scores."""
    saved = np.asarray(saved, dtype=np.float64)
    if saved.shape != refit.shape or not np.allclose(saved, refit, rtol=1e-6, atol=1e-9):
        raise DataError(
            f"{where}.load: refitting scikit-learn on the saved embeddings did not reproduce the saved model "
            "(another scikit-learn version?); install the version it was saved with, or fit it again"
        )


def describe_embedding(record: dict[str, Any]) -> str:
    """One phrase naming an embedding model record: requested name, what ran, identity prefix."""
    name = record.get("model")
    source = record.get("source", "?")
    ran = f"{name!r} ({source})" if name and name != source else repr(source)
    return f"model {ran}, identity {str(record.get('model_identity', '?'))[:12]}"


class EmbeddingDetector(TextDetector):
    """Base of the text detectors that see a text as one embedding vector (not registered)."""

    #: fitted attributes saved besides the base state (numpy arrays or JSON values), each declared in state_spec
    model_state: ClassVar[tuple[str, ...]] = ()
    state_spec = declare(
        embedding_dim_=Int(ge=1, bind="d"),
        embedding_stats_=Json(types=(dict,)),
        # absent in folders saved before it existed: read from embedding_stats_, which always named the model
        embedding_model_=Json(types=(dict,), optional=True),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._embedder: Any = None
        self.embedding_stats_: dict[str, Any] = {}

    # -- subclass hooks ------------------------------------------------------------------
    def _fit_vectors(self, x: np.ndarray) -> None:
        raise NotImplementedError

    def _score_vectors(self, x: np.ndarray) -> Scores:
        raise NotImplementedError

    def _restore(self, state: dict[str, Any]) -> None:
        """Rebuild derived attributes after ``set_state`` set the ``model_state`` ones (default: nothing)."""

    # -- embeddings ----------------------------------------------------------------------
    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            from omniad_text.embeddings import Embedder

            self._embedder = Embedder(self.params.embedding, device=self.device)
        return self._embedder

    def provenance(self) -> dict[str, Any]:
        if not self.embedding_stats_:
            return {}
        dim = getattr(self, "embedding_dim_", None)
        return {"embedding": _jsonable({**self.embedding_stats_, **({"dimension": dim} if dim else {})})}

    def embedding_record(self, dimension: int | None) -> dict[str, Any]:
        """The embedding model this detector's embedder uses now (describing it loads no weights)."""
        e, p = self.embedder, self.params.embedding
        info = e.info
        return {
            "model": p.model, "source": info.source, "model_identity": info.identity, "backend": p.backend,
            "dtype": p.dtype, "pooling": e.pooling, "max_length": e.max_length, "normalize": p.normalize,
            "dimension": dimension,
        }

    def _check_embedding_model(self) -> None:
        """Refuse to score with another embedding model than the fitted one, before embedding anything."""
        fitted = self.embedding_model_
        try:
            now = self.embedding_record(None)
        except DataError as exc:
            raise DataError(f"{self.where}.score: {exc}") from None
        changed = [k for k in VECTOR_FIELDS if k in fitted and fitted[k] != now[k]]
        if changed:
            what = ", ".join(f"{k} {fitted[k]!r} -> {now[k]!r}" if k != "model_identity" else "weights/tokenizer files"
                             for k in changed)
            raise DataError(
                f"{self.where}.score: the detector was fitted on {self.embedding_dim_}-dimensional embeddings of "
                f"{describe_embedding(fitted)}, but embedding.model={self.params.embedding.model!r} now gives "
                f"{describe_embedding(now)} ({what} differ); score with the embedding model it was fitted with, "
                "or fit it again"
            )

    def embed(self, samples: Sequence[Any], step: str) -> np.ndarray:
        """The embeddings of ``samples`` as float64 (n, d); bad texts fail in the embedder, naming the position."""
        if step == "score":
            self._check_embedding_model()
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
                f"{self.embedding_dim_} (these are of {describe_embedding(self.embedding_record(None))}, the fitted ones "
                f"of {describe_embedding(self.embedding_model_)}); score with the embedding model it was fitted with"
            )
        if not np.all(np.isfinite(x)):
            raise DataError(f"{self.where}.{step}: the embedder produced NaN/inf; try dtype='fp32'")
        return x

    # -- Detector ------------------------------------------------------------------------
    def _fit(self, samples: Sequence[Any]) -> None:
        x = self.embed(samples, "fit")
        self.embedding_dim_ = int(x.shape[1])
        self.embedding_model_ = self.embedding_record(self.embedding_dim_)
        self._fit_vectors(x)

    def _score(self, samples: Sequence[Any]) -> Scores:
        return self._score_vectors(self.embed(samples, "score"))

    # -- persistence ---------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return {
            "embedding_dim_": self.embedding_dim_,
            "embedding_stats_": _jsonable(self.embedding_stats_),
            "embedding_model_": dict(self.embedding_model_),
            **{a: getattr(self, a) for a in self.model_state},
        }

    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        record = fitted_embedding(state)
        for key, kind in MODEL_FIELDS.items():
            value = record.get(key)
            if key in ("model_identity", "dimension") and value is None:
                raise DataError(f"saved state 'embedding_model_' lacks {key!r}; re-save the model")
            if value is not None and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
                raise DataError(f"saved state 'embedding_model_' {key!r} is {value!r}, not a {kind.__name__}")
        if record["dimension"] != state["embedding_dim_"]:
            raise DataError(f"saved state 'embedding_model_' says dimension {record['dimension']} but "
                            f"'embedding_dim_' is {state['embedding_dim_']}")

    def set_state(self, state: dict[str, Any]) -> None:
        missing = [a for a in (*BASE_STATE, *self.model_state) if a not in state]
        if missing:
            raise DataError(f"{self.where}.load: saved state lacks {missing}; re-save the model")
        self.embedding_dim_ = int(state["embedding_dim_"])
        self.embedding_stats_ = dict(state["embedding_stats_"])
        self.embedding_model_ = fitted_embedding(state)
        for a in self.model_state:
            setattr(self, a, state[a])
        self._restore(state)


def fitted_embedding(state: dict[str, Any]) -> dict[str, Any]:
    """The saved ``embedding_model_``, or for older folders the same fields read from ``embedding_stats_``."""
    record = state.get("embedding_model_")
    if record is None:
        stats = state.get("embedding_stats_") or {}
        record = {k: stats[k] for k in MODEL_FIELDS if k in stats}
        record["dimension"] = state.get("embedding_dim_")
    return dict(record)


def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    """Embedder statistics as JSON values (numpy scalars become Python numbers)."""
    out: dict[str, Any] = {}
    for key, value in stats.items():
        if isinstance(value, np.generic):
            value = value.item()
        out[str(key)] = value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else str(value)
    return out

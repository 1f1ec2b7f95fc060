"""Semantic event vectors: what LogAnomaly and LogRobust feed their networks instead of ids.

Vectors let a model treat an event it never saw in training like the known events its
template resembles. Three sources, tried in this order by ``semantic_source="auto"``:

1. ``vocabulary``: ``EventVocabulary.vectors`` where the data ships them (logdeep's
   ``event2semantic_vec.json`` for HDFS: FastText word vectors, TF-IDF weighted, 300-d).
2. ``text``: embeddings of the template text by ``omniad_text`` (the text modality package,
   an optional install), through ``omniad_text.embed_texts(list[str]) -> np.ndarray``.
3. ``hashed``: a deterministic fallback with no model: each template token (lower-cased,
   ``<*>`` and digits dropped) is hashed (blake2b) to one of ``dim`` signed buckets, then the
   vector is L2-normalised. Templates sharing words get
   similar vectors; an event without template text hashes its id, so it stays distinct.

The record says which source was used (``semantic_source_`` on the detector).
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Sequence

import numpy as np

from omniad.errors import ConfigError, DataError
from omniad.state import Array, Spec, Str
from omniad_logs.session import EventVocabulary

_TOKEN = re.compile(r"[A-Za-z][A-Za-z]+")


def _text_backend() -> object | None:
    """``omniad_text.embed_texts`` when the text package is installed, else None."""
    try:
        module = importlib.import_module("omniad_text")
    except ImportError:
        return None
    return getattr(module, "embed_texts", None)


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text.replace("<*>", " "))]


def hashed_vectors(texts: Sequence[str], dim: int) -> np.ndarray:
    """(n, dim) float32, deterministic across runs and machines (no Python ``hash``).

    Each text's vector depends on that text alone (no corpus statistics), so an event first
    seen at scoring time gets the vector it would have had in training.
    """
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, text in enumerate(texts):
        for tok in _tokens(text) or [text]:
            digest = hashlib.blake2b(tok.encode("utf-8"), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % dim
            out[i, bucket] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(out[i]))
        if norm > 0:
            out[i] /= norm
    return out


def choose_source(vocabulary: EventVocabulary | None, requested: str, where: str) -> str:
    """The source ``requested`` resolves to for this vocabulary (fails clearly when unavailable)."""
    has_vectors = vocabulary is not None and bool(vocabulary.vectors)
    if requested == "vocabulary" and not has_vectors:
        raise ConfigError(
            f"{where}: semantic_source='vocabulary' but the sessions' EventVocabulary has no vectors; "
            "use semantic_source='auto' or 'hashed'"
        )
    if requested == "text" and _text_backend() is None:
        raise ConfigError(
            f"{where}: semantic_source='text' needs omniad-text (omniad_text.embed_texts); install it or "
            "use semantic_source='auto' or 'hashed'"
        )
    if requested != "auto":
        return requested
    if has_vectors:
        return "vocabulary"
    return "text" if _text_backend() is not None else "hashed"


def event_vectors(
    events: Sequence[str], vocabulary: EventVocabulary | None, source: str, dim: int, where: str
) -> tuple[np.ndarray, int]:
    """(len(events), d) float32 vectors of ``events`` from ``source``, and how many had none (zeros).

    ``vocabulary`` source: an event missing from the vectors gets zeros (counted, so the caller
    can report it). ``dim`` applies to the hashed source; the others have their own size.
    """
    if source == "vocabulary":
        vectors = (vocabulary.vectors if vocabulary is not None else None) or {}
        size = len(next(iter(vectors.values()))) if vectors else dim
        out = np.zeros((len(events), size), dtype=np.float32)
        missing = 0
        for i, e in enumerate(events):
            v = vectors.get(e)
            if v is None:
                missing += 1
            else:
                out[i] = np.asarray(v, dtype=np.float32).reshape(-1)
        return out, missing
    texts = [vocabulary.template(e) if vocabulary is not None else e for e in events]
    if source == "text":
        backend = _text_backend()
        if backend is None:
            raise ConfigError(f"{where}: the vectors were made by omniad-text, which is not installed here; install it")
        out = np.asarray(backend(list(texts)), dtype=np.float32)  # type: ignore[operator]
        if out.ndim != 2 or len(out) != len(texts):
            raise DataError(f"{where}: omniad_text.embed_texts returned shape {out.shape} for {len(texts)} templates")
        return out, 0
    return hashed_vectors(texts, dim), 0


#: the saved semantic vectors of LogAnomaly and LogRobust: one row per token id (PAD, UNK, the
#: known events) of width ``s``, and the per-dimension standardisation
SEMANTIC_STATE: dict[str, Spec] = {
    "known_vectors_": Array("v", "s"),
    "semantic_source_": Str(choices=("vocabulary", "text", "hashed")),
    "semantic_mean_": Array("s"),
    "semantic_std_": Array("s"),
}


def check_semantic_state(state: dict[str, object], first: int) -> None:
    """Relations of ``SEMANTIC_STATE`` beyond its table: a row per token id, positive scales."""
    rows = np.shape(state["known_vectors_"])[0]
    events = state["events_"]
    assert isinstance(events, list)
    if rows != first + len(events):
        raise DataError(f"saved state 'known_vectors_' has {rows} rows, not one per token id ({first} + "
                        f"{len(events)} events = {first + len(events)})")
    if not np.all(np.asarray(state["semantic_std_"]) > 0):
        raise DataError("saved state 'semantic_std_' holds a scale <= 0; standardising would divide by it")


def standardize_fit(known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and std of the known events' vectors (std 1 where a dimension is constant).

    logdeep's HDFS vectors have entries of about 0.03: fed raw, an LSTM's inputs barely move
    its gates, and training crawls. Standardised over the known events, inputs are of unit
    scale whatever the source; events first seen at scoring time get the same transform.
    """
    mean = known.mean(axis=0) if len(known) else np.zeros(known.shape[1], np.float32)
    std = known.std(axis=0) if len(known) > 1 else np.ones(known.shape[1], np.float32)
    return mean.astype(np.float32), np.where(std > 1e-8, std, 1.0).astype(np.float32)


def standardize(vectors: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return ((vectors - mean) / std).astype(np.float32)

"""Text embeddings: transformers encoders, offline first, with an on-disk cache.

::

    from omniad_text.embeddings import EmbeddingParams, Embedder, embed_texts
    X = Embedder(EmbeddingParams(model="minilm")).embed(["a text", "another"])  # (2, 384) float32

``EmbeddingParams`` is importable without torch (detectors nest it in their parameters);
``Embedder`` and ``embed_texts`` import torch on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omniad_text.embeddings.params import CACHE_ENV, EmbeddingParams, default_cache_dir

if TYPE_CHECKING:
    from omniad_text.embeddings.embedder import Embedder, embed_texts

__all__ = ["CACHE_ENV", "Embedder", "EmbeddingParams", "default_cache_dir", "embed_texts"]


def __getattr__(name: str) -> Any:
    if name in ("Embedder", "embed_texts"):
        from omniad_text.embeddings import embedder

        return getattr(embedder, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""``Embedder``: texts in, one float32 vector per text out, cached and counted.

Speed on CPU comes from doing less work, not from a different model: texts are tokenised
once, sorted by length and padded per batch (a plain loop pads every text to the maximum
length, so a batch of short texts costs as much as a batch of long ones), and run under
``torch.inference_mode``. The cache is consulted before the model is even loaded, so a
fully cached corpus costs a hash per text.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from omniad.device import check_device_request, resolve_device, torch_cpu_threads
from omniad.errors import ConfigError, DataError, MissingDependencyError
from omniad.params import validate_params
from omniad_text.embeddings.cache import EmbeddingCache, text_hash
from omniad_text.embeddings.models import ModelInfo, describe_model
from omniad_text.embeddings.params import EmbeddingParams, resolve_cache_dir
from omniad_text.embeddings.texts import clean_texts

_WHERE = "text embedding"


class Embedder:
    """Embeds texts with one model configuration; ``stats`` accumulates over ``embed`` calls.

    ``Embedder.model_calls`` counts forward passes of all embedders in this process, so a
    test can check that a grid embedded its corpus once.
    """

    model_calls: ClassVar[int] = 0

    def __init__(self, params: EmbeddingParams | Mapping[str, Any] | None = None, device: str = "auto") -> None:
        self.params = validate_params(EmbeddingParams, params, _WHERE)
        self._device_request = check_device_request(device)
        self._info: ModelInfo | None = None
        self._cache: EmbeddingCache | None = None
        self._backend: Any = None
        self.stats: dict[str, Any] = {
            "texts": 0, "truncated": 0, "empty_texts": 0, "decoded_bytes": 0, "invalid_utf8": 0,
            "cache_hits": 0, "cache_misses": 0, "cache_corrupt": 0, "cache_mismatch": 0, "cache_write_errors": 0,
            "model_calls": 0, "seconds": 0.0,
        }

    @property
    def info(self) -> ModelInfo:
        if self._info is None:
            try:
                self._info = describe_model(self.params.model)
            except (ConfigError, MissingDependencyError) as exc:
                if not self.params.allow_fallback:
                    raise
                warnings.warn(f"{_WHERE}: {exc}; falling back to model='tiny-random' (allow_fallback=true)",
                              stacklevel=3)
                self._info = describe_model("tiny-random")
                self.stats["fallback"] = f"tiny-random (model {self.params.model!r} not available)"
            self.stats.update(self._description())
        return self._info

    @property
    def device(self) -> str:
        return resolve_device(self._device_request) if self.params.backend == "torch" else "cpu"

    @property
    def max_length(self) -> int:
        limit = self.info.model_limit
        return limit if self.params.max_length is None else min(self.params.max_length, limit)

    @property
    def pooling(self) -> str:
        from omniad_text.embeddings.pooling import resolve_pooling

        return resolve_pooling(self.params.pooling, self.info.card_pooling, self.info.is_decoder)

    def _description(self) -> dict[str, Any]:
        info = self._info
        assert info is not None
        return {
            "source": info.source, "model_identity": info.identity, "pooling": self.pooling,
            "max_length": self.max_length, "model_limit": info.model_limit, "dtype": self.params.dtype,
            "backend": self.params.backend, "normalize": self.params.normalize,
        }

    @property
    def cache(self) -> EmbeddingCache | None:
        if not self.params.cache:
            return None
        if self._cache is None:
            description = {
                "model_identity": self.info.identity, "pooling": self.pooling, "max_length": self.max_length,
                "dtype": self.params.dtype, "backend": self.params.backend,
            }
            self._cache = EmbeddingCache(resolve_cache_dir(self.params), description, self.stats)
        return self._cache

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(n, d) float32; L2-normalised when ``params.normalize``."""
        start = time.perf_counter()
        clean = clean_texts(texts, _WHERE)
        n = len(clean.texts)
        self.stats["texts"] += n
        self.stats["empty_texts"] += clean.empty
        self.stats["decoded_bytes"] += clean.decoded_bytes
        self.stats["invalid_utf8"] += clean.invalid_utf8
        if n == 0:
            raise DataError(f"{_WHERE}: no texts to embed; pass at least one text")
        hashes = [text_hash(t) for t in clean.texts]
        unique: dict[str, str] = dict(zip(hashes, clean.texts, strict=True))
        cache = self.cache
        found = cache.lookup(list(unique)) if cache is not None else {}
        missing = [h for h in unique if h not in found]
        self.stats["cache_hits"] += n - sum(1 for h in hashes if h not in found)
        self.stats["cache_misses"] += sum(1 for h in hashes if h not in found)
        if missing:
            vectors, truncated = self._compute([unique[h] for h in missing])
            if cache is not None:
                cache.store(missing, vectors, truncated)
            found.update({h: (v, t) for h, v, t in zip(missing, vectors, truncated, strict=True)})
        out = np.stack([found[h][0] for h in hashes]).astype(np.float32, copy=False)
        self.stats["truncated"] += sum(1 for h in hashes if found[h][1])
        if self.params.normalize:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out = out / np.maximum(norms, 1e-12)
        self.stats["seconds"] = round(self.stats["seconds"] + time.perf_counter() - start, 4)
        return np.ascontiguousarray(out, dtype=np.float32)

    def _compute(self, texts: list[str]) -> tuple[np.ndarray, list[bool]]:
        from omniad_text.embeddings.backends import get_backend
        from omniad_text.embeddings.pooling import pool
        from omniad_text.embeddings.tokens import length_sorted_batches, tokenize

        p = self.params
        if self._backend is None:  # held here too, so fit and score never reload an evicted model
            self._backend = get_backend(self.info, p.backend, p.dtype, self.device, resolve_cache_dir(p), p.num_threads)
        backend = self._backend
        tokens = tokenize(backend.tokenizer, texts, self.max_length)
        rows: list[np.ndarray] = [np.empty(0)] * len(texts)
        with torch_cpu_threads(p.num_threads, self.device):
            for order, batch in length_sorted_batches(tokens, p.batch_size, backend.tokenizer):
                states = backend.forward(batch)
                Embedder.model_calls += 1
                self.stats["model_calls"] += 1
                import torch

                mask = torch.from_numpy(batch["attention_mask"]).to(states.device)
                pooled = pool(states, mask, self.pooling).cpu().numpy()
                if not np.isfinite(pooled).all():
                    raise DataError(
                        f"{_WHERE}: the model produced non-finite embeddings with dtype={p.dtype!r}; use dtype='fp32'"
                    )
                for i, row in zip(order, pooled, strict=True):
                    rows[i] = row
        return np.stack(rows).astype(np.float32, copy=False), tokens.truncated


def embed_texts(texts: Sequence[str], params: EmbeddingParams | Mapping[str, Any] | None = None,
                device: str = "auto") -> np.ndarray:
    """One-call convenience: a fresh ``Embedder`` (the model load and the disk cache are still shared)."""
    return Embedder(params, device=device).embed(texts)

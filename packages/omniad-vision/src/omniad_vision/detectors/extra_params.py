"""The local-weights parameter of the transformers-based detectors (pydantic only)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from omniad.params import Params


class LocalWeightsParams(Params):
    """A transformers model read from a local directory: these machines assume no hub access."""

    weights_dir: Path | None = Field(
        default=None,
        description="local Hugging Face model directory as written by save_pretrained "
        "(config.json + model.safetensors, plus the tokenizer files for CLIP); required",
    )

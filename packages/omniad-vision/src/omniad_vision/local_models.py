"""Hugging Face models read from a local directory (WinCLIP's CLIP, Dinomaly's DINOv2).

These machines assume no hub access, so a detector takes ``weights_dir`` (a directory
written by ``save_pretrained``), checks its layout before transformers sees it, and loads
the model offline, frozen and in eval mode, with one-line errors that say what to pass
instead of a hub or safetensors traceback. Kept free of torch and transformers at import
time: parameter modules import ``LocalWeightsParams`` from here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field

from omniad.errors import ConfigError, DataError
from omniad.params import Params


class LocalWeightsParams(Params):
    """A transformers model read from a local directory: these machines assume no hub access."""

    weights_dir: Path | None = Field(
        default=None,
        description="local Hugging Face model directory as written by save_pretrained "
        "(config.json + model.safetensors, plus the tokenizer files for CLIP); required",
    )


def hf_model_dir(weights_dir: Path | None, where: str, what: str, example: str, extra_files: str = "") -> Path:
    """Check a local Hugging Face directory before transformers sees it."""
    layout = f"config.json + model.safetensors{extra_files}, as written by save_pretrained()"
    if weights_dir is None:
        raise ConfigError(
            f"{where}: no {what} weights given and hub downloads are not attempted; pass "
            f"weights_dir='/path/to/{example}', a local directory holding {layout}"
        )
    path = Path(weights_dir).expanduser()
    if not path.is_dir():
        raise DataError(f"{where}: weights_dir {path} is not a directory; pass a local {what} directory holding {layout}")
    if not (path / "config.json").is_file():
        raise DataError(f"{where}: {path} has no config.json; a {what} directory must hold {layout}")
    if not any((path / name).is_file() for name in ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")):
        raise DataError(f"{where}: {path} has no model.safetensors (or pytorch_model.bin); it must hold {layout}")
    return path


def read_model_type(path: Path, where: str) -> str:
    try:
        config = json.loads((path / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"{where}: {path / 'config.json'} is not valid JSON ({exc}); re-save the model") from None
    return str(config.get("model_type", ""))


def load_hf_model(loader: Any, path: Path, where: str, what: str) -> Any:
    """``loader.from_pretrained(path)`` offline, frozen and in eval mode, with one-line errors."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # one bar per load would flood benchmark logs
    try:
        model = loader.from_pretrained(str(path), local_files_only=True)
    except Exception as exc:  # transformers raises OSError/ValueError/KeyError/RuntimeError here
        first = (str(exc).splitlines() or [""])[0][:160]
        raise DataError(
            f"{where}: cannot load {what} weights from {path} ({type(exc).__name__}: {first}); "
            "re-save the model with save_pretrained() into that directory"
        ) from None
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    return model.eval().requires_grad_(False)

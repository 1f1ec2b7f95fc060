"""Torch plumbing shared by EfficientAD, SimpleNet, WinCLIP and Dinomaly.

The four methods differ in what they learn, not in how images get in and maps get out:
training images are resized once and kept in ``[0, 1]`` so augmentations can act before
normalisation, scoring runs in bounded batches and hands every map back at its image's own
resolution, and transformers models are read from local directories with errors that say
what to pass instead of a hub or safetensors traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from omniad.errors import ConfigError, DataError
from omniad.scores import Scores
from omniad_vision.detectors.image_params import ImageParams
from omniad_vision.preprocess import as_hw, iter_batches, to_input_resolution, to_tensor

#: maps at model input size (B, H, W) and one image score per map (B,)
MapFn = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def input_size(params: ImageParams) -> tuple[int, int]:
    return as_hw(params.image_size)


def normalize(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``[0, 1]`` batch -> normalised batch (kept separate so augmentations can run first)."""
    m = torch.tensor(mean, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    s = torch.tensor(std, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x - m) / s


def load_unit_images(samples: Sequence[Any], size: tuple[int, int], where: str, batch_size: int = 16) -> torch.Tensor:
    """All ``samples`` resized to ``size`` as one CPU float batch in ``[0, 1]`` (validated on the way)."""
    parts = [
        to_tensor(images, size, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)).clamp_(0.0, 1.0)
        for _, images in iter_batches(samples, batch_size, where)
    ]
    return torch.cat(parts)


def step_batches(n: int, batch_size: int, steps: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """``steps`` index batches drawn epoch by epoch without replacement (reshuffled each epoch)."""
    batch_size = min(batch_size, n)
    order = torch.randperm(n, generator=generator)
    pos = 0
    for _ in range(steps):
        if pos + batch_size > n:
            order, pos = torch.randperm(n, generator=generator), 0
        yield order[pos : pos + batch_size]
        pos += batch_size


def torch_generator(seed: int | None) -> torch.Generator:
    """A generator seeded from the detector seed (or from torch's global RNG when there is none)."""
    g = torch.Generator()
    g.manual_seed(int(seed) if seed is not None else int(torch.randint(0, 2**31 - 1, (1,)).item()))
    return g


def score_images(
    samples: Sequence[Any],
    params: ImageParams,
    device: str,
    where: str,
    fn: MapFn,
    size: tuple[int, int] | None = None,
) -> Scores:
    """Run ``fn`` batch by batch; maps come back at each input image's resolution."""
    size = size or input_size(params)
    sample_scores: list[np.ndarray] = []
    local: list[np.ndarray] = []
    for _, images in iter_batches(samples, params.batch_size, where):
        batch = to_tensor(images, size, params.mean, params.std, device)
        with torch.no_grad():
            maps, image_scores = fn(batch)
        sample_scores.append(image_scores.detach().float().cpu().numpy().reshape(-1))
        local.extend(to_input_resolution(maps.float(), [im.shape[:2] for im in images]))
    return Scores(sample=np.concatenate(sample_scores), local=local)


def top_fraction_mean(maps: torch.Tensor, fraction: float) -> torch.Tensor:
    """Mean of the highest ``fraction`` of each map's pixels (at least one pixel)."""
    flat = maps.flatten(1)
    k = max(1, round(flat.shape[1] * fraction))
    return flat.topk(k, dim=1).values.mean(dim=1)


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
    import json

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

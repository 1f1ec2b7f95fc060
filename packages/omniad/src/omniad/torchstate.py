"""Torch ``nn.Module`` state <-> numpy arrays, for ``Detector.get_state``/``set_state``.

Imported only by detectors that use torch; importing it does not import torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def module_arrays(module: Any, prefix: str) -> dict[str, np.ndarray]:
    """Parameters and buffers of ``module`` as float32/int numpy arrays under ``prefix.``."""
    import torch

    out = {}
    for key, value in module.state_dict().items():
        tensor = value.detach().cpu()
        if tensor.dtype in (torch.bfloat16, torch.float16):
            tensor = tensor.float()
        out[f"{prefix}.{key}"] = tensor.numpy().copy()
    return out


def load_module_arrays(module: Any, state: dict[str, Any], prefix: str) -> None:
    """Load arrays written by ``module_arrays`` back into ``module`` (strict key match)."""
    import torch

    prefix_dot = f"{prefix}."
    tensors = {k[len(prefix_dot):]: torch.from_numpy(np.asarray(v)) for k, v in state.items() if k.startswith(prefix_dot)}
    module.load_state_dict(tensors, strict=True)


def tensors_from_state(state: dict[str, Any], prefix: str) -> dict[str, np.ndarray]:
    """The entries of ``state`` under ``prefix.`` (without the prefix)."""
    prefix_dot = f"{prefix}."
    return {k[len(prefix_dot):]: v for k, v in state.items() if k.startswith(prefix_dot)}

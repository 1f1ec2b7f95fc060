"""Torch ``nn.Module`` state <-> numpy arrays, for ``Detector.get_state``/``set_state``.

Imported only by detectors that use torch; importing it does not import torch.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from omniad.errors import DataError


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


def _names(keys: list[str], prefix: str) -> str:
    shown = ", ".join(repr(f"{prefix}.{k}") for k in keys[:3])
    return shown + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")


def check_module_arrays(module: Any, tensors: dict[str, Any], prefix: str) -> None:
    """One ``DataError`` naming the first saved entry that does not fit ``module``'s own state.

    ``load_state_dict`` would say the same in a multi-line report, listing every mismatch
    with torch's names; a saved folder is user input, so the message names the saved entry
    and the shape the network built from the saved parameters needs.
    """
    own = module.state_dict()
    missing = [k for k in own if k not in tensors]
    if missing:
        raise DataError(
            f"saved state lacks {_names(missing, prefix)} of the network built from the saved "
            "parameters (the folder is incomplete or from another version); re-save the model"
        )
    unexpected = [k for k in tensors if k not in own]
    if unexpected:
        raise DataError(
            f"saved state holds {_names(unexpected, prefix)}, which the network built from the saved "
            "parameters does not have (the parameters or the arrays were edited); re-save the model"
        )
    for key, want in own.items():
        got = tuple(np.shape(tensors[key]))
        scalar = want.dim() == 0 and got == (1,)  # torch loads a (1,) array into a scalar buffer
        if got != tuple(want.shape) and not scalar:
            raise DataError(
                f"saved state '{prefix}.{key}' has shape {got}, but the network built from the saved "
                f"parameters needs {tuple(want.shape)} (the parameters or the arrays were edited); "
                "re-save the model"
            )


def load_module_arrays(module: Any, state: dict[str, Any], prefix: str) -> None:
    """Load arrays written by ``module_arrays`` back into ``module`` (strict: same keys, same shapes)."""
    import torch

    prefix_dot = f"{prefix}."
    tensors = {k[len(prefix_dot) :]: v for k, v in state.items() if k.startswith(prefix_dot)}
    check_module_arrays(module, tensors, prefix)
    try:
        module.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in tensors.items()}, strict=True)
    except (RuntimeError, TypeError, ValueError) as exc:  # what the shape check above cannot foresee
        first = str(exc).strip().splitlines()
        raise DataError(
            f"saved arrays under '{prefix}.' do not load into the network "
            f"({' '.join(line.strip() for line in first[:2])}); re-save the model"
        ) from None


#: what a rebuilt network may hold beyond 4x the saved arrays: pretrained parts loaded from
#: elsewhere (an embedding model, CLIP) are not in the folder; 7B-parameter encoders have < 1000 tensors
EXTRA_TENSORS = 10_000
EXTRA_VALUES = 2_000_000_000


@contextmanager
def build_limit(saved_tensors: int, saved_values: int) -> Iterator[None]:
    """Stop a network being built from edited parameters long before it exhausts the machine.

    ``set_state`` builds the network from the saved parameters before any shape can be
    compared, so ``num_layers=10**9`` in a hand-edited ``omniad.json`` would spend hours
    allocating layers. Every parameter and buffer registered by this thread while the block
    runs is counted, and far more than the folder holds fails with one ``DataError``. The
    tensors are allocated but not yet initialised when the count stops them.
    """
    import threading

    from torch.nn.modules.module import (
        register_module_buffer_registration_hook,
        register_module_parameter_registration_hook,
    )

    thread = threading.get_ident()
    max_tensors, max_values = 4 * saved_tensors + EXTRA_TENSORS, 4 * saved_values + EXTRA_VALUES
    seen = {"tensors": 0, "values": 0}

    def count(module: Any, name: str, tensor: Any) -> None:
        if tensor is None or threading.get_ident() != thread:
            return
        seen["tensors"] += 1
        seen["values"] += int(tensor.numel())
        if seen["tensors"] > max_tensors or seen["values"] > max_values:
            raise DataError(
                f"the network built from the saved parameters grows past {seen['tensors']} tensors and "
                f"{seen['values']} values (at {type(module).__name__}.{name}) while the saved arrays hold "
                f"{saved_tensors} and {saved_values}; the parameters were edited, re-save the model"
            )

    handles = [
        register_module_parameter_registration_hook(count),
        register_module_buffer_registration_hook(count),
    ]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def tensors_from_state(state: dict[str, Any], prefix: str) -> dict[str, np.ndarray]:
    """The entries of ``state`` under ``prefix.`` (without the prefix)."""
    prefix_dot = f"{prefix}."
    return {k[len(prefix_dot) :]: v for k, v in state.items() if k.startswith(prefix_dot)}

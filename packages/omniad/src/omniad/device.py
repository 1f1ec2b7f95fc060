"""Device selection and seeding, without importing torch unless it is already in use.

The core stays torch-free: torch is consulted only when it is installed, so that a
numpy-only detector never pays torch's import time.
"""

from __future__ import annotations

import importlib.util
import os
import random
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from omniad.errors import ConfigError

DEVICE_ENV = "OMNIAD_DEVICE"


def _torch_available() -> bool:
    return "torch" in sys.modules or importlib.util.find_spec("torch") is not None


def cuda_available() -> bool:
    if not _torch_available():
        return False
    import torch

    return bool(torch.cuda.is_available())


def check_device_request(requested: str | None) -> str:
    """Validate the spelling of a device request without importing torch."""
    value = (requested or "auto").strip().lower()
    if value in ("auto", "cpu", "cuda") or (value.startswith("cuda:") and value[5:].isdigit()):
        return value
    raise ConfigError(f"unknown device {requested!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'")


def resolve_device(requested: str | None = "auto") -> str:
    """``auto`` means CUDA when present, else CPU. ``OMNIAD_DEVICE`` overrides ``auto``."""
    requested = (requested or "auto").strip().lower()
    if requested == "auto":
        requested = os.environ.get(DEVICE_ENV, "auto").strip().lower() or "auto"
    if requested == "auto":
        return "cuda" if cuda_available() else "cpu"
    if requested == "cpu":
        return "cpu"
    if requested == "cuda" or requested.startswith("cuda:"):
        if not cuda_available():
            raise ConfigError(
                f"device {requested!r} was requested but CUDA is not available here; "
                "use device='auto' or 'cpu'"
            )
        return requested
    raise ConfigError(f"unknown device {requested!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'")


def seed_everything(seed: int | None, *, torch: bool = False) -> None:
    """Seed Python, numpy and torch so that a run with a seed is repeatable.

    torch is seeded when it is already loaded, or with ``torch=True`` when it is installed: a
    detector that imports torch inside its fit would otherwise draw its first weights from
    torch's own seed, which torch picks at random per process, so two fresh processes with one
    seed gave two models (measured on ``events.ape``). Torch-free detectors leave ``torch`` off
    and never pay its import.
    """
    if seed is None:
        return
    random.seed(seed)
    np.random.seed(seed % (2**32))
    if "torch" in sys.modules or (torch and _torch_available()):
        import torch

        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)


def numpy_rng(seed: int | None) -> np.random.Generator:
    return np.random.default_rng(seed)


@contextmanager
def torch_cpu_threads(n: int | None, device: Any = "cpu") -> Iterator[None]:
    """Run a block with ``n`` torch intra-op threads on CPU, restoring the previous count.

    Small networks and sequential loops (a greedy coreset) are fastest with one thread on a
    busy CPU, where torch's default of one thread per core makes threads wait on each
    other. A no-op on GPU or when ``n`` is None; more threads than cores are lowered to the
    core count, with a warning (a saved or hand-edited parameter may ask for any number).
    """
    if n is None or str(getattr(device, "type", device)).split(":")[0] != "cpu":
        yield
        return
    import torch

    cores = os.cpu_count() or 1
    if n > cores:  # more threads than cores only waits (and 10**9 of them would abort the process)
        warnings.warn(f"cpu_threads={n} lowered to the {cores} CPU cores of this machine", stacklevel=3)
        n = cores
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)

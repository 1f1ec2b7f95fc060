"""Small torch helpers of the learned event detectors (imported only when one is fitted)."""

from __future__ import annotations

from typing import Any


def torch_threads(n: int | None) -> Any:
    """A context that sets torch's CPU threads for the fit (None: leave them)."""
    import contextlib

    import torch

    @contextlib.contextmanager
    def scope() -> Any:
        if n is None:
            yield
            return
        before = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(before)

    return scope()


def generator(seed: int | None, device: str) -> Any:
    import torch

    g = torch.Generator(device=device)
    g.manual_seed(0 if seed is None else int(seed))
    return g

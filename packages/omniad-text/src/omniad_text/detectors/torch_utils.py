"""Small torch helpers of the trained text detectors (imported only when one is fitted)."""

from __future__ import annotations

from typing import Any


def make_generator(seed: int | None) -> Any:
    """A CPU torch generator from the detector's seed (a fresh one when unseeded)."""
    import torch

    gen = torch.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(int(seed) % 2**63)
    return gen

"""Small torch helpers of the learned event detectors (imported only when one is fitted)."""

from __future__ import annotations

from typing import Any


def generator(seed: int | None, device: str) -> Any:
    import torch

    g = torch.Generator(device=device)
    g.manual_seed(0 if seed is None else int(seed))
    return g

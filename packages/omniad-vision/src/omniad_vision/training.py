"""Training-loop helpers of the vision detectors that learn (EfficientAD, SimpleNet, Dinomaly).

One seeded ``torch.Generator`` per fit draws every random choice, and steps take index
batches epoch by epoch without replacement, so a fit with a seed repeats exactly.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch


def torch_generator(seed: int | None) -> torch.Generator:
    """A generator seeded from the detector seed (or from torch's global RNG when there is none)."""
    g = torch.Generator()
    g.manual_seed(int(seed) if seed is not None else int(torch.randint(0, 2**31 - 1, (1,)).item()))
    return g


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

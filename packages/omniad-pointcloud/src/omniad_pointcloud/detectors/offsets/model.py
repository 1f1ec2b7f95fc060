"""The offset network: a shared MLP over each point's neighbours, pooled, regressing a 3-d offset.

Kept small (two shared layers, max and mean pooling, two head layers) so it trains from
scratch on a handful of normal clouds on a CPU; patches are scaled by the typical patch
radius of the training clouds, so the network sees shapes, not units.
"""

from __future__ import annotations

import torch
from torch import nn


class OffsetNet(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.local = nn.Sequential(nn.Linear(3, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 3))

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        """``patches (N, k, 3)`` (neighbours relative to each point, scaled) -> offsets ``(N, 3)``."""
        h = self.local(patches)
        return self.head(torch.cat([h.max(1).values, h.mean(1)], dim=1))

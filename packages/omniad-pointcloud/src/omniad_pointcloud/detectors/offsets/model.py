"""The offset network: a shared MLP over each point's neighbours in their local frame, pooled,
regressing the 3-d correction in that frame.

Each neighbourhood is expressed in its own PCA frame (two tangent axes and the normal,
oriented away from the cloud centre), so the network sees local surface shape, independent
of where on the object the patch sits and how it is turned: a bump is "this point stands
above the plane of its wider neighbourhood", whatever the shape. A plain MLP on absolute
positions had to learn the whole implicit surface to a hundredth of its size and did not,
in the few hundred steps a CPU affords.
"""

from __future__ import annotations

import torch
from torch import nn


def local_frames(points: torch.Tensor, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(neighbours relative to each point in its frame (N, K, 3), frames (N, 3, 3))``.

    ``idx`` lists each point's neighbours (itself first); the frame's columns are the two
    tangent directions and the normal, the normal pointing away from the cloud's centroid.
    """
    nb = points[idx]
    centred = nb - nb.mean(1, keepdim=True)
    _, vecs = torch.linalg.eigh(centred.transpose(1, 2) @ centred)
    frames = vecs.flip(-1)  # largest variance first: t1, t2, normal
    outward = points - points.mean(0, keepdim=True)
    flip = (frames[:, :, 2] * outward).sum(1) < 0
    sign = torch.ones_like(frames)
    sign[:, :, 2] = torch.where(flip, -1.0, 1.0)[:, None]
    frames = frames * sign
    rel = torch.einsum("nki,nij->nkj", nb[:, 1:] - points[:, None, :], frames)
    return rel, frames


class OffsetNet(nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.local = nn.Sequential(nn.Linear(3, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.head = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 3))

    def forward(self, rel: torch.Tensor) -> torch.Tensor:
        """Scaled neighbours in each point's frame ``(N, K, 3)`` -> the correction in that frame ``(N, 3)``."""
        h = self.local(rel)
        return self.head(torch.cat([h.max(1).values, h.mean(1)], dim=1))

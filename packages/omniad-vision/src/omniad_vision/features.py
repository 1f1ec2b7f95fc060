"""Locally aware patch features from multi-layer backbone maps (PatchCore, Sec. 3.1).

PatchCore scores them against its memory bank, SimpleNet adapts and discriminates them, and
EfficientAD distils its teacher towards them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def patch_embedding(features: list[torch.Tensor], pool_size: int) -> torch.Tensor:
    """Neighbourhood average per layer, deeper layers bilinearly upsampled to the first
    layer's grid, channels concatenated: ``[(B, C_i, H_i, W_i)] -> (B, sum C_i, H_0, W_0)``."""
    if pool_size > 1:
        pad = pool_size // 2
        features = [F.avg_pool2d(f, pool_size, stride=1, padding=pad) for f in features]
        if pool_size % 2 == 0:  # even kernels grow the map by one; crop back
            features = [f[..., : -1, : -1] for f in features]
    size = features[0].shape[-2:]
    ups = [features[0]] + [F.interpolate(f, size=size, mode="bilinear", align_corners=False) for f in features[1:]]
    return torch.cat(ups, dim=1)

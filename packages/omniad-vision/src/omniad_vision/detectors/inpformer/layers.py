"""INP-Former's trainable parts: the INP extractor and the INP-guided decoder block.

The extractor's M learnable tokens cross-attend over one image's (fused) patch tokens, so the
prototypes it returns are made of that image's own normal-looking content. Each decoder block
attends from the tokens to the prototypes only and keeps no residual around that attention:
its output is a mix of the image's INPs, which normal regions match and anomalies do not, so an
anomalous token cannot be copied through.
"""

from __future__ import annotations

import torch
from torch import nn


def mlp(dim: int, ratio: float) -> nn.Sequential:
    hidden = max(1, int(dim * ratio))
    return nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))


class INPExtractor(nn.Module):
    """``(B, N, C)`` tokens -> ``(B, M, C)`` intrinsic normal prototypes of each image."""

    def __init__(self, dim: int, num: int, heads: int, ratio: float) -> None:
        super().__init__()
        self.tokens = nn.Parameter(torch.randn(1, num, dim) * 0.02)
        self.norm_q, self.norm_kv, self.norm_mlp = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = mlp(dim, ratio)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self.tokens.expand(x.shape[0], -1, -1)
        kv = self.norm_kv(x)
        p = q + self.attn(self.norm_q(q), kv, kv, need_weights=False)[0]
        return p + self.mlp(self.norm_mlp(p))


class INPDecoderBlock(nn.Module):
    """Tokens attend to the prototypes (no residual around the attention), then a residual MLP."""

    def __init__(self, dim: int, heads: int, ratio: float) -> None:
        super().__init__()
        self.norm_q, self.norm_kv, self.norm_mlp = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = mlp(dim, ratio)

    def forward(self, z: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
        kv = self.norm_kv(prototypes)
        z = self.attn(self.norm_q(z), kv, kv, need_weights=False)[0]
        return z + self.mlp(self.norm_mlp(z))

"""CLAN's encoder and contrastive loss (torch)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CLANNet(nn.Module):
    def __init__(self, d_in: int, hidden: tuple[int, ...], rep_dim: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = d_in
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, rep_dim))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.body(x), dim=1)


def clan_loss(z: torch.Tensor, z_neg: torch.Tensor, temperature: float) -> torch.Tensor:
    """Each benign event's positives are the other benign events of the batch, its negatives the augmented ones.

    -log( sum_pos exp(s/t) / (sum_pos exp(s/t) + sum_neg exp(s/t)) ), averaged over anchors.
    """
    b = len(z)
    pos = z @ z.T / temperature
    pos = pos.masked_fill(torch.eye(b, dtype=torch.bool, device=z.device), float("-inf"))
    neg = z @ z_neg.T / temperature
    lse_pos = torch.logsumexp(pos, dim=1)
    return (torch.logsumexp(torch.cat([pos, neg], dim=1), dim=1) - lse_pos).mean()


def augment(
    x: torch.Tensor,
    blocks: list[torch.Tensor],
    numeric: list[bool],
    mask_prob: float,
    noise: float,
    g: torch.Generator,
) -> torch.Tensor:
    """Negatives: each field, with probability ``mask_prob`` (at least one per event), is shuffled across
    the batch, masked (zeroed) or, for a number, given Gaussian noise."""
    b, m = len(x), len(blocks)
    out = x.clone()
    chosen = torch.rand(b, m, generator=g) < mask_prob
    chosen[torch.arange(b), torch.randint(0, m, (b,), generator=g)] = True
    how = torch.randint(0, 3, (b, m), generator=g)
    perm = torch.randperm(b, generator=g)
    for j, cols in enumerate(blocks):
        rows = chosen[:, j]
        if not bool(rows.any()):
            continue
        kind = how[:, j]
        shuf = rows & (kind == 0)
        mask = rows & ((kind == 1) | ((kind == 2) & (not numeric[j])))
        jitter = rows & (kind == 2) & numeric[j]
        c = cols.to(x.device)
        if bool(shuf.any()):
            out[shuf.nonzero().squeeze(1)[:, None], c] = x[perm[shuf].to(x.device)[:, None], c]
        if bool(mask.any()):
            out[mask.nonzero().squeeze(1)[:, None], c] = 0
        if bool(jitter.any()):
            idx = jitter.nonzero().squeeze(1)
            out[idx[:, None], c] = out[idx[:, None], c] + noise * torch.randn(
                len(idx), len(c), generator=g
            ).to(x.device)
    return out

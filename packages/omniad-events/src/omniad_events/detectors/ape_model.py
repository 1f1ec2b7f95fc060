"""The APE network: entity embeddings and weighted pairwise interactions of the entity types (torch)."""

from __future__ import annotations

import torch
from torch import nn


class APENet(nn.Module):
    """S(e) = sum_{i<j} w_ij <v_{e_i}, v_{e_j}> (+ sum_i b_{e_i}); an event's log-likelihood up to a constant.

    ``codes`` index one flat table of all fields' codes (field offsets added by the caller).
    """

    def __init__(self, n_codes: int, n_fields: int, dim: int, bias: bool) -> None:
        super().__init__()
        self.emb = nn.Embedding(n_codes, dim)
        nn.init.normal_(self.emb.weight, std=0.1)
        iu, ju = torch.triu_indices(n_fields, n_fields, offset=1)
        self.register_buffer("iu", iu, persistent=False)
        self.register_buffer("ju", ju, persistent=False)
        self.w = nn.Parameter(torch.ones(iu.numel()))
        self.bias = nn.Parameter(torch.zeros(n_codes)) if bias else None

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        v = self.emb(codes)  # (B, m, d)
        pair = (v[:, self.iu] * v[:, self.ju]).sum(-1)  # (B, pairs)
        s = pair @ self.w
        if self.bias is not None:
            s = s + self.bias[codes].sum(1)
        return s

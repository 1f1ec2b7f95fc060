"""The APE network: entity embeddings and weighted pairwise interactions of the entity types (torch)."""

from __future__ import annotations

import torch
from torch import nn


class APENet(nn.Module):
    """S(e) = sum_{i<j} w_ij <v_{e_i}, v_{e_j}> (+ sum_i b_{e_i}); an event's log-likelihood up to a constant.

    ``codes`` index one flat table of all fields' codes (field offsets added by the caller). The pair
    weights are kept as the upper triangle (the saved form) but applied as a symmetric m x m matrix with
    a zero diagonal: S = 1/2 sum_i <v_i, sum_j W_ij v_j> is the same sum in B*m*m*d operations instead of
    gathering every pair (41 NSL-KDD fields give 820 pairs; the gather made the fit 30x slower).
    """

    def __init__(self, n_codes: int, n_fields: int, dim: int, bias: bool) -> None:
        super().__init__()
        self.emb = nn.Embedding(n_codes, dim)
        nn.init.normal_(self.emb.weight, std=0.1)
        iu, ju = torch.triu_indices(n_fields, n_fields, offset=1)
        self.register_buffer("iu", iu, persistent=False)
        self.register_buffer("ju", ju, persistent=False)
        self.n_fields = n_fields
        self.w = nn.Parameter(torch.ones(iu.numel()))
        self.bias = nn.Parameter(torch.zeros(n_codes)) if bias else None

    def pair_matrix(self) -> torch.Tensor:
        m = self.n_fields
        upper = torch.zeros(m, m, dtype=self.w.dtype, device=self.w.device).index_put(
            (self.iu, self.ju), self.w
        )
        return upper + upper.T

    def contexts(self, codes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Embeddings (B, m, d) and each field's context sum_j W_ij v_j (B, m, d)."""
        v = self.emb(codes)
        return v, torch.einsum("ij,bjd->bid", self.pair_matrix(), v)

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        v, ctx = self.contexts(codes)
        s = 0.5 * (v * ctx).sum((1, 2))
        if self.bias is not None:
            s = s + self.bias[codes].sum(1)
        return s

    def conditional_nll(self, codes: torch.Tensor, same: torch.Tensor) -> torch.Tensor:
        """-log P(e_j | the other entities) per field (B, m): a softmax over field j's codes of
        b_c + <v_c, context_j>, the exact conditional of S (Besag's pseudo-likelihood terms).

        ``same`` (m, n_codes) is True where a code belongs to that field (codes never seen in training are
        in the softmax but never a target, so the fit pushes their probability down)."""
        _, ctx = self.contexts(codes)
        logits = ctx @ self.emb.weight.T  # (B, m, n_codes)
        if self.bias is not None:
            logits = logits + self.bias
        logits = logits.masked_fill(~same, float("-inf"))
        target = logits.gather(2, codes.unsqueeze(2)).squeeze(2)
        return torch.logsumexp(logits, dim=2) - target

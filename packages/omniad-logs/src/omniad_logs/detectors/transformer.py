"""A small causal transformer encoder for next-event prediction, with DeepLog's top-g decision.

Same windows, scores and decision as DeepLog (``sequence_base``); only the context model
differs: self-attention over the h context events (learned positions, causal mask), the
last position's output predicts the next event. Attention can use any earlier event of the
window directly where an LSTM has to carry it through its state.
"""

from __future__ import annotations

import torch
from torch import nn

from omniad_logs.detectors.deeplog import known_tokens
from omniad_logs.detectors.sequence_base import NextEventDetector
from omniad_logs.detectors.sequence_params import TransformerParams
from omniad_logs.detectors.sequence_training import FIRST


class NextEventTransformer(nn.Module):
    def __init__(self, n_known: int, n_out: int, window: int, p: TransformerParams) -> None:
        super().__init__()
        self.n_known = n_known
        self.embed = nn.Embedding(FIRST + n_known, p.d_model, padding_idx=0)
        self.position = nn.Parameter(torch.zeros(window, p.d_model))
        layer = nn.TransformerEncoderLayer(
            p.d_model, p.n_heads, p.dim_feedforward, p.dropout, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, p.n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(p.d_model)
        self.out = nn.Linear(p.d_model, n_out)
        self.register_buffer("mask", torch.triu(torch.full((window, window), float("-inf")), diagonal=1), persistent=False)

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        x = self.embed(known_tokens(context, self.n_known)) + self.position
        h = self.encoder(x, mask=self.mask)
        return self.out(self.norm(h[:, -1]))


class LogTransformer(NextEventDetector):
    Params = TransformerParams

    def build_module(self, n_known: int) -> nn.Module:
        p = self.params
        return NextEventTransformer(n_known, n_known + int(p.end_marker), p.window, p)

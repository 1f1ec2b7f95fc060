"""Transformer reconstruction detector: per-timestep reconstruction error of a window autoencoder.

A plain Transformer encoder that maps a window to itself learns the identity (every token
can attend to itself), so anomalies reconstruct as well as normal data. Here the encoder's
tokens are flattened and projected to a small latent vector, and a second Transformer
rebuilds the window from that vector's projection back to tokens plus positions: the
bottleneck forces the model to learn the normal shapes. (Mean-pooling the tokens instead
loses the phase: over whole periods the token values average out, and in our tests such a
model never got below predicting the mean.) A timestep's score is its squared error averaged over every scored window
that covers it, so scores are already per timestep (no centre padding).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from omniad_timeseries.detectors.neural.base import NeuralDetector
from omniad_timeseries.detectors.neural.params import TransformerParams
from omniad_timeseries.detectors.neural.training import WindowSet, map_windows, mean_over_cover


def sinusoidal_positions(length: int, dim: int) -> torch.Tensor:
    position = torch.arange(length, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(position * freq)
    table[:, 1::2] = torch.cos(position * freq)[:, : dim // 2]
    return table


def encoder_stack(d_model: int, n_heads: int, ff: int, dropout: float, layers: int) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(d_model, n_heads, ff, dropout, batch_first=True, norm_first=True)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


class TransformerAENet(nn.Module):
    """Tokens are patches of ``patch`` timesteps x all channels (PatchTST-style), which keeps
    attention cheap: a window of 100 is 20 tokens with the default patch of 5."""

    def __init__(self, n_channels: int, p: TransformerParams) -> None:
        super().__init__()
        self.patch = p.patch
        self.embed = nn.Linear(p.patch * n_channels, p.d_model)
        self.register_buffer("positions", sinusoidal_positions(p.window // p.patch, p.d_model), persistent=False)
        self.encoder = encoder_stack(p.d_model, p.n_heads, p.dim_feedforward, p.dropout, p.n_layers)
        n_tokens = p.window // p.patch
        self.to_latent = nn.Linear(n_tokens * p.d_model, p.latent_dim)
        self.from_latent = nn.Linear(p.latent_dim, n_tokens * p.d_model)
        self.decoder = encoder_stack(p.d_model, p.n_heads, p.dim_feedforward, p.dropout, p.n_layers)
        self.out = nn.Sequential(nn.LayerNorm(p.d_model), nn.Linear(p.d_model, p.patch * n_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (b, window, C) -> (b, window, C)
        b, w, c = x.shape
        h = self.encoder(self.embed(x.reshape(b, w // self.patch, self.patch * c)) + self.positions)
        z = self.to_latent(h.flatten(1))
        seed = self.from_latent(z).reshape(b, -1, self.positions.shape[1])
        return self.out(self.decoder(seed + self.positions)).reshape(b, w, c)


class TransformerAE(NeuralDetector):
    """Transformer window autoencoder with a latent bottleneck, scored per timestep."""

    Params = TransformerParams

    def build_module(self, n_channels: int) -> nn.Module:
        return TransformerAENet(n_channels, self.params)

    def _loss(self, batch: torch.Tensor, epoch: int) -> torch.Tensor:
        return nn.functional.mse_loss(self.module_(batch), batch)

    def train_module(self, series: list[np.ndarray]) -> None:
        optimizer = torch.optim.Adam(self.module_.parameters(), lr=self.params.lr)
        self.run_training(series, self._loss, optimizer, stride=self.params.train_stride)

    def score_series(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = self.params
        windows = WindowSet([x], p.window, self.torch_device, stride=p.score_stride, include_last=True)
        err = map_windows(lambda b: (self.module_(b) - b) ** 2, windows, p.score_batch_size)
        per_var = mean_over_cover(err, windows.starts.cpu().numpy(), len(x))
        return per_var.mean(1), per_var

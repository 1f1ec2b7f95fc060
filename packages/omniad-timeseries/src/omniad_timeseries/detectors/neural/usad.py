"""USAD: one encoder, two decoders trained adversarially (Audibert et al., KDD 2020).

Follows TSB-AD 1.5: windows flattened time-major, MLP encoder/decoders of width 16 with a
5-d latent and sigmoid outputs, one AdamW (weight decay 1e-5) over the summed losses with
epoch-dependent weights ``1/n`` and ``1 - 1/n`` (``n = epoch + 1``), StepLR(5, 0.9), early
stopping with patience 3. The score of a window is ``alpha * |W - AE1(W)|^2 + beta *
|W - AE2(AE1(W))|^2`` averaged over the window, assigned to its centre (TSB-AD padding).
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import torch
from torch import nn

from omniad_timeseries.detectors.neural.base import NeuralDetector
from omniad_timeseries.detectors.neural.params import USADParams
from omniad_timeseries.detectors.neural.training import WindowSet, map_windows
from omniad_timeseries.windows import window_to_point


def _mlp(sizes: list[int], last: nn.Module) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        layers.append(last if i == len(sizes) - 2 else nn.ReLU(True))
    return nn.Sequential(*layers)


class USADNet(nn.Module):
    def __init__(self, n_inputs: int, hidden: int, latent: int) -> None:
        super().__init__()
        self.encoder = _mlp([n_inputs, hidden, hidden, latent], nn.ReLU(True))
        self.decoder1 = _mlp([latent, hidden, hidden, n_inputs], nn.Sigmoid())
        self.decoder2 = _mlp([latent, hidden, hidden, n_inputs], nn.Sigmoid())

    def forward(self, flat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        z = self.encoder(flat)
        ae1 = self.decoder1(z)
        return ae1, self.decoder2(z), self.decoder2(self.encoder(ae1))


class USAD(NeuralDetector):
    """USAD over sliding windows (TSB-AD 1.5 port)."""

    Params = USADParams

    def build_module(self, n_channels: int) -> nn.Module:
        p = self.params
        return USADNet(p.window * n_channels, p.hidden_dim, p.latent_dim)

    def _loss(self, batch: torch.Tensor, epoch: int) -> torch.Tensor:
        d = batch.reshape(len(batch), -1)
        ae1, ae2, ae2ae1 = self.module_(d)
        n = epoch + 1
        rec2 = (ae2ae1 - d) ** 2
        l1 = (ae1 - d) ** 2 / n + (1 - 1 / n) * rec2
        l2 = (ae2 - d) ** 2 / n - (1 - 1 / n) * rec2
        return (l1 + l2).mean()

    def train_module(self, series: list[np.ndarray]) -> None:
        optimizer = torch.optim.AdamW(self.module_.parameters(), lr=self.params.lr, weight_decay=1e-5)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.9)
        self.run_training(series, self._loss, optimizer, scheduler)

    def _window_errors(self, batch: torch.Tensor) -> torch.Tensor:
        d = batch.reshape(len(batch), -1)
        ae1, _, ae2ae1 = self.module_(d)
        err = self.params.alpha * (ae1 - d) ** 2 + self.params.beta * (ae2ae1 - d) ** 2
        return err.reshape(batch.shape).mean(1)  # (b, C): mean over the window per channel

    def score_series(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = self.params.window
        windows = WindowSet([x], w, self.torch_device)
        err = map_windows(self._window_errors, windows, self.params.score_batch_size)
        per_var = np.stack([window_to_point(err[:, c], w, len(x)) for c in range(err.shape[1])], axis=1)
        return per_var.mean(1), per_var

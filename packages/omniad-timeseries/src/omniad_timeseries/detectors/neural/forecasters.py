"""One-step forecasters scored by their squared forecast error: TSB-AD's CNN and LSTMAD.

Both read the ``window`` steps before ``t`` and predict ``x_t``; the error at ``t`` is the
score of ``t`` (mean over channels; per channel in ``per_variable``). The first ``window``
timesteps have no forecast and take the first score, as in TSB-AD. Training follows
TSB-AD: Adam, MSE, StepLR(5, 0.75), early stopping with patience 3 on the last 20 % of the
training data.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from omniad_timeseries.detectors.neural.base import NeuralDetector
from omniad_timeseries.detectors.neural.params import CNNParams, LSTMADParams
from omniad_timeseries.detectors.neural.training import WindowSet, map_windows, pad_front


class CNNNet(nn.Module):
    """Conv1d + ReLU + MaxPool blocks, global average pooling, two-layer head.

    TSB-AD's ``AdaptiveConcatPool1d`` concatenates two *average* pools (its "max" pool is an
    ``AdaptiveAvgPool1d``) before ``Linear(2c, c)``; one average pool into ``Linear(c, c)``
    spans the same functions with half the redundant weights.
    """

    def __init__(self, n_channels: int, num_channel: tuple[int, ...], kernel_size: int, dropout: float) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        prev = n_channels
        for out in num_channel[1:]:
            layers += [nn.Conv1d(prev, out, kernel_size), nn.ReLU(), nn.MaxPool1d(2)]
            prev = out
        self.convs = nn.Sequential(*layers)
        last = num_channel[-1]
        self.head = nn.Sequential(
            nn.Linear(last, last), nn.ReLU(), nn.Dropout(dropout), nn.Linear(last, n_channels)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (b, window, C) -> (b, C)
        return self.head(self.convs(x.transpose(1, 2)).mean(-1))


class LSTMNet(nn.Module):
    """LSTM encoder; an LSTM decoder started from a zero input emits the next step (TSB-AD)."""

    def __init__(self, n_channels: int, hidden_dim: int, num_layers: int) -> None:
        super().__init__()
        self.encoder = nn.LSTM(n_channels, hidden_dim, num_layers=num_layers, batch_first=True)
        self.decoder = nn.LSTM(n_channels, hidden_dim, num_layers=num_layers, batch_first=True)
        self.act = nn.GELU()
        self.fc = nn.Linear(hidden_dim, n_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, state = self.encoder(x)
        start = x.new_zeros(x.shape[0], 1, x.shape[2])
        out, _ = self.decoder(start, state)
        return self.fc(self.act(out[:, -1]))


class _Forecaster(NeuralDetector):
    def span(self) -> int:
        return int(self.params.window) + 1

    def _loss(self, batch: torch.Tensor, epoch: int) -> torch.Tensor:
        return nn.functional.mse_loss(self.module_(batch[:, :-1]), batch[:, -1])

    def train_module(self, series: list[np.ndarray]) -> None:
        optimizer = torch.optim.Adam(self.module_.parameters(), lr=self.params.lr)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.75)
        self.run_training(series, self._loss, optimizer, scheduler)

    def score_series(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        windows = WindowSet([x], self.span(), self.torch_device)
        err = map_windows(
            lambda b: (self.module_(b[:, :-1]) - b[:, -1]) ** 2, windows, self.params.score_batch_size
        )
        per_var = pad_front(err, len(x))
        return per_var.mean(1), per_var


class CNN(_Forecaster):
    """Convolutional one-step forecaster (TSB-AD 1.5 ``CNN``; Munir et al., DeepAnT, 2019)."""

    Params = CNNParams

    def build_module(self, n_channels: int) -> nn.Module:
        p = self.params
        return CNNNet(n_channels, p.num_channel, p.kernel_size, p.dropout)


class LSTMAD(_Forecaster):
    """LSTM one-step forecaster (TSB-AD 1.5 ``LSTMAD``; Malhotra et al., ESANN 2015)."""

    Params = LSTMADParams

    def build_module(self, n_channels: int) -> nn.Module:
        p = self.params
        return LSTMNet(n_channels, p.hidden_dim, p.num_layers)

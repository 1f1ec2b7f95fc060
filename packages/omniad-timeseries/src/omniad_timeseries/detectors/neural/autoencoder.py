"""Dense autoencoder over sliding windows (TSB-AD 1.5's ``AutoEncoder``, PyOD's design).

Per TSB-AD: every window is min-max scaled to [0, 1] on its own, then standardised with
the column means/stds of the training windows; an MLP ``[n, *hidden, *reversed(hidden), n]``
with batch norm, ReLU (on the output layer too) and dropout reconstructs it; Adam with
weight decay, MSE, 50 epochs, batches of 128 with the last partial batch dropped, no
validation split. A window's score is the Euclidean distance between the standardised
window and its reconstruction, assigned to the window's centre.

TSB-AD feeds a multivariate series to this model one row at a time (no windows); here a
multivariate window is ``window x C`` values, min-max scaled per channel.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import torch
from torch import nn

from omniad.errors import DataError
from omniad.state import Array, declare
from omniad_timeseries.detectors.neural.base import NeuralDetector, positive
from omniad_timeseries.detectors.neural.params import AutoEncoderParams
from omniad_timeseries.detectors.neural.training import WindowSet, map_windows
from omniad_timeseries.windows import window_to_point


class AutoEncoderNet(nn.Module):
    def __init__(self, n_inputs: int, hidden: tuple[int, ...], dropout: float, batch_norm: bool) -> None:
        super().__init__()
        enc_sizes = [n_inputs, *hidden]
        dec_sizes = enc_sizes[::-1]
        enc: list[nn.Module] = []
        for a, b in pairwise(enc_sizes):
            enc.append(nn.Linear(a, b))
            if batch_norm:
                enc.append(nn.BatchNorm1d(b))
            enc += [nn.ReLU(), nn.Dropout(dropout)]
        dec: list[nn.Module] = []
        for i, (a, b) in enumerate(pairwise(dec_sizes)):
            last = i == len(dec_sizes) - 2
            dec.append(nn.Linear(a, b))
            if batch_norm and not last:
                dec.append(nn.BatchNorm1d(b))
            dec.append(nn.ReLU())
            if not last:
                dec.append(nn.Dropout(dropout))
        self.encoder = nn.Sequential(*enc)
        self.decoder = nn.Sequential(*dec)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class AutoEncoder(NeuralDetector):
    """Window autoencoder scored by reconstruction distance (TSB-AD 1.5 port)."""

    Params = AutoEncoderParams
    extra_state = ("col_mean_", "col_std_")
    state_spec = declare(col_mean_=Array("wc"), col_std_=Array("wc"))

    def check_state(self, state: dict) -> None:
        super().check_state(state)
        width = self.params.window * state["n_channels_"]
        if state["col_mean_"].shape[0] != width:
            raise DataError(f"saved column statistics cover {state['col_mean_'].shape[0]} values, not window x "
                            f"channels = {width}; re-save the model")
        positive(state, "col_std_")

    def build_module(self, n_channels: int) -> nn.Module:
        p = self.params
        return AutoEncoderNet(p.window * n_channels, p.hidden_neurons, p.dropout, p.batch_norm)

    def _prepare(self, batch: torch.Tensor) -> torch.Tensor:
        """(b, window, C) windows -> standardised flat rows (b, window * C)."""
        if self.params.window_minmax:
            lo = batch.amin(1, keepdim=True)
            span = batch.amax(1, keepdim=True) - lo
            batch = (batch - lo) / torch.where(span > 0, span, torch.ones_like(span))
        flat = batch.reshape(len(batch), -1)
        if hasattr(self, "_col_mean_t"):
            flat = (flat - self._col_mean_t) / self._col_std_t
        return flat

    def _fit_columns(self, windows: WindowSet) -> None:
        total = sq = None
        for batch in windows.batches(self.params.score_batch_size):
            flat = self._prepare(batch).double()
            total = flat.sum(0) if total is None else total + flat.sum(0)
            sq = (flat**2).sum(0) if sq is None else sq + (flat**2).sum(0)
        n = len(windows)
        mean = (total / n).cpu().numpy()
        std = np.sqrt(np.maximum((sq / n).cpu().numpy() - mean**2, 0.0))
        self.col_mean_, self.col_std_ = mean, np.where(std > 1e-8, std, 1.0)
        self._set_column_tensors()

    def _set_column_tensors(self) -> None:
        self._col_mean_t = torch.as_tensor(self.col_mean_, dtype=torch.float32, device=self.torch_device)
        self._col_std_t = torch.as_tensor(self.col_std_, dtype=torch.float32, device=self.torch_device)

    def _loss(self, batch: torch.Tensor, epoch: int) -> torch.Tensor:
        flat = self._prepare(batch)
        return nn.functional.mse_loss(self.module_(flat), flat)

    def train_module(self, series: list[np.ndarray]) -> None:
        if hasattr(self, "_col_mean_t"):
            del self._col_mean_t, self._col_std_t
        windows = WindowSet(series, self.span(), self.torch_device)
        if self.params.batch_norm and len(windows) < 2:
            raise DataError(
                f"{self.where}.fit: batch norm needs at least 2 training windows but the training "
                f"series give {len(windows)}; pass longer series, a smaller window or batch_norm=False"
            )
        self._fit_columns(windows)
        p = self.params
        optimizer = torch.optim.Adam(self.module_.parameters(), lr=p.lr, weight_decay=p.weight_decay)
        self.run_training(series, self._loss, optimizer, drop_last=True)

    def set_state(self, state: dict) -> None:
        super().set_state(state)
        self._set_column_tensors()

    def _window_errors(self, batch: torch.Tensor) -> torch.Tensor:
        flat = self._prepare(batch)
        sq = (self.module_(flat) - flat) ** 2
        return sq.reshape(batch.shape).sum(1)  # (b, C): squared distance per channel

    def score_series(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = self.params.window
        windows = WindowSet([x], w, self.torch_device)
        sq = map_windows(self._window_errors, windows, self.params.score_batch_size)
        dist = np.sqrt(sq.sum(1))
        local = window_to_point(dist, w, len(x))
        per_var = np.stack([window_to_point(sq[:, c], w, len(x)) for c in range(sq.shape[1])], axis=1)
        return local, per_var

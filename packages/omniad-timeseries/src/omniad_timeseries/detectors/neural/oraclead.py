"""OracleAD (Cho et al., NeurIPS 2025), built from the paper's description (no code was released).

What the paper specifies and what is followed here:

* each variable's past window is encoded into one *causal* embedding (LSTM over the past
  only + attention pooling over its time steps);
* self-attention across the variables' embeddings projects them into a shared latent space;
* from there each variable's embedding predicts the present value and reconstructs its
  input window (joint prediction + reconstruction loss);
* the pairwise distances between the projected embeddings, averaged over normal data,
  form the Stable Latent Structure (SLS); training pulls each window's distance matrix
  towards the SLS (deviation loss weighted by ``lambda_dev``);
* the score combines prediction error with the deviation from the SLS, per timestep and
  per variable; the variables with the largest contributions are the root-cause candidates.

Choices the paper leaves open (documented in docs/neural.md): one LSTM shared by all
variables with a learned variable-identity input (scales to many variables), the SLS kept
as an exponential moving average during training and recomputed exactly on the training
data afterwards, Euclidean distances, and each score term divided by its mean on the
training data (per variable) before the two terms are added. With one variable the SLS is
a 1x1 zero matrix and the score is the prediction error alone.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from omniad.state import Array, declare
from omniad_timeseries.detectors.neural.base import NeuralDetector, positive
from omniad_timeseries.detectors.neural.params import OracleADParams
from omniad_timeseries.detectors.neural.training import WindowSet, map_windows, pad_front


def pairwise_distances(z: torch.Tensor) -> torch.Tensor:
    """(b, C, E) -> (b, C, C) Euclidean distances with an exact zero diagonal and finite gradients."""
    sq = (z * z).sum(-1)
    d2 = sq[:, :, None] + sq[:, None, :] - 2 * z @ z.transpose(1, 2)
    eye = torch.eye(z.shape[1], dtype=torch.bool, device=z.device)
    return torch.sqrt(d2.clamp_min(0) + 1e-8).masked_fill(eye, 0.0)


class OracleADNet(nn.Module):
    def __init__(self, n_vars: int, p: OracleADParams) -> None:
        super().__init__()
        self.n_vars = n_vars
        self.ids = nn.Parameter(torch.randn(n_vars, p.id_dim) * 0.1) if p.id_dim else None
        self.lstm = nn.LSTM(1 + p.id_dim, p.hidden_dim, batch_first=True)
        self.pool_score = nn.Sequential(nn.Linear(p.hidden_dim, p.hidden_dim), nn.Tanh(), nn.Linear(p.hidden_dim, 1))
        self.to_embed = nn.Linear(p.hidden_dim, p.embed_dim)
        self.attn = nn.MultiheadAttention(p.embed_dim, p.n_heads, batch_first=True)
        self.norm = nn.LayerNorm(p.embed_dim)
        self.predict = nn.Linear(p.embed_dim, 1)
        self.reconstruct = nn.Linear(p.embed_dim, p.window)
        self.register_buffer("sls", torch.zeros(n_vars, n_vars))
        self.register_buffer("sls_ready", torch.zeros((), dtype=torch.bool))

    def embed(self, past: torch.Tensor) -> torch.Tensor:
        """(b, window, C) past values -> (b, C, E) projected embeddings."""
        b, w, c = past.shape
        seq = past.transpose(1, 2).reshape(b * c, w, 1)
        if self.ids is not None:
            ids = self.ids[None, :, None, :].expand(b, c, w, -1).reshape(b * c, w, -1)
            seq = torch.cat([seq, ids], dim=-1)
        h, _ = self.lstm(seq)  # causal: step k sees steps <= k of the past window only
        weights = torch.softmax(self.pool_score(h), dim=1)
        causal = self.to_embed((weights * h).sum(1)).reshape(b, c, -1)
        mixed, _ = self.attn(causal, causal, causal, need_weights=False)
        return self.norm(causal + mixed)

    def forward(self, past: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        z = self.embed(past)
        pred = self.predict(z).squeeze(-1)  # (b, C): the present value
        recon = self.reconstruct(z).transpose(1, 2)  # (b, window, C): the past window
        return pred, recon, pairwise_distances(z)


class OracleAD(NeuralDetector):
    """Causal per-variable embeddings + stable latent structure; dual score with root causes."""

    Params = OracleADParams
    extra_state = ("pred_scale_", "dev_scale_")
    state_spec = declare(pred_scale_=Array("c"), dev_scale_=Array("c"))

    def check_state(self, state: dict) -> None:
        super().check_state(state)
        positive(state, "pred_scale_", "dev_scale_")

    def span(self) -> int:
        return int(self.params.window) + 1

    def build_module(self, n_channels: int) -> nn.Module:
        return OracleADNet(n_channels, self.params)

    def _loss(self, batch: torch.Tensor, epoch: int) -> torch.Tensor:
        p, net = self.params, self.module_
        past, present = batch[:, :-1], batch[:, -1]
        pred, recon, dist = net(past)
        loss = nn.functional.mse_loss(pred, present) + p.lambda_recon * nn.functional.mse_loss(recon, past)
        if net.n_vars > 1:
            if net.training:
                with torch.no_grad():
                    current = dist.mean(0)
                    net.sls.copy_(torch.where(net.sls_ready, p.sls_momentum * net.sls + (1 - p.sls_momentum) * current, current))
                    net.sls_ready.fill_(True)
            loss = loss + p.lambda_dev * ((dist - net.sls) ** 2).mean()
        return loss

    def train_module(self, series: list[np.ndarray]) -> None:
        optimizer = torch.optim.Adam(self.module_.parameters(), lr=self.params.lr)
        self.run_training(series, self._loss, optimizer)
        all_windows = WindowSet(series, self.span(), self.torch_device)
        self._finalise_structure(all_windows)
        terms = map_windows(self._terms_raw, all_windows, self.params.score_batch_size)
        c = self.n_channels_
        self.pred_scale_ = np.maximum(terms[:, :c].mean(0), 1e-12)
        self.dev_scale_ = np.maximum(terms[:, c:].mean(0), 1e-12)

    @torch.no_grad()
    def _finalise_structure(self, windows: WindowSet) -> None:
        """Replace the training-time moving average by the exact mean distance matrix."""
        net = self.module_.eval()
        total, count = torch.zeros_like(net.sls), 0
        for batch in windows.batches(self.params.score_batch_size):
            total += net(batch[:, :-1])[2].sum(0)
            count += len(batch)
        net.sls.copy_(total / max(count, 1))
        net.sls_ready.fill_(True)

    def _terms_raw(self, batch: torch.Tensor) -> torch.Tensor:
        """(b, 2C): squared prediction error per variable, then mean |D - SLS| per variable's row."""
        net = self.module_
        pred, _, dist = net(batch[:, :-1])
        err = (pred - batch[:, -1]) ** 2
        dev = (dist - net.sls).abs().mean(-1) if net.n_vars > 1 else torch.zeros_like(err)
        return torch.cat([err, dev], dim=1)

    def score_series(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        windows = WindowSet([x], self.span(), self.torch_device)
        terms = map_windows(self._terms_raw, windows, self.params.score_batch_size)
        c = self.n_channels_
        per_var = terms[:, :c] / self.pred_scale_
        if c > 1:
            per_var = per_var + self.params.structure_weight * terms[:, c:] / self.dev_scale_
        per_var = pad_front(per_var, len(x))
        return per_var.mean(1), per_var

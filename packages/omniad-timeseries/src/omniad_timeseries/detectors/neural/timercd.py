"""TimeRCD-style detector: label each timestep by contrasting it with its context.

TimeRCD (arXiv:2509.21190) replaces reconstruction by *relative context discrepancy*: a
Transformer sees a window and is trained, with labels, to say which of its timesteps
disagree with their surroundings. This reimplementation keeps that idea at a size that
trains on a CPU:

* a window is standardised by its own mean/std (so only relative shape matters), cut
  into patches, and encoded by a bidirectional Transformer;
* each patch's head sees its token and the token minus the mean of all *other* tokens
  (the explicit context discrepancy) and emits one logit per timestep;
* labels come from ``synthetic.inject``: offline on generated series
  (``tools/pretrain_timercd.py`` writes a local ``.safetensors``; ``weights=`` loads it) or
  in situ on windows of the training split (``weights=None``); with weights, ``epochs``
  fine-tunes on the training split and ``epochs=0`` is zero-shot.

Channels are scored independently (per-channel probabilities in ``per_variable``); a
timestep's score is the largest channel probability, averaged over overlapping windows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn

from omniad.errors import ConfigError, DataError
from omniad_timeseries.detectors.neural.base import NeuralDetector
from omniad_timeseries.detectors.neural.params import TimeRCDParams
from omniad_timeseries.detectors.neural.synthetic import inject
from omniad_timeseries.detectors.neural.training import (
    LossFn,
    WindowSet,
    fit_loop,
    map_windows,
    mean_over_cover,
    split_tail,
)
from omniad_timeseries.detectors.neural.transformer import encoder_stack

#: parameters that fix the shape of the network; pretrained weights record them
ARCHITECTURE = ("window", "patch", "d_model", "n_heads", "n_layers", "dim_feedforward")
METADATA_KEY = "omniad_timercd"


def standardise(x: torch.Tensor) -> torch.Tensor:
    """Each row (one window of one channel) to zero mean and unit spread."""
    mean = x.mean(-1, keepdim=True)
    std = x.std(-1, keepdim=True)
    return (x - mean) / torch.where(std > 1e-6, std, torch.ones_like(std))


class TimeRCDNet(nn.Module):
    def __init__(self, window: int, patch: int, d_model: int, n_heads: int, n_layers: int,
                 dim_feedforward: int, dropout: float = 0.1) -> None:
        super().__init__()
        self.window, self.patch = window, patch
        n_tokens = window // patch
        self.embed = nn.Linear(patch, d_model)
        self.positions = nn.Parameter(torch.randn(n_tokens, d_model) * 0.02)
        self.encoder = encoder_stack(d_model, n_heads, dim_feedforward, dropout, n_layers)
        self.head = nn.Sequential(
            nn.LayerNorm(2 * d_model), nn.Linear(2 * d_model, d_model), nn.GELU(), nn.Linear(d_model, patch)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, window) -> logits (B, window)
        b = x.shape[0]
        tokens = standardise(x).reshape(b, -1, self.patch)
        h = self.encoder(self.embed(tokens) + self.positions)
        n = h.shape[1]
        context = (h.sum(1, keepdim=True) - h) / max(n - 1, 1)
        return self.head(torch.cat([h, h - context], dim=-1)).reshape(b, self.window)


class LabelledWindows:
    """Normal 1-D windows, each batch a (b, 2, window) stack of corrupted input and labels.

    ``fixed`` corrupts once (a stable validation set); otherwise every pass over the data
    draws fresh corruptions, ``copies`` per window.
    """

    def __init__(self, normal: np.ndarray, rng: np.random.Generator, *, copies: int, anomaly_rate: float,
                 device: torch.device | str, fixed: bool = False) -> None:
        self.normal, self.rng, self.copies, self.rate = normal, rng, copies, anomaly_rate
        self.device, self.fixed = device, fixed
        self._cache: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.normal) * self.copies

    def _corrupt(self) -> torch.Tensor:
        xs = np.repeat(self.normal, self.copies, axis=0).astype(np.float64)
        labels = np.zeros_like(xs, dtype=np.float32)
        for i in np.flatnonzero(self.rng.random(len(xs)) < self.rate):
            xs[i], labels[i] = inject(self.rng, xs[i])
        return torch.from_numpy(np.stack([xs.astype(np.float32), labels], axis=1)).to(self.device)

    def batches(self, batch_size: int, *, shuffle: bool = False, drop_last: bool = False) -> Iterator[torch.Tensor]:
        data = self._cache if self.fixed and self._cache is not None else self._corrupt()
        if self.fixed:
            self._cache = data
        order = (torch.randperm(len(data)) if shuffle else torch.arange(len(data))).to(data.device)
        for i in range(0, len(data), batch_size):
            yield data[order[i : i + batch_size]]


def make_loss(net: TimeRCDNet) -> LossFn:
    def loss(batch: torch.Tensor, epoch: int) -> torch.Tensor:
        return nn.functional.binary_cross_entropy_with_logits(net(batch[:, 0]), batch[:, 1])

    return loss


def train_net(net: TimeRCDNet, train: LabelledWindows, val: LabelledWindows | None, *, epochs: int,
              batch_size: int, lr: float, patience: int, where: str,
              progress: Callable[[int, int], None] | None = None) -> list[float]:
    """Supervised training on injected anomalies; shared by the detector and the pretraining script."""
    optimizer = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    return fit_loop(net, train, val, make_loss(net), optimizer, None, epochs=epochs,
                    batch_size=batch_size, patience=patience, where=where, progress=progress)


def channel_windows(series: list[np.ndarray], window: int, stride: int) -> np.ndarray:
    """All (window,) stretches of every channel of every series, as rows."""
    rows = []
    for x in series:
        for c in range(x.shape[1]):
            col = x[:, c]
            if len(col) < window:
                continue
            starts = np.arange(0, len(col) - window + 1, stride)
            rows.append(np.lib.stride_tricks.sliding_window_view(col, window)[starts])
    return np.concatenate(rows) if rows else np.zeros((0, window), dtype=np.float32)


def save_weights(net: TimeRCDNet, path: str | Path, architecture: dict, info: dict | None = None) -> Path:
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {METADATA_KEY: json.dumps({"architecture": architecture, **(info or {})})}
    save_file({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}, str(path), metadata=meta)
    return path


class TimeRCD(NeuralDetector):
    """Context-discrepancy Transformer trained on injected anomalies (TimeRCD-style)."""

    Params = TimeRCDParams

    def build_module(self, n_channels: int) -> nn.Module:
        p = self.params
        return TimeRCDNet(p.window, p.patch, p.d_model, p.n_heads, p.n_layers, p.dim_feedforward, p.dropout)

    def _load_weights(self) -> None:
        from safetensors import SafetensorError, safe_open

        where, path = f"{self.where}.fit", Path(str(self.params.weights)).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"{where}: weights file {str(path)!r} does not exist; write one with "
                "tools/pretrain_timercd.py or set weights=None to train on the training split"
            )
        try:
            with safe_open(str(path), framework="pt") as f:
                meta = json.loads((f.metadata() or {}).get(METADATA_KEY, "{}"))
                tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open has no __iter__)
        except (SafetensorError, OSError, json.JSONDecodeError) as exc:
            raise DataError(f"{where}: cannot read weights {str(path)!r} ({exc})") from None
        arch = meta.get("architecture")
        if not isinstance(arch, dict):
            raise DataError(f"{where}: {str(path)!r} has no TimeRCD architecture metadata; it was not "
                            "written by tools/pretrain_timercd.py")
        wrong = {k: arch.get(k) for k in ARCHITECTURE if arch.get(k) != getattr(self.params, k)}
        if wrong:
            fix = ", ".join(f"{k}={v}" for k, v in wrong.items())
            raise ConfigError(f"{where}: weights {str(path)!r} were trained with {fix}; set these parameters")
        self.module_.load_state_dict(tensors, strict=True)

    def train_module(self, series: list[np.ndarray]) -> None:
        p, where = self.params, f"{self.where}.fit"
        if p.weights is not None:
            self._load_weights()
        elif p.epochs == 0:
            raise ConfigError(f"{where}: epochs=0 without weights leaves the model untrained; "
                              "set epochs >= 1 or pass pretrained weights")
        if p.epochs == 0:
            return
        rng = np.random.default_rng(self.seed)
        train_part, val_part = split_tail(series, p.validation_size)
        normal = channel_windows(train_part, p.window, p.train_stride)
        if len(normal) == 0:
            raise DataError(
                f"{where}: no training window of {p.window} timesteps fits once {p.validation_size:.0%} is "
                "held out for validation; use a smaller window, validation_size=0 or longer series"
            )
        held = channel_windows(val_part, p.window, p.train_stride)
        kw = {"copies": p.copies, "anomaly_rate": p.anomaly_rate, "device": self.torch_device}
        train = LabelledWindows(normal, rng, **kw)
        val = LabelledWindows(held, np.random.default_rng(rng.integers(2**32)), fixed=True, **kw) if len(held) else None
        self.history_ = train_net(self.module_, train, val, epochs=p.epochs, batch_size=p.batch_size,
                                  lr=p.lr, patience=p.patience, where=where, progress=self.report_progress)

    def _probabilities(self, batch: torch.Tensor) -> torch.Tensor:
        b, w, c = batch.shape
        logits = self.module_(batch.transpose(1, 2).reshape(b * c, w))
        return torch.sigmoid(logits).reshape(b, c, w).transpose(1, 2)

    def score_series(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = self.params
        windows = WindowSet([x], p.window, self.torch_device, stride=p.score_stride, include_last=True)
        probs = map_windows(self._probabilities, windows, p.score_batch_size)
        per_var = mean_over_cover(probs, windows.starts.cpu().numpy(), len(x))
        return per_var.max(1), per_var

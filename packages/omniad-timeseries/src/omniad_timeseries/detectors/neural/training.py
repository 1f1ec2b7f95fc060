"""Windows, the training loop with early stopping, and batched inference (torch).

Windows are gathered by index from one tensor that holds all training series back to
back, so a long series never has to exist as a (n_windows, window, C) copy and no window
ever straddles two series.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator
from typing import Protocol

import numpy as np
import torch

from omniad.errors import DataError


class WindowSet:
    """Windows spanning ``span`` timesteps of (T, C) float32 series, gathered lazily on ``device``."""

    def __init__(
        self,
        series: list[np.ndarray],
        span: int,
        device: torch.device | str,
        *,
        stride: int = 1,
        include_last: bool = False,
    ) -> None:
        starts, offset = [], 0
        for s in series:
            n = len(s) - span + 1
            if n > 0:
                idx = np.arange(0, n, stride)
                if include_last and idx[-1] != n - 1:
                    idx = np.append(idx, n - 1)
                starts.append(offset + idx)
            offset += len(s)
        data = np.concatenate(series, axis=0) if series else np.zeros((0, 1), np.float32)
        self.span = span
        self.data = torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32)).to(device)
        flat = np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64)
        self.starts = torch.from_numpy(flat.astype(np.int64)).to(device)
        self._steps = torch.arange(span, device=device)

    def __len__(self) -> int:
        return int(self.starts.numel())

    def take(self, idx: torch.Tensor) -> torch.Tensor:
        """Windows ``idx`` as (b, span, C)."""
        return self.data[self.starts[idx][:, None] + self._steps]

    def batches(
        self, batch_size: int, *, shuffle: bool = False, drop_last: bool = False
    ) -> Iterator[torch.Tensor]:
        n = len(self)
        order = torch.randperm(n) if shuffle else torch.arange(n)
        order = order.to(self.starts.device)
        stop = n - n % batch_size if drop_last and n >= batch_size else n
        for i in range(0, stop, batch_size):
            yield self.take(order[i : i + batch_size])


def split_tail(series: list[np.ndarray], fraction: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """First ``1 - fraction`` of each series for training, the rest for validation (TSB-AD's split)."""
    if fraction <= 0:
        return list(series), []
    train, val = [], []
    for s in series:
        cut = int((1 - fraction) * len(s))
        train.append(s[:cut])
        val.append(s[cut:])
    return train, val


def require_windows(windows: WindowSet, where: str, span: int, validation_size: float) -> None:
    if len(windows) == 0:
        need = math.ceil(span / (1 - validation_size)) if validation_size > 0 else span
        raise DataError(
            f"{where}: no training window fits: windows span {span} timesteps and "
            f"{validation_size:.0%} of each series is held out for validation, so a training series "
            f"needs at least {need} timesteps; use a smaller window, validation_size=0 or longer series"
        )


LossFn = Callable[[torch.Tensor, int], torch.Tensor]


class Batches(Protocol):
    """What the training loop iterates: a ``WindowSet`` or anything batched like it."""

    def __len__(self) -> int: ...

    def batches(
        self, batch_size: int, *, shuffle: bool = False, drop_last: bool = False
    ) -> Iterator[torch.Tensor]: ...


@torch.no_grad()
def mean_loss(
    module: torch.nn.Module, windows: Batches, loss_fn: LossFn, batch_size: int, epoch: int
) -> float:
    module.eval()
    total, count = 0.0, 0
    for batch in windows.batches(batch_size):
        total += float(loss_fn(batch, epoch)) * len(batch)
        count += len(batch)
    return total / max(count, 1)


def fit_loop(
    module: torch.nn.Module,
    train: Batches,
    val: Batches | None,
    loss_fn: LossFn,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    *,
    epochs: int,
    batch_size: int,
    patience: int,
    where: str,
    drop_last: bool = False,
    min_delta: float = 1e-4,
    progress: Callable[..., None] | None = None,
) -> list[float]:
    """Train; with validation windows, stop after ``patience`` epochs without a ``min_delta`` gain.

    Unlike TSB-AD, which keeps the last epoch's weights, the best epoch's weights are restored.
    Without validation windows every epoch runs and the last weights are kept (as TSB-AD's
    AutoEncoder does). ``progress(done, total)`` is called after every epoch and
    ``progress(done, total, "batches")`` after every batch (detectors pass
    ``Detector.report_progress``), since one epoch of a wide series can take many minutes.
    Returns the monitored loss per epoch.
    """
    history: list[float] = []
    best, best_state, waited = math.inf, None, 0
    use_val = val is not None and len(val) > 0
    n = len(train)
    n_batches = n // batch_size if drop_last and n >= batch_size else math.ceil(n / batch_size)
    for epoch in range(1, epochs + 1):
        module.train()
        total, count = 0.0, 0
        for done, batch in enumerate(train.batches(batch_size, shuffle=True, drop_last=drop_last), 1):
            loss = loss_fn(batch, epoch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(batch)
            count += len(batch)
            if progress is not None:
                progress(done, n_batches, "batches")
        monitored = mean_loss(module, val, loss_fn, batch_size, epoch) if use_val else total / max(count, 1)
        if not math.isfinite(monitored):
            raise DataError(
                f"{where}: training diverged (loss {monitored}) in epoch {epoch}; lower lr or scale the "
                "series (normalize='zscore')"
            )
        history.append(monitored)
        if progress is not None:
            progress(epoch, epochs)
        if scheduler is not None:
            scheduler.step()
        if not use_val:
            continue
        if monitored < best - min_delta:
            best, waited = monitored, 0
            best_state = copy.deepcopy(module.state_dict())
        else:
            waited += 1
            if waited >= patience:
                break
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    return history


@torch.no_grad()
def map_windows(
    fn: Callable[[torch.Tensor], torch.Tensor], windows: WindowSet, batch_size: int
) -> np.ndarray:
    """``fn`` over all windows in order, batched, as one float64 array."""
    outs = [fn(batch).detach().float().cpu() for batch in windows.batches(batch_size)]
    return torch.cat(outs).numpy().astype(np.float64)


def mean_over_cover(errors: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """Per-timestep errors of overlapping windows, (n, window, C), averaged into (length, C)."""
    _, window, channels = errors.shape
    total = np.zeros((length, channels))
    count = np.zeros(length)
    for j in range(window):
        total[starts + j] += errors[:, j]  # starts are distinct, so no index repeats here
        count[starts + j] += 1.0
    return total / np.maximum(count, 1.0)[:, None]


def pad_front(values: np.ndarray, length: int) -> np.ndarray:
    """Scores of the last ``len(values)`` timesteps, the first ones repeated before them (TSB-AD forecasters)."""
    out = np.empty((length, *values.shape[1:]))
    out[length - len(values) :] = values
    out[: length - len(values)] = values[0]
    return out

"""Event encoding, next-event windows, weighted batches and the training loop (torch).

Every line of every session becomes one window: the ``h`` events before it (left-padded
with PAD where the session has fewer) and the event to predict. A session shorter than the
window is therefore scored with the context it has, never dropped; ``Windows.padded``
counts the windows that needed padding. With ``end_marker`` one more window per session
predicts END after the last line.

HDFS sessions repeat the same few patterns thousands of times, so identical windows are
kept once with their count (``unique_rows``) and the loss weights each by its count: one
epoch equals a pass over all windows, at the cost of the distinct ones; scoring computes
each distinct window once and scatters the result back, over all sessions at once.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from omniad.errors import DataError
from omniad_logs.session import LogSession

PAD = 0
UNK = 1
#: token id of the first known event (0 = PAD, 1 = UNK)
FIRST = 2


class EventIndex:
    """Known events (from training) -> token ids ``FIRST + i``; unseen events get ids past the known ones.

    An unseen event keeps a distinct id (``FIRST + K + j``) so that models with semantic vectors
    can look its vector up; id-based models map all of them to UNK.
    """

    def __init__(self, events: Sequence[str]) -> None:
        self.events = list(events)
        self.index = {e: FIRST + i for i, e in enumerate(self.events)}

    @classmethod
    def fit(cls, sessions: Sequence[LogSession]) -> EventIndex:
        return cls(sorted({e for s in sessions for e in s.events}, key=lambda e: (len(e), e)))

    def __len__(self) -> int:
        return len(self.events)

    def encode(self, sessions: Sequence[LogSession]) -> tuple[list[np.ndarray], list[str]]:
        """Token ids per session, and the unseen events in order of their ids."""
        unseen: dict[str, int] = {}
        base = FIRST + len(self.events)
        out = []
        for s in sessions:
            ids = np.empty(len(s), dtype=np.int64)
            for i, e in enumerate(s.events):
                t = self.index.get(e)
                if t is None:
                    t = unseen.setdefault(e, base + len(unseen))
                ids[i] = t
            out.append(ids)
        return out, list(unseen)


@dataclass
class Windows:
    """All next-event windows of some sessions, in session order."""

    contexts: np.ndarray  # (N, h) token ids
    targets: np.ndarray  # (N,) class ids: known event i -> i, END -> K, unseen -> -1
    positions: np.ndarray  # (n_sessions,) windows per session (lines, + 1 with the end marker)
    padded: int  # windows whose context needed PAD


def build_windows(tokens: list[np.ndarray], h: int, n_known: int, end_marker: bool) -> Windows:
    """Windows of every line (and END) of every session, built with index arithmetic (no per-line loop)."""
    lengths = np.array([len(t) for t in tokens], dtype=np.int64)
    n_pos = lengths + int(end_marker)
    flat = np.concatenate([np.r_[np.full(h, PAD, np.int64), t] for t in tokens]) if tokens else np.zeros(0, np.int64)
    base = np.r_[0, np.cumsum(lengths + h)[:-1]]
    within = np.arange(int(n_pos.sum())) - np.repeat(np.r_[0, np.cumsum(n_pos)[:-1]], n_pos)
    starts = np.repeat(base, n_pos) + within
    contexts = flat[starts[:, None] + np.arange(h)]
    is_end = within == np.repeat(lengths, n_pos)
    target_tokens = np.where(is_end, -1, flat[np.minimum(starts + h, len(flat) - 1)])
    targets = np.where(target_tokens >= FIRST + n_known, -1, target_tokens - FIRST)
    targets = np.where(is_end, n_known, targets)
    return Windows(contexts, targets.astype(np.int64), n_pos, int((within < h).sum()))


def unique_rows(*columns: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """Distinct rows of the side-by-side ``columns``: (columns of the distinct rows, inverse, counts)."""
    stacked = np.column_stack([c.reshape(len(c), -1) for c in columns])
    uniq, inverse, counts = np.unique(stacked, axis=0, return_inverse=True, return_counts=True)
    out, at = [], 0
    for c in columns:
        width = 1 if c.ndim == 1 else c.shape[1]
        part = uniq[:, at : at + width]
        out.append(part[:, 0] if c.ndim == 1 else part)
        at += width
    return tuple(out), inverse.reshape(-1), counts


class Rows:
    """Tensors with one row per example plus a weight per row, batched on one device."""

    def __init__(self, tensors: dict[str, np.ndarray], weights: np.ndarray, device: torch.device | str) -> None:
        self.tensors = {k: torch.from_numpy(np.ascontiguousarray(v)).to(device) for k, v in tensors.items()}
        self.weights = torch.from_numpy(np.asarray(weights, dtype=np.float32)).to(device)
        self.device = device

    def __len__(self) -> int:
        return int(self.weights.numel())

    def batches(self, batch_size: int, *, shuffle: bool = False) -> Iterator[dict[str, torch.Tensor]]:
        n = len(self)
        order = torch.randperm(n) if shuffle else torch.arange(n)
        order = order.to(self.weights.device)
        for i in range(0, n, batch_size):
            idx = order[i : i + batch_size]
            batch = {k: v[idx] for k, v in self.tensors.items()}
            batch["weight"] = self.weights[idx]
            yield batch


#: per-example loss of a batch (shape (b,)); the loop weights and averages it
LossFn = Callable[[dict[str, torch.Tensor]], torch.Tensor]


@torch.no_grad()
def weighted_loss(module: torch.nn.Module, rows: Rows, loss_fn: LossFn, batch_size: int) -> float:
    module.eval()
    total, weight = 0.0, 0.0
    for batch in rows.batches(batch_size):
        total += float((loss_fn(batch) * batch["weight"]).sum())
        weight += float(batch["weight"].sum())
    return total / max(weight, 1e-12)


def fit_weighted(
    module: torch.nn.Module,
    train: Rows,
    val: Rows | None,
    loss_fn: LossFn,
    *,
    lr: float,
    epochs: int,
    batch_size: int,
    patience: int,
    where: str,
    min_steps_per_epoch: int = 1,
    min_delta: float = 1e-4,
) -> list[float]:
    """Adam on the count-weighted loss; early stopping on validation rows, best weights restored.

    An epoch is one pass over the distinct rows, repeated until it made ``min_steps_per_epoch``
    optimizer steps: identical windows are stored once, so small data can have so few
    distinct rows that a pass is a single step. Without validation rows every epoch runs and
    the last weights are kept. Returns the monitored loss per epoch.
    """
    optimizer = torch.optim.Adam(module.parameters(), lr=lr)
    history: list[float] = []
    best, best_state, waited = math.inf, None, 0
    use_val = val is not None and len(val) > 0
    for epoch in range(1, epochs + 1):
        module.train()
        total, weight, steps = 0.0, 0.0, 0
        while steps < min_steps_per_epoch or steps == 0:
            for batch in train.batches(batch_size, shuffle=True):
                w = batch["weight"]
                loss = (loss_fn(batch) * w).sum() / w.sum()
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * float(w.sum())
                weight += float(w.sum())
                steps += 1
        monitored = weighted_loss(module, val, loss_fn, batch_size) if use_val else total / max(weight, 1e-12)
        if not math.isfinite(monitored):
            raise DataError(f"{where}: training diverged (loss {monitored}) in epoch {epoch}; lower lr")
        history.append(monitored)
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


def split_sessions(n: int, fraction: float, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, validation) session indices; no validation when it would leave nothing to train on."""
    n_val = round(fraction * n)
    if fraction <= 0 or n_val < 1 or n - n_val < 1:
        return np.arange(n), np.zeros(0, dtype=np.int64)
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def max_per_session(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Max of consecutive runs of ``values`` of lengths ``counts`` (all > 0)."""
    return np.maximum.reduceat(values, np.r_[0, np.cumsum(counts)[:-1]]) if len(values) else np.zeros(0)

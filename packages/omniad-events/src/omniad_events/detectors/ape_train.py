"""APE's training: the objectives (NCE with the paper's context-dependent noise, negative sampling,
pseudo-likelihood) and the loop with early stopping on held-out training events (torch)."""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from omniad.device import torch_cpu_threads
from omniad_events.detectors.ape_model import APENet
from omniad_events.detectors.avf import offsets
from omniad_events.detectors.params import APEModelParams
from omniad_events.detectors.torch_utils import generator
from omniad_events.encoding import Encoder


class Objective:
    """The loss of a batch of observed events (codes without field offsets), summed over events."""

    def __init__(self, p: APEModelParams, enc: Encoder, codes: np.ndarray, device: Any) -> None:
        self.p = p
        card = np.asarray(enc.cardinalities)
        n, m = codes.shape
        self.m = m
        self.card = torch.as_tensor(card)
        self.offs = torch.as_tensor(offsets(enc), dtype=torch.long, device=device)
        self.device = device
        field_of = np.repeat(np.arange(m), card)
        self.same = torch.as_tensor(field_of[None, :] == np.arange(m)[:, None], device=device)
        # per-field noise distributions: the training distribution of codes, with ``unseen_noise`` of the mass
        # on codes never seen in training (unseen values, numbers outside the range), so the model learns that
        # an entity seen only in noise is unlikely; padded to the widest field
        seen = np.zeros((m, card.max()))
        for j in range(m):
            seen[j, : card[j]] = np.bincount(codes[:, j], minlength=card[j])
        probs = seen / max(n, 1)
        for j in range(m):
            unseen = (seen[j] == 0) & (np.arange(card.max()) < card[j])
            if unseen.any():
                probs[j] = (1 - p.unseen_noise) * probs[j] + p.unseen_noise * unseen / unseen.sum()
        self.cdf = torch.as_tensor(np.cumsum(probs, axis=1), dtype=torch.float64)
        self.logp = torch.as_tensor(np.log(np.maximum(probs, 1e-12)), dtype=torch.float32, device=device)
        self.log_km = float(np.log(p.negatives) - np.log(m))

    def __call__(self, net: APENet, batch: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        if self.p.objective == "pseudo_likelihood":
            return net.conditional_nll(batch.to(self.device) + self.offs, self.same).sum()
        return self._nce(net, batch, g)

    def _nce(self, net: APENet, batch: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        k, b = self.p.negatives, len(batch)
        noise = batch.repeat(k, 1)
        field = torch.randint(0, self.m, (len(noise),), generator=g)
        u = torch.rand(len(noise), generator=g, dtype=torch.float64)
        new = torch.searchsorted(self.cdf[field], u[:, None]).squeeze(1).clamp(max=self.card[field] - 1)
        rows = torch.arange(len(noise))
        old = noise[rows, field].to(self.device)
        noise[rows, field] = new
        batch, noise, field = batch.to(self.device), noise.to(self.device), field.to(self.device)
        s_obs, s_noise = net(batch + self.offs), net(noise + self.offs)
        if self.p.objective == "negative_sampling":  # no noise correction: S learns data-vs-corruption odds
            return -(F.logsigmoid(s_obs).sum() + F.logsigmoid(-s_noise).sum())
        # NCE: s - log(k * Pn), Pn(e'|e) = P(type) * P_type(entity); the observed event's own noise
        # probability under the same types, averaged over its k draws
        ln_noise = self.logp[field, new.to(self.device)] + self.log_km
        ln_obs = (self.logp[field, old] + self.log_km).view(k, b).mean(0)
        return -(F.logsigmoid(s_obs - ln_obs).sum() + F.logsigmoid(-(s_noise - ln_noise)).sum())


def train(
    net: APENet,
    objective: Objective,
    x: torch.Tensor,
    val: torch.Tensor,
    p: APEModelParams,
    g: torch.Generator,
    progress: Callable[[int, int], None],
) -> list[float]:
    """Adam over ``x``; with held-out events ``val``, the weights of the epoch with the lowest held-out loss
    are kept (with ``average_epochs`` > 1, the mean of the weights of that many epochs ending there) and
    training stops after ``patience`` epochs (and ``min_steps // 4`` updates) without improvement (the held-out NCE loss uses
    a fixed noise seed, so epochs are compared on the same noise). Returns the training loss per epoch."""
    n = len(x)
    opt = torch.optim.Adam(net.parameters(), lr=p.lr, weight_decay=p.weight_decay)
    epochs = max(p.epochs, -(-p.min_steps * p.batch_size // max(n, 1)))  # few events: more passes
    losses: list[float] = []
    best, best_state, since, steps_since = float("inf"), None, 0, 0
    # on small data an epoch is one or two updates: patience also waits for a quarter of min_steps updates,
    # or the noise of the first steps stops training before it has started (measured on events.synthetic)
    min_wait = p.min_steps // 4
    recent: deque[dict[str, torch.Tensor]] = deque(maxlen=p.average_epochs)  # average_epochs > 1
    for epoch in range(epochs):
        net.train()
        order = torch.randperm(n, generator=g)
        total = 0.0
        for start in range(0, n, p.batch_size):
            batch = x[order[start : start + p.batch_size]]
            loss = objective(net, batch, g)
            opt.zero_grad()
            (loss / len(batch)).backward()
            opt.step()
            steps_since += 1
            total += float(loss.detach())
        losses.append(total / max(n, 1))
        progress(epoch + 1, epochs)
        if p.average_epochs > 1:
            recent.append(copy.deepcopy(net.state_dict()))
        if len(val):
            v = _held_out(net, objective, val, p.batch_size)
            if v < best - 1e-4 * abs(best):
                state = _mean_state(recent) if recent else copy.deepcopy(net.state_dict())
                best, best_state, since, steps_since = v, state, 0, 0
            else:
                since += 1
                if since >= p.patience and steps_since >= min_wait:
                    break
    if best_state is None and recent:  # no held-out events: the mean of the last epochs
        best_state = _mean_state(recent)
    if best_state is not None:
        net.load_state_dict(best_state)
    return losses


def _mean_state(states: deque[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The element-wise mean of state dicts (``average_epochs``; APE's entries are all float tensors)."""
    return {k: torch.stack([s[k] for s in states]).mean(0) for k in states[0]}


def _held_out(net: APENet, objective: Objective, val: torch.Tensor, batch_size: int) -> float:
    g = torch.Generator().manual_seed(12345)
    with torch.no_grad():
        total = sum(float(objective(net, val[s : s + batch_size], g)) for s in range(0, len(val), batch_size))
    return total / len(val)


def fit_net(
    net: APENet,
    p: APEModelParams,
    enc: Encoder,
    codes: np.ndarray,
    owner: Any,
    train_seed: int | None = None,
) -> tuple[APENet, list[float], np.ndarray]:
    """Fit ``net`` on the events' codes (no field offsets) with ``p``'s objective, holding out ``p.validation``
    of them for early stopping; ``owner`` (the detector) gives the device, the seed and progress reports.
    ``train_seed`` (APE's further models) seeds the batch order (and NCE noise) after the held-out split,
    which stays the one ``owner.seed`` gives, so every model of an ensemble holds out the same events.
    Returns the net, the training loss per epoch and the indices of the held-out events. Shared by
    ``events.ape`` and ``events.car``'s content model."""
    with torch_cpu_threads(p.cpu_threads, owner.device):
        net = net.to(owner.device)
        objective = Objective(p, enc, codes, owner.device)
        g = generator(owner.seed, "cpu")
        x = torch.as_tensor(codes, dtype=torch.long)
        n_val = round(p.validation * len(x)) if len(x) * p.validation >= 2 else 0
        order = torch.randperm(len(x), generator=g)
        fit_x, val_x = x[order[n_val:]], x[order[:n_val]]
        if train_seed is not None:
            g = generator(train_seed, "cpu")
        losses = train(net, objective, fit_x, val_x, p, g, owner.report_progress)
    return net.eval(), losses, order[:n_val].numpy()


def event_scores(net: APENet, codes: np.ndarray, device: Any) -> np.ndarray:
    """S(e) per event (codes with field offsets added), in batches; higher = more likely."""
    out = np.empty(len(codes))
    with torch.inference_mode():
        for start in range(0, len(codes), 8192):
            part = torch.as_tensor(codes[start : start + 8192], dtype=torch.long, device=device)
            out[start : start + len(part)] = net(part).double().cpu().numpy()
    return out

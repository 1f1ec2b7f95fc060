"""APE (``events.ape``): entity embedding-based anomaly detection for heterogeneous categorical events.

Chen, Tang, Sun, Chen, Zhou, Zhang: "Entity Embedding-based Anomaly Detection for
Heterogeneous Categorical Events", IJCAI 2016. Each entity (a value of one entity type) has an
embedding; an event's score S(e) = sum over pairs of types of w_ij <v_i, v_j> is its
log-likelihood up to a constant. Training is noise-contrastive estimation with the paper's
context-dependent noise: a noise event is an observed event with one entity replaced, the type
chosen uniformly and the new entity drawn from that type's training distribution, and the NCE
correction uses that noise probability. Score = -S(e).

Differences from the paper, said here and in the README: numbers are binned into quantile
entities (``Encoder.codes``; NSL-KDD has 38 numeric features), ``bias=True`` (the default)
adds one learned bias per entity, and ``unseen_noise`` of the noise is drawn from codes never
seen in training (unseen values, numbers outside the training range), so the model learns
that those are unlikely (the paper leaves unseen entities open). ``min_steps`` gives small
data enough updates. ``objective="negative_sampling"`` drops the NCE correction.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, Module, declare
from omniad_events.detectors.avf import offsets
from omniad_events.detectors.base import EventDetector
from omniad_events.detectors.params import APEParams
from omniad_events.encoding import EncodedCounts, Encoder
from omniad_events.events import EventTable

NET = "net"


class APE(EventDetector):
    Params = APEParams
    state_spec = declare(net=Module(), train_loss_=Array("epochs"))

    def _net(self, encoder: Encoder) -> Any:
        from omniad_events.detectors.ape_model import APENet

        p = self.params
        return APENet(int(sum(encoder.cardinalities)), len(encoder.cardinalities), p.dim, p.bias)

    def _fit_table(self, table: EventTable) -> None:
        import torch
        import torch.nn.functional as F

        from omniad_events.detectors.torch_utils import generator, torch_threads

        p, enc = self.params, self.encoder_
        card = np.asarray(enc.cardinalities)
        off = offsets(enc)
        codes = enc.codes(table)
        n, m = codes.shape
        # per-field noise distributions: the training distribution of codes, with ``unseen_noise`` of the mass on
        # codes never seen in training (unseen values, numbers outside the range), so the model learns that an
        # entity seen only in noise is unlikely; padded to the widest field
        seen_counts = np.zeros((m, card.max()))
        for j in range(m):
            seen_counts[j, : card[j]] = np.bincount(codes[:, j], minlength=card[j])
        probs = seen_counts / n
        for j in range(m):
            unseen = (seen_counts[j] == 0) & (np.arange(card.max()) < card[j])
            if unseen.any():
                probs[j] = (1 - p.unseen_noise) * probs[j] + p.unseen_noise * unseen / unseen.sum()
        with torch_threads(p.cpu_threads):
            dev = self.device
            g = generator(self.seed, "cpu")
            net = self._net(enc).to(dev)
            opt = torch.optim.Adam(net.parameters(), lr=p.lr, weight_decay=p.weight_decay)
            x = torch.as_tensor(codes, dtype=torch.long)
            cdf = torch.as_tensor(np.cumsum(probs, axis=1), dtype=torch.float64)
            logp = torch.as_tensor(np.log(np.maximum(probs, 1e-12)), dtype=torch.float32, device=dev)
            offs = torch.as_tensor(off, dtype=torch.long, device=dev)
            log_km = float(np.log(p.negatives) - np.log(m))
            losses = []
            epochs = max(p.epochs, -(-p.min_steps * p.batch_size // n))  # few events: more passes
            for epoch in range(epochs):
                order = torch.randperm(n, generator=g)
                total = 0.0
                for start in range(0, n, p.batch_size):
                    batch = x[order[start : start + p.batch_size]]
                    b = len(batch)
                    noise = batch.repeat(p.negatives, 1)
                    field = torch.randint(0, m, (len(noise),), generator=g)
                    u = torch.rand(len(noise), generator=g, dtype=torch.float64)
                    new = (
                        torch.searchsorted(cdf[field], u[:, None])
                        .squeeze(1)
                        .clamp(max=torch.as_tensor(card)[field] - 1)
                    )
                    noise[torch.arange(len(noise)), field] = new
                    batch, noise, field = batch.to(dev), noise.to(dev), field.to(dev)
                    # NCE: s - log(k * Pn), Pn(e'|e) = P(type) * P_type(entity); the observed event's own
                    # noise probability under the same types, averaged over its k draws
                    ln_noise = logp[field, noise[torch.arange(len(noise)), field]] + log_km
                    ln_obs = (
                        (logp[field, batch.repeat(p.negatives, 1)[torch.arange(len(noise)), field]] + log_km)
                        .view(p.negatives, b)
                        .mean(0)
                    )
                    s_obs = net(batch + offs)
                    s_noise = net(noise + offs)
                    if (
                        p.objective == "negative_sampling"
                    ):  # no noise correction: S learns data-vs-corruption odds
                        ln_obs, ln_noise = torch.zeros_like(ln_obs), torch.zeros_like(ln_noise)
                    loss = (
                        -(F.logsigmoid(s_obs - ln_obs).sum() + F.logsigmoid(-(s_noise - ln_noise)).sum()) / b
                    )
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * b
                losses.append(total / n)
                self.report_progress(epoch + 1, epochs)
        self.net_ = net.eval()
        self.train_loss_ = np.asarray(losses, dtype=np.float64)

    def _score_table(self, table: EventTable, counts: EncodedCounts) -> Scores:
        import torch

        codes = self.encoder_.codes(table, counts) + offsets(self.encoder_)
        out = np.empty(len(codes))
        with torch.inference_mode():
            for start in range(0, len(codes), 8192):
                part = torch.as_tensor(codes[start : start + 8192], dtype=torch.long, device=self.device)
                out[start : start + len(part)] = -self.net_(part).double().cpu().numpy()
        return Scores(sample=out)

    def model_state(self) -> dict[str, Any]:
        from omniad.torchstate import module_arrays

        return {"train_loss_": self.train_loss_, **module_arrays(self.net_, NET)}

    def _check_model_state(self, state: dict[str, Any], encoder: Encoder) -> None:
        emb = state.get(f"{NET}.emb.weight")
        want = (int(sum(encoder.cardinalities)), self.params.dim)
        if emb is None or tuple(emb.shape) != want:
            raise DataError(
                f"saved state '{NET}.emb.weight' has shape {None if emb is None else emb.shape}, but the "
                f"encoder and dim give {want}; re-save the model"
            )

    def _restore(self, state: dict[str, Any]) -> None:
        from omniad.torchstate import load_module_arrays

        self.train_loss_ = np.asarray(state["train_loss_"], dtype=np.float64)
        self.net_ = self._net(self.encoder_)
        load_module_arrays(self.net_, state, NET)
        self.net_.to(self.device).eval()

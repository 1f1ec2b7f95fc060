"""CLAN (``events.clan``): contrastive learning using only benign traffic.

In the spirit of CLAN (contrastive learning for network intrusion detection trained on benign
flows only): an MLP maps encoded events (one-hot + numbers, ``Encoder``; ``numbers="log"``, the
default, takes log1p of the heavy-tailed counts before scaling, the usual NSL-KDD preprocessing:
min-max alone leaves bytes and durations at ~0 for all but a few events) to the unit sphere;
for each benign event of a batch, the other benign events are its positive views and augmented
copies of the batch (fields shuffled across events, masked or, for numbers, given noise:
``clan_model.augment``) are its negatives, so the space pulls benign traffic together and
pushes broken co-occurrences away. Score = mean cosine distance to the ``n_neighbors``
nearest training events in that space (a seeded bank of at most ``max_bank``).

The space is, by default, the encoder's last hidden layer (unit-normalised), not the contrastive
output (``representation``): as with SimCLR, the projection keeps only what the loss needs to tell
benign events from their augmented copies, and novel traffic differs in other ways too. Chosen on
the validation split of the NSL-KDD training file (AUROC 0.993 -> 0.995). ``numeric_tails`` adds
the numbers' own likelihood (off: it lowered that validation AUROC).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, Int, Module, declare
from omniad_events.detectors.base import EventDetector
from omniad_events.detectors.numeric_tails import TAILS_SPEC, NumericTails
from omniad_events.detectors.params import CLANParams
from omniad_events.encoding import EncodedCounts, Encoder
from omniad_events.events import EventTable

NET = "net"


class CLAN(NumericTails, EventDetector):
    uses_torch = True
    Params = CLANParams
    state_spec = declare(
        net=Module(),
        bank_=Array("bank", "width"),
        k_=Int(ge=1, le="bank"),
        train_loss_=Array("epochs"),
        **TAILS_SPEC,
    )

    def _net(self, encoder: Encoder) -> Any:
        from omniad_events.detectors.clan_model import CLANNet

        d = encoder.onehot_width if self.params.encoding == "onehot" else len(encoder.cardinalities)
        return CLANNet(d, tuple(self.params.hidden), self.params.rep_dim)

    def _embed(self, x: np.ndarray) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        out = []
        with torch.inference_mode():
            for start in range(0, len(x), 8192):
                part = torch.as_tensor(x[start : start + 8192], dtype=torch.float32, device=self.device)
                if self.params.representation == "hidden" and len(self.net_.body) > 1:
                    out.append(F.normalize(self.net_.body[:-1](part), dim=1).cpu().numpy())
                else:
                    out.append(self.net_(part).cpu().numpy())
        return np.concatenate(out).astype(np.float32)

    def _fit_table(self, table: EventTable) -> None:
        import torch

        from omniad.device import torch_cpu_threads
        from omniad_events.detectors.clan_model import augment, clan_loss
        from omniad_events.detectors.torch_utils import generator

        p, enc = self.params, self.encoder_
        x = enc.encode(p.encoding, table, log=p.numbers == "log")
        blocks = [torch.as_tensor(b) for b in enc.field_blocks(p.encoding)]
        numeric = [False] * len(enc.schema.entities) + [True] * len(enc.schema.numeric)
        n = len(x)
        with torch_cpu_threads(p.cpu_threads, self.device):
            g = generator(self.seed, "cpu")
            self.net_ = self._net(enc).to(self.device)
            opt = torch.optim.Adam(self.net_.parameters(), lr=p.lr)
            data = torch.as_tensor(x, dtype=torch.float32)
            losses = []
            batch_size = min(p.batch_size, n)
            for epoch in range(p.epochs):
                order = torch.randperm(n, generator=g)
                total, seen = 0.0, 0
                for start in range(0, n, batch_size):
                    batch = data[order[start : start + batch_size]]
                    if len(batch) < 2:  # one benign event has no positive view
                        continue
                    neg = augment(batch, blocks, numeric, p.mask_prob, p.noise, g)
                    loss = clan_loss(
                        self.net_(batch.to(self.device)), self.net_(neg.to(self.device)), p.temperature
                    )
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    total += float(loss.detach()) * len(batch)
                    seen += len(batch)
                losses.append(total / max(seen, 1))
                self.report_progress(epoch + 1, p.epochs)
            self.net_.eval()
            keep = np.sort(np.random.default_rng(self.seed).choice(n, size=min(n, p.max_bank), replace=False))
            self.bank_ = self._embed(x[keep])
        self.k_ = self._limit(
            "n_neighbors", p.n_neighbors, len(self.bank_), f"only {len(self.bank_)} training events"
        )
        self.train_loss_ = np.asarray(losses, dtype=np.float64)
        main = np.zeros(1)
        if self._uses_tails(enc) and len(self.bank_) > self.k_:
            # the distance is calibrated leave-one-out: each bank event's k nearest among the others
            main = self._distances(self.bank_, drop_self=True)
        self._fit_tails(table, main)

    def _distances(self, z: np.ndarray, drop_self: bool = False) -> np.ndarray:
        """Mean cosine distance to the k nearest bank events (``drop_self``: z are bank events; skip their own match)."""
        k = self.k_ + int(drop_self)
        out = np.empty(len(z))
        for start in range(0, len(z), 1024):
            sim = z[start : start + 1024] @ self.bank_.T
            top = np.sort(-np.partition(-sim, k - 1, axis=1)[:, :k], axis=1)[:, ::-1]  # k largest, descending
            out[start : start + len(top)] = 1.0 - top[:, int(drop_self) :].mean(axis=1)
        return out

    def _score_table(self, table: EventTable, counts: EncodedCounts) -> Scores:
        z = self._embed(
            self.encoder_.encode(self.params.encoding, table, counts, self.params.numbers == "log")
        )
        return self._with_tails(table, self._distances(z))

    def model_state(self) -> dict[str, Any]:
        from omniad.torchstate import module_arrays

        return {
            "bank_": self.bank_,
            "k_": self.k_,
            "train_loss_": self.train_loss_,
            **module_arrays(self.net_, NET),
            **self._tails_state(),
        }

    def _check_model_state(self, state: dict[str, Any], encoder: Encoder) -> None:
        self._check_tails_state(state, encoder)
        bank = state["bank_"]
        p = self.params
        width = p.hidden[-1] if p.representation == "hidden" and p.hidden else p.rep_dim
        if bank.shape[1] != width:
            raise DataError(
                f"saved state 'bank_' has width {bank.shape[1]} but representation={p.representation!r} gives "
                f"{width}; re-save the model"
            )
        norms = np.linalg.norm(bank, axis=1)
        if not np.allclose(norms, 1.0, atol=1e-3):
            raise DataError("saved state 'bank_' holds vectors that are not unit length; re-save the model")

    def _restore(self, state: dict[str, Any]) -> None:
        from omniad.torchstate import load_module_arrays

        self.bank_ = np.asarray(state["bank_"], dtype=np.float32)
        self.k_ = int(state["k_"])
        self.train_loss_ = np.asarray(state["train_loss_"], dtype=np.float64)
        self._restore_tails(state)
        self.net_ = self._net(self.encoder_)
        load_module_arrays(self.net_, state, NET)
        self.net_.to(self.device).eval()

"""LogAnomaly (Meng et al., IJCAI 2019): sequential + quantitative LSTMs over semantic event vectors.

The sequential LSTM reads the semantic vectors of the h context events (``semantic``,
standardised per dimension over the known events), the
quantitative LSTM reads the window's event-count vector (one count per known event + one
for unseen events, fed as a sequence of scalars as logdeep does); their last states are
concatenated to predict the next event, with DeepLog's top-g decision (``sequence_base``).
Semantic vectors give an event unseen in training the input of the events its template
resembles, instead of one UNK token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from omniad.errors import DataError
from omniad.state import declare
from omniad_logs.detectors.semantic import (
    SEMANTIC_STATE,
    check_semantic_state,
    choose_source,
    event_vectors,
    standardize,
    standardize_fit,
)
from omniad_logs.detectors.sequence_base import NextEventDetector, first_vocabulary
from omniad_logs.detectors.sequence_params import LogAnomalyParams
from omniad_logs.detectors.sequence_training import FIRST
from omniad_logs.session import LogSession


class SeqQuantLSTM(nn.Module):
    def __init__(self, n_known: int, n_out: int, vectors: np.ndarray, hidden: int, layers: int) -> None:
        super().__init__()
        self.n_known = n_known
        # PAD, UNK, known events; rows for events unseen in training are appended at scoring time.
        # Not in the state dict: the detector saves the known rows itself (known_vectors_).
        self.register_buffer("vectors", torch.from_numpy(vectors.astype(np.float32)), persistent=False)
        self.seq = nn.LSTM(vectors.shape[1], hidden, num_layers=layers, batch_first=True)
        self.quant = nn.LSTM(1, hidden, num_layers=layers, batch_first=True)
        self.out = nn.Linear(2 * hidden, n_out)

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        sem = self.vectors[context.clamp(max=self.vectors.shape[0] - 1)]
        hs, _ = self.seq(sem)
        # counts over UNK (all unseen events) + known events; PAD is not counted
        buckets = torch.where(context >= FIRST + self.n_known, torch.ones_like(context), context)
        counts = torch.zeros(len(context), FIRST + self.n_known, device=context.device)
        counts.scatter_add_(1, buckets, torch.ones_like(buckets, dtype=counts.dtype))
        hq, _ = self.quant(counts[:, 1:, None])
        return self.out(torch.cat([hs[:, -1], hq[:, -1]], dim=1))


class LogAnomaly(NextEventDetector):
    Params = LogAnomalyParams
    state_spec = declare(SEMANTIC_STATE)

    def provenance(self) -> dict[str, str]:
        """Which semantic vectors the fit used (the data's, omniad-text's, or hashed words)."""
        source = getattr(self, "semantic_source_", None)
        return {"semantic_source": source} if source else {}

    def _vectors(self, events: list[str], sessions: Sequence[LogSession] | None) -> np.ndarray:
        vocabulary = first_vocabulary(sessions) if sessions else None
        vectors, missing = event_vectors(events, vocabulary, self.semantic_source_, self.params.semantic_dim, self.where)
        if vectors.shape[1] != self.semantic_width_:
            raise DataError(
                f"{self.where}: the sessions' semantic vectors have {vectors.shape[1]} dimensions, the model "
                f"was trained on {self.semantic_width_}; score sessions with the training data's vocabulary"
            )
        self.missing_vectors_ = missing
        return standardize(vectors, self.semantic_mean_, self.semantic_std_)

    def prepare(self, sessions: Sequence[LogSession], unseen: list[str], fitting: bool) -> None:
        if fitting:
            vocabulary = first_vocabulary(sessions)
            self.semantic_source_ = choose_source(vocabulary, self.params.semantic_source, self.where)
            probe, _ = event_vectors(self.index_.events[:1], vocabulary, self.semantic_source_,
                                     self.params.semantic_dim, self.where)
            self.semantic_width_ = int(probe.shape[1])
            raw, _ = event_vectors(self.index_.events, vocabulary, self.semantic_source_, self.params.semantic_dim,
                                   self.where)
            self.semantic_mean_, self.semantic_std_ = standardize_fit(raw)
            known = self._vectors(self.index_.events, sessions)
            self.known_vectors_ = np.vstack([np.zeros((FIRST, known.shape[1]), np.float32), known])
            return
        rows = self.known_vectors_
        if unseen:
            rows = np.vstack([rows, self._vectors(unseen, sessions)])
        self.module_.vectors = torch.from_numpy(rows.astype(np.float32)).to(self.torch_device)

    def build_module(self, n_known: int) -> nn.Module:
        p = self.params
        return SeqQuantLSTM(n_known, n_known + int(p.end_marker), self.known_vectors_, p.hidden_size, p.num_layers)

    def extra_state(self) -> dict[str, Any]:
        return {"known_vectors_": self.known_vectors_, "semantic_source_": self.semantic_source_,
                "semantic_mean_": self.semantic_mean_, "semantic_std_": self.semantic_std_}

    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        check_semantic_state(state, FIRST)

    def set_extra_state(self, state: dict[str, Any]) -> None:
        self.known_vectors_ = np.asarray(state["known_vectors_"], dtype=np.float32)
        self.semantic_source_ = str(state["semantic_source_"])
        self.semantic_width_ = int(self.known_vectors_.shape[1])
        self.semantic_mean_ = np.asarray(state["semantic_mean_"], dtype=np.float32)
        self.semantic_std_ = np.asarray(state["semantic_std_"], dtype=np.float32)

"""DeepLog (Du et al., CCS 2017): an LSTM predicts the next event from the last h events.

A line is anomalous when its event is not among the g most likely next events (the top-g
rule, ``Scores.decision``); see ``sequence_base`` for scores, padding and the END window.
The paper feeds one-hot events; a learned embedding is the same model with fewer inputs.
"""

from __future__ import annotations

import torch
from torch import nn

from omniad_logs.detectors.sequence_base import NextEventDetector
from omniad_logs.detectors.sequence_params import DeepLogParams
from omniad_logs.detectors.sequence_training import FIRST, UNK


def known_tokens(context: torch.Tensor, n_known: int) -> torch.Tensor:
    """Token ids with every unseen event (ids past the known ones) mapped to UNK."""
    return torch.where(context >= FIRST + n_known, torch.full_like(context, UNK), context)


class NextEventLSTM(nn.Module):
    def __init__(self, n_known: int, n_out: int, embedding_dim: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.n_known = n_known
        self.embed = nn.Embedding(FIRST + n_known, embedding_dim, padding_idx=0)
        self.lstm = nn.LSTM(embedding_dim, hidden, num_layers=layers, batch_first=True)
        self.out = nn.Linear(hidden, n_out)

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(self.embed(known_tokens(context, self.n_known)))
        return self.out(h[:, -1])


class DeepLog(NextEventDetector):
    Params = DeepLogParams

    def build_module(self, n_known: int) -> nn.Module:
        p = self.params
        return NextEventLSTM(n_known, n_known + int(p.end_marker), p.embedding_dim, p.hidden_size, p.num_layers)

"""LogRobust (Zhang et al., FSE 2019): attention Bi-LSTM over semantic vectors, supervised.

Each session's lines become semantic vectors (``semantic``, standardised per dimension over
the known events); a bidirectional LSTM reads
them, additive attention pools the states, and a linear layer classifies the session. It
is a supervised method: it learns from labelled normal *and* anomalous sessions, read
from each training session's ``meta["label"]`` (``logs.hdfs_sessions`` with
protocol='logrobust' sets it, because the core's runner hands a detector only the train
samples). Without labels it refuses to fit, naming the fix: a one-class variant would be a
different method, and a classifier trained on one class learns nothing.

Scores: sample = P(anomalous); decision = P > ``decision_threshold`` (0.5, the paper's
argmax), ``threshold_`` = that value; per-line = attention weight x P(anomalous), the lines
the classifier looked at when it called the session anomalous (0 past ``max_length``).
Identical (session, label) pairs are trained once with their count as weight.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from omniad.detector import Detector
from omniad.device import torch_cpu_threads
from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Json, Module, Str, declare
from omniad.torchstate import load_module_arrays, module_arrays
from omniad_logs.detectors.features import check_sessions
from omniad_logs.detectors.inputs import LogInput
from omniad_logs.detectors.semantic import (
    SEMANTIC_STATE,
    check_semantic_state,
    choose_source,
    event_vectors,
    standardize,
    standardize_fit,
)
from omniad_logs.detectors.sequence_base import MODULE, check_events, first_vocabulary
from omniad_logs.detectors.sequence_params import LogRobustParams
from omniad_logs.detectors.sequence_training import (
    FIRST,
    EventIndex,
    Rows,
    fit_weighted,
    split_sessions,
    unique_rows,
)
from omniad_logs.session import LogSession


class AttentionBiLSTM(nn.Module):
    def __init__(self, width: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.register_buffer("vectors", torch.zeros(FIRST, width), persistent=False)
        self.lstm = nn.LSTM(width, hidden, num_layers=layers, batch_first=True, bidirectional=True)
        self.attend = nn.Sequential(nn.Linear(2 * hidden, 2 * hidden), nn.Tanh(), nn.Linear(2 * hidden, 1, bias=False))
        self.out = nn.Linear(2 * hidden, 2)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = int(lengths.max())
        x = self.vectors[tokens[:, :t]]
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        h, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=t)
        mask = torch.arange(t, device=tokens.device)[None, :] < lengths[:, None]
        a = self.attend(h)[..., 0].masked_fill(~mask, float("-inf"))
        alpha = torch.softmax(a, dim=1)
        return self.out((alpha[..., None] * h).sum(1)), alpha


def labels_of(sessions: Sequence[LogSession], where: str) -> np.ndarray:
    """``meta['label']`` of every session, or a clear refusal when some have none."""
    missing = [s.id for s in sessions if "label" not in s.meta]
    if missing:
        raise DataError(
            f"{where}: logs.logrobust is supervised and {len(missing)} of {len(sessions)} training sessions "
            f"(e.g. {missing[0]!r}) have no meta['label']; use logs.hdfs_sessions with protocol='logrobust', or "
            "give every training LogSession meta={'label': 0 or 1} (unsupervised: use logs.deeplog or logs.loganomaly)"
        )
    labels = np.array([int(s.meta["label"]) for s in sessions], dtype=np.int64)
    if not np.isin(labels, (0, 1)).all() or len(np.unique(labels)) < 2:
        raise DataError(
            f"{where}: logs.logrobust needs training sessions of both classes with meta['label'] 0 or 1, "
            f"got label values {sorted(set(labels.tolist()))}"
        )
    return labels


class LogRobust(LogInput, Detector):
    Params = LogRobustParams
    #: the Bi-LSTM's input width follows ``known_vectors_`` (strict ``load_state_dict`` in ``set_state``)
    state_spec = declare({"events_": Json(types=(list,), items=Str(), length="k"), **SEMANTIC_STATE,
                          MODULE: Module()})

    def provenance(self) -> dict[str, str]:
        """Which semantic vectors the fit used (the data's, omniad-text's, or hashed words)."""
        source = getattr(self, "semantic_source_", None)
        return {"semantic_source": source} if source else {}

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)

    def _tokens(self, sessions: Sequence[LogSession]) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """(n, max_length) token ids (PAD after the end), lengths, unseen events."""
        encoded, unseen = self.index_.encode(sessions)
        m = self.params.max_length
        lengths = np.array([min(len(e), m) for e in encoded], dtype=np.int64)
        tokens = np.zeros((len(encoded), int(lengths.max())), dtype=np.int64)
        mask = np.arange(tokens.shape[1])[None, :] < lengths[:, None]
        tokens[mask] = np.concatenate([e[:m] for e in encoded])
        self.truncated_ = int(sum(len(e) > m for e in encoded))
        return tokens, lengths, unseen

    def _set_vectors(self, sessions: Sequence[LogSession], unseen: list[str]) -> None:
        rows = self.known_vectors_
        if unseen:
            extra, _ = event_vectors(unseen, first_vocabulary(sessions), self.semantic_source_,
                                     self.params.semantic_dim, self.where)
            if extra.shape[1] != rows.shape[1]:
                raise DataError(f"{self.where}: the sessions' semantic vectors have {extra.shape[1]} dimensions, "
                                f"the model was trained on {rows.shape[1]}")
            rows = np.vstack([rows, standardize(extra, self.semantic_mean_, self.semantic_std_)])
        self.module_.vectors = torch.from_numpy(rows.astype(np.float32)).to(self.torch_device)

    def _loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        logits, _ = self.module_(batch["tokens"], batch["length"])
        return nn.functional.cross_entropy(logits, batch["label"], reduction="none")

    def _rows(self, tokens: np.ndarray, lengths: np.ndarray, labels: np.ndarray) -> Rows:
        (tok, length, label), _, counts = unique_rows(tokens, lengths, labels)
        return Rows({"tokens": tok, "length": length, "label": label}, counts, self.torch_device)

    def _fit(self, samples: Sequence[Any]) -> None:
        where = f"{self.where}.fit"
        p = self.params
        sessions = check_sessions(samples, where)
        labels = labels_of(sessions, where)
        self.index_ = EventIndex.fit(sessions)
        vocabulary = first_vocabulary(sessions)
        self.semantic_source_ = choose_source(vocabulary, p.semantic_source, where)
        known, missing = event_vectors(self.index_.events, vocabulary, self.semantic_source_, p.semantic_dim, where)
        self.semantic_mean_, self.semantic_std_ = standardize_fit(known)
        known = standardize(known, self.semantic_mean_, self.semantic_std_)
        self.known_vectors_ = np.vstack([np.zeros((FIRST, known.shape[1]), np.float32), known])
        tokens, lengths, _ = self._tokens(sessions)
        train_idx, val_idx = split_sessions(len(sessions), p.validation_size, self.seed)
        train = self._rows(tokens[train_idx], lengths[train_idx], labels[train_idx])
        val = self._rows(tokens[val_idx], lengths[val_idx], labels[val_idx]) if len(val_idx) else None
        with torch_cpu_threads(p.cpu_threads, self.torch_device):
            self.module_ = AttentionBiLSTM(known.shape[1], p.hidden_size, p.num_layers).to(self.torch_device)
            self._set_vectors(sessions, [])
            self.history_ = fit_weighted(self.module_, train, val, self._loss, lr=p.lr, epochs=p.epochs,
                                         batch_size=p.batch_size, patience=p.patience, where=where,
                                         min_steps_per_epoch=p.min_steps_per_epoch)
        self.fit_counts_ = {"sessions": len(sessions), "anomalous": int(labels.sum()), "distinct_sessions": len(train),
                            "truncated": self.truncated_, "events_without_vector": missing,
                            "epochs_run": len(self.history_)}
        self.threshold_ = float(p.decision_threshold)

    @torch.no_grad()
    def _score(self, samples: Sequence[Any]) -> Scores:
        where = f"{self.where}.score"
        p = self.params
        sessions = check_sessions(samples, where)
        tokens, lengths, unseen = self._tokens(sessions)
        self._set_vectors(sessions, unseen)
        (tok, length), inverse, _ = unique_rows(tokens, lengths)
        order = np.argsort(length, kind="stable")  # similar lengths per batch: little padding
        prob = np.empty(len(tok))
        alpha = np.zeros(tok.shape)
        dev = self.torch_device
        self.module_.eval()
        with torch_cpu_threads(p.cpu_threads, dev):
            for i in range(0, len(order), p.score_batch_size):
                idx = order[i : i + p.score_batch_size]
                logits, a = self.module_(torch.from_numpy(tok[idx]).to(dev), torch.from_numpy(length[idx]).to(dev))
                prob[idx] = torch.softmax(logits.float(), dim=1)[:, 1].double().cpu().numpy()
                alpha[idx, : a.shape[1]] = a.double().cpu().numpy()
        sample = prob[inverse]
        weights = alpha[inverse] * sample[:, None]
        local = [np.r_[weights[i, : lengths[i]], np.zeros(len(s) - lengths[i])] for i, s in enumerate(sessions)]
        self.score_counts_ = {"sessions": len(sessions), "distinct_sessions": len(tok), "truncated": self.truncated_,
                              "unseen_events": len(unseen)}
        return Scores(sample=sample, local=local, decision=(sample > self.threshold_).astype(np.int8))

    def get_state(self) -> dict[str, Any]:
        return {"events_": list(self.index_.events), "known_vectors_": self.known_vectors_,
                "semantic_source_": self.semantic_source_, "semantic_mean_": self.semantic_mean_,
                "semantic_std_": self.semantic_std_, **module_arrays(self.module_, MODULE)}

    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        check_events(state)
        check_semantic_state(state, FIRST)

    def set_state(self, state: dict[str, Any]) -> None:
        events = state["events_"]
        if not isinstance(events, list):
            raise DataError(f"{self.where}.load: saved 'events_' is not a list; re-save the model")
        self.index_ = EventIndex([str(e) for e in events])
        self.known_vectors_ = np.asarray(state["known_vectors_"], dtype=np.float32)
        self.semantic_source_ = str(state["semantic_source_"])
        self.semantic_mean_ = np.asarray(state["semantic_mean_"], dtype=np.float32)
        self.semantic_std_ = np.asarray(state["semantic_std_"], dtype=np.float32)
        p = self.params
        self.module_ = AttentionBiLSTM(self.known_vectors_.shape[1], p.hidden_size, p.num_layers)
        load_module_arrays(self.module_, state, MODULE)
        self.module_.to(self.torch_device)
        self._set_vectors([], [])
        self.module_.eval()
        self.threshold_ = float(p.decision_threshold)

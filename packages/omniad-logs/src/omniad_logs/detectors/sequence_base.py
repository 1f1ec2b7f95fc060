"""What the next-event detectors (DeepLog, LogAnomaly, transformer) share.

A subclass builds a module mapping a (b, h) batch of context token ids to logits over the
known events (+ END with ``end_marker``). This base trains it on the windows of the normal
training sessions and scores every window of every scored session in batches.

Scores: the actual event of a line has rank r among the predicted next events (r = how many
events are strictly more likely) and probability p; the line's score is ``r + (1 - p)``, so
rank orders first and p breaks ties. DeepLog's top-g rule flags the line when r >= g, which
is exactly ``score > g``: ``threshold_ = g`` (``top_g_``: the parameter, or with 'auto' the
smallest g that flags at most ``normal_flag_rate`` of the held-out normal sessions) and ``Scores.decision`` = any line (or the END
window) flagged. An event never seen in training cannot be predicted: r = max(number of
classes, g), p = 0, so it always misses. The END window's score is merged (max) into the last line's. Sample score =
max over the session's lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from omniad.detector import Detector
from omniad.device import torch_cpu_threads
from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Int, Json, Module, Str, declare
from omniad.torchstate import load_module_arrays, module_arrays
from omniad_logs.detectors.features import check_sessions
from omniad_logs.detectors.inputs import LogInput
from omniad_logs.detectors.sequence_training import (
    FIRST,
    PAD,
    EventIndex,
    Rows,
    build_windows,
    fit_weighted,
    max_per_session,
    split_sessions,
    unique_rows,
)
from omniad_logs.session import EventVocabulary, LogSession

MODULE = "module"


def training_sessions(sessions: list[LogSession], where: str) -> tuple[list[LogSession], int]:
    """Sessions to learn normal behaviour from: those whose ``meta['label']`` says anomalous are left out.

    ``logs.hdfs_sessions`` with protocol='logrobust' puts labelled anomalies in the train split
    (for supervised methods); a model of normal behaviour must not learn them.
    """
    kept = [s for s in sessions if int(s.meta.get("label", 0)) == 0]
    if not kept:
        raise DataError(f"{where}: every training session has meta['label']=1; pass normal sessions")
    return kept, len(sessions) - len(kept)


def first_vocabulary(sessions: Sequence[LogSession]) -> EventVocabulary | None:
    return next((s.vocabulary for s in sessions if s.vocabulary is not None), None)


def check_events(state: dict[str, Any]) -> None:
    """The saved known events are distinct (each is one token id and one output class)."""
    events = state["events_"]
    if len(set(events)) != len(events):
        raise DataError(f"saved state 'events_' repeats events {sorted({e for e in events if events.count(e) > 1})[:3]}")


class NextEventDetector(LogInput, Detector):
    """Base of the next-event-prediction detectors (not registered itself)."""

    #: ``k`` known events; the network's shapes (embedding rows, output classes, window) are checked
    #: by the strict ``load_state_dict`` in ``set_state``, ``top_g_`` against the parameter in ``check_state``
    state_spec = declare({"events_": Json(types=(list,), items=Str(), length="k"), "top_g_": Int(ge=1),
                          MODULE: Module()})

    # -- what subclasses provide -----------------------------------------------------------
    def build_module(self, n_known: int) -> torch.nn.Module:
        raise NotImplementedError

    def prepare(self, sessions: Sequence[LogSession], unseen: list[str], fitting: bool) -> None:
        """Hook before a forward pass over ``sessions`` (LogAnomaly sets its semantic vectors)."""

    def extra_state(self) -> dict[str, Any]:
        return {}

    def set_extra_state(self, state: dict[str, Any]) -> None:
        """Restore what ``extra_state`` saved (before the module is rebuilt)."""

    # -- helpers ---------------------------------------------------------------------------
    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)

    @property
    def n_classes(self) -> int:
        return len(self.index_) + int(self.params.end_marker)

    def _windows(self, sessions: Sequence[LogSession]) -> tuple[Any, list[str]]:
        tokens, unseen = self.index_.encode(sessions)
        return build_windows(tokens, self.params.window, len(self.index_), self.params.end_marker), unseen

    def _rows(self, sessions: list[LogSession]) -> Rows:
        win, _ = self._windows(sessions)
        (contexts, targets), _, counts = unique_rows(win.contexts, win.targets)
        return Rows({"context": contexts, "target": targets}, counts, self.torch_device)

    def _loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.nn.functional.cross_entropy(self.module_(batch["context"]), batch["target"], reduction="none")

    # -- Detector --------------------------------------------------------------------------
    def _fit(self, samples: Sequence[Any]) -> None:
        where = f"{self.where}.fit"
        p = self.params
        sessions, left_out = training_sessions(check_sessions(samples, where), where)
        self.index_ = EventIndex.fit(sessions)
        self.prepare(sessions, [], fitting=True)
        train_idx, val_idx = split_sessions(len(sessions), p.validation_size, self.seed)
        train = self._rows([sessions[i] for i in train_idx])
        val = self._rows([sessions[i] for i in val_idx]) if len(val_idx) else None
        with torch_cpu_threads(p.cpu_threads, self.torch_device):
            self.module_ = self.build_module(len(self.index_)).to(self.torch_device)
            self.history_ = fit_weighted(
                self.module_, train, val, self._loss, lr=p.lr, epochs=p.epochs, batch_size=p.batch_size,
                patience=p.patience, where=where, min_steps_per_epoch=p.min_steps_per_epoch,
            )
        self.top_g_ = self._choose_g([sessions[i] for i in (val_idx if len(val_idx) else train_idx)])
        self.fit_counts_ = {
            "sessions": len(sessions), "left_out_labelled_anomalous": left_out,
            "distinct_training_windows": len(train), "epochs_run": len(self.history_), "top_g": self.top_g_,
        }
        self.threshold_ = float(self.top_g_)

    def _choose_g(self, normal: list[LogSession]) -> int:
        """``top_g``, or with 'auto' the smallest g flagging at most ``normal_flag_rate`` of ``normal``."""
        p = self.params
        if p.top_g != "auto":
            return int(p.top_g)
        self.top_g_ = self.n_classes  # scoring below must not depend on a g (only unseen events rank past it)
        self.threshold_ = float(self.top_g_)
        sample = self._score(normal).sample
        for g in range(1, self.n_classes + 1):
            if float(np.mean(sample > g)) <= p.normal_flag_rate:
                return g
        return self.n_classes

    def _rank_scores(self, contexts: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """``rank + (1 - p)`` of each target class after its context (distinct rows only)."""
        p = self.params
        never = max(self.n_classes, self.top_g_)  # the rank of an event the model cannot predict
        scores = np.empty(len(targets), dtype=np.float64)
        dev = self.torch_device
        self.module_.eval()
        with torch_cpu_threads(p.cpu_threads, dev):
            for i in range(0, len(targets), p.score_batch_size):
                ctx = torch.from_numpy(contexts[i : i + p.score_batch_size]).to(dev)
                tgt = torch.from_numpy(targets[i : i + p.score_batch_size]).to(dev)
                prob = torch.softmax(self.module_(ctx).float(), dim=-1)
                known = tgt >= 0
                p_true = torch.where(known, prob.gather(1, tgt.clamp(min=0)[:, None])[:, 0], torch.zeros_like(tgt, dtype=prob.dtype))
                rank = torch.where(known, (prob > p_true[:, None]).sum(1), torch.full_like(tgt, never))
                scores[i : i + len(tgt)] = (rank.double() + (1.0 - p_true.double())).cpu().numpy()
        return scores

    @torch.no_grad()
    def _score(self, samples: Sequence[Any]) -> Scores:
        where = f"{self.where}.score"
        p = self.params
        sessions = check_sessions(samples, where)
        win, unseen = self._windows(sessions)
        self.prepare(sessions, unseen, fitting=False)
        (contexts, targets), inverse, _ = unique_rows(win.contexts, win.targets)
        window_scores = self._rank_scores(contexts, targets)[inverse]
        sample = max_per_session(window_scores, win.positions)
        local = self._line_scores(window_scores, win.positions, [len(s) for s in sessions])
        self.score_counts_ = {
            "windows": len(window_scores), "distinct_windows": len(targets),
            "padded_windows": win.padded, "sessions_shorter_than_window": int(sum(len(s) < p.window for s in sessions)),
            "unseen_events": len(unseen),
        }
        decision = (sample > self.threshold_).astype(np.int8)
        return Scores(sample=sample, local=local, decision=decision)

    @torch.no_grad()
    def score_next(self, histories: Sequence[Sequence[str]], nexts: Sequence[str | None],
                   vocabulary: EventVocabulary | None = None) -> np.ndarray:
        """Scores of single next events, for live streams: ``nexts[i]`` after the events ``histories[i]``.

        The same score a line gets inside ``score`` (the last ``window`` events of the history
        are its context, padded at a session start as there); ``None`` as a next event scores
        the session's END (needs ``end_marker``). Only the windows asked for are computed, so a
        live line costs one window, not its whole session.
        """
        if len(histories) != len(nexts):
            raise DataError(f"{self.where}.score_next: {len(histories)} histories but {len(nexts)} next events")
        if not nexts:
            return np.zeros(0)
        if any(n is None for n in nexts) and not self.params.end_marker:
            raise DataError(f"{self.where}.score_next: END was asked for but the model has no end_marker")
        h = self.params.window
        flat: list[str] = []
        for hist, nxt in zip(histories, nexts, strict=True):
            flat.extend(hist[-h:] if h else ())
            if nxt is not None:
                flat.append(nxt)
        whole = LogSession(id="#stream", events=tuple(flat), vocabulary=vocabulary)
        (tokens,), unseen = self.index_.encode([whole])
        self.prepare([whole], unseen, fitting=False)
        contexts = np.full((len(nexts), h), PAD, dtype=np.int64)
        targets = np.empty(len(nexts), dtype=np.int64)
        k = len(self.index_)
        at = 0
        for i, (hist, nxt) in enumerate(zip(histories, nexts, strict=True)):
            n_ctx = min(len(hist), h)
            if n_ctx:
                contexts[i, h - n_ctx:] = tokens[at: at + n_ctx]
            at += n_ctx
            if nxt is None:
                targets[i] = k
            else:
                t = int(tokens[at]) - FIRST
                targets[i] = t if t < k else -1
                at += 1
        (ctx_u, tgt_u), inverse, _ = unique_rows(contexts, targets)
        return self._rank_scores(ctx_u, tgt_u)[inverse]

    def _line_scores(self, window_scores: np.ndarray, positions: np.ndarray, lengths: list[int]) -> list[np.ndarray]:
        """Per-line arrays; the END window (if any) is merged into the last line by max."""
        flat = window_scores
        if self.params.end_marker:
            ends = np.cumsum(positions) - 1
            flat = window_scores.copy()
            flat[ends - 1] = np.maximum(flat[ends - 1], flat[ends])
            flat = np.delete(flat, ends)
        return np.split(flat, np.cumsum(lengths)[:-1])

    # -- persistence -----------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        return {"events_": list(self.index_.events), "top_g_": int(self.top_g_), **self.extra_state(), **module_arrays(self.module_, MODULE)}

    def check_state(self, state: dict[str, Any]) -> None:
        super().check_state(state)
        check_events(state)
        g, wanted = state["top_g_"], self.params.top_g
        if wanted != "auto" and g != wanted:
            raise DataError(f"saved state 'top_g_' is {g} but the parameter top_g is {wanted}")
        n_classes = len(state["events_"]) + int(self.params.end_marker)
        if wanted == "auto" and g > n_classes:
            raise DataError(f"saved state 'top_g_' is {g}, more than the {n_classes} classes the model predicts "
                            "(top_g='auto' chooses at most that)")

    def set_state(self, state: dict[str, Any]) -> None:
        events = state["events_"]
        if not isinstance(events, list):
            raise DataError(f"{self.where}.load: saved 'events_' is not a list; re-save the model")
        self.index_ = EventIndex([str(e) for e in events])
        self.set_extra_state(state)
        self.module_ = self.build_module(len(self.index_))
        load_module_arrays(self.module_, state, MODULE)
        self.module_.to(self.torch_device).eval()
        self.top_g_ = int(state["top_g_"])
        self.threshold_ = float(self.top_g_)

"""APE (``events.ape``): entity embedding-based anomaly detection for heterogeneous categorical events.

Chen, Tang, Sun, Chen, Zhou, Zhang: "Entity Embedding-based Anomaly Detection for
Heterogeneous Categorical Events", IJCAI 2016. Each entity (a value of one entity type) has an
embedding; an event's score S(e) = sum over pairs of types of w_ij <v_i, v_j> is its
log-likelihood up to a constant. Training is noise-contrastive estimation with the paper's
context-dependent noise: a noise event is an observed event with one entity replaced, the type
chosen uniformly and the new entity drawn from that type's training distribution, and the NCE
correction uses that noise probability. Score = -S(e).

Differences from the paper, said here and in the README: the default ``objective`` is
``pseudo_likelihood``: the same S(e), fitted by Besag's pseudo-likelihood (each field's exact
conditional given the others, a softmax over that field's codes) instead of NCE. On a split of
the NSL-KDD training file (80 % of the normal rows fitted, the other 20 % plus the file's attacks
scored; 4,000-row samples) NCE with 3 noise events per event reached AUROC 0.74 and
pseudo-likelihood 0.96: one
replaced entity among 41 fields is a faint signal for NCE, while the conditionals use every
value of every field. ``objective="nce"`` is the paper's estimator. Numbers are binned into
quantile entities (``Encoder.codes``; NSL-KDD has 38 numeric features), ``bias=True`` (the
default) adds one learned bias per entity, and ``unseen_noise`` of the NCE noise is drawn from
codes never seen in training (pseudo-likelihood needs none: such codes sit in every softmax but
are never a target). ``validation`` of the training events is held out to keep the best epoch
and stop early; ``min_steps`` gives small data enough updates. Training: ``ape_train``.

``numeric_tails=True`` (the default) adds the numbers' own likelihood to -S(e) (``numeric_tails``):
bins tell APE a number is "above the training range" but not by how much. Chosen on the validation
split of the NSL-KDD training file (AUROC 0.978 -> 0.987, mean per-category recall 0.49 -> 0.65);
``numeric_tails=False`` is the paper's score. On ``events.synthetic``, whose anomalies are all in
the entities and the time, it costs AUROC (the numbers add noise): the README has both.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, Module, declare
from omniad_events.detectors.avf import offsets
from omniad_events.detectors.base import EventDetector
from omniad_events.detectors.numeric_tails import TAILS_SPEC, NumericTails
from omniad_events.detectors.params import APEParams
from omniad_events.encoding import EncodedCounts, Encoder
from omniad_events.events import EventTable

NET = "net"
#: the entity model is calibrated on its held-out events when there are at least this many
MIN_HELD_OUT = 20


class APE(NumericTails, EventDetector):
    Params = APEParams
    state_spec = declare(net=Module(), train_loss_=Array("epochs"), **TAILS_SPEC)

    def _net(self, encoder: Encoder) -> Any:
        from omniad_events.detectors.ape_model import APENet

        p = self.params
        return APENet(int(sum(encoder.cardinalities)), len(encoder.cardinalities), p.dim, p.bias)

    def _fit_table(self, table: EventTable) -> None:
        from omniad_events.detectors.ape_train import event_scores, fit_net

        enc = self.encoder_
        self.net_, losses, held = fit_net(self._net(enc), self.params, enc, enc.codes(table), self)
        self.train_loss_ = np.asarray(losses, dtype=np.float64)
        main = np.zeros(0)
        if self._uses_tails(enc):  # calibrated on the events the net did not fit, when there are enough
            main = -event_scores(self.net_, enc.codes(table) + offsets(enc), self.device)
            main = main[held] if len(held) >= MIN_HELD_OUT else main
        self._fit_tails(table, main)

    def _score_table(self, table: EventTable, counts: EncodedCounts) -> Scores:
        from omniad_events.detectors.ape_train import event_scores

        codes = self.encoder_.codes(table, counts) + offsets(self.encoder_)
        return self._with_tails(table, -event_scores(self.net_, codes, self.device))

    def model_state(self) -> dict[str, Any]:
        from omniad.torchstate import module_arrays

        return {"train_loss_": self.train_loss_, **module_arrays(self.net_, NET), **self._tails_state()}

    def _check_model_state(self, state: dict[str, Any], encoder: Encoder) -> None:
        self._check_tails_state(state, encoder)
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
        self._restore_tails(state)
        self.net_ = self._net(self.encoder_)
        load_module_arrays(self.net_, state, NET)
        self.net_.to(self.device).eval()

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

``n_models`` > 1 fits that many entity models, the first exactly as with ``n_models=1`` and the others
with seeds derived from the detector's (initialisation and batch order; the held-out events are the
same), and averages their standardised scores: each model's -S(e) minus its mean over the held-out
events, divided by its standard deviation there (all training events when fewer than ``MIN_HELD_OUT``
are held out). One fit's ranking of rare events moves with its seed; the mean of several lowers that
variance at n_models times the fit and score time. The first model is saved as before (``net.*``),
the others under ``nets.<k>.*`` with the standardisation in ``ensemble_loc_`` / ``ensemble_scale_``.
Off by default: on the hard validation split of the NSL-KDD training file (macro AUROC, seeds 0-2) 3 and 5
models gave 0.855 / 0.854 against 0.857 for one, and ``average_epochs=3`` (``ape_train``) 0.842; the
README has the numbers.
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
#: the further models of ``n_models`` > 1 (an ``nn.ModuleList``: ``nets.0.emb.weight``, ...)
NETS = "nets"
#: the entity model is calibrated on its held-out events when there are at least this many
MIN_HELD_OUT = 20


class APE(NumericTails, EventDetector):
    uses_torch = True
    Params = APEParams
    state_spec = declare(
        net=Module(),
        nets=Module(optional=True),
        ensemble_loc_=Array("models", optional=True),
        ensemble_scale_=Array("models", optional=True),
        train_loss_=Array("epochs"),
        **TAILS_SPEC,
    )
    nets_: Any = None  # nn.ModuleList of the models after the first (n_models > 1), else None
    ensemble_loc_: np.ndarray | None = None
    ensemble_scale_: np.ndarray | None = None

    def _net(self, encoder: Encoder) -> Any:
        from omniad_events.detectors.ape_model import APENet

        p = self.params
        return APENet(int(sum(encoder.cardinalities)), len(encoder.cardinalities), p.dim, p.bias)

    def _model_seed(self, k: int) -> int:
        """The seed of the k-th further model (k >= 1), derived from the detector's seed."""
        seq = np.random.SeedSequence([0 if self.seed is None else int(self.seed), k])
        return int(seq.generate_state(1)[0])

    def _fit_table(self, table: EventTable) -> None:
        import torch

        from omniad_events.detectors.ape_train import fit_net

        enc, p = self.encoder_, self.params
        codes = enc.codes(table)
        self.net_, losses, held = fit_net(self._net(enc), p, enc, codes, self)
        self.train_loss_ = np.asarray(losses, dtype=np.float64)
        self.nets_ = self.ensemble_loc_ = self.ensemble_scale_ = None
        raw = None  # every model's -S(e) on the training events, once the ensemble needs it
        if p.n_models > 1:
            nets = []
            for k in range(1, p.n_models):
                seed = self._model_seed(k)
                with torch.random.fork_rng(devices=[]):  # the init of model k, the global stream untouched
                    torch.manual_seed(seed)
                    net = self._net(enc)
                net, _, held_k = fit_net(net, p, enc, codes, self, train_seed=seed)
                assert np.array_equal(held_k, held)  # the same held-out events for every model
                nets.append(net)
            self.nets_ = torch.nn.ModuleList(nets).eval()
            raw = self._raw_scores(codes + offsets(enc))  # (n_models, n), reused by the tails below
            ref = raw[:, held] if len(held) >= MIN_HELD_OUT else raw
            self.ensemble_loc_ = ref.mean(1)
            self.ensemble_scale_ = np.maximum(ref.std(1), 1e-12)
        main = np.zeros(0)
        if self._uses_tails(enc):  # calibrated on the events the nets did not fit, when there are enough
            main = self._combine(self._raw_scores(codes + offsets(enc)) if raw is None else raw)
            main = main[held] if len(held) >= MIN_HELD_OUT else main
        self._fit_tails(table, main)

    def _nets(self) -> list[Any]:
        return [self.net_, *(self.nets_ if self.nets_ is not None else [])]

    def _raw_scores(self, codes: np.ndarray) -> np.ndarray:
        """-S(e) of every model (n_models, n), codes with field offsets."""
        from omniad_events.detectors.ape_train import event_scores

        return np.stack([-event_scores(net, codes, self.device) for net in self._nets()])

    def _combine(self, raw: np.ndarray) -> np.ndarray:
        """The entity model's score from every model's -S(e) (``_raw_scores``): -S(e), or with n_models > 1
        the mean of the standardised -S_k(e)."""
        if self.nets_ is None:
            return raw[0]
        assert self.ensemble_loc_ is not None and self.ensemble_scale_ is not None
        return ((raw - self.ensemble_loc_[:, None]) / self.ensemble_scale_[:, None]).mean(0)

    def _score_table(self, table: EventTable, counts: EncodedCounts) -> Scores:
        codes = self.encoder_.codes(table, counts) + offsets(self.encoder_)
        return self._with_tails(table, self._combine(self._raw_scores(codes)))

    def model_state(self) -> dict[str, Any]:
        from omniad.torchstate import module_arrays

        out = {"train_loss_": self.train_loss_, **module_arrays(self.net_, NET), **self._tails_state()}
        if self.nets_ is not None:
            out.update(module_arrays(self.nets_, NETS))
            out["ensemble_loc_"] = self.ensemble_loc_
            out["ensemble_scale_"] = self.ensemble_scale_
        return out

    def _check_model_state(self, state: dict[str, Any], encoder: Encoder) -> None:
        self._check_tails_state(state, encoder)
        want = (int(sum(encoder.cardinalities)), self.params.dim)
        n = self.params.n_models
        names = [f"{NET}.emb.weight", *(f"{NETS}.{k}.emb.weight" for k in range(n - 1))]
        for name in names:
            emb = state.get(name)
            if emb is None or tuple(emb.shape) != want:
                raise DataError(
                    f"saved state {name!r} has shape {None if emb is None else emb.shape}, but the "
                    f"encoder and dim give {want} (n_models={n}); re-save the model"
                )
        extra = sorted(
            {k.split(".")[1] for k in state if k.startswith(f"{NETS}.")} - {str(k) for k in range(n - 1)}
        )
        if extra:
            raise DataError(
                f"saved state holds models {NETS}.{', '.join(extra)} beyond n_models={n}; re-save the model"
            )
        for name in ("ensemble_loc_", "ensemble_scale_"):
            value = state.get(name)
            if n == 1:
                if value is not None:
                    raise DataError(f"saved state holds {name!r} but n_models=1; re-save the model")
                continue
            if value is None or np.shape(value) != (n,):
                raise DataError(
                    f"saved state {name!r} has shape {None if value is None else np.shape(value)}, but "
                    f"n_models={n} needs ({n},); re-save the model"
                )
        scale = state.get("ensemble_scale_")
        if scale is not None and not np.all(np.asarray(scale) > 0):
            raise DataError("saved state 'ensemble_scale_' must be positive; re-save the model")

    def _restore(self, state: dict[str, Any]) -> None:
        import torch

        from omniad.torchstate import load_module_arrays

        self.train_loss_ = np.asarray(state["train_loss_"], dtype=np.float64)
        self._restore_tails(state)
        self.net_ = self._net(self.encoder_)
        load_module_arrays(self.net_, state, NET)
        self.net_.to(self.device).eval()
        self.nets_ = self.ensemble_loc_ = self.ensemble_scale_ = None
        if self.params.n_models > 1:
            self.nets_ = torch.nn.ModuleList(
                [self._net(self.encoder_) for _ in range(self.params.n_models - 1)]
            )
            load_module_arrays(self.nets_, state, NETS)
            self.nets_.to(self.device).eval()
            self.ensemble_loc_ = np.asarray(state["ensemble_loc_"], dtype=np.float64)
            self.ensemble_scale_ = np.asarray(state["ensemble_scale_"], dtype=np.float64)

"""CAR (``events.car``): collaborative alerts ranking within sequences of categorical alerts.

Lin, Chen, Cao, Tang, Zhang, Cheng, Li: "Collaborative Alerts Ranking for Anomaly Detection"
(arXiv:1612.07736, 2016; CIKM 2018). Alerts arrive in sequences (per host, user, session); a
true attack shows as an unusual *order* or *pace* of alerts in a sequence and as unusual
*content* (an entity with an unusual partner). CAR scores each alert by both and reports the
patterns behind the highest-ranked ones. Here, per event:

- order: the surprise of each sequence field's value given the values before it in its
  sequence, under a variable-order context tree with hierarchical Pitman-Yor smoothing
  (``car_tree``; the paper's prefix tree and hierarchical Bayesian model of short- and
  long-term dependencies);
- rhythm: how many events of the same sequence fall within short windows around it (the
  windows are quantiles of the training gaps), against the training counts: bursts, which
  no single event shows (``car_time``);
- content: APE's entity-embedding likelihood of the event's fields (``ape_model``; numbers
  binned), the paper's embedding-based content model.

Each component becomes a surprise -log P(X >= x) under its own training distribution
(``car_time.Tail``) and the score is their sum (Fisher's combination of the three tail
probabilities). Per sequence: its highest event score (``Scores.extras["sequence_score"]``,
``details_["sequences"]``). Patterns: runs of high-ranked events of a sequence, grouped by
template across sequences (``car_patterns``; ``details_["patterns"]`` and ``provenance()``).

Simplified, said here and in the README: the paper learns the temporal and content models in
one joint ranking objective that lets each correct the other; here they are fitted separately
and joined by the calibrated sum. The Pitman-Yor tree uses the one-table-per-value
approximation (no sampling of seating arrangements), and "long-term" dependencies reach
``depth`` events back plus the rhythm windows.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad.scores import Scores
from omniad.state import Array, Float, Json, Module, declare
from omniad_events.detectors.ape import MIN_HELD_OUT
from omniad_events.detectors.avf import offsets
from omniad_events.detectors.base import EventDetector
from omniad_events.detectors.car_patterns import patterns, tokens, top_sequences
from omniad_events.detectors.car_time import (
    SequenceCounts,
    closeness,
    gaps,
    neighbours,
    seconds,
    sequence_keys,
    sequence_order,
)
from omniad_events.detectors.car_tree import ContextTree
from omniad_events.detectors.params import CARParams
from omniad_events.detectors.tails import Tail
from omniad_events.encoding import EncodedCounts, Encoder
from omniad_events.events import EventSchema, EventTable

NET = "content"
COMPONENTS = ("order", "rhythm", "content")


class CAR(EventDetector):
    uses_torch = True
    Params = CARParams
    net_: Any  # the content model (APENet), None without the content component
    train_loss_: np.ndarray | None
    state_spec = declare(
        content=Module(optional=True),
        train_loss_=Array("epochs", optional=True),
        tree_=Array(None, None, kinds="i", min_size=0),
        sequence_fields_=Json(types=(list,)),
        windows_=Array("windows", min_size=0),
        calibration_=Json(types=(dict,)),
        pattern_threshold_=Float(),
        off_=Json(types=(dict,)),
    )

    # -- events in ------------------------------------------------------------------------
    def _prepare(self, table: EventTable, where: str) -> EventTable:
        """Key and time taken out of the fields ``key`` / ``time`` when the events carry none."""
        p, s = self.params, table.schema
        named = {n: getattr(p, n) for n in ("key", "time") if getattr(p, n) is not None}
        take = {n: f for n, f in named.items() if f in s.fields}
        for n, f in named.items():
            if (
                f not in s.fields
                and (table.keys if n == "key" else table.times) is None
                and s.key != f
                and s.time != f
            ):
                raise DataError(
                    f"{where}: {n}={f!r} but the events have no field {f!r} (they have {list(s.fields)}); "
                    f"name the field that holds the sequence {n}"
                )
        if not take:
            return table

        def column(f: str) -> list[Any]:
            if f in s.entities:
                return list(table.entities[:, s.entities.index(f)])
            return list(table.numeric[:, s.numeric.index(f)])

        keys = column(take["key"]) if "key" in take else table.keys
        times = column(take["time"]) if "time" in take else table.times
        keep_e = [j for j, f in enumerate(s.entities) if f not in take.values()]
        keep_n = [j for j, f in enumerate(s.numeric) if f not in take.values()]
        schema = EventSchema(
            tuple(s.entities[j] for j in keep_e),
            tuple(s.numeric[j] for j in keep_n),
            take.get("time", s.time),
            take.get("key", s.key),
        )
        if keys is not None and "key" in take:
            keys = [
                None
                if k is None or (isinstance(k, float) and k != k)
                else (str(int(k)) if isinstance(k, float) and k.is_integer() else str(k))
                for k in keys
            ]
        return EventTable(schema, table.entities[:, keep_e], table.numeric[:, keep_n], times, keys)

    def _sequences(self, table: EventTable, counts: SequenceCounts) -> tuple[list[np.ndarray], np.ndarray]:
        times = seconds(table.times, len(table))
        seqs = sequence_order(table.keys, times, counts)
        if counts.no_time:
            times = np.arange(len(table), dtype=np.float64)
        return seqs, times

    # -- components -----------------------------------------------------------------------
    def _order(
        self, table: EventTable, seqs: list[np.ndarray], trees: list[ContextTree], held_out: bool = False
    ) -> np.ndarray:
        codes = self.encoder_.entity_codes(table, EncodedCounts())
        fields = list(self.encoder_.schema.entities)
        out = np.zeros(len(table))
        for name, tree in zip(self.sequence_fields_, trees, strict=True):
            col = codes[:, fields.index(name)]
            for s in seqs:
                out[s] += tree.surprise(col[s], held_out)
        return out

    def _rhythm(self, seqs: list[np.ndarray], times: np.ndarray) -> list[np.ndarray]:
        """The window counts, then the closeness of the nearest event (unit: the median training gap)."""
        counts = [neighbours(seqs, times, float(w)) for w in self.windows_[1:]]
        return [*counts, closeness(seqs, times, float(self.windows_[0]))]

    def _content(self, table: EventTable, counts: EncodedCounts) -> np.ndarray:
        from omniad_events.detectors.ape_train import event_scores

        codes = self.encoder_.codes(table, counts) + offsets(self.encoder_)
        return -event_scores(self.net_, codes, self.device)

    def _active(self) -> list[str]:
        fitted = {k.rstrip("0123456789") for k in self.calibration_}
        return [c for c in COMPONENTS if c in self.params.components and c in fitted]

    def _surprises(
        self,
        table: EventTable,
        seqs: list[np.ndarray],
        times: np.ndarray,
        counts: EncodedCounts,
        held_out: bool = False,
    ) -> dict[str, np.ndarray]:
        active = self._active()
        cal = {
            k: Tail.from_state(np.asarray(v, dtype=np.float64), f"{self.where} calibration {k!r}")
            for k, v in self.calibration_.items()
        }
        out: dict[str, np.ndarray] = {}
        if "order" in active:
            out["order"] = cal["order"].surprise(self._order(table, seqs, self.trees_, held_out))
        if "rhythm" in active:
            k = len(self.windows_)  # the window counts and the closeness
            per = [cal[f"rhythm{i}"].surprise(c) for i, c in enumerate(self._rhythm(seqs, times))]
            out["rhythm"] = np.maximum(np.max(per, axis=0) - np.log(k), 0.0)  # Bonferroni over the windows
        if "content" in active:
            out["content"] = cal["content"].surprise(self._content(table, counts))
        return out

    # -- fit / score ----------------------------------------------------------------------
    def _fit_table(self, table: EventTable) -> None:
        p, enc = self.params, self.encoder_
        counts = SequenceCounts()
        seqs, times = self._sequences(table, counts)
        self.fit_sequences_ = {**counts.as_dict(), "sequences": len(seqs)}
        if counts.no_key:
            warnings.warn(
                f"{self.where}: the events carry no sequence key; all {len(table)} form one sequence "
                "(set key= to the field that holds it)",
                stacklevel=2,
            )
        fields = list(enc.schema.entities)
        chosen = fields if p.sequence_fields is None else list(p.sequence_fields)
        unknown = [f for f in chosen if f not in fields]
        if unknown:
            raise DataError(
                f"{self.where}.fit: sequence_fields {unknown} are not entity fields of the events "
                f"(they have {fields}); name entity fields"
            )
        self.sequence_fields_ = chosen
        codes = enc.entity_codes(table, EncodedCounts())
        self.trees_ = [
            ContextTree.fit(
                [codes[s, fields.index(f)] for s in seqs],
                p.depth,
                len(enc.vocab[f]) + 1,
                p.min_count,
                p.discount,
                p.strength,
            )
            for f in chosen
        ]
        self.tree_ = self._tree_rows()
        calibration: dict[str, Any] = {}
        self.off_ = {}
        if chosen:
            # leave-one-out surprises of the training events: what a new normal event would get
            calibration["order"] = Tail.fit(self._order(table, seqs, self.trees_, True)).state().tolist()
        else:
            self.off_["order"] = "no entity field to model the order of"
        g = gaps(seqs, times)
        g = g[g > 0]
        if counts.no_time:
            self.off_["rhythm"] = "the events carry no time"
            self.windows_ = np.zeros(0)
        elif g.size == 0:
            self.off_["rhythm"] = "no sequence has two events at different times"
            self.windows_ = np.zeros(0)
        else:
            self.windows_ = np.r_[np.median(g), np.unique(np.quantile(g, p.window_quantiles))]
            for i, c in enumerate(self._rhythm(seqs, times)):
                calibration[f"rhythm{i}"] = Tail.fit(c).state().tolist()
        if "content" in p.components:
            from omniad_events.detectors.ape_model import APENet
            from omniad_events.detectors.ape_train import fit_net

            net = APENet(int(sum(enc.cardinalities)), len(enc.cardinalities), p.dim, p.bias)
            self.net_, losses, held = fit_net(net, p, enc, enc.codes(table), self)
            self.train_loss_ = np.asarray(losses, dtype=np.float64)
            # calibrated on the events the net did not fit (in-sample surprises are optimistic) when there
            # are enough of them
            content = self._content(table, EncodedCounts())
            enough = len(held) >= MIN_HELD_OUT
            calibration["content"] = Tail.fit(content[held] if enough else content).state().tolist()
            self.fit_sequences_["content_calibration"] = (
                f"{len(held)} held-out events" if enough else f"the {len(table)} training events (in-sample)"
            )
        else:
            self.net_, self.train_loss_ = None, None
        self.calibration_ = calibration
        if not self._active():
            raise DataError(
                f"{self.where}.fit: none of components {p.components} can be fitted on these events "
                f"({self.off_}); add a component or give the events a time / entity fields"
            )
        train = sum(self._surprises(table, seqs, times, EncodedCounts(), held_out=True).values())
        self.pattern_threshold_ = float(np.quantile(train, p.pattern_quantile))

    def _score_table(self, table: EventTable, counts: EncodedCounts) -> Scores:
        p = self.params
        seq_counts = SequenceCounts()
        seqs, times = self._sequences(table, seq_counts)
        parts = self._surprises(table, seqs, times, counts)
        score = np.sum(list(parts.values()), axis=0)
        keys = sequence_keys(table.keys, seqs)
        per_seq, top = top_sequences(seqs, keys, score, self.pattern_threshold_, p.n_sequences)
        fields = list(self.encoder_.schema.entities)
        cols = [fields.index(f) for f in self.sequence_fields_]
        toks = tokens(table.entities[:, cols], self.sequence_fields_) if cols else [""] * len(table)
        self.details_ = {
            "components": list(parts),
            "off": dict(self.off_),
            "sequence_counts": {**seq_counts.as_dict(), "sequences": len(seqs)},
            "high_ranked": int((score > self.pattern_threshold_).sum()),
            "sequences": top,
            "patterns": patterns(
                seqs, keys, score, parts, toks, times, self.pattern_threshold_, p.n_patterns
            ),
        }
        extras = {name: list(v.reshape(-1, 1)) for name, v in parts.items()}
        extras["sequence_score"] = list(per_seq.reshape(-1, 1))
        return Scores(sample=score, extras=extras)

    def provenance(self) -> dict[str, Any]:
        out = super().provenance()
        if getattr(self, "fit_sequences_", None):
            out["fit_sequences"] = dict(self.fit_sequences_)
        if getattr(self, "details_", None):
            out["car"] = self.details_
        return out

    # -- persistence ----------------------------------------------------------------------
    def _tree_rows(self) -> np.ndarray:
        parts = [np.c_[np.full(len(r), i), r] for i, r in enumerate(t.rows() for t in self.trees_)]
        return (
            np.concatenate(parts).astype(np.int64)
            if parts
            else np.zeros((0, self.params.depth + 4), np.int64)
        )

    def model_state(self) -> dict[str, Any]:
        from omniad.torchstate import module_arrays

        out: dict[str, Any] = {
            "tree_": self.tree_,
            "sequence_fields_": list(self.sequence_fields_),
            "windows_": np.asarray(self.windows_, dtype=np.float64),
            "calibration_": self.calibration_,
            "pattern_threshold_": self.pattern_threshold_,
            "off_": dict(self.off_),
        }
        if self.net_ is not None:
            out.update({"train_loss_": self.train_loss_, **module_arrays(self.net_, NET)})
        return out

    def _check_model_state(self, state: dict[str, Any], encoder: Encoder) -> None:
        fields = state["sequence_fields_"]
        if not all(isinstance(f, str) and f in encoder.schema.entities for f in fields):
            raise DataError(
                f"saved state 'sequence_fields_' {fields} are not all entity fields of the encoder; "
                "re-save the model"
            )
        cal = state["calibration_"]
        if state["tree_"].shape[1:] != (self.params.depth + 4,):
            raise DataError(
                f"saved state 'tree_' has shape {state['tree_'].shape}, not (rows, depth + 4 = "
                f"{self.params.depth + 4}); re-save the model"
            )
        if not set(cal) <= {"order", "content", *(f"rhythm{i}" for i in range(len(state["windows_"])))}:
            raise DataError(
                f"saved state 'calibration_' has unknown entries {sorted(cal)}; re-save the model"
            )
        windows = state["windows_"]
        rhythm = sorted(k for k in cal if k.startswith("rhythm"))
        if rhythm != sorted(f"rhythm{i}" for i in range(len(windows))) or np.any(windows <= 0):
            raise DataError(
                f"saved state 'windows_' ({len(windows)} positive values expected) does not match the rhythm "
                f"calibrations {rhythm}; re-save the model"
            )
        if "content" in cal and f"{NET}.emb.weight" not in state:
            raise DataError(
                "saved state calibrates a content model but holds no 'content.*' arrays; re-save the model"
            )

    def _restore(self, state: dict[str, Any]) -> None:
        p, enc = self.params, self.encoder_
        self.sequence_fields_ = list(state["sequence_fields_"])
        self.tree_ = np.asarray(state["tree_"], dtype=np.int64)
        rows = self.tree_
        self.trees_ = [
            ContextTree.from_rows(
                rows[rows[:, 0] == i, 1:],
                p.depth,
                len(enc.vocab[f]) + 1,
                p.discount,
                p.strength,
                f"{self.where}.load: field {f!r}",
            )
            for i, f in enumerate(self.sequence_fields_)
        ]
        self.windows_ = np.asarray(state["windows_"], dtype=np.float64)
        self.calibration_ = dict(state["calibration_"])
        for k, v in self.calibration_.items():
            Tail.from_state(np.asarray(v, dtype=np.float64), f"{self.where}.load: calibration {k!r}")
        self.pattern_threshold_ = float(state["pattern_threshold_"])
        self.off_ = dict(state.get("off_") or {})
        self.net_, self.train_loss_ = None, None
        if f"{NET}.emb.weight" in state:
            from omniad.torchstate import load_module_arrays
            from omniad_events.detectors.ape_model import APENet

            self.train_loss_ = np.asarray(state["train_loss_"], dtype=np.float64)
            self.net_ = APENet(int(sum(enc.cardinalities)), len(enc.cardinalities), p.dim, p.bias)
            load_module_arrays(self.net_, state, NET)
            self.net_.to(self.device).eval()

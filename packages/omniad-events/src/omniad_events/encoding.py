"""Events as numbers: one-hot + min-max, frequency encoding, or integer codes per field.

Fitted once on the training events and saved as JSON inside every event detector, so a
model scores new events exactly as it was fitted, and with no pickle:

- ``onehot``: one column per (entity type, value) seen in training (scikit-learn's
  ``OneHotEncoder(handle_unknown="ignore")``: an unseen value is all zeros), then each numeric
  field min-max scaled to the training range (``MinMaxScaler``; not clipped, so a value far
  outside the range stays far). The tests check both against scikit-learn.
- ``frequency``: each entity replaced by its relative frequency in training (0 for unseen),
  numeric fields min-max scaled as above.
- ``codes``: one integer per field for the categorical models (AVF, APE): an entity's index in
  the training vocabulary (the last index = unseen), a number's quantile bin among
  ``n_bins`` training bins, with separate codes for below / above the training range and for
  missing. Binning numbers into entities is how APE (a model of entities) sees NSL-KDD's 38
  numeric features; the README says so.

Missing entities are the value ``<missing>`` (a value like any other, so a field that is often
empty in training is not anomalous when empty); missing numbers take the training median for
``onehot`` / ``frequency``. Everything repaired is counted (``EncodedCounts``) and shown.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from omniad.errors import DataError
from omniad_events.events import EventSchema, EventTable

MISSING = "<missing>"
#: extra codes after a numeric field's quantile bins: below, above the training range, missing
BELOW, ABOVE, NAN = 0, 1, 2


@dataclass
class EncodedCounts:
    """What encoding had to repair in one batch (added to the detector's provenance and score extras)."""

    unseen_entities: int = 0
    missing_entities: int = 0
    missing_numbers: int = 0
    out_of_range_numbers: int = 0
    per_event_unseen: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def as_dict(self) -> dict[str, int]:
        return {
            "unseen_entities": self.unseen_entities,
            "missing_entities": self.missing_entities,
            "missing_numbers": self.missing_numbers,
            "out_of_range_numbers": self.out_of_range_numbers,
        }


class Encoder:
    """Vocabularies, numeric ranges and quantile bins of the training events."""

    def __init__(
        self,
        schema: EventSchema,
        vocab: dict[str, list[str]],
        counts: dict[str, list[int]],
        low: list[float],
        high: list[float],
        median: list[float],
        edges: list[list[float]],
        n_train: int,
    ) -> None:
        self.schema = schema
        self.vocab = vocab
        self.counts = counts
        self.low = np.asarray(low, dtype=np.float64)
        self.high = np.asarray(high, dtype=np.float64)
        self.median = np.asarray(median, dtype=np.float64)
        self.edges = [np.asarray(e, dtype=np.float64) for e in edges]
        self.n_train = int(n_train)
        self._index = {t: {v: i for i, v in enumerate(vocab[t])} for t in schema.entities}

    # -- fitting ---------------------------------------------------------------------------
    @classmethod
    def fit(cls, table: EventTable, n_bins: int = 10) -> Encoder:
        s = table.schema
        vocab, counts = {}, {}
        for j, t in enumerate(s.entities):
            col = [MISSING if v is None else v for v in table.entities[:, j]]
            values, n = np.unique(np.asarray(col, dtype=object).astype(str), return_counts=True)
            order = np.lexsort((values, -n))  # most frequent first, ties by name: deterministic
            vocab[t] = [str(values[i]) for i in order]
            counts[t] = [int(n[i]) for i in order]
        low, high, median, edges = [], [], [], []
        qs = np.linspace(0, 1, n_bins + 1)[1:-1]
        for j in range(len(s.numeric)):
            x = table.numeric[:, j]
            x = x[np.isfinite(x)]
            if x.size == 0:  # a field with no number in training: everything there is "missing"
                low.append(0.0), high.append(0.0), median.append(0.0), edges.append([])
                continue
            low.append(float(x.min())), high.append(float(x.max())), median.append(float(np.median(x)))
            edges.append([float(e) for e in np.unique(np.quantile(x, qs))] if qs.size else [])
        return cls(s, vocab, counts, low, high, median, edges, len(table))

    # -- views -----------------------------------------------------------------------------
    @property
    def cardinalities(self) -> list[int]:
        """Codes per field: the vocabulary + unseen for entities, the bins + 3 for numbers."""
        return [len(self.vocab[t]) + 1 for t in self.schema.entities] + [len(e) + 1 + 3 for e in self.edges]

    @property
    def onehot_width(self) -> int:
        return sum(len(self.vocab[t]) for t in self.schema.entities) + len(self.schema.numeric)

    def check(self, table: EventTable, where: str) -> EventTable:
        """``table`` with the fitted fields, in the fitted order; a missing field fails, extra ones are ignored."""
        s, fitted = table.schema, self.schema
        if s == fitted:
            return table
        lacking = [f for f in fitted.fields if f not in s.fields]
        if lacking:
            raise DataError(
                f"{where}: the events lack fields {lacking} the detector was fitted on "
                f"(they have {list(s.fields)}); score events with the same fields"
            )
        ents = np.empty((len(table), len(fitted.entities)), dtype=object)
        nums = np.empty((len(table), len(fitted.numeric)), dtype=np.float64)
        for j, t in enumerate(fitted.entities):
            ents[:, j] = (
                table.entities[:, s.entities.index(t)]
                if t in s.entities
                else _as_text(table.numeric[:, s.numeric.index(t)])
            )
        for j, t in enumerate(fitted.numeric):
            nums[:, j] = (
                table.numeric[:, s.numeric.index(t)]
                if t in s.numeric
                else _as_numbers(table.entities[:, s.entities.index(t)])
            )
        return EventTable(fitted, ents, nums, table.times, table.keys)

    def entity_codes(self, table: EventTable, counts: EncodedCounts) -> np.ndarray:
        n, m = len(table), len(self.schema.entities)
        out = np.empty((n, m), dtype=np.int64)
        unseen = np.zeros(n, dtype=np.int64)
        for j, t in enumerate(self.schema.entities):
            index, miss = self._index[t], len(self.vocab[t])
            col = table.entities[:, j]
            counts.missing_entities += int(sum(v is None for v in col))
            codes = np.fromiter(
                (index.get(MISSING if v is None else v, miss) for v in col), dtype=np.int64, count=n
            )
            out[:, j] = codes
            unseen += codes == miss
        counts.unseen_entities += int(unseen.sum())
        counts.per_event_unseen = unseen
        return out

    def numeric_codes(self, table: EventTable, counts: EncodedCounts) -> np.ndarray:
        x = table.numeric
        out = np.empty(x.shape, dtype=np.int64)
        for j, e in enumerate(self.edges):
            v = x[:, j]
            nan = ~np.isfinite(v)
            below, above = v < self.low[j], v > self.high[j]
            codes = np.searchsorted(e, np.where(nan, 0, v), side="right") + 3
            codes[below] = BELOW
            codes[above] = ABOVE
            codes[nan] = NAN
            out[:, j] = codes
        self._count_numbers(x, counts)
        return out

    def codes(self, table: EventTable, counts: EncodedCounts | None = None) -> np.ndarray:
        """(n, m + p) int64: entity codes then numeric bin codes (see the module docstring)."""
        counts = counts if counts is not None else EncodedCounts()
        return np.concatenate([self.entity_codes(table, counts), self.numeric_codes(table, counts)], axis=1)

    def scaled(self, table: EventTable, counts: EncodedCounts, log: bool = False) -> np.ndarray:
        """Numeric fields min-max scaled (missing -> training median); a constant field gives (x - min).

        ``log``: log1p of the distance from the training minimum (signed below it) before scaling, so
        heavy-tailed counts (bytes, durations) spread over [0, 1] instead of a few huge values squeezing
        every other event to 0; the training range still maps to [0, 1]."""
        x = table.numeric.copy()
        self._count_numbers(x, counts)
        nan = ~np.isfinite(x)
        x[nan] = np.broadcast_to(self.median, x.shape)[nan]
        if log:
            d = x - self.low
            span = np.log1p(self.high - self.low)
            return np.sign(d) * np.log1p(np.abs(d)) / np.where(span > 0, span, 1.0)
        span = self.high - self.low
        return (x - self.low) / np.where(span > 0, span, 1.0)

    def onehot(self, table: EventTable, counts: EncodedCounts | None = None, log: bool = False) -> np.ndarray:
        counts = counts if counts is not None else EncodedCounts()
        codes = self.entity_codes(table, counts)
        blocks = []
        for j, t in enumerate(self.schema.entities):
            eye = np.eye(len(self.vocab[t]) + 1)[:, :-1]  # the unseen code's row is all zeros
            blocks.append(eye[codes[:, j]])
        blocks.append(self.scaled(table, counts, log))
        return np.concatenate(blocks, axis=1)

    def frequency(
        self, table: EventTable, counts: EncodedCounts | None = None, log: bool = False
    ) -> np.ndarray:
        counts = counts if counts is not None else EncodedCounts()
        codes = self.entity_codes(table, counts)
        cols = [
            np.r_[np.asarray(self.counts[t], dtype=np.float64) / max(self.n_train, 1), 0.0][codes[:, j]]
            for j, t in enumerate(self.schema.entities)
        ]
        freq = np.stack(cols, axis=1) if cols else np.zeros((len(table), 0))
        return np.concatenate([freq, self.scaled(table, counts, log)], axis=1)

    def encode(
        self, how: str, table: EventTable, counts: EncodedCounts | None = None, log: bool = False
    ) -> np.ndarray:
        """``onehot`` or ``frequency``; ``log`` scales the numbers as ``scaled(log=True)``."""
        if how == "onehot":
            return self.onehot(table, counts, log)
        if how == "frequency":
            return self.frequency(table, counts, log)
        raise DataError(f"unknown encoding {how!r}; use 'onehot' or 'frequency'")

    def field_blocks(self, how: str) -> list[np.ndarray]:
        """The columns of each field in ``encode(how)``'s output (the augmentations of CLAN work per field)."""
        widths = [len(self.vocab[t]) if how == "onehot" else 1 for t in self.schema.entities] + [1] * len(
            self.edges
        )
        ends = np.cumsum(widths)
        return [np.arange(e - w, e) for w, e in zip(widths, ends, strict=True)]

    def _count_numbers(self, x: np.ndarray, counts: EncodedCounts) -> None:
        finite = np.isfinite(x)
        counts.missing_numbers += int((~finite).sum())
        with np.errstate(invalid="ignore"):
            counts.out_of_range_numbers += int(((x < self.low) | (x > self.high)).sum())

    # -- persistence -----------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        return {
            "schema": self.schema.to_json(),
            "vocab": self.vocab,
            "counts": self.counts,
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "median": self.median.tolist(),
            "edges": [e.tolist() for e in self.edges],
            "n_train": self.n_train,
        }

    @classmethod
    def from_state(cls, state: Any, where: str) -> Encoder:
        """Rebuild from ``to_state``'s JSON, checking every part (an edited model folder fails here)."""

        def bad(what: str) -> DataError:
            return DataError(f"{where}: saved encoder {what}; re-save the model")

        if not isinstance(state, dict):
            raise bad(f"is {type(state).__name__}, not an object")
        try:
            sj = state["schema"]
            schema = EventSchema(
                tuple(map(str, sj["entities"])), tuple(map(str, sj["numeric"])), sj.get("time"), sj.get("key")
            )
            vocab, counts = state["vocab"], state["counts"]
            p = len(schema.numeric)
            lists = [state[k] for k in ("low", "high", "median", "edges")]
            n_train = state["n_train"]
        except (KeyError, TypeError, DataError) as exc:
            raise bad(f"lacks or garbles {exc}") from None
        if not isinstance(n_train, int) or isinstance(n_train, bool) or n_train < 1:
            raise bad(f"n_train is {n_train!r}, not a positive integer")
        if (
            not isinstance(vocab, dict)
            or not isinstance(counts, dict)
            or set(vocab) != set(schema.entities)
            or set(counts) != set(schema.entities)
        ):
            raise bad("vocabularies do not match the entity fields")
        for t in schema.entities:
            v, c = vocab[t], counts[t]
            if (
                not isinstance(v, list)
                or not isinstance(c, list)
                or len(v) != len(c)
                or not v
                or not all(isinstance(x, str) for x in v)
                or len(set(v)) != len(v)
                or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 1 for x in c)
            ):
                raise bad(f"vocabulary of {t!r} is not a list of distinct values with positive counts")
        for name, values in zip(("low", "high", "median", "edges"), lists, strict=True):
            if not isinstance(values, list) or len(values) != p:
                raise bad(f"{name} has not one entry per numeric field ({p})")
        for name, values in zip(("low", "high", "median"), lists[:3], strict=True):
            if not all(
                isinstance(x, (int, float)) and not isinstance(x, bool) and np.isfinite(x) for x in values
            ):
                raise bad(f"{name} holds values that are not finite numbers")
        for e in lists[3]:
            if (
                not isinstance(e, list)
                or not all(isinstance(x, (int, float)) and np.isfinite(x) for x in e)
                or list(e) != sorted(set(e))
            ):
                raise bad("edges are not increasing lists of numbers")
        if any(lo > hi for lo, hi in zip(lists[0], lists[1], strict=True)):
            raise bad("has a numeric field whose low exceeds its high")
        return cls(
            schema,
            {t: list(vocab[t]) for t in schema.entities},
            {t: list(counts[t]) for t in schema.entities},
            *lists,
            n_train=n_train,
        )


def _as_text(values: np.ndarray) -> np.ndarray:
    from omniad_events.events import entity_text

    return np.array([entity_text(float(v)) for v in values], dtype=object)


def _as_numbers(values: np.ndarray) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        with contextlib.suppress(ValueError):
            out[i] = float(v) if v is not None else np.nan
    return out

"""The event sample: typed categorical entities, optional numeric fields, time and sequence key.

An event (a network connection, a login, an alert) is a handful of entities of different
types (``protocol_type=tcp``, ``service=http``, ``user=alice``, ``host=db-3``) and perhaps a few
numbers (bytes, duration). Detectors need the whole batch as columns, reports need one event
at a time, and the runner hands samples around one by one (``[split.samples[i] ...]``), so:

- ``EventTable`` is the batch: an (n, m) object array of entity strings (None = missing), an
  (n, p) float array of numbers (NaN = missing), the ``EventSchema`` naming the columns, and
  optional times and sequence keys. Indexing it by position gives an ``Event``.
- ``Event`` is one row that remembers its schema, so a list of them stacks back into a table.
- ``as_table`` turns what a user passes (an ``EventTable``, a list of ``Event`` s, a list of
  dicts, a pandas DataFrame, one dict) into an ``EventTable``, failing with one line that says
  what to pass. Dicts and frames are typed by their values: numbers (and booleans) are
  numeric fields, anything else an entity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from omniad.errors import DataError, short_repr

WHAT = "pass events: an EventTable, a list of Event or of dicts (field -> value), or a pandas DataFrame"


@dataclass(frozen=True)
class EventSchema:
    """Which fields are entity types and which are numbers (and which give time and sequence key)."""

    entities: tuple[str, ...]
    numeric: tuple[str, ...] = ()
    time: str | None = None
    key: str | None = None

    def __post_init__(self) -> None:
        names = [*self.entities, *self.numeric]
        if not names:
            raise DataError("an event needs at least one entity or numeric field")
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise DataError(
                f"fields {dup} are named both as entities and as numbers (or twice); name each once"
            )

    @property
    def fields(self) -> tuple[str, ...]:
        return (*self.entities, *self.numeric)

    def to_json(self) -> dict[str, Any]:
        return {
            "entities": list(self.entities),
            "numeric": list(self.numeric),
            "time": self.time,
            "key": self.key,
        }


@dataclass(frozen=True, eq=False)
class Event:
    """One event; ``entities`` / ``numeric`` are aligned with ``schema.entities`` / ``schema.numeric``."""

    schema: EventSchema
    entities: tuple[str | None, ...]
    numeric: tuple[float, ...] = ()
    time: Any = None
    key: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(zip(self.schema.entities, self.entities, strict=True))
        out.update(zip(self.schema.numeric, self.numeric, strict=True))
        if self.schema.time is not None:
            out[self.schema.time] = self.time
        if self.schema.key is not None:
            out[self.schema.key] = self.key
        return out

    def describe(self, limit: int = 6) -> str:
        """The entities (then numbers) as ``type=value`` pairs, for report tables."""
        parts = [
            f"{t}={v if v is not None else '?'}"
            for t, v in zip(self.schema.entities, self.entities, strict=True)
        ]
        parts += [f"{t}={v:g}" for t, v in zip(self.schema.numeric, self.numeric, strict=True)]
        return " ".join(parts[:limit]) + (" ..." if len(parts) > limit else "")


class EventTable(Sequence[Event]):
    """A batch of events as columns; see the module docstring."""

    def __init__(
        self,
        schema: EventSchema,
        entities: np.ndarray,
        numeric: np.ndarray | None = None,
        times: Sequence[Any] | None = None,
        keys: Sequence[Any] | None = None,
    ) -> None:
        n = len(entities) if len(schema.entities) else len(numeric if numeric is not None else [])
        self.schema = schema
        self.entities = np.asarray(entities, dtype=object).reshape(n, len(schema.entities))
        self.numeric = (
            np.zeros((n, 0)) if numeric is None else np.asarray(numeric, dtype=np.float64)
        ).reshape(n, len(schema.numeric))
        self.times = None if times is None else list(times)
        self.keys = None if keys is None else list(keys)

    def __len__(self) -> int:
        return self.numeric.shape[0]

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (int, np.integer)):
            i = int(index)
            return Event(
                self.schema,
                tuple(self.entities[i]),
                tuple(float(v) for v in self.numeric[i]),
                None if self.times is None else self.times[i],
                None if self.keys is None else self.keys[i],
            )
        idx = np.arange(len(self))[index]
        return self.take(idx)

    def take(self, idx: Sequence[int] | np.ndarray) -> EventTable:
        idx = np.asarray(idx, dtype=np.int64)
        return EventTable(
            self.schema,
            self.entities[idx],
            self.numeric[idx],
            None if self.times is None else [self.times[i] for i in idx],
            None if self.keys is None else [self.keys[i] for i in idx],
        )

    def __repr__(self) -> str:
        return f"EventTable({len(self)} events, entities={list(self.schema.entities)}, numeric={len(self.schema.numeric)})"


def _missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, float) and value != value)
        or (isinstance(value, str) and not value.strip())
    )


def entity_text(value: Any) -> str | None:
    """An entity value as text (``None`` when missing); numbers keep their usual spelling (80, not 80.0)."""
    if _missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        return entity_text(value.item())
    return str(value).strip()


def _from_events(events: Sequence[Event], where: str) -> EventTable:
    schema = events[0].schema
    for i, e in enumerate(events):
        if e.schema != schema:
            raise DataError(
                f"{where}: event {i} has fields {list(e.schema.fields)} but event 0 has "
                f"{list(schema.fields)}; score events of one kind together"
            )
    ents = np.array([e.entities for e in events], dtype=object).reshape(len(events), len(schema.entities))
    nums = np.array([e.numeric for e in events], dtype=np.float64).reshape(len(events), len(schema.numeric))
    times = [e.time for e in events] if schema.time else None
    keys = [e.key for e in events] if schema.key else None
    return EventTable(schema, ents, nums, times, keys)


def _numeric_column(values: list[Any]) -> bool:
    """Numbers (bools included) and missing cells only, at least one number."""
    seen = False
    for v in values:
        if _missing(v):
            continue
        if isinstance(v, (bool, int, float, np.number, np.bool_)):
            seen = True
            continue
        return False
    return seen


def _from_records(records: Sequence[Mapping[str, Any]], where: str) -> EventTable:
    names: list[str] = []
    for i, r in enumerate(records):
        if not isinstance(r, Mapping):
            raise DataError(
                f"{where}: item {i} is {type(r).__name__} {short_repr(r)}, but item 0 is a dict; {WHAT}"
            )
        names.extend(str(k) for k in r if str(k) not in names)
    columns = {n: [r.get(n) for r in records] for n in names}
    numeric = tuple(n for n in names if _numeric_column(columns[n]))
    entities = tuple(n for n in names if n not in numeric)
    schema = EventSchema(entities, numeric)
    ents = np.array([[entity_text(v) for v in columns[n]] for n in entities], dtype=object).T.reshape(
        len(records), len(entities)
    )
    nums = np.array(
        [[np.nan if _missing(v) else float(v) for v in columns[n]] for n in numeric], dtype=np.float64
    ).T.reshape(len(records), len(numeric))
    return EventTable(schema, ents, nums)


def _from_frame(frame: Any, where: str) -> EventTable:
    records = frame.to_dict(orient="records")
    if not records:
        raise DataError(f"{where}: the DataFrame has no rows; pass at least one event")
    return _from_records(records, where)


def as_table(samples: Any, where: str) -> EventTable:
    """``samples`` as an ``EventTable`` (see the module docstring), or one ``DataError`` line."""
    if isinstance(samples, EventTable):
        return samples
    if isinstance(samples, (Event, Mapping)) and not hasattr(samples, "columns"):
        samples = [samples]
    if hasattr(samples, "columns") and hasattr(samples, "iloc"):  # a pandas DataFrame, pandas not imported
        return _from_frame(samples, where)
    if isinstance(samples, (str, bytes)) or not isinstance(samples, (Sequence, np.ndarray)):
        raise DataError(f"{where}: got {type(samples).__name__} {short_repr(samples)}; {WHAT}")
    items = list(samples)
    if not items:
        raise DataError(f"{where}: got no events; pass at least one")
    if all(isinstance(e, Event) for e in items):
        return _from_events(items, where)
    if isinstance(items[0], Mapping):
        return _from_records(items, where)
    raise DataError(f"{where}: item 0 is {type(items[0]).__name__} {short_repr(items[0])}; {WHAT}")

"""Saving and loading a miner as plain, schema-versioned JSON.

drain3 saves its state with jsonpickle, whose loader rebuilds arbitrary Python objects
(``py/reduce`` calls any callable named in the file), so opening an untrusted state file can
run code. Here the file is only ever read with ``json.loads`` and then checked field by field
against a fixed schema: strings, integers and lists of strings. Nothing in the file names a
Python object, so no content can make the loader import or call anything; anything that does
not fit the schema is rejected with one line saying what and where.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from omniad.errors import ConfigError, DataError
from omniad.params import validate_params
from omniad_logs.parsing.settings import MinerParams

if TYPE_CHECKING:
    from omniad_logs.parsing.miner import TemplateMiner

SCHEMA = "omniad-logs/template-miner"
#: 2: ``recent`` (the LRU order under ``max_clusters``) and ``evicted``; event keys hold the keys of
#: ``key=<*>`` tokens and are never empty. Version 1 states still load (see ``_load``).
SCHEMA_VERSION = 2
READABLE_VERSIONS = (1, 2)


def dump_state(miner: TemplateMiner) -> str:
    events = [{"id": e.id, "keys": [list(k) for k in e.keys]} for e in miner._events.values()]
    # creation order, which fixes the order inside each leaf and each event (and so every tie) on reload
    clusters = [
        {"event": c.event.id, "tokens": list(c.tokens), "size": c.size, "path": list(c.path)} for c in miner._clusters
    ]
    state = {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "params": miner.params.model_dump(mode="json"),
        "next_id": miner._next_id,
        "events": events,
        "clusters": clusters,
        # least to most recently used event ids; empty when there is no cap to evict by
        "recent": list(miner._recent) if miner._recent is not None else [],
        "evicted": miner.evicted,
    }
    return json.dumps(state, ensure_ascii=False, separators=(",", ":"))


PREFIX = "TemplateMiner.from_json"


def _fail(what: str) -> DataError:
    return DataError(f"{PREFIX}: {what}; pass the text written by TemplateMiner.to_json()")


def _str_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(f"{where} must be a list of strings")
    return value


def _int(value: Any, where: str, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise _fail(f"{where} must be an integer >= {low}, got {value!r:.40}")
    return value


def load_state(cls: type[TemplateMiner], text: str | bytes, source: str | os.PathLike[str] | None = None) -> TemplateMiner:
    """``_load`` with the file named in its error, when the caller says which file it read."""
    try:
        return _load(cls, text)
    except DataError as exc:
        if source is None:
            raise
        raise DataError(str(exc).replace(f"{PREFIX}:", f"{PREFIX}({os.fspath(source)}):", 1)) from None


def _load(cls: type[TemplateMiner], text: str | bytes) -> TemplateMiner:
    from omniad_logs.parsing.groups import Cluster, Event

    if not isinstance(text, (str, bytes, bytearray)):
        raise _fail(f"expected the JSON text (str or bytes), got {type(text).__name__}")
    try:
        state = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _fail(f"the state is not valid JSON ({str(exc)[:80]})") from None
    if not isinstance(state, dict):
        raise _fail(f"the state must be a JSON object, got {type(state).__name__}")
    if state.get("schema") != SCHEMA:
        raise _fail(f"schema {state.get('schema')!r:.60} is not {SCHEMA!r}; this is not a template-miner state")
    version = state.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise _fail(
            f"schema version {version!r:.20} is not supported (this omniad-logs reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}); re-create the state with this version"
        )
    fields = {"schema", "version", "params", "next_id", "events", "clusters"}
    if version >= 2:
        fields |= {"recent", "evicted"}
    if set(state) != fields:
        raise _fail(f"the state must have exactly the fields {sorted(fields)}, got {sorted(state)!r:.120}")
    params = state["params"]
    if not isinstance(params, dict):
        raise _fail("'params' must be an object of MinerParams fields")
    try:
        miner = cls(validate_params(MinerParams, params, "params"))
    except ConfigError as exc:  # a bad file, not a bad call: report it as data
        raise _fail(str(exc)) from None
    events = state["events"]
    if not isinstance(events, list):
        raise _fail("'events' must be a list")
    for i, entry in enumerate(events):
        where = f"events[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"id", "keys"}:
            raise _fail(f"{where} must be an object with exactly id, keys")
        eid = entry["id"]
        if not isinstance(eid, str) or not eid or eid in miner._events:
            raise _fail(f"{where}.id must be a unique non-empty string, got {eid!r:.40}")
        event = miner._events[eid] = Event(eid)
        if not isinstance(entry["keys"], list):
            raise _fail(f"{where}.keys must be a list of lists of strings")
        for j, key in enumerate(entry["keys"]):
            key = tuple(_str_list(key, f"{where}.keys[{j}]"))
            if not key:
                if version >= 2:
                    raise _fail(f"{where}.keys[{j}] is empty; an event key holds at least one constant")
                continue  # version 1 kept the empty key of all-variable messages; no event is joined by it now
            if key in miner._by_key:
                raise _fail(f"{where}.keys[{j}] belongs to two events")
            event.keys.append(key)
            miner._by_key[key] = event
    clusters = state["clusters"]
    if not isinstance(clusters, list):
        raise _fail("'clusters' must be a list")
    levels = miner._levels
    for i, entry in enumerate(clusters):
        where = f"clusters[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"event", "tokens", "size", "path"}:
            raise _fail(f"{where} must be an object with exactly event, tokens, size, path")
        event = miner._events.get(entry["event"]) if isinstance(entry["event"], str) else None
        if event is None:
            raise _fail(f"{where}.event {entry['event']!r:.40} names no entry of 'events'")
        tokens = list(_str_list(entry["tokens"], f"{where}.tokens"))
        size = _int(entry["size"], f"{where}.size", 1)
        path = entry["path"]
        if not isinstance(path, list) or not path:
            raise _fail(f"{where}.path must be a non-empty list")
        length = _int(path[0], f"{where}.path[0]", 0)
        keys = _str_list(path[1:], f"{where}.path[1:]")
        if length != len(tokens) or len(keys) != min(levels, length):
            raise _fail(f"{where}.path does not fit its {len(tokens)} tokens and the tree depth")
        full = (length, *keys)
        for d in range(1, len(full)):
            miner._children.setdefault(full[:d], set()).add(full[d])
        miner._children.setdefault(full, set())
        miner._attach(Cluster(event, tokens, full, size))
    empty = [e.id for e in miner._events.values() if not e.clusters]
    if empty:
        raise _fail(f"events {empty[:5]} have no clusters")
    miner._next_id = _int(state["next_id"], "'next_id'", 1)
    if version >= 2:
        miner.evicted = _int(state["evicted"], "'evicted'", 0)
        recent = _str_list(state["recent"], "'recent'")
        if miner._recent is None:
            if recent:
                raise _fail("'recent' must be empty without max_clusters (there is no cap to evict by)")
        elif len(recent) != len(miner._events) or set(recent) != set(miner._events):
            raise _fail("'recent' must list every event id exactly once (least to most recently used)")
        else:
            miner._recent.update((eid, None) for eid in recent)
    elif miner._recent is not None:  # version 1 had no cap; a hand-written one may name one: creation order
        miner._recent.update((eid, None) for eid in miner._events)
    return miner

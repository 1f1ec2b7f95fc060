"""How reports name detectors and datasets: short enough to read, with the full parameters at hand.

A record's label is what the run grouped by; it is kept as the key everywhere. What people
read is its display label: the id and only the parameters that differ from the component's
defaults (or that have none), so a dataset with a required ``path`` reads
``timeseries.table(path=cpu.csv)`` rather than listing every default after it. Labels the
user chose (``name = ...``) are shown as given. Without the plugin installed the record's
label is shown as stored.
"""

from __future__ import annotations

import html
import json
import warnings
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

_MISSING = object()


@lru_cache(maxsize=256)
def _field_defaults(kind: str, component_id: str, required_json: str) -> dict[str, Any] | None:
    """The component's parameter defaults as JSON values (required ones from ``required_json``); None if unknown."""
    try:
        from omniad.plugins import get_registry

        entry = get_registry().get(kind, component_id)  # type: ignore[arg-type]
        model = entry.params_model()
    except Exception:  # reports must render without the plugin
        return None
    given = json.loads(required_json)
    try:
        return model.model_validate(given).model_dump(mode="json")
    except Exception:  # validators that need other parameters: the defaults, unchecked
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return model.model_construct(**given).model_dump(mode="json")
        except Exception:
            return None


def _required(kind: str, component_id: str) -> set[str]:
    try:
        from omniad.plugins import get_registry

        fields = get_registry().get(kind, component_id).params_model().model_fields  # type: ignore[arg-type]
    except Exception:
        return set()
    return {name for name, info in fields.items() if info.is_required()}


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def label_parts(kind: str, resolved: list[dict[str, Any]]) -> tuple[str, list[str], str] | None:
    """(id, ``name=value`` of each parameter that is not its default, score-source suffix) of the
    records' ``resolved`` (their ``detector`` or ``dataset`` dicts, one label); None where the label
    is a name the user chose, or the component is unknown here.

    A parameter whose value differs between the records (a split seed set per run) is given
    as ``name=run`` where the label says so, else ``name=varies``.
    """
    first = resolved[0] if resolved else {}
    label = str(first.get("label", "?"))
    component_id = first.get("id")
    if not isinstance(component_id, str) or not label.startswith(component_id + "("):
        return None  # the bare id, or a name the user chose
    params: list[dict[str, Any]] = [r["params"] if isinstance(r.get("params"), dict) else {} for r in resolved]
    required = _required(kind, component_id)
    given = {k: params[0][k] for k in sorted(required) if k in params[0]}
    defaults = _field_defaults(kind, component_id, _canon(given))
    if defaults is None:
        return None
    parts = []
    for name in sorted({k for p in params for k in p}):
        values = {_canon(p.get(name, None)) for p in params}
        if len(values) > 1:
            parts.append(f"{name}=run" if f"{name}=run" in label else f"{name}=varies")
        elif name in required or defaults.get(name, _MISSING) != params[0].get(name):
            parts.append(f"{name}={params[0].get(name)}")
    return component_id, parts, (" → " + label.split(" → ", 1)[1]) if " → " in label else ""


def display_label(kind: str, resolved: list[dict[str, Any]]) -> str:
    """What to show for the records' ``resolved``: the id and the parameters that are not defaults."""
    split = label_parts(kind, resolved)
    if split is None:
        return str((resolved[0] if resolved else {}).get("label", "?"))
    component_id, parts, suffix = split
    return component_id + ("(" + ",".join(parts) + ")" if parts else "") + suffix


def distinguishing_labels(kind: str, records: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Stored label -> the id with only the parameters in which it differs from the other labels of
    the same id in ``records`` (``core.knn(…,n_neighbors=3)``), for narrow tables; labels that are
    names, or whose component is unknown, map to their display label."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        resolved: dict[str, Any] = record[kind] if isinstance(record.get(kind), dict) else {}
        groups.setdefault(str(resolved.get("label", "?")), []).append(resolved)
    split = {label: label_parts(kind, group) for label, group in groups.items()}
    by_id: dict[str, list[list[str]]] = {}
    for parts in split.values():
        if parts is not None:
            by_id.setdefault(parts[0], []).append(parts[1])
    out = {}
    for label, parts in split.items():
        if parts is None:
            out[label] = display_label(kind, groups[label])
            continue
        component_id, mine, suffix = parts
        others = by_id[component_id]
        common = set(mine).intersection(*others) if len(others) > 1 else set()
        kept = [p for p in mine if p not in common]
        inner = ",".join((["…"] if common else []) + kept)
        out[label] = component_id + (f"({inner})" if inner else "") + suffix
    return out


def display_labels(kind: str, records: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Stored label -> display label for every ``kind`` ("detector" / "dataset") in ``records``.

    Two labels that would read the same keep their stored form, so rows never merge by eye.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        resolved: dict[str, Any] = record[kind] if isinstance(record.get(kind), dict) else {}
        groups.setdefault(str(resolved.get("label", "?")), []).append(resolved)
    out = {label: display_label(kind, group) for label, group in groups.items()}
    shown: dict[str, int] = {}
    for text in out.values():
        shown[text] = shown.get(text, 0) + 1
    return {label: (text if shown[text] == 1 else label) for label, text in out.items()}


def parameters(resolved: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Every parameter of the records' component as (name, value); values that differ are all listed."""
    params: list[dict[str, Any]] = [r["params"] if isinstance(r.get("params"), dict) else {} for r in resolved]
    out = []
    for name in sorted({k for p in params for k in p}):
        values = list(dict.fromkeys(_canon(p.get(name)) for p in params))
        shown = [str(json.loads(v)) for v in values]
        out.append((name, shown[0] if len(shown) == 1 else "varies: " + ", ".join(shown)))
    score = next((r["score"] for r in resolved if r.get("score")), None)
    if score is not None:
        out.append(("score source", str(score)))
    return out


def wrappable(label: str) -> str:
    """``label`` as HTML that may break after commas and parentheses only: an id is never split."""
    return html.escape(label).replace(",", ",<wbr>").replace("(", "(<wbr>")


def shorten(label: str, width: int, component_id: str | None = None) -> str:
    """``label`` cut to ``width`` characters with an ellipsis; a leading id is never cut."""
    if len(label) <= width:
        return label
    keep = max(width - 1, len(component_id) if component_id and label.startswith(component_id) else 8)
    return label[:keep] + "…"

"""Saving fitted components without pickle.

A saved detector is a directory: ``omniad.json`` (who made it, with which parameters) plus
``arrays.safetensors`` (numeric state) and ``state.json`` (small non-numeric state).
Loading never unpickles, so opening a model file from someone else cannot run their code.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from omniad.errors import DataError

FORMAT_VERSION = 1
HEADER_FILE = "omniad.json"
ARRAYS_FILE = "arrays.safetensors"
STATE_FILE = "state.json"
#: how the fit data was read (loader id, parameters, loader state), written by `omniad fit`
SOURCE_FILE = "source.json"


def _jsonable(value: Any, key: str) -> Any:
    try:
        json.dumps(value)
    except TypeError:
        raise DataError(
            f"cannot save state entry {key!r} of type {type(value).__name__}: only numpy arrays "
            "and JSON values are saved; convert it in get_state()"
        ) from None
    return value


def save_dir(
    path: str | Path, header: dict[str, Any], arrays: dict[str, np.ndarray], state: dict[str, Any],
    *, source: dict[str, Any] | None = None,
) -> Path:
    from safetensors.numpy import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    header = {"format_version": FORMAT_VERSION, **header}
    clean = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    save_file(clean, str(path / ARRAYS_FILE))
    (path / STATE_FILE).write_text(json.dumps({k: _jsonable(v, k) for k, v in state.items()}, indent=1))
    if source is not None:
        (path / SOURCE_FILE).write_text(json.dumps(_jsonable(source, "source"), indent=1))
    else:
        (path / SOURCE_FILE).unlink(missing_ok=True)
    (path / HEADER_FILE).write_text(json.dumps(header, indent=1, default=str))
    return path


def read_source(path: str | Path) -> dict[str, Any] | None:
    """The saved source description, or None when the model was not fitted through a loader."""
    file = Path(path) / SOURCE_FILE
    if not file.is_file():
        return None
    data = _read_json(file, "source description")
    if not isinstance(data, dict) or not isinstance(data.get("loader"), str) or not isinstance(data.get("params"), dict):
        raise DataError(f"{file}: must be an object with 'loader' (a dataset id) and 'params'; refit the model")
    if data.get("state") is not None and not isinstance(data["state"], dict):
        raise DataError(f"{file}: 'state' must be an object or null; refit the model")
    return data


#: files a saved component folder may hold; anything else is named in a warning and never read
KNOWN_FILES = frozenset({HEADER_FILE, ARRAYS_FILE, STATE_FILE, SOURCE_FILE})
#: header fields and the JSON types they must have (None allowed where listed)
_HEADER_TYPES: dict[str, tuple[type, ...]] = {
    "kind": (str,), "component_id": (str, type(None)), "class": (str,), "params": (dict,),
    "seed": (int, type(None)), "state_keys": (list,), "thresholds": (dict, type(None)),
}


def _read_json(file: Path, what: str) -> Any:
    """Parse a JSON file of a saved folder; every way it can be unreadable is one DataError naming it."""
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{file}: {what} is not UTF-8 text (byte {exc.start}); the file is corrupt, re-save the model") from None
    except OSError as exc:
        raise DataError(f"{file}: cannot read {what} ({exc.strerror or exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{file}: corrupt {what} ({exc})") from None


def check_header(header: Any, header_file: Path) -> dict[str, Any]:
    """The header as a dict of the documented types, or one DataError saying which field is wrong."""
    if not isinstance(header, dict):
        raise DataError(f"{header_file}: the header must be a JSON object, got a {type(header).__name__}; "
                        "pass a folder written by save()")
    version = header.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise DataError(f"{header_file}: format_version {version!r} is not an integer; the header was edited, re-save the model")
    if version > FORMAT_VERSION:
        raise DataError(
            f"{header_file.parent}: saved with format {version}, this omniad reads up to {FORMAT_VERSION}; upgrade omniad"
        )
    for name, types in _HEADER_TYPES.items():
        if name in header and (not isinstance(header[name], types) or isinstance(header[name], bool)):
            allowed = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise DataError(f"{header_file}: field {name!r} is {header[name]!r}, not {allowed}; re-save the model")
    threshold = header.get("threshold")
    if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                  or not math.isfinite(threshold)):
        raise DataError(f"{header_file}: threshold {threshold!r} is not a finite number or null; re-save the model")
    keys = header.get("state_keys", [])
    if not all(isinstance(k, str) for k in keys):
        raise DataError(f"{header_file}: state_keys must be a list of names; re-save the model")
    return header


def read_header(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    header_file = path / HEADER_FILE
    if not header_file.is_file():
        raise DataError(
            f"{path}: not a saved omniad component (missing {HEADER_FILE}); "
            "pass the directory written by save()"
        )
    return check_header(_read_json(header_file, "header"), header_file)


def _jsonpickle_markers(value: Any, found: list[str], where: str = "") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.startswith("py/"):
                found.append(f"{where}{key}")
            _jsonpickle_markers(item, found, f"{where}{key}.")
    elif isinstance(value, list):
        for item in value:
            _jsonpickle_markers(item, found, where)


def stray_files(path: Path) -> list[str]:
    """Names in a saved folder that no omniad version writes (pickles dropped beside a model, ...)."""
    return sorted(p.name for p in path.iterdir() if p.name not in KNOWN_FILES)


def load_dir(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, Any]]:
    from safetensors.numpy import load_file

    path = Path(path)
    header = read_header(path)
    for name in (ARRAYS_FILE, STATE_FILE):
        if not (path / name).is_file():
            raise DataError(f"{path}: {name} is missing; the folder is incomplete, re-save the model")
    try:
        arrays = load_file(str(path / ARRAYS_FILE))
    except Exception as exc:  # safetensors raises its own error type for corrupt files
        raise DataError(f"{path / ARRAYS_FILE}: cannot read saved arrays ({exc}); re-save the model") from None
    state = _read_json(path / STATE_FILE, "saved state")
    if not isinstance(state, dict):
        raise DataError(f"{path / STATE_FILE}: saved state must be a JSON object, got a {type(state).__name__}")
    stray = stray_files(path)
    if stray:
        warnings.warn(f"{path}: ignored {', '.join(stray)}: not part of a saved omniad model (omniad never "
                      "unpickles or imports files from a model folder)", UserWarning, stacklevel=3)
    markers: list[str] = []
    _jsonpickle_markers(state, markers)
    if markers:
        warnings.warn(f"{path / STATE_FILE}: holds jsonpickle markers ({', '.join(markers[:3])}); omniad never "
                      "decodes them, they are read as plain data or ignored", UserWarning, stacklevel=3)
    return header, arrays, state


def check_state(
    path: str | Path, expected: list[str] | tuple[str, ...], arrays: dict[str, np.ndarray], state: dict[str, Any],
    owner: str,
) -> None:
    """Fail at load, naming the folder and the entry, when the saved state cannot be used.

    A truncated or hand-edited folder would otherwise load "fine" and break at the first
    ``score`` with an ``AttributeError`` far from its cause.
    """
    missing = [k for k in expected if k not in arrays and k not in state]
    if missing:
        raise DataError(
            f"{path}: saved state lacks {', '.join(repr(k) for k in missing)} that {owner} needs "
            f"({ARRAYS_FILE} or {STATE_FILE} is incomplete or from another version); re-save the model"
        )
    for key, value in arrays.items():
        if value.dtype.kind not in "biuf":
            raise DataError(
                f"{path}: saved array {key!r} has dtype {value.dtype}, not a number type; re-save the model"
            )

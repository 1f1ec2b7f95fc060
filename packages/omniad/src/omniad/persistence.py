"""Saving fitted components without pickle.

A saved detector is a directory: ``omniad.json`` (who made it, with which parameters) plus
``arrays.safetensors`` (numeric state) and ``state.json`` (small non-numeric state).
Loading never unpickles, so opening a model file from someone else cannot run their code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from omniad.errors import DataError

FORMAT_VERSION = 1
HEADER_FILE = "omniad.json"
ARRAYS_FILE = "arrays.safetensors"
STATE_FILE = "state.json"


def _jsonable(value: Any, key: str) -> Any:
    try:
        json.dumps(value)
    except TypeError:
        raise DataError(
            f"cannot save state entry {key!r} of type {type(value).__name__}: only numpy arrays "
            "and JSON values are saved; convert it in get_state()"
        ) from None
    return value


def save_dir(path: str | Path, header: dict[str, Any], arrays: dict[str, np.ndarray], state: dict[str, Any]) -> Path:
    from safetensors.numpy import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    header = {"format_version": FORMAT_VERSION, **header}
    clean = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    save_file(clean, str(path / ARRAYS_FILE))
    (path / STATE_FILE).write_text(json.dumps({k: _jsonable(v, k) for k, v in state.items()}, indent=1))
    (path / HEADER_FILE).write_text(json.dumps(header, indent=1, default=str))
    return path


def read_header(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    header_file = path / HEADER_FILE
    if not header_file.is_file():
        raise DataError(
            f"{path}: not a saved omniad component (missing {HEADER_FILE}); "
            "pass the directory written by save()"
        )
    try:
        header = json.loads(header_file.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{header_file}: corrupt header ({exc})") from None
    if header.get("format_version", 0) > FORMAT_VERSION:
        raise DataError(
            f"{path}: saved with format {header.get('format_version')}, this omniad reads up to "
            f"{FORMAT_VERSION}; upgrade omniad"
        )
    return header


def load_dir(path: str | Path) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, Any]]:
    from safetensors.numpy import load_file

    path = Path(path)
    header = read_header(path)
    try:
        arrays = load_file(str(path / ARRAYS_FILE))
        state = json.loads((path / STATE_FILE).read_text())
    except Exception as exc:  # safetensors raises its own error type for corrupt files
        raise DataError(f"{path}: cannot read saved state ({exc})") from None
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

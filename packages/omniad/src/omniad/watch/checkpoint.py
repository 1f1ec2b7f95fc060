"""Checkpoints of a watch: read position, streamer state and alert count, written atomically as JSON.

Exactly-once alerts across a crash: alerts are appended to their file, and a checkpoint
records the file's size after an fsync. A restart cuts the alert file back to that size and
replays the source from the checkpoint's position with the checkpoint's state, so an alert
written after the last checkpoint is written again exactly once and none before it repeats.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from omniad.errors import DataError

FORMAT = "omniad-watch-checkpoint"
VERSION = 1


def model_fingerprint(model_dir: Path) -> str:
    """What identifies a saved model: the hash of its header and state files (a refit changes it)."""
    h = hashlib.sha256()
    for name in ("omniad.json", "state.json", "source.json"):
        p = model_dir / name
        if p.is_file():
            h.update(name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def save(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` so that a crash leaves either the old checkpoint or the new one, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    payload = json.dumps({"format": FORMAT, "version": VERSION, **data}, separators=(",", ":"), ensure_ascii=False)
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(payload)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    try:
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load(path: Path, fingerprint: str) -> dict[str, Any] | None:
    """The checkpoint at ``path`` (None if there is none); refused when it is not one or is another model's."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"checkpoint {path} is not readable JSON ({exc}); delete it to start afresh") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise DataError(f"{path} is not a version-{VERSION} omniad watch checkpoint; delete it or pass another --checkpoint")
    if data.get("model") != fingerprint:
        raise DataError(f"checkpoint {path} was written for another model (or before it was refitted); delete it "
                        "or pass another --checkpoint")
    for key, kind in (("alerts_bytes", int), ("lines", int), ("alerts", int), ("state", dict)):
        if not isinstance(data.get(key), kind) or isinstance(data.get(key), bool):
            raise DataError(f"checkpoint {path}: '{key}' is missing or not a {kind.__name__}; delete it to start afresh")
    return data

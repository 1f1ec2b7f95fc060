"""How sure each log loader is that it reads a bare path (``DatasetCard.probe``): cheap, no torch.

``omniad fit logs.pca server.log`` asks every logs loader that reads ``.log``; these break the
tie by looking at the first lines (``HEAD_BYTES``):

- ``logs.bgl`` (0.9): BGL's or Thunderbird's header explains the lines (their first token is the
  label);
- ``logs.hdfs`` (0.9): HDFS's header, block ids in the lines and ``anomaly_label.csv`` beside the
  log (the layout with labels; without the label file 0.3, below the generic reader);
- ``logs.hdfs_sessions`` (0.9): pre-parsed sessions (a ``Sequence`` CSV, lines of event ids,
  or logdeep's folder);
- ``logs.table`` (0.7): a CSV/JSONL with a message column;
- ``logs.loghub`` (0.5): any text log, whatever its header (probed when it is read).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

HEAD_BYTES = 64 * 1024
_GARBAGE = 0.3
_EVENT_ID = re.compile(r"E?\d+\Z")
_BLOCK = re.compile(r"blk_-?\d+")
LOG_SUFFIXES = (".log", ".txt", ".out")
TABLE_SUFFIXES = (".csv", ".jsonl", ".json", ".ndjson")
_SIDE_FILES = ("_structured.csv", "_templates.csv")


def _head_lines(path: Path, limit: int = 200) -> list[str] | None:
    """The first lines of a text file, or None when it is empty or not text."""
    try:
        with path.open("rb") as f:
            data = f.read(HEAD_BYTES)
    except OSError:
        return None
    if not data:
        return None
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") + text.count("\x00")
    if bad / max(len(text), 1) > _GARBAGE:
        return None
    lines = text.split("\n")
    if len(data) == HEAD_BYTES:
        lines = lines[:-1]  # the last one may be cut
    return [x.rstrip("\r") for x in lines if x.strip()][:limit]


def _first_log(folder: Path) -> Path | None:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in LOG_SUFFIXES)
    return files[0] if files else None


def raw_log(path: Path) -> float:
    """Any text log (``logs.loghub`` with ``log_format='auto'``)."""
    path = Path(path)
    if path.is_dir():
        return 0.5 if _first_log(path) is not None else 0.0
    return 0.5 if _head_lines(path) else 0.0


def _best_known(path: Path) -> tuple[str, float, list[str]] | None:
    if path.is_dir():
        found = _first_log(path)
        if found is None:
            return None
        path = found
    lines = _head_lines(path)
    if not lines:
        return None
    from omniad_logs.datasets.headers import probe_known

    share, _, name, _, _ = probe_known(lines)[0]
    return name, share, lines


def bgl(path: Path) -> float:
    """A log whose lines start with BGL/Thunderbird labels (``logs.bgl``)."""
    best = _best_known(Path(path))
    return 0.9 if best is not None and best[0] in ("BGL", "Thunderbird") and best[1] >= 0.8 else 0.0


def hdfs(path: Path) -> float:
    """An HDFS log with block ids; sure only when its label file is there (``logs.hdfs``)."""
    from omniad_logs.datasets.hdfs import default_label_file

    path = Path(path)
    best = _best_known(path)
    if best is None or best[0] != "HDFS" or best[1] < 0.8:
        return 0.0
    if sum(1 for x in best[2] if _BLOCK.search(x)) < 0.5 * len(best[2]):
        return 0.0
    log = path if path.is_file() else _first_log(path)
    return 0.9 if log is not None and default_label_file(log) is not None else 0.3


def table(path: Path) -> float:
    """A CSV/JSONL of log records with a message column (``logs.table``)."""
    from omniad_logs.datasets.table import MESSAGE_NAMES

    path = Path(path)
    if path.is_dir():
        files = [p for p in path.iterdir() if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES
                 and not p.name.endswith(_SIDE_FILES)]
        return 0.3 if files else 0.0
    lines = _head_lines(path, limit=2)
    if not lines:
        return 0.0
    if path.suffix.lower() == ".csv":
        header = next(csv.reader(io.StringIO(lines[0])), [])
    else:
        try:
            first = json.loads(lines[0])
        except ValueError:
            return 0.0
        header = list(first) if isinstance(first, dict) else []
    names = {h.strip().lstrip("\ufeff").lower() for h in header}
    if "sequence" in names:
        return 0.2
    return 0.7 if names & set(MESSAGE_NAMES) else 0.1


def is_event_id(token: str) -> bool:
    """A token of a pre-parsed session: an event id such as ``5`` or ``E22`` (logdeep, loghub)."""
    return _EVENT_ID.match(token) is not None


def sequences(path: Path) -> float:
    """Pre-parsed sessions of event ids (``logs.hdfs_sessions`` with protocol='all')."""
    from omniad_logs.datasets.hdfs_sessions import ABNORMAL_FILE, TRAIN_FILE

    path = Path(path)
    if path.is_dir():
        return 0.95 if (path / TRAIN_FILE).is_file() or (path / ABNORMAL_FILE).is_file() else 0.0
    lines = _head_lines(path, limit=20)
    if not lines:
        return 0.0
    if path.suffix.lower() == ".csv":
        header = next(csv.reader(io.StringIO(lines[0])), [])
        return 0.9 if "sequence" in {h.strip().lstrip("\ufeff").lower() for h in header} else 0.0
    tokens = [t for x in lines for t in x.replace(",", " ").split()]
    return 0.9 if tokens and all(_EVENT_ID.match(t) for t in tokens) else 0.0

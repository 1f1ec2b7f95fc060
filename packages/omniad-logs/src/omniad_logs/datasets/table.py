"""Log lines from a table: a CSV or JSONL with a message column and optional label/session/time columns.

For logs that are already split into records (a SIEM export, a ``journalctl -o json``
dump, a labelled dataset in a spreadsheet). One subset per file. Rows are lines in file
order; messages are parsed into events by ``TemplateMiner`` unless ``event_column`` gives
them. With ``session_column`` the rows are grouped by its value (first-appearance order; an
empty value belongs to no session and is counted as ``lines_without_session``); without
it the rows are cut into windows (``WindowParams``). Labels are per row (0/1, true/false,
normal/anomaly, BGL's ``-``); a session is anomalous when any row is, and the row labels
are its localization target. The train/test rule is ``SplitParams``.

stdlib ``csv``/``json`` read the files (pandas is not a dependency of omniad-logs, and a
log table needs no type inference: every column is text until a rule says otherwise).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from omniad.data import Subset
from omniad.errors import ConfigError, DataError
from omniad_logs.datasets.base import (
    NOTEWORTHY,
    LogDataset,
    ParsedLog,
    build_sessions,
    events_of,
    make_subset,
    split_indices,
    warn_counts,
    windowed_subset,
)
from omniad_logs.datasets.params import TableParams
from omniad_logs.datasets.reading import parse_label, read_lines, require_path
from omniad_logs.session import EventVocabulary

SUFFIXES = (".csv", ".jsonl", ".json", ".ndjson")


def _rows(path: Path, where: str, encoding: str, max_chars: int, counts: dict[str, int]) -> list[dict[str, Any]]:
    """Rows as dicts (CSV via DictReader, JSONL one object per line); decoding as in ``read_lines``."""
    lines, numbers, stats = read_lines(path, where, encoding=encoding, max_line_chars=sys.maxsize)
    counts.update(stats.as_meta())
    if path.suffix.lower() == ".csv":
        csv.field_size_limit(sys.maxsize)
        reader = csv.DictReader(lines)
        rows = list(reader)
        if not reader.fieldnames:
            raise DataError(f"{where}: {path.name} has no header row")
        return rows
    rows = []
    for text, number in zip(lines, numbers, strict=True):
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: {path.name} line {number} is not JSON ({exc.msg}); one object per line") from None
        if not isinstance(row, dict):
            raise DataError(f"{where}: {path.name} line {number} is a JSON {type(row).__name__}, not an object")
        rows.append(row)
    return rows


def _timestamp(value: Any, where: str, row: int) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        return float("nan")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DataError(f"{where}: row {row}: cannot read timestamp {text!r} (seconds or an ISO datetime)") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


class Table(LogDataset):
    """One subset per file; sessions by a column, else windows."""

    Params = TableParams

    def files(self) -> list[Path]:
        path = require_path(self.params.path, "path", self.where)
        if path.is_file():
            return [path]
        files = sorted(q for q in path.glob(self.params.pattern) if q.is_file() and q.suffix.lower() in SUFFIXES)
        if not files:
            raise ConfigError(f"{self.where}: no CSV/JSONL files matching {self.params.pattern!r} in path={str(path)!r}")
        return files

    def iter_subsets(self) -> Iterator[Subset]:
        for file in self.files():
            yield self.load_file(file)

    def load_file(self, file: Path) -> Subset:
        p = self.params
        where = f"{self.where}: {file.name}"
        counts: dict[str, int] = {}
        rows = _rows(file, where, p.encoding, p.max_line_chars, counts)
        if not rows:
            raise DataError(f"{where}: {file.name} has a header but no rows")
        columns = set().union(*(r.keys() for r in rows[:1000]))
        for param in ("message_column", "label_column", "session_column", "timestamp_column", "event_column"):
            column = getattr(p, param)
            if column is not None and column not in columns:
                raise DataError(f"{where}: no column {column!r} (columns: {sorted(columns)}); set {param!r}")
        messages: list[str] = []
        truncated = 0
        for r in rows:
            text = "" if r.get(p.message_column) is None else str(r[p.message_column]).replace("\n", " ").strip()
            if len(text) > p.max_line_chars:
                text, truncated = text[: p.max_line_chars], truncated + 1
            messages.append(text)
        counts["lines_truncated"] = truncated
        counts["empty_messages"] = sum(1 for m in messages if not m)
        labels = None
        if p.label_column is not None:
            labels = np.zeros(len(rows), dtype=np.int8)
            for i, r in enumerate(rows):
                value = parse_label(r.get(p.label_column, ""))
                if value is None:
                    raise DataError(
                        f"{where}: row {i + 1}: label {r.get(p.label_column)!r} in {p.label_column!r} is not "
                        "0/1, true/false, normal/anomaly or '-'"
                    )
                labels[i] = value
        stamps = np.array([_timestamp(r.get(p.timestamp_column), where, i + 1) for i, r in enumerate(rows)]) \
            if p.timestamp_column else np.full(len(rows), np.nan)
        counts["lines_without_timestamp"] = int(np.isnan(stamps).sum()) if p.timestamp_column else len(rows)
        if p.event_column is not None:
            events = [str(r.get(p.event_column, "")) for r in rows]
            templates = {e: e for e in events}
            params: list[tuple[str, ...]] = [() for _ in rows]
        else:
            events, params, templates = events_of(messages, where, events="parse", structured=None, counts=counts)
        parsed = ParsedLog(messages, np.arange(1, len(rows) + 1), messages, events, params, stamps,
                           EventVocabulary(templates), counts)
        meta = {"path": str(file)}
        if p.session_column is None:
            return windowed_subset(parsed, file.stem, where, line_labels=labels, windows=p, split=p, counts=counts,
                                   meta=meta)
        groups: dict[str, list[int]] = {}
        without = 0
        for i, r in enumerate(rows):
            sid = r.get(p.session_column)
            sid = "" if sid is None else str(sid).strip()
            if not sid:
                without += 1
                continue
            groups.setdefault(sid, []).append(i)
        counts["lines_without_session"] = without
        data = build_sessions(parsed, ((k, np.asarray(v)) for k, v in groups.items()), line_labels=labels,
                              min_length=p.min_session_length, counts=counts)
        if not data.sessions:
            raise DataError(f"{where}: no session has {p.min_session_length}+ rows (column {p.session_column!r})")
        train, test = split_indices(data.labels, len(data), fraction=p.train_fraction, mode=p.split, seed=p.seed,
                                    counts=counts, where=where)
        warn_counts(where, counts, NOTEWORTHY)
        return make_subset(file.stem, data, train, test, counts, meta)

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

from omniad.data import Subset, whole_subset
from omniad.errors import ConfigError, DataError
from omniad_logs.datasets.base import (
    NOTEWORTHY,
    LogDataset,
    ParsedLog,
    Sessions,
    build_sessions,
    events_of,
    make_subset,
    split_indices,
    warn_counts,
    window_groups,
    windowed_subset,
)
from omniad_logs.datasets.params import TableParams
from omniad_logs.datasets.reading import parse_label, read_lines, require_path
from omniad_logs.session import EventVocabulary

SUFFIXES = (".csv", ".jsonl", ".json", ".ndjson")
#: message column names tried, in order, for your own table when ``message_column`` is left at its default
MESSAGE_NAMES = ("message", "msg", "content", "text", "log", "line")
#: time column names tried for your own table when ``timestamp_column`` is not given (values: epoch or ISO)
TIME_NAMES = ("timestamp", "@timestamp", "time", "ts", "datetime", "date")


def _rows(
    path: Path, where: str, encoding: str, max_chars: int, counts: dict[str, int]
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Rows as dicts (CSV via DictReader, JSONL one object per line) and each row's line in the file."""
    lines, numbers, stats = read_lines(path, where, encoding=encoding, max_line_chars=sys.maxsize)
    counts.update(stats.as_meta())
    if path.suffix.lower() == ".csv":
        csv.field_size_limit(sys.maxsize)
        reader = csv.DictReader(lines)
        rows = list(reader)
        if not reader.fieldnames:
            raise DataError(f"{where}: {path.name} has no header row")
        # one row per line after the header (a quoted field spanning lines is split by read_lines already)
        return rows, numbers[1 : len(rows) + 1] if len(numbers) > len(rows) else np.arange(2, len(rows) + 2)
    rows = []
    for text, number in zip(lines, numbers, strict=True):
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: {path.name} line {number} is not JSON ({exc.msg}); one object per line") from None
        if not isinstance(row, dict):
            raise DataError(f"{where}: {path.name} line {number} is a JSON {type(row).__name__}, not an object")
        rows.append(row)
    return rows, numbers


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


#: rows of a message column looked at to tell event-id sequences from log messages
SEQUENCE_PROBE_ROWS = 200


def _event_sequences(messages: list[str]) -> str | None:
    """An example when the messages are sessions of event ids (logdeep's ``Sequence`` column), else None.

    Such a table is one *session* per row: read row by row as log lines, every row becomes one
    "template" of digits and windows of rows mean nothing, yet the job runs and reports ok. Taken
    as sequences when every probed value is made of event ids only and most hold more than one.
    """
    from omniad_logs.datasets.probes import is_event_id

    probe = [m for m in messages[:SEQUENCE_PROBE_ROWS] if m]
    if not probe:
        return None
    tokens = [m.replace(",", " ").split() for m in probe]
    if all(all(is_event_id(t) for t in ts) for ts in tokens) and sum(len(ts) > 1 for ts in tokens) * 2 >= len(probe):
        return probe[0][:60]
    return None


def sequences_error(where: str, file: Path, column: str, example: str | None) -> DataError:
    """The error for a table of pre-parsed sessions: which loader reads it, with which parameter."""
    shown = f" (e.g. {example!r})" if example else ""
    return DataError(
        f"{where}: column {column!r} holds sessions of event ids{shown}, one session per row (logdeep's "
        f"'Sequence,label' layout), not log messages; read it with logs.hdfs_sessions: protocol='all' with "
        f"path={str(file)!r} (every session scored; labels from a label column when there is one), or protocol='logrobust' with "
        f"robust_file={str(file)!r} (supervised train/test split)"
    )


def _time_column(rows: list[dict[str, Any]], columns: set[str], meta: dict[str, Any]) -> str | None:
    """Own data: the first usual time column (``TIME_NAMES``) whose every value reads as a time, named in meta."""
    by_lower = {c.lower(): c for c in columns}
    for name in TIME_NAMES:
        column = by_lower.get(name)
        if column is None:
            continue
        try:
            for i, r in enumerate(rows):
                _timestamp(r.get(column), "", i + 1)
        except DataError:
            meta.setdefault("time_columns_not_read", []).append(column)
            continue
        meta["timestamp_column"] = column
        return column
    return None


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
        root = require_path(self.params.path, "path", self.where)
        for file in self.files():
            yield self.load_file(file, root)

    def _columns(self, columns: set[str], where: str, meta: dict[str, Any], file: Path) -> tuple[str, str | None]:
        """The message and label columns to use; own data (split='all') finds the usual names itself."""
        p = self.params
        message, label = p.message_column, p.label_column
        by_lower = {c.strip().lstrip("\ufeff").lower(): c for c in columns}
        if (message not in columns and "sequence" in by_lower and p.event_column is None
                and not set(MESSAGE_NAMES) & set(by_lower)):  # logdeep's 'Sequence,label' and no message column
            raise sequences_error(where, file, by_lower["sequence"], None)
        own = p.split == "all"
        fields = TableParams.model_fields
        if own and message not in columns and message == fields["message_column"].default:
            by_lower = {c.lower(): c for c in columns}
            found = next((by_lower[n] for n in MESSAGE_NAMES if n in by_lower), None)
            if found is None:
                raise DataError(f"{where}: no message column (none of {', '.join(MESSAGE_NAMES)}; columns: "
                                f"{sorted(columns)}); set message_column (-s message_column=NAME)")
            message = found
            meta["message_column"] = found
        if own and label is not None and label not in columns and label == fields["label_column"].default:
            label = None  # unlabelled: your own table needs no labels
        for param, column in (("message_column", message), ("label_column", label),
                              ("session_column", p.session_column), ("timestamp_column", p.timestamp_column),
                              ("event_column", p.event_column)):
            if column is not None and column not in columns:
                raise DataError(f"{where}: no column {column!r} (columns: {sorted(columns)}); set {param!r}")
        return message, label

    def load_file(self, file: Path, root: Path | None = None) -> Subset:
        from omniad_logs.datasets.own import display_name, window_ids

        p = self.params
        display = display_name(file, root) if root is not None else file.name
        where = f"{self.where}: {display}"
        counts: dict[str, int] = {}
        rows, line_numbers = _rows(file, where, p.encoding, p.max_line_chars, counts)
        if not rows:
            raise DataError(f"{where}: {file.name} has a header but no rows")
        columns = set().union(*(r.keys() for r in rows[:1000]))
        meta: dict[str, Any] = {"path": str(file), "file": display}
        message_column, label_column = self._columns(columns, where, meta, file)
        messages: list[str] = []
        truncated = 0
        for r in rows:
            text = "" if r.get(message_column) is None else str(r[message_column]).replace("\n", " ").strip()
            if len(text) > p.max_line_chars:
                text, truncated = text[: p.max_line_chars], truncated + 1
            messages.append(text)
        counts["lines_truncated"] = truncated
        counts["empty_messages"] = sum(1 for m in messages if not m)
        if p.event_column is None and (example := _event_sequences(messages)) is not None:
            raise sequences_error(where, file, message_column, example)
        labels = None
        if label_column is not None:
            labels = np.zeros(len(rows), dtype=np.int8)
            for i, r in enumerate(rows):
                value = parse_label(r.get(label_column, ""))
                if value is None:
                    raise DataError(
                        f"{where}: row {i + 1}: label {r.get(label_column)!r} in {label_column!r} is not "
                        "0/1, true/false, normal/anomaly or '-'"
                    )
                labels[i] = value
        time_column = p.timestamp_column
        if time_column is None and p.split == "all":
            time_column = _time_column(rows, columns, meta)
        stamps = np.array([_timestamp(r.get(time_column), where, i + 1) for i, r in enumerate(rows)]) \
            if time_column else np.full(len(rows), np.nan)
        counts["lines_without_timestamp"] = int(np.isnan(stamps).sum()) if time_column else len(rows)
        if p.event_column is not None:
            events = [str(r.get(p.event_column, "")) for r in rows]
            templates = {e: e for e in events}
            params: list[tuple[str, ...]] = [() for _ in rows]
        else:
            events, params, templates = events_of(messages, where, events="parse", structured=None, counts=counts,
                                                  miner=self.file_miner(shared=p.split == "all"))
        parsed = ParsedLog(messages, np.asarray(line_numbers, dtype=np.int64), messages, events, params, stamps,
                           EventVocabulary(templates), counts, file=display, keep=p.split == "all")
        if p.event_column is None:
            self.mark_new(parsed, where)  # its counts are ``counts``
        own = p.split == "all"
        if own:
            from omniad_logs.datasets.own import own_state, session_rule

            st = own_state(self)
            if st.sessions is None:
                st.sessions = session_rule(p)
        if p.session_column is None:
            if own:
                groups = window_ids(window_groups(display, stamps, window=p.window, unit=p.window_unit,
                                                  size=p.window_size, step=p.window_step, counts=counts, where=where),
                                    parsed)
                data = build_sessions(parsed, groups, line_labels=labels, min_length=p.min_session_length,
                                      counts=counts)
                return self._whole(display, data, counts, meta, where)
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
        if own:
            return self._whole(display, data, counts, meta, where)
        train, test = split_indices(data.labels, len(data), fraction=p.train_fraction, mode=p.split, seed=p.seed,
                                    counts=counts, where=where)
        warn_counts(where, counts, NOTEWORTHY)
        return make_subset(file.stem, data, train, test, counts, meta)

    @staticmethod
    def _whole(display: str, data: Sessions, counts: dict[str, int], meta: dict[str, Any], where: str) -> Subset:
        """Own data: every session tested, those not labelled anomalous fitted on (``whole_subset``)."""
        if not data.sessions:
            raise DataError(f"{where}: no session left (every window is shorter than min_session_length); lower it")
        warn_counts(where, counts, NOTEWORTHY)
        meta.update({"labelled": data.labels is not None, "n_sessions": len(data),
                     "counts": {k: int(v) for k, v in counts.items()}})
        return whole_subset(display, data.sessions, ids=[s.id for s in data.sessions], labels=data.labels,
                            targets=data.targets, meta=meta)

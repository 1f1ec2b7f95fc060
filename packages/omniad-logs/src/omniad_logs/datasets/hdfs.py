"""HDFS block sessions from the raw log: lines grouped by block id, labels from ``anomaly_label.csv``.

A session is every line that mentions a block (``blk_-?\\d+``), in file order; a line that
mentions two blocks (a replication between them) belongs to both, as in loghub's and
deep-loglizer's HDFS preprocessing. Lines without a block id belong to no session (counted).
Session labels come from the label file; a label file that names blocks the log does not
contain is normal for a sample of the log (HDFS_2k) and is counted, never an error, and a
session the label file does not name is left out rather than guessed normal (counted as
``sessions_without_label`` and warned: a label file for another part of the log drops most
sessions). A label file without a ``Label`` column in its header, or that labels one block
both ways, is an error naming the file (``reading.read_label_file``).

Train = a seeded ``train_fraction`` of the normal sessions; test = the other normal
sessions and every anomalous one (DeepLog's setting: train on normal sessions only).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from omniad.data import Subset
from omniad.errors import ConfigError, DataError
from omniad_logs.datasets.base import (
    NOTEWORTHY,
    LogDataset,
    Sessions,
    header_args,
    list_logs,
    make_subset,
    parse_log,
    session_of,
    split_indices,
    warn_counts,
)
from omniad_logs.datasets.own import whole_log
from omniad_logs.datasets.params import HDFSParams
from omniad_logs.datasets.reading import read_label_file, require_path, shared_data_root

LABEL_FILE = "anomaly_label.csv"


def default_label_file(log: Path) -> Path | None:
    """``anomaly_label.csv`` beside the log, or in loghub HDFS_v1's ``preprocessed/`` folder."""
    for candidate in (log.parent / LABEL_FILE, log.parent / "preprocessed" / LABEL_FILE):
        if candidate.is_file():
            return candidate
    return None


#: session id patterns of the built-in loaders: vetted, so they keep Python's faster ``re``
VETTED_SESSION_PATTERNS = frozenset({r"blk_-?\d+", r"sess_\d+"})


def session_regex(pattern: str, where: str) -> Any:
    """The compiled ``session_pattern``: a user's pattern runs on RE2 (linear in the line, whatever
    the pattern; it comes from a config and runs over every line of the log)."""
    if pattern in VETTED_SESSION_PATTERNS:
        return re.compile(pattern)
    from omniad_logs.parsing.masking import untrusted_regex

    return untrusted_regex(pattern, f"{where}: session_pattern {pattern!r:.80}")


def group_by_id(raw: list[str], pattern: str, where: str = "group_by_id") -> tuple[dict[str, list[int]], int, int]:
    """Session id -> line indices (first-appearance order); lines without an id; lines with several."""
    rx = session_regex(pattern, where)
    groups: dict[str, list[int]] = {}
    without = several = 0
    for i, line in enumerate(raw):
        ids = dict.fromkeys(m.group(0) for m in rx.finditer(line))
        if not ids:
            without += 1
        elif len(ids) > 1:
            several += 1
        for sid in ids:
            groups.setdefault(sid, []).append(i)
    return groups, without, several


def load_grouped(
    path: Path,
    where: str,
    *,
    name: str,
    log_format: str | None,
    labels_file: Path,
    session_pattern: str,
    line_labels: np.ndarray | None = None,
    session_kinds: dict[str, tuple[str, int]] | None = None,
    events: str = "parse",
    structured: Path | None = None,
    train_fraction: float = 0.5,
    seed: int = 0,
    min_length: int = 1,
    encoding: str = "utf-8",
    max_line_chars: int = 100_000,
    meta: dict[str, Any] | None = None,
    dataset: LogDataset | None = None,
    header: Any = None,
) -> Subset:
    """One subset of id-grouped sessions (HDFS and the synthetic logs); see the module docstring.

    ``line_labels`` (one 0/1 per line) gives per-line targets where the source has them;
    ``session_kinds`` (id -> (kind, severity)) goes into each session's meta and the test
    split's severity. ``dataset``: the loader whose template miner parses the lines (one shared
    with a model's source when it scores), ``header``: a header choice (``header_args``).
    """
    miner = dataset.file_miner() if dataset is not None and events == "parse" else None
    parsed = parse_log(path, where, log_format=log_format, encoding=encoding, max_line_chars=max_line_chars,
                       events=events, structured=structured, miner=miner, header=header)
    if dataset is not None:
        dataset.mark_new(parsed, where)
    counts = dict(parsed.counts)
    if line_labels is not None and len(line_labels) != len(parsed):
        raise DataError(f"{where}: {len(parsed)} log lines but {len(line_labels)} line labels in the ground truth")
    groups, without, several = group_by_id(parsed.raw, session_pattern, where)
    counts["lines_without_session"] = without
    counts["lines_in_several_sessions"] = several
    label_map = read_label_file(labels_file, where, counts)
    counts["label_ids_unknown"] = sum(1 for k in label_map if k not in groups)
    counts["sessions_without_label"] = sum(1 for k in groups if k not in label_map)
    sessions, labels, targets, severity = [], [], [], []
    short = single = 0
    for sid, idx_list in groups.items():
        if sid not in label_map:
            continue
        if len(idx_list) < min_length:
            short += 1
            continue
        single += len(idx_list) == 1
        idx = np.asarray(idx_list)
        kind, level = (session_kinds or {}).get(sid, (None, 0))
        extra = {"anomaly_kind": kind, "severity": level} if session_kinds is not None and kind else {}
        sessions.append(session_of(parsed, sid, idx, extra))
        labels.append(label_map[sid])
        severity.append(level if label_map[sid] else 0)
        if line_labels is not None:
            targets.append(line_labels[idx].astype(np.int8))
    counts["sessions_dropped_short"] = short
    counts["single_line_sessions"] = int(single)
    if not sessions:
        raise DataError(
            f"{where}: no session of {path.name} is named in {labels_file.name} ({len(groups)} sessions in the log, "
            f"{len(label_map)} in the label file); is it the right label file and session_pattern?"
        )
    data = Sessions(sessions, np.asarray(labels, dtype=np.int8), targets if line_labels is not None else None,
                    np.asarray(severity, dtype=float) if session_kinds is not None else None)
    train, test = split_indices(data.labels, len(data), fraction=train_fraction, mode="random", seed=seed,
                                counts=counts, where=where)
    info: dict[str, Any] = {"path": str(path), "labels_file": str(labels_file)}
    if session_kinds is not None:
        info["anomaly_kinds"] = dict(Counter(k for k, _ in session_kinds.values()))
    info.update(meta or {})
    warn_counts(where, counts, NOTEWORTHY)
    return make_subset(name, data, train, test, counts, info)


class HDFS(LogDataset):
    """One subset per raw HDFS log file (block sessions, session labels, no per-line truth)."""

    Params = HDFSParams

    def iter_subsets(self) -> Iterator[Subset]:
        p = self.params
        path = require_path(p.path if p.path is not None else shared_data_root() / "data" / "loghub" / "HDFS",
                            "path", self.where)
        files = list_logs(path, p.pattern, "path", self.where)
        for file in files:
            if p.split == "all":
                labels_file = require_path(p.labels, "labels", self.where, kind="file") if p.labels is not None \
                    else default_label_file(file)
                yield whole_log(self, file, path, log_format=p.log_format if p.log_format is not None else p.system,
                                session_pattern=p.session_pattern, label_file=labels_file)
                continue
            labels = p.labels
            if labels is None:
                labels = default_label_file(file)
                if labels is None:
                    raise ConfigError(
                        f"{self.where}: no {LABEL_FILE} beside {file} (HDFS_2k ships none); set 'labels' to a "
                        "BlockId,Label CSV such as loghub HDFS_v1's preprocessed/anomaly_label.csv"
                    )
            else:
                labels = require_path(labels, "labels", self.where, kind="file")
            where = f"{self.where}: {file.name}"
            header = header_args(self, p.system, p.log_format, file, where)
            yield load_grouped(
                file, where,
                name=file.stem,
                log_format=header["log_format"], header=header["header"], dataset=self,
                labels_file=labels, session_pattern=p.session_pattern, events=p.events, structured=p.structured,
                train_fraction=p.train_fraction, seed=p.seed, min_length=p.min_session_length,
                encoding=p.encoding, max_line_chars=p.max_line_chars,
            )
